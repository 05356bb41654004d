"""Optional integrations: a missing package names its extra; the core needs none."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

EXTRAS = [
    ("starlette_correlate.integrations.celery", "celery", "celery"),
    (
        "starlette_correlate.integrations.opentelemetry",
        "opentelemetry",
        "opentelemetry",
    ),
    ("starlette_correlate.integrations.sentry", "sentry_sdk", "sentry"),
    ("starlette_correlate.integrations.loguru", "loguru", "loguru"),
    ("starlette_correlate.integrations.requests", "requests", "requests"),
    ("starlette_correlate.integrations.aiohttp", "aiohttp", "aiohttp"),
    ("starlette_correlate.integrations.arq", "arq", "arq"),
    ("starlette_correlate.integrations.rq", "rq", "rq"),
]


@pytest.mark.parametrize(("module", "package", "extra"), EXTRAS)
def test_a_missing_package_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, package: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # None: "not installed"
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(
        ImportError, match=rf"pip install 'starlette-correlate\[{extra}\]'"
    ):
        importlib.import_module(module)


def test_the_core_imports_no_integration_package() -> None:
    code = (
        "import sys, starlette_correlate, starlette_correlate.integrations;"
        "print(sorted(m for m in"
        " ('celery', 'opentelemetry', 'sentry_sdk', 'django', 'loguru',"
        "  'requests', 'aiohttp', 'arq', 'rq')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
