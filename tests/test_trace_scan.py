"""The trace's reader: blocks of whole lines, the circular sweep, bad bytes."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from starlette_correlate.trace.scan import read_blocks, sweep


class Recorder:
    """ScanEvents that keeps what it is told and adds needles from a map."""

    def __init__(self, adds: dict[bytes, list[bytes]] | None = None) -> None:
        self.adds = adds or {}
        self.lines: list[bytes] = []
        self.overlong_at: list[int] = []
        self.damaged_files: list[str] = []
        self.given: set[bytes] = set()

    def line(self, file_index: int, offset: int, line: bytes) -> Iterable[bytes]:
        self.lines.append(line)
        new = [n for n in self.adds.get(line, []) if n not in self.given]
        self.given.update(new)
        return new

    def overlong(self, file_index: int, offset: int) -> None:
        self.overlong_at.append(offset)

    def damaged(self, file_index: int, reason: str) -> None:
        self.damaged_files.append(reason)


def test_blocks_hold_whole_lines_whatever_the_block_size(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    lines = [f"line {n} {'x' * (n % 7)}".encode() for n in range(200)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    for size in (1, 3, 17, 4096):
        got = [
            line
            for block in read_blocks(path, block_size=size, max_line=64)
            if block.data
            for line in block.data.split(b"\n")
        ]
        assert got == lines


def test_a_gzip_file_is_known_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    path = tmp_path / "api.log"  # no .gz
    path.write_bytes(gzip.compress(b"a req-1\nb\n"))
    events = Recorder()
    sweep([path], b"req-1", events)
    assert events.lines == [b"a req-1"]


def test_a_truncated_gzip_is_read_up_to_the_damage(tmp_path: Path) -> None:
    path = tmp_path / "api.log.gz"
    packed = gzip.compress(b"".join(b"line %d req-1\n" % n for n in range(5000)))
    path.write_bytes(packed[: len(packed) // 2])
    events = Recorder()
    sweep([path], b"req-1", events, block_size=1024)
    assert events.damaged_files
    assert events.lines
    assert all(line.endswith(b"req-1") for line in events.lines)


def test_an_id_that_joins_late_is_searched_in_what_was_read_before(
    tmp_path: Path,
) -> None:
    # The child's own line comes first, in the first file; only the last
    # line of the second file says the child belongs.
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    first.write_bytes(b"child said hi\n" + b"noise\n" * 100)
    second.write_bytes(b"noise\n" * 100 + b"seed spawned child\n")
    events = Recorder({b"seed spawned child": [b"child"]})
    stats = sweep([first, second], b"seed", events, block_size=64)
    assert events.lines == [
        b"seed spawned child",
        b"seed spawned child",
        b"child said hi",
    ]
    # The second lap stopped at the block where the child joined.
    assert stats.laps == 2


def test_one_lap_when_no_id_joins(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"seed one\nother\nseed two\n")
    events = Recorder()
    stats = sweep([path], b"seed", events)
    assert stats.laps == 1
    assert events.lines == [b"seed one", b"seed two"]


def test_an_overlong_line_is_reported_once_and_never_handed_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"x" * 5000 + b" seed " + b"y" * 5000 + b"\nseed ok\n")
    events = Recorder()
    sweep([path], b"seed", events, block_size=1000, max_line=2000)
    assert events.lines == [b"seed ok"]
    assert events.overlong_at == [0]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    content=st.binary(max_size=3000),
    block_size=st.integers(1, 700),
    compress=st.booleans(),
)
def test_any_bytes_never_crash_the_reader(
    tmp_path: Path, content: bytes, block_size: int, compress: bool
) -> None:
    path = tmp_path / "any.log"
    path.write_bytes(gzip.compress(content) if compress else content)
    events = Recorder()
    sweep([path], b"a", events, block_size=block_size, max_line=500)
    wanted = [
        line for line in content.split(b"\n") if b"a" in line and len(line) <= 500
    ]
    assert events.lines == wanted
