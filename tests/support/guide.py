"""Find the documentation's code blocks, run them, and drive what they build.

Every Python block of every page of the site (each ``*.md`` under
``docs/``) starts with ``# example: name`` (run by
``tests/test_docs_examples.py``) or ``# recipe: name`` (run by the test of
what it configures, through :func:`recipe`); names are unique across the
site, and the block is executed exactly as printed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.asgi import run
from tests.support.servers import REPO_ROOT

DOCS = REPO_ROOT / "docs"

_FENCED = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_TAG = re.compile(r"# (example|recipe): ([\w-]+)\n")


def pages() -> list[Path]:
    """Return every page of the site: each ``*.md`` under ``docs/``, sorted."""
    return sorted(DOCS.rglob("*.md"))


def code_blocks() -> list[tuple[str, str, str]]:
    """Return every fenced block of every page as ``(page, language, text)``.

    ``page`` is the path under ``docs/``, as the messages name it.
    """
    blocks = []
    for path in pages():
        page = path.relative_to(DOCS).as_posix()
        text = path.read_text(encoding="utf-8")
        blocks += [(page, m.group(1), m.group(2)) for m in _FENCED.finditer(text)]
    return blocks


def tagged(kind: str) -> dict[str, str]:
    """Return the Python blocks tagged ``# kind: name`` on any page, by name."""
    found: dict[str, str] = {}
    for _, language, text in code_blocks():
        tag = _TAG.match(text)
        if language == "python" and tag is not None and tag.group(1) == kind:
            assert tag.group(2) not in found, f"two {kind}s named {tag.group(2)}"
            found[tag.group(2)] = text
    return found


def run_block(name: str, text: str) -> dict[str, Any]:
    """Execute one block as printed, as a module named after it; return it."""
    namespace: dict[str, Any] = {"__name__": f"guide_{name.replace('-', '_')}"}
    exec(compile(text, f"docs:{name}", "exec"), namespace)  # noqa: S102
    return namespace


def recipe_source(name: str) -> str:
    """Return the site's ``# recipe: name`` block as printed, tag line first."""
    recipes = tagged("recipe")
    assert name in recipes, f"no recipe {name!r} on any page of docs/"
    return recipes[name]


def recipe(name: str) -> dict[str, Any]:
    """Execute the site's ``# recipe: name`` block; return its namespace."""
    return run_block(name, recipe_source(name))


@contextmanager
def handlers_restored(*names: str) -> Iterator[None]:
    """Take back the handlers a recipe adds to the loggers ``names``."""
    before = {name: list(logging.getLogger(name).handlers) for name in names}
    try:
        yield
    finally:
        for name, handlers in before.items():
            logging.getLogger(name).handlers[:] = handlers


def send(app: Any, method: str, path: str, request_id: str) -> httpx.Response:
    """Send one request to ``app`` in-process with ``X-Request-ID``."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            return await client.request(
                method, path, headers={"X-Request-ID": request_id}
            )

    response: httpx.Response = run(go)
    return response
