"""The top-level package: what it exports, and the version it reports."""

from __future__ import annotations

import importlib.metadata
import types

import pytest

import starlette_correlate

# Names the package's namespace holds that are not its API: typing's flag for
# imports only type checkers see.
NOT_API = {"TYPE_CHECKING"}


def test_every_public_name_is_exported() -> None:
    # httpx's guard: a name imported into __init__ without joining __all__
    # (or listed but gone) fails here. Submodules are reached as attributes,
    # not exported.
    public = {
        name
        for name, value in vars(starlette_correlate).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in NOT_API
    }
    assert set(starlette_correlate.__all__) == public
    # Listed once each (ruff's RUF022 keeps the order).
    assert len(starlette_correlate.__all__) == len(public)


def test_every_exported_name_resolves() -> None:
    namespace: dict[str, object] = {}
    exec("from starlette_correlate import *", namespace)  # noqa: S102
    assert set(starlette_correlate.__all__) <= set(namespace)


def test_version_is_the_installed_distributions() -> None:
    expected = importlib.metadata.version("starlette-correlate")
    assert starlette_correlate.__version__ == expected
    # Read once, then an ordinary attribute.
    assert vars(starlette_correlate)["__version__"] == expected


def test_version_is_not_a_star_import() -> None:
    assert "__version__" not in starlette_correlate.__all__


def test_version_without_metadata_is_a_valid_lowest_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A source tree on sys.path or a vendored copy has no distribution
    # metadata: the version is then PEP 440's lowest local version, no error.
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    monkeypatch.delitem(vars(starlette_correlate), "__version__", raising=False)
    try:
        assert starlette_correlate.__version__ == "0+unknown"
    finally:
        # The next reader gets the real version again.
        vars(starlette_correlate).pop("__version__", None)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = starlette_correlate.no_such_name
