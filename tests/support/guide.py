"""Find the users' guide's code blocks, run them, and drive what they build.

Every Python block of ``docs/users-guide.md`` starts with ``# example: name``
(run by ``tests/test_users_guide.py``) or ``# recipe: name`` (run by the
test of what it configures, through :func:`recipe`); the block is executed
exactly as printed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.support.asgi import run
from tests.support.servers import REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "users-guide.md"

_FENCED = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_TAG = re.compile(r"# (example|recipe): ([\w-]+)\n")


def code_blocks() -> list[tuple[str, str]]:
    """Return every fenced block of the guide as ``(language, text)``."""
    text = GUIDE.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2)) for m in _FENCED.finditer(text)]


def tagged(kind: str) -> dict[str, str]:
    """Return the Python blocks tagged ``# kind: name``, by name."""
    found: dict[str, str] = {}
    for language, text in code_blocks():
        tag = _TAG.match(text)
        if language == "python" and tag is not None and tag.group(1) == kind:
            assert tag.group(2) not in found, f"two {kind}s named {tag.group(2)}"
            found[tag.group(2)] = text
    return found


def run_block(name: str, text: str) -> dict[str, Any]:
    """Execute one block as printed, as a module named after it; return it."""
    namespace: dict[str, Any] = {"__name__": f"guide_{name.replace('-', '_')}"}
    exec(compile(text, f"users-guide:{name}", "exec"), namespace)  # noqa: S102
    return namespace


def recipe_source(name: str) -> str:
    """Return the guide's ``# recipe: name`` block as printed, tag line first."""
    recipes = tagged("recipe")
    assert name in recipes, f"no recipe {name!r} in the users' guide"
    return recipes[name]


def recipe(name: str) -> dict[str, Any]:
    """Execute the guide's ``# recipe: name`` block; return its namespace."""
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
