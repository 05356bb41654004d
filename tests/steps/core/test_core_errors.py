"""Scenarios of features/core_errors.feature; the steps live in conftest.py."""

from pytest_bdd import scenarios

scenarios("core_errors.feature")
