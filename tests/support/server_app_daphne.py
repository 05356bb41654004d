"""The test app for daphne, configured as the users' guide says.

daphne takes no log configuration on its command line; the app module
applies the packaged one, which daphne imports after its own
``basicConfig`` (a no-op once this has run). The sentinel route tells the
test when daphne's error timer has run (see ``with_sentinel``).
"""

from __future__ import annotations

import logging.config

from starlette_correlate.logs import server_log_config
from tests.support.server_app import app_with_library_lines, with_sentinel

logging.config.dictConfig(server_log_config("daphne"))

app = with_sentinel(app_with_library_lines)
