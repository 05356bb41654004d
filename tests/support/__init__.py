"""Helpers shared by the tests: real servers, ASGI drivers, log capture."""
