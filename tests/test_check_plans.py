"""The ExecPlan checker: each rule fails a bad plan and passes a good one."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripts.check_plans import check_plan, check_repository, main, read_roadmap

ROADMAP = read_roadmap("- [x] 1.2.3 Done item\n- [ ] 2.1.1 Open item\n")

GOOD = """# 1.2.3 Done item

Status: COMPLETE

## Purpose / big picture

Why.

## Progress

- [x] (2026-11-22 04:15Z) Did the thing.
- [x] (2026-11-22T05:00:00Z) Did the other thing.

## Surprises & discoveries

- None.

## Decision log

- Chose A.

## Outcomes & retrospective

Worked.
"""


def messages(name: str, text: str) -> list[str]:
    return [problem.message for problem in check_plan(name, text, ROADMAP)]


def test_a_good_complete_plan_passes() -> None:
    assert messages("1-2-3-done-item.md", GOOD) == []


def test_the_file_name_must_name_an_existing_item() -> None:
    assert messages("1-2-9-ghost.md", GOOD) == [
        "roadmap item 1.2.9 does not exist in docs/roadmap.md"
    ]
    assert "file name must be" in messages("plan.md", GOOD)[0]
    assert "file name must be" in messages("1-2-3-Bad_Slug.md", GOOD)[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("Status: COMPLETE", "Status: DONE"), "status 'DONE' is not one of"),
        (("Status: COMPLETE", ""), "needs exactly one 'Status:' line, found 0"),
        (("Status: COMPLETE", "Status: COMPLETE\nStatus: DRAFT"), "found 2"),
    ],
)
def test_exactly_one_valid_status_line(change: tuple[str, str], expected: str) -> None:
    found = messages("1-2-3-done-item.md", GOOD.replace(*change))
    assert any(expected in message for message in found), found


@pytest.mark.parametrize(
    "section",
    ["Progress", "Surprises & discoveries", "Decision log", "Outcomes & retrospective"],
)
def test_each_living_section_must_exist_and_not_be_empty(section: str) -> None:
    missing = GOOD.replace(f"## {section}", "## Something else")
    assert f"living section '## {section}' is missing" in messages(
        "1-2-3-x.md", missing
    )
    start = GOOD.index(f"## {section}")
    end = GOOD.find("## ", start + 3)
    empty = GOOD[:start] + f"## {section}\n\n" + (GOOD[end:] if end != -1 else "")
    assert f"living section '## {section}' is empty" in messages("1-2-3-x.md", empty)


def test_ticked_progress_needs_a_utc_timestamp() -> None:
    text = GOOD.replace(
        "(2026-11-22 04:15Z) Did the thing.", "Did the thing yesterday."
    )
    assert messages("1-2-3-x.md", text) == [
        "ticked Progress item has no UTC timestamp: 'Did the thing yesterday.'"
    ]
    local_time = GOOD.replace("04:15Z", "04:15")
    assert len(messages("1-2-3-x.md", local_time)) == 1


def test_a_complete_plan_has_no_open_item() -> None:
    text = GOOD.replace("- [x] (2026-11-22 04:15Z) Did the thing.", "- [ ] Not yet.")
    assert messages("1-2-3-x.md", text) == [
        "COMPLETE plan has an open Progress item: 'Not yet.'"
    ]
    in_progress = text.replace("Status: COMPLETE", "Status: IN PROGRESS")
    assert messages("1-2-3-x.md", in_progress) == []


def test_a_complete_plan_needs_its_roadmap_box_ticked() -> None:
    assert messages("2-1-1-open-item.md", GOOD) == [
        "COMPLETE plan, but roadmap item 2.1.1 is not ticked"
    ]


def test_headings_inside_code_fences_are_not_sections() -> None:
    fenced = GOOD.replace(
        "## Decision log\n\n- Chose A.\n", "```\n## Decision log\n```\n"
    )
    assert "living section '## Decision log' is missing" in messages(
        "1-2-3-x.md", fenced
    )


def test_the_repository_check_and_exit_code(tmp_path: Path) -> None:
    plans = tmp_path / "docs" / "execplans"
    plans.mkdir(parents=True)
    (tmp_path / "docs" / "roadmap.md").write_text("- [x] 1.2.3 Done item\n")
    (plans / "README.md").write_text("# not a plan\n")
    (plans / "1-2-3-done-item.md").write_text(GOOD)
    assert check_repository(tmp_path) == []
    assert main(["check_plans", str(tmp_path)]) == 0
    (plans / "1-2-3-broken.md").write_text(GOOD.replace("Status: COMPLETE", ""))
    assert main(["check_plans", str(tmp_path)]) == 1


def test_a_missing_roadmap_or_no_plans_is_reported(tmp_path: Path) -> None:
    assert [p.message for p in check_repository(tmp_path)] == ["the roadmap is missing"]
    (tmp_path / "docs" / "execplans").mkdir(parents=True)
    (tmp_path / "docs" / "roadmap.md").write_text("- [ ] 1.1.1 Item\n")
    assert [p.message for p in check_repository(tmp_path)] == ["no ExecPlans found"]
