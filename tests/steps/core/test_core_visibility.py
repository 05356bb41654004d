"""Scenarios of features/core_visibility.feature; the steps live in conftest.py."""

from pytest_bdd import scenarios

scenarios("core_visibility.feature")
