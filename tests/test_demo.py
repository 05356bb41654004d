"""`make demo` runs end to end: a real uvicorn, real requests, real logs."""

from __future__ import annotations

import subprocess
import sys

from tests.support.servers import REPO_ROOT


def test_the_demo_shows_every_id_in_its_response_and_log_lines() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "demo: every ID found in its response and its log lines" in out
    assert "X-Request-ID: demo-abc-123" in out
    assert "lines carrying the forged ID: 0 (expected 0)" in out
    assert "request_id=forged" not in out.split("=== the hostile header")[0]
    backend = out.split("=== the hop, seen from the backend service")[1]
    assert "logger=example.backend" in backend
    assert "request_id=demo-hop-1" in backend
    assert "user_id=demo-user" in out
    assert '"request_id":"demo-hop-1"' in out
    trace = out.split("=== the trace of demo-hop-1")[1]
    assert "2 requests" in trace
    assert "service  request demo-hop-1  GET /hop  200" in trace
    assert "backend  request demo-hop-1  GET /work  200" in trace
    assert "backend doing the work" in trace
