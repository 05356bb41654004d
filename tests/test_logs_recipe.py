"""The logging recipes of the users' guide, run as users would run them."""

from __future__ import annotations

import json
import logging
import re

import pytest
import structlog

from tests.support.guide import recipe
from tests.support.logparse import logging_restored, parse_kv, run_with_id


def test_the_dictconfig_recipe_stamps_child_loggers_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with logging_restored("shop", "shop.db"):
        recipe("logging-dictconfig")
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


def test_the_structlog_recipe_renders_both_kinds_of_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        with logging_restored():
            # As printed: its handler writes to this test's captured stderr,
            # at the level the recipe sets.
            recipe("structlog")

            def log_both() -> None:
                structlog.get_logger("shop").info("from structlog")
                logging.getLogger("shop").info("from stdlib")

            run_with_id("req-recipe-2", log_both)
    finally:
        structlog.reset_defaults()
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(e["event"], e["request_id"], e["level"]) for e in events] == [
        ("ready", "-", "info"),  # the recipe's own line, outside any request
        ("from structlog", "req-recipe-2", "info"),
        ("from stdlib", "req-recipe-2", "info"),
    ]


def test_the_json_dictconfig_recipe_renames_and_adds_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with logging_restored("shop"):
        recipe("logging-json-dictconfig")
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
