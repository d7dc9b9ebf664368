"""Ctrl+C for the commands that run until stopped: a flag their loop checks, not an exception.

A KeyboardInterrupt can land anywhere, even inside a queue's lock, and leave it broken; a SIGINT handler
that only sets an event lets the loop finish its current message and return cleanly.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def interruptible(on_interrupt: Callable[[], None] | None = None) -> Iterator[threading.Event]:
    """An event set by Ctrl+C (SIGINT) while the block runs; `on_interrupt` wakes a blocked loop."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals are only delivered to the main thread
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()
        if on_interrupt is not None:
            on_interrupt()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
