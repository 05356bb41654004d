"""`make run`: serve the example service (and its backend) until Ctrl-C.

The service listens on ``HOST:PORT`` (default 127.0.0.1:8000); the backend
its ``/hop`` route calls listens on the next port.
"""

from __future__ import annotations

import os
import subprocess
import sys

from examples.servers import ROOT, start, stop, wait_until_listening

LOG_CONFIG = ROOT / "examples" / "logging.json"


def main() -> int:
    """Serve both services until interrupted."""
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    backend = start("examples.backend:app", port + 1, LOG_CONFIG)
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
        str(LOG_CONFIG),
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
