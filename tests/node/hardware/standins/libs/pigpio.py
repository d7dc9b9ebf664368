"""Stand-in for pigpio 1.78 (joan2937/pigpio: pigpio.py), behaving as the real module does.

* ``pi(host, port, show_errors=True)`` connects to the daemon; when it is not there, ``connected``
  is false and, unless ``show_errors=False``, a multi-line banner goes to stdout (pigpio.py, pi.__init__).
  Here the daemon "runs" when the fixture board has ``run/pigpio.pid`` and is not a BCM2712 board
  (pigpiod does not support the Pi 5).
* Every connection is a socket until ``stop()``: ``connections`` lets a test count the open ones.
"""

from __future__ import annotations

from typing import Any

import _standin_root

connections: list[pi] = []

_BANNER = """%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%
Can't connect to pigpio at {}({})

Did you start the pigpio daemon? E.g. sudo pigpiod

Did you specify the correct Pi host/port in the environment
variables PIGPIO_ADDR/PIGPIO_PORT?
E.g. export PIGPIO_ADDR=soft, export PIGPIO_PORT=8888

Did you specify the correct Pi host/port in the
pigpio.pi() function? E.g. pigpio.pi('soft', 8888)
%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%"""


class _Callback:
    def __init__(self, owner: pi, gpio: int, func: Any) -> None:
        self.owner, self.gpio, self.func = owner, gpio, func

    def cancel(self) -> None:
        if self in self.owner.callbacks:
            self.owner.callbacks.remove(self)


class pi:  # noqa: N801 - the real name
    def __init__(self, host: str = "localhost", port: int = 8888, show_errors: bool = True) -> None:
        root = _standin_root.root()
        self.connected = (root / "run/pigpio.pid").exists() and not _standin_root.is_bcm2712()
        self.stopped = False
        self.callbacks: list[_Callback] = []
        self.levels: dict[int, int] = {}
        self.calls: list[tuple[Any, ...]] = []
        if self.connected:
            connections.append(self)
        elif show_errors:
            print(_BANNER.format(host, port))

    def stop(self) -> None:
        self.stopped = True
        if self in connections:
            connections.remove(self)

    def set_mode(self, gpio: int, mode: int) -> None:
        self.calls.append(("set_mode", gpio, mode))

    def set_pull_up_down(self, gpio: int, pud: int) -> None:
        self.calls.append(("pud", gpio, pud))

    def set_glitch_filter(self, gpio: int, steady: int) -> None:
        self.calls.append(("glitch", gpio, steady))

    def write(self, gpio: int, level: int) -> None:
        self.levels[gpio] = level

    def read(self, gpio: int) -> int:
        return self.levels.get(gpio, 0)

    def callback(self, gpio: int, edge: int = 0, func: Any = None) -> _Callback:
        handle = _Callback(self, gpio, func)
        self.callbacks.append(handle)
        return handle

    def standin_edge(self, gpio: int, level: int) -> bool:
        self.levels[gpio] = level
        fired = False
        for handle in list(self.callbacks):
            if handle.gpio == gpio:
                handle.func(gpio, level, 0)
                fired = True
        return fired
