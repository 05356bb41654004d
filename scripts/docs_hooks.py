"""Hooks of the documentation site (``mkdocs.yml`` loads this file twice).

* As a MkDocs hook, :func:`on_config` lists every ExecPlan under the
  navigation's "ExecPlans" entry, so a new plan needs no ``mkdocs.yml``
  edit and never counts as a page left out of the navigation.
* As a griffe extension, :class:`ReSTDocstrings` turns the docstrings'
  reST into Markdown before mkdocstrings renders them: literal blocks
  (``Example::`` and ``text::``) become fenced code, Sphinx roles such as
  ``:func:`name``` become code spans (D-docs-3), and
  ``.. versionadded::``/``.. versionchanged::`` become italic notes
  (D-docs-6).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

PLAN_NAME = re.compile(r"^(\d+)-(\d+)-(\d+)-.*\.md$")
ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const):`([^`]+)`")
VERSION_NOTE = re.compile(
    r"^(?P<pad> *)\.\. version(?P<kind>added|changed|deprecated):: *"
    r"(?P<version>\S+)(?: +(?P<text>.*))?$"
)
VERSION_WORDS = {
    "added": "New in",
    "changed": "Changed in",
    "deprecated": "Deprecated since",
}
EXECPLANS = "ExecPlans"


def plan_pages(folder: Path) -> list[str]:
    r"""Return the ExecPlans in ``folder`` as page paths, in roadmap order.

    Example::

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as name:
        ...     for plan in ("10-1-1-a.md", "2-1-1-b.md", "README.md"):
        ...         _ = (Path(name) / plan).write_text("# x\n")
        ...     plan_pages(Path(name))
        ['execplans/2-1-1-b.md', 'execplans/10-1-1-a.md']
    """
    found = []
    for path in folder.iterdir():
        match = PLAN_NAME.match(path.name)
        if match:
            key = tuple(int(part) for part in match.groups())
            found.append((key, f"execplans/{path.name}"))
    return [page for _, page in sorted(found)]


def with_plans(nav: list[Any], plans: list[str]) -> bool:
    """Replace the ``ExecPlans: execplans/README.md`` entry of ``nav`` in place.

    Return whether it was found.

    Example::

        >>> nav = [{"Contributors": [{"ExecPlans": "execplans/README.md"}]}]
        >>> with_plans(nav, ["execplans/1-1-1-a.md"])
        True
        >>> nav[0]["Contributors"][0]["ExecPlans"]
        ['execplans/README.md', 'execplans/1-1-1-a.md']
    """
    for entry in nav:
        if not isinstance(entry, dict):
            continue
        for title, value in entry.items():
            if title == EXECPLANS and value == "execplans/README.md":
                entry[title] = [value, *plans]
                return True
            if isinstance(value, list) and with_plans(value, plans):
                return True
    return False


def on_config(config: Any) -> Any:  # noqa: ANN401 (MkDocs' own config type)
    """MkDocs hook: list every ExecPlan in the navigation."""
    plans = plan_pages(Path(config["docs_dir"]) / "execplans")
    if not with_plans(config["nav"], plans):
        raise ValueError(f"mkdocs.yml: no '{EXECPLANS}: execplans/README.md' in nav")
    return config


def _role(match: re.Match[str]) -> str:
    target = match.group(1)
    if target.startswith("~"):
        target = target.rsplit(".", 1)[-1]
    return f"`{target.lstrip('.')}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def version_notes(lines: list[str]) -> list[str]:
    r"""Return ``lines`` with Sphinx's version directives as italic notes.

    ``.. versionadded:: V``, ``.. versionchanged:: V text`` and
    ``.. versiondeprecated:: V text`` become one paragraph each; the
    directive's indented continuation lines join its text.

    Example::

        >>> version_notes([".. versionadded:: 0.2.0"])
        ['*New in 0.2.0.*']
        >>> version_notes([
        ...     "    .. versionchanged:: 0.2.0 ``generator``",
        ...     "       and ``store``.",
        ...     "",
        ...     "    Example::",
        ... ])
        ['    *Changed in 0.2.0:* ``generator`` and ``store``.', '', '    Example::']
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = VERSION_NOTE.match(lines[i])
        i += 1
        if match is None:
            out.append(lines[i - 1])
            continue
        pad = match["pad"]
        words = [match["text"]] if match["text"] else []
        while i < len(lines) and lines[i].strip() and _indent(lines[i]) > len(pad):
            words.append(lines[i].strip())
            i += 1
        label = f"{VERSION_WORDS[match['kind']]} {match['version']}"
        text = " ".join(words)
        out.append(f"{pad}*{label}:* {text}" if text else f"{pad}*{label}.*")
    return out


def rest_to_markdown(text: str) -> str:
    r"""Return a docstring's reST literal blocks and roles as Markdown.

    Example::

        >>> print(rest_to_markdown(
        ...     "Use :func:`~a.b.run`.\n\nExample::\n\n    run(1)\n\nEnd."
        ... ))
        Use `run`.
        <BLANKLINE>
        **Example:**
        <BLANKLINE>
        ```python
        run(1)
        ```
        <BLANKLINE>
        End.
        >>> rest_to_markdown("Doctests::\n\n    >>> 1\n    1").splitlines()[:3]
        ['Doctests:', '', '```pycon']
        >>> rest_to_markdown(".. versionchanged:: 0.2.0 :func:`run`.")
        '*Changed in 0.2.0:* `run`.'
    """
    lines = version_notes(ROLE.sub(_role, text).splitlines())
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.rstrip().endswith("::"):
            out.append(line)
            continue
        base = _indent(line)
        head = line.rstrip()[:-2].rstrip()
        if head.strip() in ("Example", "Examples"):
            out.append(" " * base + f"**{head.strip()}:**")
        elif head.strip():
            out.append(head + ":")
        block: list[str] = []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > base):
            block.append(lines[i])
            i += 1
        trailing = 0
        while block and not block[-1].strip():
            block.pop()
            trailing += 1
        while block and not block[0].strip():
            block.pop(0)
        if not block:
            continue
        cut = min(_indent(b) for b in block if b.strip())
        language = "pycon" if block[0].strip().startswith(">>>") else "python"
        pad = " " * base
        out.extend(["", f"{pad}```{language}"])
        out.extend(pad + b[cut:] if b.strip() else "" for b in block)
        out.append(f"{pad}```")
        out.extend([""] * trailing)
    return "\n".join(out)


class ReSTDocstrings(griffe.Extension):
    """Griffe extension: every docstring's reST as Markdown, before rendering."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:  # noqa: ANN401
        """Rewrite ``obj``'s docstring in place."""
        if obj.docstring is not None:
            obj.docstring.value = rest_to_markdown(obj.docstring.value)
