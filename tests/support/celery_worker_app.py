"""A Celery app on Redis, for the worker-logging recipe in a worker process.

The worker process (``celery -A tests.support.celery_worker_app worker``)
and the test share the Redis database named by
``STARLETTE_CORRELATE_CELERY_REDIS``, as broker and result backend; nothing
is written to disk. Import only after ``pytest.importorskip("celery")``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.utils.log import get_task_logger

from starlette_correlate.integrations.celery import connect_signals

URL_VARIABLE = "STARLETTE_CORRELATE_CELERY_REDIS"

task_logger = get_task_logger("shop.worker")
plain_logger = logging.getLogger("shop.plain")


def make_app(redis_url: str) -> Celery:
    """Return the app: broker and results in the Redis database ``redis_url``."""
    app = Celery(
        "shop_worker", broker=redis_url, backend=redis_url, set_as_current=False
    )
    app.conf.broker_connection_retry_on_startup = True

    @app.task(name="shop_worker.place")
    def place(order_id: str) -> str:
        plain_logger.info("order %s placed", order_id)
        child: Any = ship.delay(order_id)
        return str(child.id)

    @app.task(name="shop_worker.ship")
    def ship(order_id: str) -> None:
        task_logger.info("shipping %s", order_id)

    return app


def _worker_app() -> Celery | None:
    redis_url = os.environ.get(URL_VARIABLE)
    if redis_url is None:
        return None
    from tests.support.guide import recipe  # noqa: PLC0415 - the worker only

    worker_app = make_app(redis_url)
    connect_signals()
    recipe("celery-worker-logging")["correlate_worker_logs"](worker_app)
    return worker_app


app = _worker_app()
