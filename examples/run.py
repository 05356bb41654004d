"""`make run`: serve the example service (and its backend) until Ctrl-C.

The service listens on ``HOST:PORT`` (default 127.0.0.1:8000); the backend
its ``/hop`` route calls listens on the next port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from examples.servers import ROOT, start, stop, wait_until_listening
from starlette_correlate.logs import server_log_config


def main() -> int:
    """Serve both services until interrupted."""
    with tempfile.TemporaryDirectory() as folder:
        log_config = Path(folder) / "log.json"
        log_config.write_text(json.dumps(server_log_config("uvicorn")))
        return serve(log_config)


def serve(log_config: Path) -> int:
    """Serve both services with ``log_config`` until interrupted."""
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    backend = start("examples.backend:app", port + 1, log_config)
    wait_until_listening(port + 1, backend)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "examples.service:app",
        "--host",
        host,
        "--port",
        str(port),
        "--log-config",
        str(log_config),
    ]
    env = {**os.environ, "BACKEND_URL": f"http://127.0.0.1:{port + 1}"}
    print(f"serving http://{host}:{port} (backend on port {port + 1}); Ctrl-C stops")
    try:
        return subprocess.call(command, cwd=ROOT, env=env)  # noqa: S603 - ours
    except KeyboardInterrupt:
        return 0
    finally:
        for line in stop(backend):
            print(f"[backend] {line}")


if __name__ == "__main__":
    sys.exit(main())
