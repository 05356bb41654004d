"""Scenarios of features/core_clearing.feature; the steps live in conftest.py."""

from pytest_bdd import scenarios

scenarios("core_clearing.feature")
