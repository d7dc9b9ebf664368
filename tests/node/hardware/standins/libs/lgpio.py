"""Stand-in for lgpio (lg 0.2.x, joan2937/lg: lgpio.py and lgNotify.c), behaving as the real module does.

* At import, the module starts its notification thread, whose FIFO ``.lgd-nfy<handle>`` the C
  library creates in the *working directory* (lgNotify.c, xCreatePipe); when it cannot, the C side
  prints "xCreatePipe: Can't set permissions ..." and returns a negative handle, and the Python side
  then opens ``.lgd-nfy-3`` and raises FileNotFoundError out of ``import lgpio`` (joan2937/lg#22).
* ``gpiochip_open(n)`` raises ``lgpio.error("can not open gpiochip")`` when /dev/gpiochipN is absent.
* Lines are claimed on the chip opened: claiming GPIO17 on the wrong chip drives some other line,
  so every claim is recorded with the chip's number for the tests to check.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import _standin_root

SET_ACTIVE_LOW, SET_OPEN_DRAIN, SET_OPEN_SOURCE = 4, 8, 16
SET_PULL_UP, SET_PULL_DOWN, SET_PULL_NONE = 32, 64, 128
RISING_EDGE, FALLING_EDGE, BOTH_EDGES = 1, 2, 3


class error(Exception):  # noqa: N801 - the real name
    pass


def _create_notify_fifo() -> Any:
    try:
        # The real FIFO is a named pipe; a plain file keeps the stand-in from blocking on open.
        with open(".lgd-nfy0", "wb"):
            pass
        handle = 0
    except OSError as exc:
        print(f"xCreatePipe: Can't set permissions (436) for //.lgd-nfy0, {exc.strerror}", file=sys.stderr)
        handle = -3
    return open(f".lgd-nfy{handle}", "rb")  # noqa: SIM115 - held open for the module's life, as the real one


_notify_file = _create_notify_fifo()

# What the stand-in saw: (chip, pin, mode) claims, open handles, and the edge callbacks by (chip, pin).
claims: list[tuple[int, int, str]] = []
_handles: dict[int, int] = {}
_levels: dict[tuple[int, int], int] = {}
_callbacks: dict[tuple[int, int], Callable[[int, int, int, int], None]] = {}


def gpiochip_open(chip: int) -> int:
    if not (_standin_root.root() / "dev" / f"gpiochip{chip}").exists():
        raise error("can not open gpiochip")
    handle = len(_handles) + 100
    _handles[handle] = chip
    return handle


def gpiochip_close(handle: int) -> None:
    _handles.pop(handle, None)


def _chip(handle: int) -> int:
    if handle not in _handles:
        raise error("unknown handle")
    return _handles[handle]


def gpio_claim_output(handle: int, gpio: int, level: int = 0, lFlags: int = 0) -> None:  # noqa: N803
    chip = _chip(handle)
    claims.append((chip, gpio, "output"))
    _levels[(chip, gpio)] = level


def gpio_claim_input(handle: int, gpio: int, lFlags: int = 0) -> None:  # noqa: N803
    claims.append((_chip(handle), gpio, "input"))


def gpio_claim_alert(handle: int, gpio: int, eFlags: int, lFlags: int = 0, notify_handle: Any = None) -> None:  # noqa: N803
    claims.append((_chip(handle), gpio, "alert"))


def gpio_set_debounce_micros(handle: int, gpio: int, debounce_micros: int) -> None:
    _chip(handle)


def gpio_free(handle: int, gpio: int) -> None:
    _callbacks.pop((_chip(handle), gpio), None)


def gpio_write(handle: int, gpio: int, level: int) -> None:
    _levels[(_chip(handle), gpio)] = level


def gpio_read(handle: int, gpio: int) -> int:
    return _levels.get((_chip(handle), gpio), 0)


class _Callback:
    def __init__(self, key: tuple[int, int]) -> None:
        self.key = key

    def cancel(self) -> None:
        _callbacks.pop(self.key, None)


def callback(handle: int, gpio: int, edge: int = RISING_EDGE, func: Any = None) -> _Callback:
    key = (_chip(handle), gpio)
    _callbacks[key] = func
    return _Callback(key)


def standin_edge(chip: int, gpio: int, level: int) -> bool:
    """Play an edge on a line as the kernel would report it; True when a callback took it."""
    _levels[(chip, gpio)] = level
    func = _callbacks.get((chip, gpio))
    if func is None:
        return False
    func(chip, gpio, level, 0)
    return True
