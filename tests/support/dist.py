"""Build this checkout's sdist and wheel with uv, as a release would.

Both land in a folder the caller owns (a pytest temporary folder), never in
the working tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

from tests.support.servers import REPO_ROOT

PACKAGE = "starlette_correlate"


def uv() -> str:
    """Return the uv that runs this suite: ``$UV`` under ``uv run``, else PATH's."""
    found = os.environ.get("UV") or shutil.which("uv")
    if found is None:
        bootstrapped = REPO_ROOT / ".bin" / "uv-env" / "bin" / "uv"
        assert bootstrapped.exists(), "no uv: run `make bootstrap`"
        found = str(bootstrapped)
    return found


@dataclass(frozen=True)
class Distributions:
    """A built sdist and wheel."""

    sdist: Path
    wheel: Path


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {folder}, found {found}"
    return found[0]


def _uv_build(source: Path, out: Path, *targets: str) -> None:
    subprocess.run(
        [uv(), "build", "--quiet", *targets, "--out-dir", str(out), str(source)],
        check=True,
        capture_output=True,
        text=True,
    )


def build(tree: Path, out: Path) -> Distributions:
    """Build the sdist and the wheel of the project at ``tree`` into ``out``."""
    _uv_build(tree, out, "--sdist", "--wheel")
    return Distributions(sdist=_one(out, "*.tar.gz"), wheel=_one(out, "*.whl"))


def build_wheel_from_sdist(sdist: Path, out: Path) -> Path:
    """Build a wheel from ``sdist`` into ``out``, as pip does with no wheel."""
    _uv_build(sdist, out, "--wheel")
    return _one(out, "*.whl")


def wheel_names(wheel: Path) -> list[str]:
    """Return the sorted file names inside ``wheel``."""
    with zipfile.ZipFile(wheel) as archive:
        return sorted(archive.namelist())


def wheel_metadata(wheel: Path) -> Message:
    """Return the parsed ``METADATA`` of ``wheel``."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return HeaderParser().parsestr(archive.read(name).decode("utf-8"))


def package_files() -> list[str]:
    """Return the package's source files, relative to ``src/``, sorted."""
    root = REPO_ROOT / "src"
    return sorted(
        path.relative_to(root).as_posix()
        for path in (root / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
