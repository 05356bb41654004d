"""Every code block of every page of the site is run as printed, or is not Python.

``# example:`` blocks run here, and an ``app`` they build answers a request
with its correlation ID; each ``# recipe:`` block is run by the test of what
it configures, listed in :data:`RECIPE_TESTS`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from starlette_correlate import CorrelationMiddleware, correlation_scope, is_safe_id
from tests.support.guide import code_blocks, run_block, send, tagged
from tests.support.servers import REPO_ROOT

EXAMPLES = tagged("example")

# Each recipe and the test file that runs it through tests.support.guide.
RECIPE_TESTS = {
    "quickstart-app": "tests/steps/test_package_installed.py",
    "logging-dictconfig": "tests/test_logs_recipe.py",
    "logging-json-dictconfig": "tests/test_logs_recipe.py",
    "structlog": "tests/test_logs_recipe.py",
    "loguru": "tests/test_integrations_loguru.py",
    "django-settings": "tests/test_integrations_django.py",
    "django-views": "tests/test_integrations_django.py",
    "pytest-fixtures": "tests/test_pytest_plugin.py",
    "celery": "tests/support/guide_celery.py",
    "celery-worker-logging": "tests/support/celery_worker_app.py",
    "arq": "tests/steps/test_integrations_arq.py",
    "rq": "tests/steps/test_integrations_rq.py",
    "opentelemetry": "tests/test_integrations_opentelemetry.py",
    "sentry": "tests/test_integrations_sentry.py",
    "granian-app": "tests/support/server_app.py",
    "daphne-app": "tests/support/server_app_daphne.py",
    "requests": "tests/test_integrations_requests.py",
    "aiohttp": "tests/test_integrations_aiohttp.py",
}
# Blocks that are not code to run: commands, output, a diagram (design.md),
# a plan's skeleton (execplans/README.md).
NOT_PYTHON = {"console", "bash", "text", "mermaid", "markdown"}


def test_every_python_block_is_tagged_and_the_rest_are_not_code() -> None:
    languages = set()
    for page, language, text in code_blocks():
        languages.add(language)
        if language == "python":
            first = text.splitlines()[0]
            assert first.startswith(("# example: ", "# recipe: ")), (page, first)
    assert languages <= NOT_PYTHON | {"python"}, languages - NOT_PYTHON


def test_every_page_of_the_site_is_read() -> None:
    read = {page for page, _, _ in code_blocks()}
    assert {"quick-start.md", "logging/dictconfig.md", "servers/granian.md"} <= read


def test_every_recipe_is_run_by_its_test() -> None:
    assert set(tagged("recipe")) == set(RECIPE_TESTS)
    for name, path in RECIPE_TESTS.items():
        source = Path(REPO_ROOT / path).read_text(encoding="utf-8")
        assert f'"{name}"' in source, f"{path} does not run the recipe {name!r}"


def test_the_pages_have_examples() -> None:
    assert {
        "starlette-setup",
        "fastapi-setup",
        "logging-basic",
        "options",
        "cors",
        "split-phase",
    } <= set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs(name: str) -> None:
    namespace = run_block(name, EXAMPLES[name])
    app = namespace.get("app")
    if app is None:
        return
    # An app an example builds answers with its ID, under its header name.
    (options,) = [
        m.kwargs for m in app.user_middleware if m.cls is CorrelationMiddleware
    ]
    header = options.get("header_name", "X-Request-ID")
    response = send(app, "GET", "/", "guide-example-1")
    # With two IDs every hop makes its own: the caller's becomes the parent.
    if header == "X-Request-ID" and options.get("inherited_header") is None:
        assert response.headers[header] == "guide-example-1"
    else:
        assert is_safe_id(response.headers[header])


def test_the_quick_start_logging_writes_info_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = logging.getLogger("my_service")
    saved = logger.handlers[:], logger.level
    try:
        run_block("logging-basic", EXAMPLES["logging-basic"])
        with correlation_scope("qs-1"):
            logger.info("hello")
        assert "INFO request_id=qs-1 hello" in capsys.readouterr().err
    finally:
        logger.handlers[:], logger.level = saved[0], saved[1]
