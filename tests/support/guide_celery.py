"""The users' guide's ``# recipe: celery`` block as a module, for a worker.

``celery -A tests.support.guide_celery:celery_app worker`` runs the block
exactly as printed; it reads its broker from ``CELERY_BROKER_URL``. The
block runs when ``celery_app`` is first asked for, not on import: pytest
imports every module of ``tests/`` to look for doctests, and the block
connects the Celery signals for the whole process.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from tests.support.guide import recipe


@cache
def _celery_app() -> Any:
    return recipe("celery")["celery_app"]


def __getattr__(name: str) -> Any:
    if name == "celery_app":
        return _celery_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
