"""Scenarios of features/core_split_phase.feature; the steps live in conftest.py."""

from pytest_bdd import scenarios

scenarios("core_split_phase.feature")
