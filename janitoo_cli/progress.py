"""A one-line progress note on a terminal while jnt waits for the network; nothing when piped."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

# Waits shorter than this show nothing: most answers come in a fraction of a second.
SHOW_AFTER = 1.0
_FRAMES = "|/-\\"


@contextmanager
def waiting(what: str, stream: TextIO | None = None, *, after: float = SHOW_AFTER) -> Iterator[None]:
    """While the block runs, after `after` seconds, show `| waiting for X (1.4 s)` on a terminal's line."""
    out = stream if stream is not None else sys.stderr
    if not _isatty(out):
        yield
        return
    stop = threading.Event()
    shown = threading.Event()

    def spin() -> None:
        if stop.wait(after):
            return
        started = time.monotonic() - after
        frame = 0
        while not stop.is_set():
            out.write(f"\r{_FRAMES[frame % len(_FRAMES)]} {what} ({time.monotonic() - started:.1f} s)")
            out.flush()
            shown.set()
            frame += 1
            stop.wait(0.1)

    thread = threading.Thread(target=spin, name="jnt-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if shown.is_set():
            out.write("\r\033[K")  # the note leaves no trace before the answer is printed
            out.flush()


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
