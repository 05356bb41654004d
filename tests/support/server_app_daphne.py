"""The test app for daphne: the guide's ``daphne-app`` recipe, as printed.

daphne takes no log configuration on its command line; the recipe applies
the packaged one in the module daphne imports, which daphne does after its
own ``basicConfig`` (a no-op once this has run). The test routes are added
to the recipe's app, and the sentinel route tells the test when daphne's
error timer has run (see ``with_sentinel``).
"""

from __future__ import annotations

from tests.support.server_app import from_recipe, with_sentinel

app = with_sentinel(from_recipe("daphne-app"))
