"""Scenarios of features/core_headers.feature; the steps live in conftest.py."""

from pytest_bdd import scenarios

scenarios("core_headers.feature")
