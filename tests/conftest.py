"""Fixtures shared by several test modules."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.support.redis_server import redis_server

# redis-server has 16 databases (0-15); each test gets its own, so a message
# one test left in a queue never reaches another test's worker.
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for the whole run, started by the first test asking."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def _database_url(server_url: str) -> str:
    database = next(_databases)
    assert database < 16, "more Redis tests than databases: raise --databases"
    return f"{server_url}/{database}"


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """The URL of a database of the run's redis-server that no other test uses."""
    return _database_url(redis_server_url)


@pytest.fixture(scope="module")
def redis_module_url(redis_server_url: str) -> str:
    """A database of the run's redis-server for one test module alone.

    For a module whose tests share one worker process: each test keeps its
    messages apart by its own IDs.
    """
    return _database_url(redis_server_url)
