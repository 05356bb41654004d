"""orjson when the ``fast`` extra is installed, else ``None``: asked once.

The formatters write with it and the trace command reads with it; both
take :data:`orjson` from here.
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["orjson"]


def _load() -> ModuleType | None:
    try:
        import orjson as module  # noqa: PLC0415 - optional: the fast extra
    except ImportError:
        return None
    return module


orjson: ModuleType | None = _load()
