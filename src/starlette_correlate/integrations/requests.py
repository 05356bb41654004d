"""Outbound calls with a ``requests.Session`` carry the current correlation ID.

:func:`instrument` wraps the session's ``send``, the one method every
request of a session goes through (``session.get`` and the other verbs, a
prepared request given to ``session.send``, each redirect), so the headers
are added by the rule every carrier shares: the current ID under the header
name of the middleware that set it unless ``header_name`` is given, the
incoming ``traceparent`` when trace context is on, a header the caller set
(on the call or in ``session.headers``) kept, nothing outside a request.

Example::

    import requests
    from starlette_correlate.integrations.requests import instrument

    session = instrument(requests.Session())

Why ``send``, not requests' own extension points (D-peers-carriers-1):
requests' hooks see responses only; an ``AuthBase`` would take the place of
``session.auth``, and a call's own ``auth=`` replaces it; mounting an
adapter would replace the adapters the session has (retries, pool sizes,
other schemes). Wrapping ``send`` on the one session keeps all of these,
and works on a session built elsewhere, such as an SDK's.

requests runs in threads: in a sync Starlette or FastAPI endpoint (run in
the threadpool) the ID is there; work handed to an executor yourself needs
the caller's context (``starlette.concurrency.run_in_threadpool``, or
``contextvars.copy_context().run``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

try:
    import requests
except ImportError as exc:  # pragma: no cover - exercised with the package hidden
    raise ImportError(
        "starlette_correlate.integrations.requests needs requests: "
        "pip install 'starlette-correlate[requests]'"
    ) from exc

from starlette_correlate.integrations._outbound import (
    add_outbound_headers,
    checked_header_name,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["CorrelatedSend", "instrument"]

SessionT = TypeVar("SessionT", bound=requests.Session)


class CorrelatedSend:
    """A session's ``send`` that adds the correlation headers first.

    Made by :func:`instrument`; ``header_name`` is its option.

    Example::

        >>> import requests
        >>> session = instrument(requests.Session(), header_name="X-Correlation-ID")
        >>> isinstance(session.send, CorrelatedSend), session.send.header_name
        (True, 'X-Correlation-ID')
        >>> session.close()
    """

    __slots__ = ("header_name", "wrapped")

    def __init__(
        self,
        wrapped: Callable[..., requests.Response],
        header_name: str | None = None,
    ) -> None:
        self.wrapped = wrapped
        self.header_name = checked_header_name(header_name)

    def __call__(
        self, request: requests.PreparedRequest, **kwargs: object
    ) -> requests.Response:
        """Add the headers to ``request`` and send it."""
        # A PreparedRequest made by hand and never prepared has no headers;
        # requests itself reports that, not this wrapper.
        if request.headers is not None:
            add_outbound_headers(request.headers, self.header_name)
        return self.wrapped(request, **kwargs)


def instrument(session: SessionT, *, header_name: str | None = None) -> SessionT:
    """Make ``session`` send the current ID on every request; return it.

    A second call on the same session adds nothing (the first
    ``header_name`` stays). ``header_name`` fixes the header; by default it
    follows the middleware that set the current ID. A bad ``header_name``
    raises ``ValueError`` here, not at call time.

    Example::

        >>> import requests
        >>> session = instrument(instrument(requests.Session()))
        >>> isinstance(session.send.wrapped, CorrelatedSend)
        False
        >>> session.close()
    """
    if not isinstance(vars(session).get("send"), CorrelatedSend):
        # An instance attribute shadows the class's method for this one
        # session; Session.request and the redirect loop call self.send.
        session.send = CorrelatedSend(session.send, header_name)  # type: ignore[method-assign]
    return session
