"""Find the lines that may belong to a trace without parsing any other line.

Each file is read in blocks of :data:`BLOCK_SIZE` bytes, cut at the last
newline so a chunk holds whole lines, and each chunk is searched with
:meth:`bytes.find` for every *needle*: the asked ID and each ID that joined
the trace since. Only a line holding a needle is cut out and handed to the
caller; every other byte is looked at by ``find`` alone, which is why the
trace reads hundreds of megabytes a second.

IDs join while the files are read (a task's line names the task, a child
names its parent), and a line naming a late ID may sit in a part already
read. So the sweep is circular: a needle that joins at block *P* is
searched from *P* to the end, then from the first file's first block up to
*P*; the sweep stops as soon as every needle has gone round once. With no
ID joining, that is one pass; at worst, a second pass up to the last block
where an ID joined.

A line longer than :data:`MAX_LINE_BYTES` is never handed on: if it holds
a needle it is reported as too long. A gzip file (known by its first two
bytes, whatever its name) is read through :mod:`gzip`; a broken or
truncated one is read up to the damage and reported.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, cast

__all__ = [
    "BLOCK_SIZE",
    "MAX_LINE_BYTES",
    "Block",
    "ScanEvents",
    "SweepStats",
    "open_log",
    "read_blocks",
    "sweep",
]

BLOCK_SIZE = 4 * 1024 * 1024
"""Bytes read at a time from one file (after decompression for gzip)."""

MAX_LINE_BYTES = 1024 * 1024
"""A longer line is skipped (and counted when it names an ID of the trace)."""

_GZIP_MAGIC = b"\x1f\x8b"
# What a damaged gzip stream raises while it is read.
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


def open_log(path: Path) -> BinaryIO:
    r"""Open ``path`` for reading bytes, through gzip when it starts like gzip.

    Example::

        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder, "api.log")
        ...     _ = path.write_bytes(gzip.compress(b"a line\n"))
        ...     with open_log(path) as stream:
        ...         stream.read()
        b'a line\n'
    """
    stream = path.open("rb")
    try:
        magic = stream.read(2)
        stream.seek(0)
    except OSError:
        stream.close()
        raise
    if magic == _GZIP_MAGIC:
        stream.close()
        return cast("BinaryIO", gzip.open(path, "rb"))
    return stream


@dataclass
class Block:
    """Whole lines of one file read at once, and what could not be kept.

    ``data`` holds whole lines joined by newlines, starting at byte
    ``offset`` of the (decompressed) file; ``overlong`` holds pieces of
    lines longer than :data:`MAX_LINE_BYTES`, each with its line's offset;
    ``damaged`` says the file could not be read past this block.
    """

    index: int
    offset: int
    data: bytes
    overlong: list[tuple[int, bytes]] = field(default_factory=list)
    damaged: str | None = None


def read_blocks(
    path: Path, block_size: int = BLOCK_SIZE, max_line: int = MAX_LINE_BYTES
) -> Iterator[Block]:
    r"""Yield ``path``'s content as :class:`Block` s of whole lines.

    Example::

        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder, "api.log")
        ...     _ = path.write_bytes(b"one\ntwo\nthree")
        ...     [block.data for block in read_blocks(path, block_size=5) if block.data]
        [b'one', b'two', b'three']
    """
    carry = b""
    carry_offset = 0  # where ``carry`` starts in the file
    position = 0  # bytes read so far
    skipping: int | None = None  # the offset of the overlong line being skipped
    index = 0
    with open_log(path) as stream:
        while True:
            damaged: str | None = None
            try:
                piece = stream.read(block_size)
            except _GZIP_ERRORS as error:
                piece, damaged = b"", f"damaged gzip ({type(error).__name__})"
            piece_offset = position
            position += len(piece)
            overlong: list[tuple[int, bytes]] = []
            if skipping is not None:
                newline = piece.find(b"\n")
                if newline < 0:
                    overlong.append((skipping, piece))
                    newline = len(piece) - 1
                else:
                    overlong.append((skipping, piece[:newline]))
                    skipping = None
                carry_offset = piece_offset + newline + 1
                buffer = piece[newline + 1 :]
            else:
                buffer = carry + piece
            if not piece:
                # End of file: what is left is the last line, newline or not.
                data = buffer
                if len(buffer) > max_line:
                    overlong.append((carry_offset, buffer))
                    data = b""
                if data or overlong or damaged:
                    yield Block(index, carry_offset, data, overlong, damaged)
                return
            block_offset = carry_offset
            cut = buffer.rfind(b"\n")
            if cut < 0:
                data, carry = b"", buffer
            else:
                data, carry = buffer[:cut], buffer[cut + 1 :]
                carry_offset += cut + 1
            if len(carry) > max_line:
                overlong.append((carry_offset, carry))
                skipping, carry = carry_offset, b""
            yield Block(index, block_offset, data, overlong)
            index += 1


class ScanEvents(Protocol):
    """What :func:`sweep` tells its caller about the lines it finds."""

    def line(self, file_index: int, offset: int, line: bytes) -> Iterable[bytes]:
        """Take a line holding a needle; return the needles it adds."""

    def overlong(self, file_index: int, offset: int) -> None:
        """Note a line over :data:`MAX_LINE_BYTES` that holds a needle."""

    def damaged(self, file_index: int, reason: str) -> None:
        """Note a file that could not be read to its end."""


@dataclass
class SweepStats:
    """How much :func:`sweep` read: bytes (decompressed) and blocks."""

    bytes_read: int = 0
    blocks: int = 0
    laps: int = 0


def _search(
    block: Block,
    file_index: int,
    *,
    active: list[bytes],
    events: ScanEvents,
    added: list[bytes],
    max_line: int,
) -> None:
    """Search one block for every active needle, including those it adds."""
    data = block.data
    find, rfind = data.find, data.rfind
    known = set(active)
    done = 0
    while done < len(active):
        needle = active[done]
        done += 1
        hit = find(needle)
        while hit >= 0:
            start = rfind(b"\n", 0, hit) + 1
            end = find(b"\n", hit)
            if end < 0:
                end = len(data)
            if end - start > max_line:
                events.overlong(file_index, block.offset + start)
            else:
                for new in events.line(
                    file_index, block.offset + start, data[start:end]
                ):
                    # A needle is searched once per block, however often
                    # the caller names it.
                    if new not in known:
                        known.add(new)
                        active.append(new)
                        added.append(new)
            hit = find(needle, end + 1)
    for offset, piece in block.overlong:
        if any(needle in piece for needle in active):
            events.overlong(file_index, offset)


def sweep(
    paths: Sequence[Path],
    seed: bytes,
    events: ScanEvents,
    *,
    block_size: int = BLOCK_SIZE,
    max_line: int = MAX_LINE_BYTES,
) -> SweepStats:
    r"""Hand ``events`` every line of ``paths`` holding ``seed`` or a needle it adds.

    A needle is searched in every block of every file exactly once, however
    late it joined (see the module's docstring); a line is handed on once
    per needle it holds.

    Example::

        >>> import tempfile, pathlib
        >>> class Lines:
        ...     def __init__(self): self.seen = []
        ...     def line(self, file_index, offset, line):
        ...         self.seen.append(line)
        ...         return [b"b"] if line == b"a b" else []
        ...     def overlong(self, file_index, offset): pass
        ...     def damaged(self, file_index, reason): pass
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder, "x.log")
        ...     _ = path.write_bytes(b"b only\nnothing\na b\n")
        ...     lines = Lines()
        ...     _ = sweep([path], b"a", lines)
        >>> lines.seen
        [b'a b', b'b only', b'a b']
    """
    stats = SweepStats()
    # needle -> (lap, file index, block index) where it joined; the seed
    # joins before the first block.
    pending: dict[bytes, tuple[int, int, int]] = {seed: (0, -1, -1)}
    every = {seed}
    lap = 0
    while pending:
        stats.laps += 1
        first: tuple[int, int] | None = None
        for file_index, path in enumerate(paths):
            for block in read_blocks(path, block_size, max_line):
                here = (file_index, block.index)
                first = here if first is None else first
                # A needle has gone round once when the sweep is back at the
                # block where it joined, one lap later.
                for needle, (joined, *where) in list(pending.items()):
                    if joined < lap and tuple(where) <= here:
                        del pending[needle]
                if not pending:
                    return stats
                stats.bytes_read += len(block.data)
                stats.blocks += 1
                if block.damaged and lap == 0:
                    events.damaged(file_index, block.damaged)
                added: list[bytes] = []
                _search(
                    block,
                    file_index,
                    active=list(pending),
                    events=events,
                    added=added,
                    max_line=max_line,
                )
                for needle in added:
                    if needle not in every:
                        every.add(needle)
                        pending[needle] = (lap, *here)
        # End of a lap: a needle that joined in an earlier lap, or at the
        # lap's first block, has been searched everywhere.
        pending = {
            needle: at
            for needle, at in pending.items()
            if at[0] >= lap and (first is None or at[1:] > first)
        }
        lap += 1
    return stats
