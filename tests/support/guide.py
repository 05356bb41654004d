"""Run the users' guide's ``# recipe: name`` blocks and drive what they build."""

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


def recipe_source(name: str) -> str:
    """Return the guide's ``# recipe: name`` block as printed, tag line first."""
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(rf"^# recipe: {name}\n.*?(?=^```)", text, re.S | re.M)
    assert match is not None, f"no recipe {name!r} in the users' guide"
    return match.group(0)


def recipe(name: str) -> dict[str, Any]:
    """Execute the guide's ``# recipe: name`` block; return its namespace."""
    namespace: dict[str, Any] = {"__name__": f"guide_{name.replace('-', '_')}"}
    exec(compile(recipe_source(name), f"users-guide:{name}", "exec"), namespace)  # noqa: S102
    return namespace


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
