"""Steps for features/package_contents.feature: what the sdist and wheel hold."""

from __future__ import annotations

import re
import tarfile
import zipfile

from pytest_bdd import given, parsers, scenarios, then

import starlette_correlate
from tests.support.dist import (
    Distributions,
    package_files,
    wheel_metadata,
    wheel_names,
)
from tests.support.servers import REPO_ROOT

scenarios("package_contents.feature")


def _quoted(text: str) -> list[str]:
    return re.findall(r'"([^"]+)"', text)


@given(
    "the sdist and the wheel built from this checkout with uv",
    target_fixture="distributions",
)
def distributions(built: Distributions) -> Distributions:
    return built


@then(parsers.parse("the sdist holds the package's files, {papers} only"))
def sdist_holds(distributions: Distributions, papers: str) -> None:
    with tarfile.open(distributions.sdist) as archive:
        names = sorted(
            member.name.split("/", 1)[1]
            for member in archive.getmembers()
            if member.isfile()
        )
    expected = sorted([*_quoted(papers), *(f"src/{name}" for name in package_files())])
    assert names == expected


@then(
    parsers.parse(
        'the wheel holds the package\'s files, "{marker}" among them, '
        'and its "{suffix}" only'
    )
)
def wheel_holds(distributions: Distributions, marker: str, suffix: str) -> None:
    names = wheel_names(distributions.wheel)
    package = [name for name in names if not name.split("/")[0].endswith(suffix)]
    assert package == package_files()
    assert f"starlette_correlate/{marker}" in package


@then(parsers.parse('the wheel\'s "{suffix}" carries the licence text'))
def wheel_licence(distributions: Distributions, suffix: str) -> None:
    licence = (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence
    with zipfile.ZipFile(distributions.wheel) as archive:
        shipped = [
            name
            for name in archive.namelist()
            if name.split("/")[0].endswith(suffix) and name.endswith("/LICENSE")
        ]
        assert len(shipped) == 1, archive.namelist()
        assert archive.read(shipped[0]).decode("utf-8") == licence
    assert "LICENSE" in wheel_metadata(distributions.wheel).get_all("License-File", [])


@then(parsers.parse('the metadata\'s "{field}" is "{value}"'))
def metadata_field(distributions: Distributions, field: str, value: str) -> None:
    assert wheel_metadata(distributions.wheel).get_all(field) == [value]


@then(parsers.parse("the metadata's classifiers include {wanted}"))
def metadata_classifiers(distributions: Distributions, wanted: str) -> None:
    classifiers = wheel_metadata(distributions.wheel).get_all("Classifier", [])
    assert set(_quoted(wanted)) <= set(classifiers)


@then("starlette_correlate.__version__ is the version of the built wheel")
def version_is_the_wheels(distributions: Distributions) -> None:
    built_version = wheel_metadata(distributions.wheel)["Version"]
    assert starlette_correlate.__version__ == built_version
