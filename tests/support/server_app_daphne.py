"""The test app for daphne, which takes no log configuration on its command line.

As the guide says: configure logging in the module daphne imports, which
daphne does after its own ``basicConfig`` (a no-op once this has run). The
configuration's path comes from the test, in ``SERVER_LOG_CONFIG``; the
sentinel route tells the test when daphne's error timer has run.
"""

from __future__ import annotations

import json
import logging.config
import os
from pathlib import Path

logging.config.dictConfig(
    json.loads(Path(os.environ["SERVER_LOG_CONFIG"]).read_text(encoding="utf-8"))
)

from tests.support.server_app import (  # noqa: E402
    app_with_library_lines,
    with_sentinel,
)

app = with_sentinel(app_with_library_lines)
