"""`make demo`: watch correlation IDs travel through two real services.

Starts ``examples.backend:app`` and ``examples.service:app`` under uvicorn on
127.0.0.1, each with ``examples/logging-demo.json`` (every record printed as
a key=value line and as a JSON line), sends the service a handful of
requests, stops both, and prints each response's ID next to the log lines
carrying it. Exits 0 when every ID showed up where it should.

It ends with ``starlette-correlate trace`` over the two services' logs
(the service's JSON lines and the backend's key=value lines, written to
temporary files): the two-service request as one timeline.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.sync.client import connect as websocket_connect

from examples.servers import ROOT, free_port, start, stop, wait_until_listening
from starlette_correlate.cli import main as command

LOG_CONFIG = ROOT / "examples" / "logging-demo.json"
HOSTILE_ID = b'evil" level=ERROR request_id=forged'
HOP_ID = "demo-hop-1"


@dataclass
class Exchange:
    """One request the demo sent and what came back."""

    label: str
    status: int
    correlation_id: str
    body: str


def _send_requests(base_url: str) -> list[Exchange]:
    exchanges: list[Exchange] = []
    with httpx.Client(base_url=base_url, timeout=10) as client:
        requests: list[tuple[str, str, dict[bytes, bytes]]] = [
            ("no incoming ID (one is generated)", "/hello", {}),
            (
                "incoming X-Request-ID reused",
                "/hello",
                {b"X-Request-ID": b"demo-abc-123"},
            ),
            ("hostile X-Request-ID replaced", "/hello", {b"X-Request-ID": HOSTILE_ID}),
            ("failing endpoint: a 500 that names its ID", "/fail", {}),
            ("streaming response", "/stream", {b"X-Request-ID": b"demo-stream-1"}),
            (
                "a hop to the backend service, user_id bound",
                "/hop",
                {b"X-Request-ID": HOP_ID.encode()},
            ),
        ]
        for label, path, headers in requests:
            response = client.get(path, headers=headers)
            exchanges.append(
                Exchange(
                    label,
                    response.status_code,
                    response.headers["x-request-id"],
                    response.text,
                )
            )
    ws_url = base_url.replace("http://", "ws://") + "/ws"
    with websocket_connect(
        ws_url, additional_headers={"X-Request-ID": "demo-ws-1"}
    ) as ws:
        if ws.response is None:
            raise SystemExit("the WebSocket handshake has no response")
        ws.send("hello")
        reply = ws.recv(timeout=5)
        exchanges.append(
            Exchange(
                "WebSocket (ID in the accept headers)",
                101,
                ws.response.headers["x-request-id"],
                str(reply),
            )
        )
    return exchanges


def _report(
    exchanges: list[Exchange], service_lines: list[str], backend_lines: list[str]
) -> list[str]:
    problems: list[str] = []
    for exchange in exchanges:
        print(f"\n=== {exchange.label}")
        print(f"    status {exchange.status}   X-Request-ID: {exchange.correlation_id}")
        print(f"    body: {exchange.body.strip().replace(chr(10), ' | ')[:110]}")
        matching = [line for line in service_lines if exchange.correlation_id in line]
        print(f"    service log lines with this ID ({len(matching)}):")
        for line in matching:
            print(f"      {line[:230]}")
        if not matching:
            problems.append(f"no service log line carries {exchange.correlation_id}")
    hop = next(e for e in exchanges if e.correlation_id == HOP_ID)
    backend_matching = [line for line in backend_lines if HOP_ID in line]
    print(
        f"\n=== the hop, seen from the backend service ({len(backend_matching)} lines)"
    )
    for line in backend_matching:
        print(f"      {line[:230]}")
    answer = json.loads(hop.body)
    if not backend_matching:
        problems.append("no backend log line carries the hop's ID")
    if (
        answer.get("backend_header") != HOP_ID
        or answer.get("backend_request_id") != HOP_ID
    ):
        problems.append("the backend did not answer under the hop's ID")
    if not any(
        "user_id=demo-user" in line and HOP_ID in line for line in service_lines
    ):
        problems.append("no line after the bind carries user_id=demo-user")
    forged = [line for line in service_lines if "request_id=forged" in line]
    print("\n=== the hostile header in the logs")
    print(f"    lines carrying the forged ID: {len(forged)} (expected 0)")
    if forged:
        problems.append("a forged ID reached the logs")
    return problems


def main() -> int:
    """Run the demo; return the process exit code."""
    backend_port, service_port = free_port(), free_port()
    backend = start("examples.backend:app", backend_port, LOG_CONFIG)
    service = start(
        "examples.service:app",
        service_port,
        LOG_CONFIG,
        env={"BACKEND_URL": f"http://127.0.0.1:{backend_port}"},
    )
    try:
        wait_until_listening(backend_port, backend)
        wait_until_listening(service_port, service)
        exchanges = _send_requests(f"http://127.0.0.1:{service_port}")
        time.sleep(0.2)  # let the last log lines reach the pipes
    finally:
        service_lines = stop(service)
        backend_lines = stop(backend)
    print("=== service output")
    for line in service_lines:
        print(f"  {line[:230]}")
    problems = _report(exchanges, service_lines, backend_lines)
    for problem in problems:
        print(f"demo: PROBLEM: {problem}")
    print(
        "\ndemo:",
        "FAILED" if problems else "every ID found in its response and its log lines",
    )
    if _trace(service_lines, backend_lines) != 0:
        print("demo: PROBLEM: the trace of the hop found no line")
        return 1
    return 1 if problems else 0


def _trace(service_lines: list[str], backend_lines: list[str]) -> int:
    """Print the hop's trace over both services' logs, as an operator would."""
    with tempfile.TemporaryDirectory(prefix="demo-trace-") as folder:
        # Each service printed every record twice: keep one format each.
        service_log = Path(folder, "service.log")
        service_log.write_text(
            "".join(f"{line}\n" for line in service_lines if line.startswith("{"))
        )
        backend_log = Path(folder, "backend.log")
        backend_log.write_text(
            "".join(f"{line}\n" for line in backend_lines if line.startswith("time="))
        )
        print(f"\n=== the trace of {HOP_ID}")
        print(f"    $ starlette-correlate trace {HOP_ID} service.log backend.log")
        sys.stdout.flush()
        return command(["trace", HOP_ID, str(service_log), str(backend_log)])


if __name__ == "__main__":
    sys.exit(main())
