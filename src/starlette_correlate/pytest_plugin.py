"""pytest fixtures for asserting on correlation IDs in your own tests.

Installed with the package and loaded by pytest through the ``pytest11``
entry point, so any test can ask for:

* ``correlation_id``: the test runs under a known correlation ID (the value
  of a ``@pytest.mark.correlation_id("...")`` marker, else a new UUIDv7),
  set with a token before the test and reset with it afterwards;
* ``correlation_records``: a :class:`CorrelationRecords` holding the log
  records emitted during the test, each stamped with the ID it was logged
  under.

pytest imports this module in every run of every project that installs the
package, so it imports nothing beyond the core: no optional extra.

Example::

    import logging

    def test_orders_are_logged(correlation_id, correlation_records):
        logging.getLogger("shop").info("order placed")
        assert correlation_records.ids == [correlation_id]
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from starlette_correlate.context import correlation_id_var
from starlette_correlate.ids import default_generator, is_safe_id
from starlette_correlate.logs.filter import CorrelationIdFilter

__all__ = ["MARKER", "CorrelationRecords", "correlation_id", "correlation_records"]

MARKER = "correlation_id"
"""The marker that chooses the ID: ``@pytest.mark.correlation_id("abc")``."""


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(value): the ID the correlation_id fixture sets for this test",
    )


class _Capture(logging.Handler):
    def __init__(self, records: list[logging.LogRecord], field: str) -> None:
        super().__init__(logging.NOTSET)
        self._records = records
        self.addFilter(CorrelationIdFilter(field=field))

    def emit(self, record: logging.LogRecord) -> None:
        self._records.append(record)


class CorrelationRecords:
    """Log records of one test, each with the correlation ID it was logged under.

    A handler on the root logger captures every record that reaches it (so
    records of loggers with ``propagate = False`` are not seen) and stamps
    it with the ``CorrelationIdFilter`` when it is emitted, in the emitting
    code's context: ``"-"`` outside any ID. While the fixture is active the
    root logger lets INFO records through; :meth:`set_level` changes that.

    Example::

        def test_job(correlation_records):
            with correlation_scope("job-7"):
                logging.getLogger("jobs").info("started")
            assert correlation_records.with_id("job-7")[0].getMessage() == "started"
    """

    def __init__(self, field: str = "request_id") -> None:
        self.field = field
        self.records: list[logging.LogRecord] = []
        self.handler: logging.Handler = _Capture(self.records, field)
        self._levels: dict[str, int] = {}

    @property
    def ids(self) -> list[str]:
        """Return the ID of each record, in order (``"-"`` outside any ID)."""
        return [str(record.__dict__.get(self.field)) for record in self.records]

    def with_id(self, correlation_id: str) -> list[logging.LogRecord]:
        """Return the records logged under ``correlation_id``."""
        return [
            record
            for record in self.records
            if record.__dict__.get(self.field) == correlation_id
        ]

    def messages(self) -> list[tuple[str, str]]:
        """Return ``(ID, message)`` for each record, in order."""
        return [
            (str(record.__dict__.get(self.field)), record.getMessage())
            for record in self.records
        ]

    def clear(self) -> None:
        """Forget the records captured so far."""
        self.records.clear()

    def set_level(self, level: int | str, logger: str = "") -> None:
        """Set the level of ``logger`` (the root by default) until the test ends."""
        target = logging.getLogger(logger)
        self._levels.setdefault(logger, target.level)
        target.setLevel(level)

    def _restore(self) -> None:
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        self._levels.clear()


@pytest.fixture
def correlation_id(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test under a known correlation ID and yield it.

    The ID is the marker's value (``@pytest.mark.correlation_id("abc")``)
    or a new UUIDv7. It is set before the test and reset with its token
    afterwards, so the next test starts without one. Async tests see it
    too: their event loop copies the test's context.

    Example::

        @pytest.mark.correlation_id("order-42")
        def test_header(correlation_id):
            assert get_correlation_id() == correlation_id == "order-42"
    """
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        value = default_generator()
    else:
        value = marker.args[0] if marker.args else marker.kwargs.get("value")
        if not isinstance(value, str) or not is_safe_id(value):
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER}: {value!r} is not a safe correlation ID; "
                "give printable ASCII without spaces, e.g. 'order-42'"
            )
    token = correlation_id_var.set(value)
    try:
        yield value
    finally:
        correlation_id_var.reset(token)


@pytest.fixture
def correlation_records() -> Iterator[CorrelationRecords]:
    """Capture the test's log records with the correlation ID of each.

    Example::

        def test_logged(correlation_id, correlation_records):
            logging.getLogger("app").info("hello")
            assert correlation_records.messages() == [(correlation_id, "hello")]
    """
    captured = CorrelationRecords()
    root = logging.getLogger()
    if root.getEffectiveLevel() > logging.INFO:
        captured.set_level(logging.INFO)
    root.addHandler(captured.handler)
    try:
        yield captured
    finally:
        root.removeHandler(captured.handler)
        captured._restore()
