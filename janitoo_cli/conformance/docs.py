"""Keeps docs/protocol.md's assertions section equal to the table: python -m janitoo_cli.conformance.docs."""

from __future__ import annotations

import sys
from pathlib import Path

from .report import render_markdown

BEGIN = "<!-- assertions:begin (generated: python -m janitoo_cli.conformance.docs docs/protocol.md) -->"
END = "<!-- assertions:end -->"


def section_of(text: str) -> str | None:
    """The text between the markers, or None when a marker is missing."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start + len(BEGIN) : end].strip("\n")


def updated(text: str) -> str:
    """`text` with the section between the markers regenerated from the table."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are missing or out of order")
    return text[: start + len(BEGIN)] + "\n" + render_markdown() + "\n" + text[end:]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m janitoo_cli.conformance.docs docs/protocol.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    try:
        text = path.read_text(encoding="utf-8")
        new = updated(text)
    except (OSError, ValueError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    if new != text:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
