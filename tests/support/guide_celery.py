"""The users' guide's ``# recipe: celery`` block as a module, for a worker.

``celery -A tests.support.guide_celery:celery_app worker`` runs the block
exactly as printed; it reads its broker from ``CELERY_BROKER_URL``.
"""

from __future__ import annotations

from typing import Any

from tests.support.guide import recipe

celery_app: Any = recipe("celery")["celery_app"]
