"""Jobs the rq scenarios enqueue beside the guide's recipe's own.

rq finds a job's function by its import path, so the worker process runs
these from here; they log on ``tests.jobs``, through the recipe's handler.
"""

from __future__ import annotations

import logging

from rq import get_current_job

logger = logging.getLogger("tests.jobs")


def fails() -> None:
    """Log, then fail."""
    logger.info("about to fail")
    raise ValueError("the job failed on purpose")


def retries() -> None:
    """Fail the first attempt, succeed the second (enqueue with ``Retry(max=1)``)."""
    job = get_current_job()
    assert job is not None
    # Enqueued with Retry(max=1): one retry left on the first attempt.
    attempt = 1 if job.retries_left else 2
    logger.info("attempt %d", attempt)
    if attempt == 1:
        raise ValueError("first attempt fails on purpose")


def says_hello() -> None:
    """Log one line."""
    logger.info("hello")
