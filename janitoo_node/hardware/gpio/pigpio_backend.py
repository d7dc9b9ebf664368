"""The pigpio backend and the one pigpio daemon connection shared by everything in the process.

pigpio works through its daemon (``pigpiod``), which supports the Pi 1 to 4 but not the Pi 5. Every
user (this backend, each DHT reader) borrows the same connection with ``acquire_pigpio`` and gives
it back with ``release_pigpio``; the last release stops it. The library prints a multi-line banner
when the daemon is not there unless ``show_errors=False`` is passed: failures here are one line.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from typing import Any

from ..errors import HardwareError
from .base import BackendUnusable, Edge, EdgeCallback, GpioBackend, Pull, missing_library, pin_label

# pigpio's constants, so that an injected stand-in needs only the methods.
_PIGPIO_INPUT, _PIGPIO_OUTPUT = 0, 1
_PIGPIO_PUD = {"none": 0, "down": 1, "up": 2}
_PIGPIO_EDGE = {"rising": 0, "falling": 1, "both": 2}
_PIGPIO_TIMEOUT_LEVEL = 2  # a watchdog report, not an edge
PIGPIO_MAX_GLITCH_US = 300_000
DEFAULT_PORT = 8888

_lock = threading.Lock()
# (host, port) -> [connection, users]
_shared: dict[tuple[str, int], list[Any]] = {}


def acquire_pigpio(host: str | None = None, port: int = DEFAULT_PORT, module: Any = None) -> Any:
    """The process's connection to the pigpio daemon at host:port, opened on first use.

    ``module`` replaces the imported library (a stand-in for tests). BackendUnusable (one line) when
    the library is missing or the daemon does not answer.
    """
    key = (host or "localhost", port)
    with _lock:
        entry = _shared.get(key)
        if entry is not None:
            entry[1] += 1
            return entry[0]
        if module is None:
            try:
                module = importlib.import_module("pigpio")
            except ImportError:
                raise missing_library("pigpio") from None
        pi = module.pi(key[0], key[1], show_errors=False)
        if not pi.connected:
            with contextlib.suppress(Exception):
                pi.stop()
            raise BackendUnusable(
                "gpio",
                f"pigpio daemon not reachable at {key[0]}:{key[1]}: start it with "
                "'sudo systemctl start pigpiod' (it does not support the Pi 5)",
            )
        _shared[key] = [pi, 1]
        return pi


def release_pigpio(pi: Any) -> None:
    """Give back a connection from ``acquire_pigpio``; the last user's release stops it."""
    with _lock:
        for key, entry in list(_shared.items()):
            if entry[0] is pi:
                entry[1] -= 1
                if entry[1] <= 0:
                    del _shared[key]
                    with contextlib.suppress(Exception):
                        pi.stop()
                return


def shared_pigpio_users() -> int:
    """How many users hold a pigpio connection (0 when every one was released): for tests."""
    with _lock:
        return sum(entry[1] for entry in _shared.values())


class PigpioBackend(GpioBackend):
    """pigpio through its daemon (Pi 4 and earlier); debounce uses pigpio's glitch filter.

    The glitch filter reports a level only after it has been steady for ``bounce_ms`` (capped at
    pigpio's 300 ms), which differs slightly from RPi.GPIO's "ignore edges after an edge".
    ``pi`` replaces the daemon connection (a stand-in for tests); ``module`` the library.
    """

    name = "pigpio"

    def __init__(
        self, pi: Any = None, *, host: str | None = None, port: int = DEFAULT_PORT, module: Any = None
    ) -> None:
        self._owns_pi = pi is None
        self.pi = acquire_pigpio(host, port, module) if pi is None else pi
        self._callbacks: dict[int, Any] = {}
        self._closed = False

    def _setup_output(self, pin: int, initial: bool) -> None:
        try:
            self._cancel(pin)
            self.pi.set_mode(pin, _PIGPIO_OUTPUT)
            self.pi.write(pin, 1 if initial else 0)
        except Exception as exc:  # pigpio.error derives from Exception only
            raise HardwareError(pin_label(pin), f"setup as output failed: {exc}") from None

    def _setup_input(
        self, pin: int, pull: Pull, edge: Edge, bounce_ms: int, callback: EdgeCallback | None
    ) -> None:
        try:
            self._cancel(pin)
            self.pi.set_mode(pin, _PIGPIO_INPUT)
            self.pi.set_pull_up_down(pin, _PIGPIO_PUD[pull])
            if bounce_ms > 0:
                self.pi.set_glitch_filter(pin, min(bounce_ms * 1000, PIGPIO_MAX_GLITCH_US))
            if callback is None:
                return

            def on_edge(gpio: int, level: int, tick: int) -> None:
                if level != _PIGPIO_TIMEOUT_LEVEL:
                    callback(gpio, bool(level))

            self._callbacks[pin] = self.pi.callback(pin, _PIGPIO_EDGE[edge], on_edge)
        except Exception as exc:
            raise HardwareError(pin_label(pin), f"setup as input failed: {exc}") from None

    def _write(self, pin: int, level: bool) -> None:
        try:
            self.pi.write(pin, 1 if level else 0)
        except Exception as exc:
            raise HardwareError(pin_label(pin), f"write failed: {exc}") from None

    def _read(self, pin: int) -> bool:
        try:
            return bool(self.pi.read(pin))
        except Exception as exc:
            raise HardwareError(pin_label(pin), f"read failed: {exc}") from None

    def _cancel(self, pin: int) -> None:
        old = self._callbacks.pop(pin, None)
        if old is not None:
            old.cancel()

    def close(self) -> None:
        for pin in list(self._callbacks):
            with contextlib.suppress(Exception):
                self._cancel(pin)
        if self._owns_pi and not self._closed:
            release_pigpio(self.pi)
        self._closed = True
