"""Every Python block of the users' guide that starts with `# example:` runs."""

from __future__ import annotations

import re

import pytest

from tests.support.servers import REPO_ROOT

GUIDE = (REPO_ROOT / "docs" / "users-guide.md").read_text(encoding="utf-8")
BLOCKS = {
    match.group(1): match.group(0)
    for match in re.finditer(r"^# example: ([\w-]+)\n.*?(?=^```)", GUIDE, re.S | re.M)
}


def test_the_guide_has_examples() -> None:
    assert {
        "starlette-setup",
        "logging-basic",
        "options",
        "cors",
        "split-phase",
    } <= set(BLOCKS)


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_example_runs(name: str) -> None:
    namespace: dict[str, object] = {"__name__": f"guide_{name.replace('-', '_')}"}
    exec(compile(BLOCKS[name], f"users-guide:{name}", "exec"), namespace)  # noqa: S102
