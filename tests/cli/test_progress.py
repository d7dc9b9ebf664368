"""The progress note: shown on a terminal during a long wait, cleared after; never on a pipe."""

from __future__ import annotations

import io
import threading

from janitoo_cli.progress import waiting


class Terminal(io.StringIO):
    """A stream that says it is a terminal and tells when something was written."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        n = super().write(s)
        self.written.set()
        return n


def test_a_long_wait_shows_a_note_on_a_terminal_and_clears_it() -> None:
    term = Terminal()
    with waiting("waiting for 0225/0000", term, after=0.0):
        assert term.written.wait(5)
    text = term.getvalue()
    assert "waiting for 0225/0000 (" in text and text.startswith("\r")
    assert text.endswith("\r\033[K")  # the line is cleared before the answer is printed


def test_a_pipe_gets_nothing() -> None:
    pipe = io.StringIO()
    with waiting("waiting", pipe, after=0.0):
        pass
    assert pipe.getvalue() == ""


def test_a_short_wait_shows_nothing() -> None:
    term = Terminal()
    with waiting("waiting", term, after=60):
        pass
    assert term.getvalue() == ""
