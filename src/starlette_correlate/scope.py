"""Correlation outside HTTP: scopes for jobs and commands, context in threads.

A background job, a CLI command or a worker task has no request to give it
an ID. :class:`correlation_scope` sets one (given, or generated) and
optional fields for a block, with ``with`` or ``async with``, and puts back
exactly what was there before, also when the block raises.

``ThreadPoolExecutor.submit`` runs the function in the worker thread's own
context, so the ID is lost there; :func:`submit_with_context` and
:func:`run_in_executor` run it in a copy of the caller's context.
(``asyncio.to_thread`` and Starlette's ``run_in_threadpool`` copy it
already.)
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from contextvars import Token
from types import TracebackType
from typing import ParamSpec, TypeVar

from starlette_correlate.context import correlation_id_var
from starlette_correlate.fields import fields_var, merge_fields, set_fields
from starlette_correlate.ids import default_generator, is_safe_id

__all__ = ["correlation_scope", "run_in_executor", "submit_with_context"]

P = ParamSpec("P")
R = TypeVar("R")


class correlation_scope:  # noqa: N801 - used like a function, as contextlib's are
    r"""Set a correlation ID and fields for a block; restore the old ones after.

    Args:
        correlation_id: the ID to use; ``None`` generates one.
        **fields: fields to bind for the block, merged into those already
            bound (``None`` unbinds a key).

    Raises:
        ValueError: when entering with a given ID that is not safe for logs
            and headers (see :func:`~starlette_correlate.ids.is_safe_id`).

    Entering returns the ID. Scopes nest, work with ``with`` and
    ``async with``, and restore with the tokens they got, so an inner scope
    can never clobber an outer one. One scope object is entered once at a
    time; make a new one for each block.

    Example::

        >>> from starlette_correlate import get_correlation_id
        >>> from starlette_correlate.fields import get_fields
        >>> with correlation_scope("job-42", job="nightly") as cid:
        ...     cid, get_correlation_id(), dict(get_fields())
        ('job-42', 'job-42', {'job': 'nightly'})
        >>> get_correlation_id() is None, dict(get_fields())
        (True, {})
    """

    __slots__ = ("_fields", "_given", "_tokens")

    def __init__(
        self,
        correlation_id: str | None = None,
        /,
        **fields: object,
    ) -> None:
        self._given = correlation_id
        self._fields: Mapping[str, object] = fields
        self._tokens: (
            tuple[Token[str | None], Token[Mapping[str, str] | None]] | None
        ) = None

    def __enter__(self) -> str:
        if self._tokens is not None:
            raise RuntimeError(
                "correlation_scope: this scope is already entered; make a new "
                "correlation_scope(...) for each block"
            )
        correlation_id = self._given
        if correlation_id is None:
            correlation_id = default_generator()
        elif not isinstance(correlation_id, str) or not is_safe_id(correlation_id):
            # The value itself may be hostile: say what it is like, not what it is.
            raise ValueError(
                f"correlation_scope: the given ID ({type(correlation_id).__name__} "
                f"of length {len(str(correlation_id))}) is not a safe ID; use 1 to "
                "128 printable ASCII characters without spaces, quotes or "
                "backslashes, or pass None to generate one"
            )
        id_token = correlation_id_var.set(correlation_id)
        # Always take a token, even without fields: a bind_fields inside the
        # block must be undone with the block.
        fields = fields_var.get()
        fields_token = set_fields(
            merge_fields(fields, self._fields) if self._fields else fields
        )
        self._tokens = (id_token, fields_token)
        return correlation_id

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        tokens, self._tokens = self._tokens, None
        if tokens is None:
            return
        id_token, fields_token = tokens
        fields_var.reset(fields_token)
        correlation_id_var.reset(id_token)

    async def __aenter__(self) -> str:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, traceback)


def submit_with_context(
    executor: Executor, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> Future[R]:
    """Submit ``fn(*args, **kwargs)`` to ``executor`` in a copy of this context.

    The function sees the caller's correlation ID and fields; what it sets
    stays in its copy. Each call makes its own copy, so calls can run at the
    same time.

    Example::

        from concurrent.futures import ThreadPoolExecutor
        from starlette_correlate import get_correlation_id
        from starlette_correlate.scope import correlation_scope, submit_with_context

        with ThreadPoolExecutor() as pool, correlation_scope("job-1"):
            future = submit_with_context(pool, get_correlation_id)
            assert future.result() == "job-1"
    """
    context = contextvars.copy_context()

    def call() -> R:
        return context.run(fn, *args, **kwargs)

    return executor.submit(call)


async def run_in_executor(
    executor: Executor | None, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> R:
    """Await ``fn(*args, **kwargs)`` run in ``executor`` with this context.

    Like ``loop.run_in_executor(executor, fn, *args)``, which copies no
    context, but the function sees the caller's ID and fields. ``None``
    uses the loop's default executor.

    Example::

        import asyncio
        from starlette_correlate import get_correlation_id
        from starlette_correlate.scope import correlation_scope, run_in_executor

        async def main() -> None:
            async with correlation_scope("job-2"):
                assert await run_in_executor(None, get_correlation_id) == "job-2"

        asyncio.run(main())
    """
    context = contextvars.copy_context()

    def call() -> R:
        return context.run(fn, *args, **kwargs)

    return await asyncio.get_running_loop().run_in_executor(executor, call)
