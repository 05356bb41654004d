"""The IDs an exception carries: per task, bounded, never a leak."""

from __future__ import annotations

import asyncio
import gc

from starlette_correlate.errors import (
    attach_correlation_id,
    choose_record_id,
    correlation_id_from_exception,
)


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
