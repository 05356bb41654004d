"""Fixtures shared by the step modules of features/package_*.feature."""

from __future__ import annotations

import pytest

from tests.support.dist import Distributions, build
from tests.support.servers import REPO_ROOT


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    """Build this checkout's sdist and wheel once per run, in a temporary folder."""
    return build(REPO_ROOT, tmp_path_factory.mktemp("dist"))
