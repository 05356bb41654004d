"""Scenarios of features/core_websocket_lifespan.feature (steps: conftest)."""

from pytest_bdd import scenarios

scenarios("core_websocket_lifespan.feature")
