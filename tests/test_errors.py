"""The IDs an exception carries: per task, bounded, never a leak."""

from __future__ import annotations

import asyncio
import gc

from starlette_correlate.errors import (
    attach_correlation_id,
    choose_record_id,
    choose_record_two_ids,
    correlation_id_from_exception,
)
from starlette_correlate.two_ids import TwoIds


def two(inherited: str, parent: str | None = None) -> TwoIds:
    return TwoIds(inherited, parent, "X-Correlation-ID")


def test_a_cached_exception_keeps_one_note_and_no_finished_task() -> None:
    cached = RuntimeError("cached")

    async def fail_once(index: int) -> str | None:
        attach_correlation_id(cached, f"req-{index}")
        await asyncio.sleep(0)
        return correlation_id_from_exception(cached)

    async def main() -> list[str | None]:
        return await asyncio.gather(*(fail_once(i) for i in range(200)))

    seen = asyncio.run(main())
    # Each task read back its own request's ID ...
    assert seen == [f"req-{i}" for i in range(200)]
    # ... the note is written once, and finished tasks are not kept.
    assert cached.__notes__ == ["correlation ID: req-0"]
    gc.collect()
    carried = cached.starlette_correlate_ids  # type: ignore[attr-defined]
    assert len(carried.by_owner) == 0
    # Outside any task, the first request's ID is what is known.
    assert correlation_id_from_exception(cached) == "req-0"


def test_within_one_task_the_innermost_request_keeps_its_id() -> None:
    exc = RuntimeError("nested")

    async def nested() -> str | None:
        attach_correlation_id(exc, "inner")  # the mounted app's middleware
        attach_correlation_id(exc, "outer")  # then the outer one
        return choose_record_id(None, exc)

    assert asyncio.run(nested()) == "inner"


def test_an_exception_refusing_attributes_is_left_alone() -> None:
    class FrozenError(Exception):
        def __setattr__(self, name: str, value: object) -> None:
            raise AttributeError(name)

    exc = FrozenError()
    attach_correlation_id(exc, "req")
    assert correlation_id_from_exception(exc) is None
    assert choose_record_id("ctx", exc) == "ctx"
    assert not getattr(exc, "__notes__", None)


def test_an_id_set_by_hand_is_kept() -> None:
    exc = RuntimeError("by hand")
    exc.starlette_correlate_id = "manual"  # type: ignore[attr-defined]
    attach_correlation_id(exc, "req")
    assert correlation_id_from_exception(exc) == "manual"
    assert not getattr(exc, "__notes__", None)


def test_the_innermost_request_names_the_exception() -> None:
    exc = RuntimeError("boom")
    attach_correlation_id(exc, "inner")
    attach_correlation_id(exc, "outer")
    assert correlation_id_from_exception(exc) == "inner"
    assert exc.__notes__ == ["correlation ID: inner"]


def test_the_id_is_found_through_an_explicit_cause() -> None:
    inner = ValueError("inner")
    attach_correlation_id(inner, "abc")
    outer = RuntimeError("outer")
    outer.__cause__ = inner
    assert correlation_id_from_exception(outer) == "abc"


def test_each_task_s_two_ids_go_with_its_id_and_no_finished_task_is_kept() -> None:
    cached = RuntimeError("cached")
    context = two("ctx-corr")

    async def fail_once(index: int) -> tuple[str | None, TwoIds | None]:
        attach_correlation_id(cached, f"req-{index}", two(f"corr-{index}", "up"))
        await asyncio.sleep(0)
        # The server's line, after the context is gone; then a line of
        # another request logging it in its own context.
        late = choose_record_two_ids(None, None, cached)
        assert choose_record_two_ids("ctx", context, cached) is late
        return choose_record_id(None, cached), late

    async def main() -> list[tuple[str | None, TwoIds | None]]:
        return await asyncio.gather(*(fail_once(i) for i in range(50)))

    seen = asyncio.run(main())
    assert seen == [(f"req-{i}", two(f"corr-{i}", "up")) for i in range(50)]
    gc.collect()
    carried = cached.starlette_correlate_ids  # type: ignore[attr-defined]
    assert len(carried.two[1]) == 0
    # Outside any task: the first request's ID, and its two IDs.
    assert choose_record_two_ids(None, None, cached) == two("corr-0", "up")
    # A line in another request's context names that request, all three.
    assert choose_record_two_ids("ctx", context, cached) is context


def test_the_two_ids_follow_the_id_the_record_names() -> None:
    exc = RuntimeError("nested")

    async def nested() -> tuple[str | None, TwoIds | None]:
        attach_correlation_id(exc, "inner", two("corr-inner", "p-inner"))
        attach_correlation_id(exc, "outer", two("corr-outer", "p-outer"))
        return choose_record_id(None, exc), choose_record_two_ids(None, None, exc)

    assert asyncio.run(nested()) == ("inner", two("corr-inner", "p-inner"))
    # Without an exception, or one carrying nothing: the context's.
    context = two("ctx")
    assert choose_record_two_ids("ctx-id", context, None) is context
    assert choose_record_two_ids(None, context, RuntimeError()) is context


def test_a_request_without_two_ids_lends_none_to_its_line() -> None:
    exc = RuntimeError("mixed")
    attach_correlation_id(exc, "plain")  # first: a request without two IDs
    carried = exc.starlette_correlate_ids  # type: ignore[attr-defined]
    # Free when off: the holder is made as before, with no two-ID slot.
    assert not hasattr(carried, "two")

    async def with_two() -> TwoIds | None:
        attach_correlation_id(exc, "two-id", two("corr-1"))
        return choose_record_two_ids(None, None, exc)

    assert asyncio.run(with_two()) == two("corr-1")
    # The first request (named outside any task) had none: none, never the
    # context's, which belongs to no request the line names.
    assert choose_record_id(None, exc) == "plain"
    assert choose_record_two_ids(None, two("stale"), exc) is None
    # An ID set by hand carries no two IDs either.
    manual = RuntimeError("by hand")
    manual.starlette_correlate_id = "manual"  # type: ignore[attr-defined]
    attach_correlation_id(manual, "req", two("corr-2"))
    assert choose_record_two_ids(None, two("stale"), manual) is None
