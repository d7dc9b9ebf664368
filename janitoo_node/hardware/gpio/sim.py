"""The simulated GPIO backend: in-memory pins on an injectable clock, with gpiozero-style history checks."""

from __future__ import annotations

import time
from typing import Literal

from ..errors import HardwareError
from .base import Clock, Edge, EdgeCallback, GpioBackend, Pull, pin_label


class SimGpio(GpioBackend):
    """An in-memory GPIO controller driven by an injectable clock, for tests and the simulator.

    Every level driven on an output (including the initial one at setup) is recorded in
    ``history`` as ``(time, pin, level)``. ``simulate_input`` plays the outside world on an input.
    Debounce follows RPi.GPIO: an edge within ``bounce_ms`` of the last *reported* edge is not
    reported, although the pin level does change (``read`` always tells the truth).
    """

    name = "sim"

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.history: list[tuple[float, int, bool]] = []
        self.closed = False
        self._modes: dict[int, Literal["input", "output"]] = {}
        self._levels: dict[int, bool] = {}
        self._inputs: dict[int, tuple[Edge, int, EdgeCallback | None]] = {}
        self._last_reported: dict[int, float] = {}

    def _check_open(self, pin: int) -> None:
        if self.closed:
            raise HardwareError(pin_label(pin), "GPIO backend is closed")

    def _setup_output(self, pin: int, initial: bool) -> None:
        self._check_open(pin)
        self._modes[pin] = "output"
        self._inputs.pop(pin, None)
        self._levels[pin] = bool(initial)
        self.history.append((self.clock(), pin, bool(initial)))

    def _setup_input(
        self, pin: int, pull: Pull, edge: Edge, bounce_ms: int, callback: EdgeCallback | None
    ) -> None:
        self._check_open(pin)
        self._modes[pin] = "input"
        # A floating input reads low here; a real one reads whatever noise it picks up.
        self._levels[pin] = pull == "up"
        self._inputs[pin] = (edge, bounce_ms, callback)
        self._last_reported.pop(pin, None)

    def _write(self, pin: int, level: bool) -> None:
        self._check_open(pin)
        if self._modes.get(pin) != "output":
            raise HardwareError(pin_label(pin), "not set up as an output")
        self._levels[pin] = bool(level)
        self.history.append((self.clock(), pin, bool(level)))

    def _read(self, pin: int) -> bool:
        self._check_open(pin)
        if pin not in self._modes:
            raise HardwareError(pin_label(pin), "not set up")
        return self._levels[pin]

    def close(self) -> None:
        self.closed = True
        self._modes.clear()
        self._inputs.clear()

    def mode(self, pin: int) -> Literal["input", "output"] | None:
        """``"input"``, ``"output"`` or None for a pin never set up."""
        return self._modes.get(pin)

    def simulate_input(self, pin: int, level: bool) -> bool:
        """Set an input pin's level as the outside world would; return True when a callback fired."""
        self._check_open(pin)
        if self._modes.get(pin) != "input":
            raise HardwareError(pin_label(pin), "not set up as an input")
        level = bool(level)
        if self._levels[pin] == level:
            return False
        self._levels[pin] = level
        edge, bounce_ms, callback = self._inputs[pin]
        if edge == "rising" and not level or edge == "falling" and level:
            return False
        now = self.clock()
        last = self._last_reported.get(pin)
        if last is not None and now - last < bounce_ms / 1000:
            return False
        self._last_reported[pin] = now
        if callback is not None:
            callback(pin, level)
        return True

    def history_for(self, pin: int) -> list[tuple[float, bool]]:
        """The ``(time, level)`` pairs driven on one pin, oldest first."""
        return [(when, level) for when, p, level in self.history if p == pin]

    def assert_states_and_times(
        self, pin: int, expected: list[tuple[float, bool]], tolerance: float = 1e-6
    ) -> None:
        """Raise AssertionError unless the pin's history matches ``expected`` within ``tolerance`` seconds."""
        actual = self.history_for(pin)
        matches = len(actual) == len(expected) and all(
            level == want_level and abs(when - want_when) <= tolerance
            for (when, level), (want_when, want_level) in zip(actual, expected, strict=True)
        )
        if not matches:
            raise AssertionError(f"GPIO{pin} history {actual} != expected {expected}")
