"""What the arq and rq scenarios share: the guide's recipe saved as a module.

Both features run a real worker process on the guide's recipe, saved as
printed in a temporary folder as a module of its own (``arqshop``,
``rqshop``): the worker imports it by name, as it would a user's
``shop.py``. The test process imports the same file to serve the recipe's
app, with the root logger's handlers taken back afterwards.
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from starlette_correlate import is_safe_id
from tests.support.celery_process import WorkerProcess
from tests.support.guide import recipe_source


@dataclass
class Shop:
    """A module's worker process and the recipe module it serves."""

    worker: WorkerProcess
    module: ModuleType


@dataclass
class World:
    """The IDs of the jobs one scenario enqueued, in order."""

    job_ids: list[str] = field(default_factory=list)


# "INFO request_id=X job=J parent=P logger message": the recipes' format.
LINE = re.compile(
    r"(?P<level>[A-Z]+) request_id=(?P<request_id>\S+) job=(?P<job>\S+) "
    r"parent=(?P<parent>\S+) (?P<logger>\S+) (?P<message>.*)"
)


def save_recipe(name: str, module: str, folder: Path) -> Path:
    """Write the guide's ``# recipe: name`` block to ``folder/module.py``."""
    path = folder / f"{module}.py"
    path.write_text(recipe_source(name), encoding="utf-8")
    return path


@contextmanager
def recipe_module(
    module: str, folder: Path, env: dict[str, str]
) -> Iterator[ModuleType]:
    """Import the saved recipe in this process; forget it and its handlers after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.syspath_prepend(str(folder))
        try:
            yield importlib.import_module(module)
        finally:
            sys.modules.pop(module, None)
            root.handlers[:] = handlers
            root.setLevel(level)


def expected_line(text: str, job_id: str) -> str:
    """``"request_id=X parent=P rest"`` as the worker prints it for ``job_id``."""
    head, rest = text.split(" parent=", 1)
    return f"{head} job={job_id} parent={rest}"


def find(worker: WorkerProcess, wanted: str) -> str:
    """Wait until the worker printed a line ending with ``wanted``; return it."""
    assert worker.wait_for(
        lambda lines: any(line.endswith(wanted) for line in lines)
    ), f"no line ending with {wanted!r} in:\n{worker.output}"
    return next(line for line in worker.lines if line.endswith(wanted))


def job_lines(worker: WorkerProcess, job_id: str) -> list[re.Match[str]]:
    """Every line in the recipes' format the worker printed for ``job_id``."""
    return [
        match
        for line in worker.lines
        if (match := LINE.fullmatch(line)) and match["job"] == job_id
    ]


def child_of(worker: WorkerProcess, request_id: str, message: str) -> re.Match[str]:
    """Wait for the line ``message`` under ``request_id``; return it parsed."""

    def seen(lines: list[str]) -> bool:
        return any(
            (m := LINE.fullmatch(line))
            and m["request_id"] == request_id
            and m["message"] == message
            for line in lines
        )

    assert worker.wait_for(seen), worker.output
    (match,) = [
        m
        for line in worker.lines
        if (m := LINE.fullmatch(line))
        and m["request_id"] == request_id
        and m["message"] == message
    ]
    assert is_safe_id(match["job"]), match
    return match
