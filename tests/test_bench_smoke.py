"""The benchmarks run and report every variant; timings are never asserted."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from bench import apps, http, inprocess, lines, memory, stats

MIDDLEWARE_VARIANTS = [
    "bare",
    "pass-through",
    "floor",
    "starlette-correlate",
    "asgi-correlation-id",
    "starlette-context (pure ASGI)",
    "starlette-context (BaseHTTPMiddleware)",
]
FILTERS = ["minimal", "starlette-correlate", "asgi-correlation-id"]


def test_quick_run_prints_and_writes_every_variant_and_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"

    assert inprocess.main(["--quick", "--json", str(out)]) == 0

    printed = capsys.readouterr().out
    for name in [*MIDDLEWARE_VARIANTS, *FILTERS]:
        assert name in printed
    assert "µs/request" in printed
    assert "x floor" in printed
    report = json.loads(out.read_text())
    assert set(report["middleware"]) == {"no incoming ID", "valid incoming ID"}
    for rows in report["middleware"].values():
        assert [row["name"] for row in rows] == MIDDLEWARE_VARIANTS
        for row in rows:
            assert row["us_per_request"] > 0
            assert isinstance(row["overhead_us"], float)
        bare = rows[0]
        assert bare["overhead_us"] == 0.0
        floor = rows[2]
        assert floor["ratio_to_floor"] == 1.0
    assert [row["name"] for row in report["filter"]] == FILTERS
    assert report["filter"][0]["ratio_to_minimal"] == 1.0
    assert report["memory"]["store_after"] == 0
    assert report["settings"]["quick"] is True
    assert set(report["targets"]) == {
        "overhead, no incoming ID",
        "overhead, valid incoming ID",
        "filter",
    }


def test_memory_run_mixes_outcomes_and_leaves_the_store_empty() -> None:
    result = memory.run(requests=3000, warmup=500)

    assert result["store_after"] == 0
    assert result["requests"] == 3000
    outcomes = result["outcomes"]
    assert outcomes["ok"] > 0
    assert outcomes["error"] > 0
    assert outcomes["disconnect"] > 0
    assert sum(outcomes.values()) == 3000
    assert isinstance(result["traced_delta_bytes"], int)


def test_every_middleware_variant_answers_with_the_expected_header() -> None:
    # The benchmark refuses to time a variant that does not do the job.
    for name in MIDDLEWARE_VARIANTS:
        inprocess.check_variant(name)


def test_http_run_loads_real_servers_and_reports_the_ratio() -> None:
    report = http.run(
        ["bare", "starlette-correlate"], duration=1.0, slice_seconds=0.5, connections=2
    )

    rows = {row["name"]: row for row in report["rows"]}
    assert set(rows) == {"bare", "starlette-correlate"}
    assert rows["bare"]["has_id_header"] is False
    assert rows["starlette-correlate"]["has_id_header"] is True
    assert rows["bare"]["ratio_to_bare"] == 1.0
    assert all(row["responses"] > 0 for row in rows.values())


@pytest.mark.server
def test_http_run_measures_a_master_and_its_worker_under_gunicorn() -> None:
    report = http.run(
        ["bare", "starlette-correlate"],
        duration=1.0,
        slice_seconds=0.5,
        connections=2,
        server="gunicorn",
    )

    rows = {row["name"]: row for row in report["rows"]}
    assert rows["starlette-correlate"]["has_id_header"] is True
    for row in rows.values():
        assert row["responses"] > 0
        # The worker serves: its CPU is counted, not only the master's idle one.
        assert row["server_cpu_us_per_response"] > 10
        assert row["rss_kib_at_end"] > row["rss_kib_after_warmup"] / 2 > 0


def test_also_adds_a_correlating_variant(tmp_path: Path) -> None:
    report_path = tmp_path / "also.json"
    try:
        inprocess.main(
            [
                "--quick",
                "--json",
                str(report_path),
                "--also",
                "ours again=starlette_correlate:CorrelationMiddleware",
            ]
        )
    finally:
        apps.VARIANTS.pop("ours again", None)
        apps.ADDS_HEADER.discard("ours again")

    report = json.loads(report_path.read_text())
    for rows in report["middleware"].values():
        assert [row["name"] for row in rows] == [*MIDDLEWARE_VARIANTS, "ours again"]


def test_also_refuses_a_malformed_spec() -> None:
    with pytest.raises(SystemExit):
        inprocess.parse_args(["--also", "no-target"])


def test_lines_quick_run_prints_every_variant_and_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lines.json"

    assert lines.main(["--quick", "--json", str(out)]) == 0

    printed = capsys.readouterr().out
    for name in lines.VARIANTS:
        assert name in printed
    assert "x stdlib" in printed
    report = json.loads(out.read_text())
    assert [row["name"] for row in report["rows"]] == list(lines.VARIANTS)
    assert report["rows"][0]["ratio_to_stdlib"] == 1.0
    assert all(row["us_per_line"] > 0 for row in report["rows"])
    assert "ours, JsonFormatter (orjson) <= 1.1x stdlib" in report["targets"]
    # Every variant's line was checked before it was timed.
    assert report["samples"]["ours, JsonFormatter (orjson)"].startswith('{"time":')


def test_lines_refuses_a_variant_that_leaves_out_the_fields() -> None:
    lines.add_formatter("message only", lambda: logging.Formatter("%(message)s"))
    try:
        with pytest.raises(RuntimeError, match="missing"):
            lines.check_variant("message only")
    finally:
        lines.VARIANTS.pop("message only")


def test_the_trace_benchmark_finds_its_planted_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import trace  # noqa: PLC0415 - only this test needs it

    # 3 MB: the figures mean nothing, the run proves the bench works.
    trace.main(["--mb", "3", "--repeat", "1"])

    printed = capsys.readouterr().out
    assert "13 planted lines" in printed
    assert "plain: " in printed
    assert "gzip: " in printed
    assert "target 200 MB/s on plain files:" in printed


def test_every_benchmark_sums_up_its_rounds_the_same_way() -> None:
    # The median over rounds, and the interquartile range as the spread.
    assert stats.median([3.0, 1.0, 2.0]) == 2.0
    assert stats.spread([1.0, 2.0, 3.0, 4.0, 100.0]) == 50.5
    assert stats.spread([2.0, 5.0]) == 3.0
    assert stats.spread([]) == 0.0
