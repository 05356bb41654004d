"""Run the test suite at the declared floors (``lowest``) or newest releases.

``make compat`` runs both legs. Each leg builds a fresh virtualenv under
``.compat/LEG`` (gitignored), installs the package in editable mode with
every extra plus the requirements of the default dependency groups, and
runs pytest with that environment's Python from the checkout. ``uv.lock``
and ``.venv`` are never touched.

* ``lowest``: every requirement of the package and its extras is pinned to
  its floor (``starlette>=0.46`` installs exactly ``starlette==0.46``), and
  so are the test requirements named in
  ``[tool.starlette-correlate.compat] pinned-test-floors`` (the frameworks
  and servers whose support we claim). The pins are constraints, so every
  other test tool resolves to its newest release that accepts them.
* ``latest``: nothing pinned, ``--upgrade``: the newest release of
  everything.

Test tools come from the groups, never from a list of this script's own, so
a tool added to the ``dev`` group is in both legs at once.

Run ``python scripts/compat.py lowest --uv PATH/TO/uv [-- PYTEST ARGS]``;
its exit status is pytest's (or uv's, when an install fails).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LEGS = ("lowest", "latest")
REPO_ROOT = Path(__file__).resolve().parents[1]


class CompatError(ValueError):
    """``pyproject.toml`` cannot be turned into a compat run."""


def floor_pin(requirement: str) -> str:
    """Return ``requirement`` pinned to its ``>=`` floor, markers kept.

    Example::

        >>> floor_pin("starlette>=0.46")
        'starlette==0.46'
        >>> floor_pin('Django>=4.2,<7; python_version >= "3.11"')
        'django==4.2; python_version >= "3.11"'
    """
    parsed = Requirement(requirement)
    floors = [spec.version for spec in parsed.specifier if spec.operator == ">="]
    if len(floors) != 1:
        raise CompatError(
            f"{requirement!r} must declare exactly one floor (>=) for the "
            "lowest leg to install"
        )
    pin = f"{canonicalize_name(parsed.name)}=={floors[0]}"
    return f"{pin}; {parsed.marker}" if parsed.marker else pin


def package_requirements(pyproject: Mapping[str, Any]) -> list[str]:
    """Return the requirements of the package and of every extra, in order.

    Example::

        >>> package_requirements(
        ...     {"project": {"dependencies": ["a>=1"],
        ...                  "optional-dependencies": {"x": ["b>=2"]}}}
        ... )
        ['a>=1', 'b>=2']
    """
    project = pyproject["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return requirements


def _group_items(
    groups: Mapping[str, list[Any]], name: str, seen: tuple[str, ...]
) -> Iterable[str]:
    if name not in groups:
        raise CompatError(f"dependency group {name!r} is not in pyproject.toml")
    if name in seen:
        raise CompatError(f"dependency group {name!r} includes itself")
    for item in groups[name]:
        if isinstance(item, str):
            yield item
        else:
            yield from _group_items(groups, item["include-group"], (*seen, name))


def group_requirements(pyproject: Mapping[str, Any]) -> list[str]:
    """Return the requirements of the default groups, minus the package itself.

    The groups are ``[tool.uv] default-groups`` (``dev``, if any, when unset); an
    ``include-group`` is followed. The package's own entry (it lists itself
    with its extras) is dropped: each leg installs it from the checkout.

    Example::

        >>> group_requirements({
        ...     "project": {"name": "me"},
        ...     "tool": {"uv": {"default-groups": ["dev"]}},
        ...     "dependency-groups": {
        ...         "dev": ["me[x]", "pytest>=8", {"include-group": "more"}],
        ...         "more": ["hypothesis>=6"],
        ...     },
        ... })
        ['pytest>=8', 'hypothesis>=6']
    """
    groups: Mapping[str, list[Any]] = pyproject.get("dependency-groups", {})
    default = ["dev"] if "dev" in groups else []
    names = pyproject.get("tool", {}).get("uv", {}).get("default-groups", default)
    if names == "all":
        names = list(groups)
    own = canonicalize_name(pyproject["project"]["name"])
    return [
        item
        for name in names
        for item in _group_items(groups, name, ())
        if canonicalize_name(Requirement(item).name) != own
    ]


def lowest_constraints(pyproject: Mapping[str, Any]) -> list[str]:
    """Return the exact pins of the lowest leg.

    Every requirement of the package and its extras, and the test
    requirements named in ``pinned-test-floors``, at its floor.

    Example::

        >>> lowest_constraints({
        ...     "project": {"name": "me", "dependencies": ["a>=1"]},
        ...     "dependency-groups": {"dev": ["fastapi>=0.1", "pytest>=8"]},
        ...     "tool": {"starlette-correlate": {"compat": {
        ...         "pinned-test-floors": ["FastAPI"]}}},
        ... })
        ['a==1', 'fastapi==0.1']
    """
    pins = [floor_pin(item) for item in package_requirements(pyproject)]
    settings = pyproject.get("tool", {}).get("starlette-correlate", {})
    wanted = {
        canonicalize_name(name)
        for name in settings.get("compat", {}).get("pinned-test-floors", [])
    }
    found: set[str] = set()
    for item in group_requirements(pyproject):
        name = canonicalize_name(Requirement(item).name)
        if name in wanted:
            pins.append(floor_pin(item))
            found.add(name)
    if missing := sorted(wanted - found):
        raise CompatError(
            f"pinned-test-floors names {', '.join(missing)}, which no default "
            "dependency group lists"
        )
    return pins


def install_command(
    pyproject: Mapping[str, Any], leg: str, uv: str, python: Path, constraints: Path
) -> list[str]:
    """Return the ``uv pip install`` command line of ``leg``.

    Example::

        >>> pyproject = {"project": {"name": "me", "dependencies": ["a>=1"],
        ...              "optional-dependencies": {"x": ["b>=2"]}}}
        >>> install_command(pyproject, "latest", "uv", Path("py"), Path("c"))
        ['uv', 'pip', 'install', '--quiet', '--python', 'py', '-e', '.[x]', '--upgrade']
    """
    extras = ",".join(pyproject["project"].get("optional-dependencies", {}))
    editable = f".[{extras}]" if extras else "."
    command = [uv, "pip", "install", "--quiet", "--python", str(python)]
    command += ["-e", editable]
    if leg == "lowest":
        command += ["--constraints", str(constraints)]
    else:
        command.append("--upgrade")
    return command + group_requirements(pyproject)


def _report_versions(
    pyproject: Mapping[str, Any], uv: str, python: Path, constraints: Sequence[str]
) -> None:
    """Print the installed versions of the packages whose versions matter."""
    names = {canonicalize_name(Requirement(r).name) for r in constraints}
    names |= {
        canonicalize_name(Requirement(r).name)
        for r in (*package_requirements(pyproject), *group_requirements(pyproject))
    }
    frozen = subprocess.run(
        [uv, "pip", "freeze", "--python", str(python)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    shown = [
        line
        for line in frozen
        if "==" in line and canonicalize_name(line.split("==")[0]) in names
    ]
    print("compat: installed " + " ".join(sorted(shown)), flush=True)


def run_leg(
    leg: str,
    *,
    uv: str,
    root: Path,
    python: str,
    pytest_args: Sequence[str],
    repo: Path = REPO_ROOT,
) -> int:
    """Build the environment of ``leg`` under ``root`` and run the suite in it."""
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text())
    pins = lowest_constraints(pyproject) if leg == "lowest" else []
    venv = root / leg
    # --clear: an environment left by an interrupted run is rebuilt, never reused.
    subprocess.run(
        [uv, "venv", "--quiet", "--clear", "--python", python, str(venv)],
        check=True,
    )
    venv_python = venv / "bin" / "python"
    constraints = venv / "compat-constraints.txt"
    constraints.write_text("".join(f"{pin}\n" for pin in pins))
    if pins:
        print(f"compat: {leg}: pinned " + " ".join(pins), flush=True)
    command = install_command(pyproject, leg, uv, venv_python, constraints)
    installed = subprocess.run(command, cwd=repo, check=False)
    if installed.returncode:
        return installed.returncode
    _report_versions(pyproject, uv, venv_python, pins)
    # The suite's own temporary files go where a plain `make test` puts them;
    # the pytest cache is left out so the legs do not overwrite each other's.
    # Tests that start a tool by name (not through sys.executable) find the
    # leg's copy first.
    path = os.pathsep.join([str(venv / "bin"), os.environ.get("PATH", "")])
    env = {**os.environ, "VIRTUAL_ENV": str(venv), "PATH": path}
    tests = subprocess.run(
        [str(venv_python), "-m", "pytest", "-p", "no:cacheprovider", *pytest_args],
        cwd=repo,
        env=env,
        check=False,
    )
    return tests.returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one leg; return its exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("leg", choices=LEGS)
    parser.add_argument("--uv", default="uv", help="the uv executable")
    parser.add_argument(
        "--root",
        type=Path,
        default=REPO_ROOT / ".compat",
        help="folder of the throw-away environments (default: .compat)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter of the environments (default: this one)",
    )
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest")
    args = parser.parse_args(argv)
    try:
        return run_leg(
            args.leg,
            uv=args.uv,
            root=args.root,
            python=args.python,
            pytest_args=args.pytest_args,
        )
    except CompatError as exc:
        print(f"compat: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
