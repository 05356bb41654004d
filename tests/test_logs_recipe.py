"""The logging recipes of the users' guide, run as users would run them."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
import structlog

from tests.support.logparse import parse_kv, run_with_id
from tests.support.servers import REPO_ROOT

GUIDE = (REPO_ROOT / "docs" / "users-guide.md").read_text(encoding="utf-8")
RECIPES = {
    match.group(1): match.group(0)
    for match in re.finditer(r"^# recipe: ([\w-]+)\n.*?(?=^```)", GUIDE, re.S | re.M)
}


@contextlib.contextmanager
def logging_restored(*names: str) -> Iterator[None]:
    """Put the root logger and ``names`` back as they were."""
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in names)]
    saved = [
        (lg, lg.handlers[:], lg.filters[:], lg.level, lg.propagate) for lg in loggers
    ]
    try:
        yield
    finally:
        for logger, handlers, filters, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.filters[:] = filters
            logger.setLevel(level)
            logger.propagate = propagate


def run_recipe(name: str) -> None:
    namespace: dict[str, object] = {"__name__": f"recipe_{name.replace('-', '_')}"}
    exec(compile(RECIPES[name], f"users-guide:{name}", "exec"), namespace)  # noqa: S102


def test_the_dictconfig_recipe_stamps_child_loggers_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with logging_restored("shop", "shop.db"):
        run_recipe("logging-dictconfig")
        run_with_id("req-recipe-1", lambda: logging.getLogger("shop.db").info("query"))
        logging.getLogger("shop").warning('outside "any" request')
    lines = capsys.readouterr().out.splitlines()
    first, second = (parse_kv(line) for line in lines)
    assert (first["logger"], first["message"], first["request_id"]) == (
        "shop.db",
        "query",
        "req-recipe-1",
    )
    assert (second["message"], second["request_id"]) == ('outside "any" request', "-")


def test_the_structlog_recipe_renders_both_kinds_of_lines() -> None:
    stream = io.StringIO()
    try:
        with logging_restored():
            run_recipe("structlog")
            (handler,) = [
                h
                for h in logging.getLogger().handlers
                if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
            ]
            assert isinstance(handler, logging.StreamHandler)
            handler.setStream(stream)
            logging.getLogger().setLevel(logging.INFO)

            def log_both() -> None:
                structlog.get_logger("shop").info("from structlog")
                logging.getLogger("shop").info("from stdlib")

            run_with_id("req-recipe-2", log_both)
    finally:
        structlog.reset_defaults()
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["event"], e["request_id"], e["level"]) for e in events] == [
        ("from structlog", "req-recipe-2", "info"),
        ("from stdlib", "req-recipe-2", "info"),
    ]


def test_the_json_dictconfig_recipe_renames_and_adds_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with logging_restored("shop"):
        run_recipe("logging-json-dictconfig")
        run_with_id(
            "req-recipe-3",
            lambda: logging.getLogger("shop").info("paid", extra={"cart": {"n": 2}}),
        )
    (line,) = capsys.readouterr().out.splitlines()
    fields = json.loads(line)
    assert (fields["msg"], fields["request_id"], fields["cart"]) == (
        "paid",
        "req-recipe-3",
        {"n": 2},
    )
    assert (fields["service"], fields["env"]) == ("orders", "prod")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields["time"])
    assert "message" not in fields
