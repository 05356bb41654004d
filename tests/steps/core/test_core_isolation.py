"""Scenarios of features/core_isolation.feature; the steps live in conftest.py."""

from pytest_bdd import scenarios

scenarios("core_isolation.feature")
