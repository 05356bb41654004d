"""Check every ExecPlan in ``docs/execplans/`` against the roadmap.

A plan passes when:

* its file name is ``N-N-N-slug.md`` and ``N.N.N`` is an item of
  ``docs/roadmap.md``;
* it has exactly one ``Status:`` line, with DRAFT, IN PROGRESS, BLOCKED or
  COMPLETE;
* the living sections (Progress, Surprises & discoveries, Decision log,
  Outcomes & retrospective) are present and not empty;
* every ticked Progress item carries a UTC timestamp (``2026-11-22 04:15Z``
  or ``2026-11-22T04:15:00Z``);
* a COMPLETE plan has no open Progress item and its roadmap box is ticked.

Run ``python scripts/check_plans.py [REPO_ROOT]``; it prints one line per
problem and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

STATUSES = ("DRAFT", "IN PROGRESS", "BLOCKED", "COMPLETE")
LIVING_SECTIONS = (
    "Progress",
    "Surprises & discoveries",
    "Decision log",
    "Outcomes & retrospective",
)
PLAN_NAME = re.compile(r"^(\d+)-(\d+)-(\d+)-[a-z0-9]+(?:-[a-z0-9]+)*\.md$")
ROADMAP_ITEM = re.compile(r"^\s*[-*]\s+\[([ xX])\]\s+(\d+\.\d+\.\d+)\b")
STATUS_LINE = re.compile(r"^\s*(?:\*\*)?Status:?(?:\*\*)?:?\s*(.*?)\s*$")
HEADING = re.compile(r"^(#{2,6})\s+(.*?)\s*#*\s*$")
CHECKBOX = re.compile(r"^\s*[-*]\s+\[([ xX])\]\s*(.*)$")
UTC_STAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?Z\b")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one plan."""

    path: str
    message: str

    def __str__(self) -> str:
        """Format as ``path: message``."""
        return f"{self.path}: {self.message}"


def read_roadmap(text: str) -> dict[str, bool]:
    r"""Return the roadmap's items, each mapped to whether its box is ticked.

    Example::

        >>> read_roadmap("- [x] 1.1.1 Scaffold\n- [ ] 1.1.2 Gates\n")
        {'1.1.1': True, '1.1.2': False}
    """
    items: dict[str, bool] = {}
    for line in text.splitlines():
        match = ROADMAP_ITEM.match(line)
        if match:
            items[match.group(2)] = match.group(1) != " "
    return items


def split_sections(text: str) -> dict[str, list[str]]:
    r"""Return each heading's lines (up to the next heading of any level).

    Example::

        >>> split_sections("## A\none\n## B\n")
        {'A': ['one'], 'B': []}
    """
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match:
            current = sections.setdefault(match.group(2).strip(), [])
        elif current is not None:
            current.append(line)
    return sections


def _section(sections: dict[str, list[str]], name: str) -> list[str] | None:
    for heading, lines in sections.items():
        if heading.lower() == name.lower():
            return lines
    return None


def _status(text: str) -> tuple[str | None, str | None]:
    """Return (status, problem) from the plan's ``Status:`` lines."""
    statuses = [
        m.group(1)
        for line in text.splitlines()
        if line.lstrip().lower().startswith(("status", "**status"))
        and (m := STATUS_LINE.match(line))
    ]
    if len(statuses) != 1:
        return None, f"needs exactly one 'Status:' line, found {len(statuses)}"
    if statuses[0] not in STATUSES:
        return None, f"status {statuses[0]!r} is not one of {', '.join(STATUSES)}"
    return statuses[0], None


def _progress(lines: list[str]) -> tuple[list[str], list[str]]:
    """Return (open items, ticked items without a UTC timestamp)."""
    open_items: list[str] = []
    unstamped: list[str] = []
    for line in lines:
        box = CHECKBOX.match(line)
        if not box:
            continue
        if box.group(1) == " ":
            open_items.append(box.group(2))
        elif not UTC_STAMP.search(box.group(2)):
            unstamped.append(box.group(2))
    return open_items, unstamped


def check_plan(name: str, text: str, roadmap: dict[str, bool]) -> list[Problem]:
    """Return the problems of one plan, given its file name and text."""
    messages: list[str] = []
    match = PLAN_NAME.match(name)
    item = ".".join(match.groups()) if match else None
    if item is None:
        messages.append("file name must be N-N-N-slug.md naming a roadmap item")
    elif item not in roadmap:
        messages.append(f"roadmap item {item} does not exist in docs/roadmap.md")

    status, status_problem = _status(text)
    if status_problem:
        messages.append(status_problem)

    sections = split_sections(text)
    for section_name in LIVING_SECTIONS:
        lines = _section(sections, section_name)
        if lines is None:
            messages.append(f"living section '## {section_name}' is missing")
        elif not any(line.strip() for line in lines):
            messages.append(f"living section '## {section_name}' is empty")

    open_items, unstamped = _progress(_section(sections, "Progress") or [])
    messages.extend(
        f"ticked Progress item has no UTC timestamp: {entry[:60]!r}"
        for entry in unstamped
    )
    if status == "COMPLETE":
        messages.extend(
            f"COMPLETE plan has an open Progress item: {entry[:60]!r}"
            for entry in open_items
        )
        if item is not None and roadmap.get(item) is False:
            messages.append(f"COMPLETE plan, but roadmap item {item} is not ticked")
    return [Problem(name, message) for message in messages]


def check_repository(root: Path) -> list[Problem]:
    """Check every plan under ``root/docs/execplans``."""
    roadmap_path = root / "docs" / "roadmap.md"
    if not roadmap_path.is_file():
        return [Problem("docs/roadmap.md", "the roadmap is missing")]
    roadmap = read_roadmap(roadmap_path.read_text(encoding="utf-8"))
    plans_dir = root / "docs" / "execplans"
    plans = sorted(p for p in plans_dir.glob("*.md") if p.name.lower() != "readme.md")
    if not plans:
        return [Problem("docs/execplans", "no ExecPlans found")]
    problems: list[Problem] = []
    for plan in plans:
        problems.extend(
            check_plan(plan.name, plan.read_text(encoding="utf-8"), roadmap)
        )
    return problems


def main(argv: list[str]) -> int:
    """Check the plans of the repository at ``argv[1]`` (default: here)."""
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    problems = check_repository(root)
    for found in problems:
        print(found)
    plans = len(list((root / "docs" / "execplans").glob("*-*-*-*.md")))
    if problems:
        print(f"check-plans: {len(problems)} problem(s)")
        return 1
    print(f"check-plans: {plans} plan(s) OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
