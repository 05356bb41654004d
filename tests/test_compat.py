"""scripts/compat.py: what each leg pins and installs, and its clear errors.

The legs themselves (a virtualenv and a suite run each) are `make compat`,
which .ci/run runs; these tests check the commands they are built from.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from scripts.compat import (
    CompatError,
    floor_pin,
    group_requirements,
    install_command,
    lowest_constraints,
    main,
    run_leg,
)

REPO = Path(__file__).resolve().parents[1]


def real_pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def sample(**tool: Any) -> dict[str, Any]:
    return {
        "project": {
            "name": "My_Pkg",
            "dependencies": ["starlette>=0.46"],
            "optional-dependencies": {"x": ["httpx>=0.27,<1"]},
        },
        "dependency-groups": {
            "dev": ["my-pkg[x]", "pytest>=8", {"include-group": "servers"}],
            "servers": ["uvicorn>=0.35"],
            "bench": ["peer==1.0"],
        },
        "tool": tool,
    }


@pytest.mark.parametrize(
    "requirement",
    ["starlette", "starlette<1", "starlette==0.46", "starlette>=0.40,>=0.46"],
)
def test_a_requirement_without_exactly_one_floor_is_refused(requirement: str) -> None:
    with pytest.raises(CompatError, match=r"exactly one floor \(>=\)"):
        floor_pin(requirement)


def test_a_floor_pin_keeps_the_extras_out_and_the_marker_in() -> None:
    assert floor_pin('Sentry_SDK[fastapi]>=2.12; python_version < "4"') == (
        'sentry-sdk==2.12; python_version < "4"'
    )


def test_groups_follow_include_group_and_drop_the_package_itself() -> None:
    assert group_requirements(sample()) == ["pytest>=8", "uvicorn>=0.35"]


def test_the_default_groups_come_from_uv_s_settings() -> None:
    pyproject = sample(uv={"default-groups": ["dev", "bench"]})
    assert group_requirements(pyproject) == ["pytest>=8", "uvicorn>=0.35", "peer==1.0"]
    everything = sample(uv={"default-groups": "all"})
    assert group_requirements(everything)[-1] == "peer==1.0"


def test_an_unknown_or_cyclic_group_is_a_clear_error() -> None:
    pyproject = sample(uv={"default-groups": ["nope"]})
    with pytest.raises(CompatError, match=r"'nope' is not in pyproject\.toml"):
        group_requirements(pyproject)
    cyclic = sample()
    cyclic["dependency-groups"]["servers"].append({"include-group": "dev"})
    with pytest.raises(CompatError, match="'dev' includes itself"):
        group_requirements(cyclic)


def test_lowest_pins_the_package_its_extras_and_the_named_test_floors() -> None:
    pyproject = sample(
        **{"starlette-correlate": {"compat": {"pinned-test-floors": ["UVICORN"]}}}
    )
    assert lowest_constraints(pyproject) == [
        "starlette==0.46",
        "httpx==0.27",
        "uvicorn==0.35",
    ]


def test_a_named_test_floor_that_no_group_lists_is_a_clear_error() -> None:
    pyproject = sample(
        **{"starlette-correlate": {"compat": {"pinned-test-floors": ["granian"]}}}
    )
    with pytest.raises(CompatError, match="granian, which no default"):
        lowest_constraints(pyproject)


def test_the_legs_install_the_package_with_every_extra_and_the_groups() -> None:
    lowest = install_command(sample(), "lowest", "uv", Path("py"), Path("c.txt"))
    latest = install_command(sample(), "latest", "uv", Path("py"), Path("c.txt"))
    head = ["uv", "pip", "install", "--quiet", "--python", "py", "-e", ".[x]"]
    assert lowest == [*head, "--constraints", "c.txt", "pytest>=8", "uvicorn>=0.35"]
    assert latest == [*head, "--upgrade", "pytest>=8", "uvicorn>=0.35"]


def test_this_project_declares_a_floor_for_everything_it_pins() -> None:
    pins = lowest_constraints(real_pyproject())
    names = [Requirement(pin).name for pin in pins]
    assert names[0] == "starlette"
    assert "fastapi" in names
    assert all("==" in pin for pin in pins)


def test_a_bad_pyproject_stops_before_any_environment_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\ndependencies = ["starlette"]\n'
    )
    with pytest.raises(CompatError):
        run_leg(
            "lowest",
            uv=str(tmp_path / "no-uv"),
            root=tmp_path / "envs",
            python="python3",
            pytest_args=[],
            repo=tmp_path,
        )
    assert not (tmp_path / "envs").exists()
    with pytest.raises(SystemExit) as stopped:
        main(["sideways"])
    assert stopped.value.code == 2
    assert "invalid choice: 'sideways'" in capsys.readouterr().err
