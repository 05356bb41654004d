"""Sentry: every event captured during a request tagged with its correlation ID.

Install with ``pip install starlette-correlate[sentry]`` and add the
integration to ``sentry_sdk.init``::

    import sentry_sdk
    from starlette_correlate.integrations.sentry import CorrelationIdIntegration

    sentry_sdk.init(dsn="...", integrations=[CorrelationIdIntegration()])

The tag is written on each event at the moment it is captured, from the ID
of the context that captures it. A tag put on a Sentry scope when the
request starts is only as good as that scope: on a scope forked for a block
(``new_scope()``, ``push_scope()``) it is gone before the event of an
unhandled exception is captured, and on an isolation scope nobody forked for
the request it is shared by every request in the process. An event captured
after the request's context was reset (Sentry's own ASGI middleware capturing
the exception that left the app) is tagged from the ID the exception
carries, which :class:`~starlette_correlate.CorrelationMiddleware` records.
"""

from __future__ import annotations

from starlette_correlate.context import correlation_id_var
from starlette_correlate.errors import choose_record_id

try:
    import sentry_sdk
    from sentry_sdk.integrations import Integration
    from sentry_sdk.scope import add_global_event_processor
    from sentry_sdk.types import Event, Hint
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise ImportError(
        "starlette_correlate.integrations.sentry needs sentry-sdk: "
        "pip install 'starlette-correlate[sentry]'"
    ) from exc

__all__ = ["DEFAULT_TAG", "CorrelationIdIntegration"]

DEFAULT_TAG = "correlation_id"
"""The Sentry tag that holds the correlation ID."""

# Sentry's limits for tag keys: at most 32 characters of letters, digits and
# ``_.:-``; a key outside them is dropped by the server without a word.
_TAG_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-"
)


class CorrelationIdIntegration(Integration):
    """A Sentry integration that tags events with the current correlation ID.

    Args:
        tag: the tag key; ``correlation_id`` by default.

    A value the caller set for the same tag (``sentry_sdk.set_tag``) is kept.
    Outside a request (and outside any
    :func:`~starlette_correlate.scope.correlation_scope` or Celery task),
    events get no tag.

    Example::

        >>> CorrelationIdIntegration().tag
        'correlation_id'
        >>> CorrelationIdIntegration(tag="bad tag")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: tag: 'bad tag' is not a Sentry tag key; ...
    """

    identifier = "starlette_correlate"

    def __init__(self, tag: str = DEFAULT_TAG) -> None:
        if (
            not isinstance(tag, str)
            or not 1 <= len(tag) <= 32
            or not set(tag) <= _TAG_CHARACTERS
        ):
            raise ValueError(
                f"tag: {tag!r} is not a Sentry tag key; use up to 32 letters, "
                "digits and _.:-"
            )
        self.tag = tag

    @staticmethod
    def setup_once() -> None:
        """Register the event processor; Sentry calls this once per process."""
        add_global_event_processor(_tag_event)


def _tag_event(event: Event, hint: Hint) -> Event:
    # Registered once for the process: a later init without the integration
    # (or a test that closed its client) turns it off.
    integration = sentry_sdk.get_client().get_integration(CorrelationIdIntegration)
    if integration is None:
        return event
    correlation_id = correlation_id_var.get()
    exc_info = hint.get("exc_info") if isinstance(hint, dict) else None
    if exc_info:
        correlation_id = choose_record_id(correlation_id, exc_info[1])
    if correlation_id is None:
        return event
    tags = event.get("tags")
    if not isinstance(tags, dict):
        tags = event["tags"] = {}
    tags.setdefault(integration.tag, correlation_id)
    return event
