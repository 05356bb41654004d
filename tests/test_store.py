"""The context store on its own: keys, order, foreign contexts."""

from __future__ import annotations

import contextvars

from starlette_correlate.store import ContextStore

first: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "first", default=None
)
second: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "second", default=None
)


def test_release_resets_every_token_of_a_key_newest_first() -> None:
    store = ContextStore()
    store.push("k", first.set("a"))
    store.push("k", second.set("b"))
    store.push("k", first.set("a2"))
    assert (first.get(), second.get(), len(store)) == ("a2", "b", 1)
    assert store.release("k") is True
    assert (first.get(), second.get(), len(store)) == (None, None, 0)


def test_keys_are_independent() -> None:
    store = ContextStore()
    store.push("outer", first.set("outer"))
    store.push("inner", second.set("inner"))
    assert "outer" in store
    assert "inner" in store
    store.release("outer")
    assert first.get() is None
    assert second.get() == "inner"
    store.release("inner")
    assert second.get() is None
    assert len(store) == 0


def test_a_used_token_is_not_an_error() -> None:
    store = ContextStore()
    token = first.set("x")
    store.push("k", token)
    first.reset(token)
    assert store.release("k") is True
    assert first.get() is None


def test_foreign_context_restores_the_previous_value_it_held() -> None:
    store = ContextStore()
    request_context = contextvars.copy_context()
    request_context.run(first.set, "before")
    request_context.run(lambda: store.push("k", first.set("during")))
    response_context = request_context.copy()
    assert response_context.run(store.release, "k") is True
    assert response_context.get(first) == "before"
    assert len(store) == 0
