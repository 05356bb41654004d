"""Logging: the correlation ID on every record, whatever emits it.

:class:`CorrelationIdFilter` stamps records; :class:`KeyValueFormatter` and
:class:`JsonFormatter` write them as one escaped line each;
:class:`AccessLogMiddleware` (``CorrelationMiddleware(access_log=True)``)
writes one line per request on the ``starlette_correlate.access`` logger;
``CorrelationMiddleware(error_log=True)`` one traceback line per unhandled
exception on ``starlette_correlate.error``
(:mod:`starlette_correlate.logs.errorlog`);
:func:`server_log_config` gives a server's own lines the ID.
The structlog processor lives in
:mod:`starlette_correlate.logs.structlog_processor` (optional extra).
"""

from starlette_correlate.logs.access import ACCESS_LOGGER, AccessLogMiddleware
from starlette_correlate.logs.errorlog import ERROR_LOGGER, SkipLoggedErrors
from starlette_correlate.logs.filter import CorrelationIdFilter, get_logger
from starlette_correlate.logs.formatters import JsonFormatter, KeyValueFormatter
from starlette_correlate.logs.servers import server_log_config

__all__ = [
    "ACCESS_LOGGER",
    "ERROR_LOGGER",
    "AccessLogMiddleware",
    "CorrelationIdFilter",
    "JsonFormatter",
    "KeyValueFormatter",
    "SkipLoggedErrors",
    "get_logger",
    "server_log_config",
]
