"""A Sentry transport that keeps envelopes: nothing goes on the network.

Import only after ``pytest.importorskip("sentry_sdk")``.
"""

from __future__ import annotations

from typing import Any, cast

import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

# Never contacted: the transport keeps everything, and the host is reserved.
TEST_DSN = "https://key@example.invalid/1"


class CollectingTransport(Transport):
    """Keeps every envelope instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        """Keep ``envelope``."""
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        """Return the events of the envelopes kept so far."""
        found = [envelope.get_event() for envelope in self.envelopes]
        return [cast(dict[str, Any], event) for event in found if event is not None]


def close_sentry() -> None:
    """Close the client and leave none behind for the tests that follow."""
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
