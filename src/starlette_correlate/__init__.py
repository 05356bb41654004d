"""Request correlation IDs for Starlette, FastAPI and any ASGI service.

Two lines give every request an ID in its response header and logs::

    app.add_middleware(CorrelationMiddleware)
    handler.addFilter(CorrelationIdFilter())

Example::

    >>> from starlette_correlate import get_correlation_id
    >>> get_correlation_id() is None
    True
    >>> import starlette_correlate
    >>> isinstance(starlette_correlate.__version__, str)
    True
"""

from typing import TYPE_CHECKING

from starlette_correlate.config import CorrelationConfig, CorrelationOptions
from starlette_correlate.context import (
    correlation_id_var,
    get_correlation_header,
    get_correlation_id,
)
from starlette_correlate.core import DEFAULT_HEADER, CorrelationCore
from starlette_correlate.errors import correlation_id_from_exception
from starlette_correlate.extract import from_cookie, from_header, from_query
from starlette_correlate.fields import bind_fields, bound_fields, fields_var, get_fields
from starlette_correlate.ids import default_generator, is_safe_id, is_uuid, uuid7
from starlette_correlate.logs import CorrelationIdFilter, get_logger
from starlette_correlate.middleware import STATE_KEY, CorrelationMiddleware
from starlette_correlate.provenance import (
    Refusal,
    get_correlation_source,
)
from starlette_correlate.scope import (
    correlation_scope,
    run_in_executor,
    submit_with_context,
)
from starlette_correlate.store import ContextStore
from starlette_correlate.traceparent import TraceParent, parse_traceparent
from starlette_correlate.trust import TrustedSources
from starlette_correlate.two_ids import get_inherited_id, get_parent_id

if TYPE_CHECKING:
    # For type checkers only: at run time __getattr__ imports it on first use.
    from starlette_correlate.integrations.httpx import (
        instrument as instrument_httpx,  # noqa: F401
    )

__all__ = [
    "DEFAULT_HEADER",
    "STATE_KEY",
    "ContextStore",
    "CorrelationConfig",
    "CorrelationCore",
    "CorrelationIdFilter",
    "CorrelationMiddleware",
    "CorrelationOptions",
    "Refusal",
    "TraceParent",
    "TrustedSources",
    "bind_fields",
    "bound_fields",
    "correlation_id_from_exception",
    "correlation_id_var",
    "correlation_scope",
    "default_generator",
    "fields_var",
    "from_cookie",
    "from_header",
    "from_query",
    "get_correlation_header",
    "get_correlation_id",
    "get_correlation_source",
    "get_fields",
    "get_inherited_id",
    "get_logger",
    "get_parent_id",
    "is_safe_id",
    "is_uuid",
    "parse_traceparent",
    "run_in_executor",
    "submit_with_context",
    "uuid7",
]

__version__: str
"""The installed distribution's version, read from its metadata on first use."""

_DISTRIBUTION = "starlette-correlate"
_UNKNOWN_VERSION = "0+unknown"


def _installed_version() -> str:
    # importlib.metadata costs ~5% of this package's import, paid by every
    # pytest run through the plugin entry point: look it up only when asked.
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version(_DISTRIBUTION)
    except PackageNotFoundError:
        # A source tree on sys.path or a vendored copy: the lowest valid
        # PEP 440 version, so a version check fails safe instead of crashing.
        return _UNKNOWN_VERSION


def __getattr__(name: str) -> object:
    """Import optional integrations only when first used (they need extras)."""
    if name == "__version__":
        found = _installed_version()
        globals()["__version__"] = found
        return found
    if name == "instrument_httpx":
        from starlette_correlate.integrations.httpx import (  # noqa: PLC0415
            instrument,
        )

        return instrument
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
