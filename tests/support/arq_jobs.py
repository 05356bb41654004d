"""The arq worker of features/integrations_arq.feature: the guide's recipe plus jobs.

``arq tests.support.arq_jobs.WorkerSettings`` runs the recipe's settings,
saved as the module ``arqshop`` (on ``PYTHONPATH``), with the jobs the
scenarios need beside the recipe's own. The settings are made when first
asked for, not on import: pytest imports every module of ``tests/`` to
look for doctests, where ``arqshop`` is not on the path.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from typing import Any

from arq import Retry

logger = logging.getLogger("tests.jobs")


async def fails(ctx: dict[str, Any]) -> None:
    """Log, then fail."""
    logger.info("about to fail")
    raise ValueError("the job failed on purpose")


async def retries(ctx: dict[str, Any]) -> None:
    """Ask for one retry, then succeed."""
    logger.info("attempt %d", ctx["job_try"])
    if ctx["job_try"] == 1:
        raise Retry(defer=0)


async def says_hello(ctx: dict[str, Any]) -> None:
    """Log one line."""
    logger.info("hello")


@cache
def _settings() -> type:
    shop: Any = importlib.import_module("arqshop")
    recipe = shop.WorkerSettings
    # arq reads a settings class's own attributes, not inherited ones.
    settings = {k: v for k, v in vars(recipe).items() if not k.startswith("__")}
    settings["functions"] = [*recipe.functions, fails, retries, says_hello]
    return type("WorkerSettings", (), settings)


def __getattr__(name: str) -> Any:
    if name == "WorkerSettings":
        return _settings()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
