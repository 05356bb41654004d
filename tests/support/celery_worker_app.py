"""A Celery app for a worker in its own process, on the filesystem broker.

The worker process (``celery -A tests.support.celery_worker_app worker``)
and the test share the folder named by ``STARLETTE_CORRELATE_CELERY_DIR``.
Import only after ``pytest.importorskip("celery")``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.utils.log import get_task_logger

from starlette_correlate.integrations.celery import connect_signals

FOLDER_VARIABLE = "STARLETTE_CORRELATE_CELERY_DIR"

task_logger = get_task_logger("shop.worker")
plain_logger = logging.getLogger("shop.plain")


def make_app(folder: Path) -> Celery:
    """Return the app: broker messages and results as files under ``folder``."""
    queue = folder / "queue"
    queue.mkdir(parents=True, exist_ok=True)
    (folder / "results").mkdir(exist_ok=True)
    app = Celery(
        "shop_worker",
        broker="filesystem://",
        backend=f"file://{folder / 'results'}",
        set_as_current=False,
    )
    app.conf.update(
        broker_transport_options={
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            # kombu's default is "control" under the working directory: the
            # worker's remote-control files then landed in the checkout.
            "control_folder": str(folder / "control"),
            "polling_interval": 0.05,
        },
        broker_connection_retry_on_startup=True,
    )

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
    folder = os.environ.get(FOLDER_VARIABLE)
    if folder is None:
        return None
    from tests.support.guide import recipe  # noqa: PLC0415 - the worker only

    worker_app = make_app(Path(folder))
    connect_signals()
    recipe("celery-worker-logging")["correlate_worker_logs"](worker_app)
    return worker_app


app = _worker_app()
