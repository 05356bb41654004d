"""``python -m starlette_correlate``: the ``starlette-correlate`` command."""

import sys

from starlette_correlate.cli import main

if __name__ == "__main__":
    sys.exit(main())
