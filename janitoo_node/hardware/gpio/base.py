"""The narrow GPIO interface every backend implements; arguments are checked here, once, for all of them.

Pins are BCM numbers everywhere (GPIO 6 for the tutorial's DHT, GPIO 19 for its LED), as the
original used in practice whatever its ``rpigpio_boardmode`` value said. Edge callbacks receive
``(pin, level)`` and may run on a library thread (RPi.GPIO, pigpio and lgpio each have one): a
component must hand the event over to its own scheduler rather than do work in the callback.

A backend implements the ``_``-prefixed methods; the public ones validate, then delegate, so no
backend repeats the checks. A backend that finds it cannot work on this machine at all (rather than
failing on one pin) raises ``BackendUnusable``: the factory's fallback then moves to the next library.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Literal, TypeAlias

from ..errors import HardwareError

Pull: TypeAlias = Literal["up", "down", "none"]
Edge: TypeAlias = Literal["both", "rising", "falling"]
EdgeCallback: TypeAlias = Callable[[int, bool], None]
Clock: TypeAlias = Callable[[], float]

PULLS: tuple[str, ...] = ("up", "down", "none")
EDGES: tuple[str, ...] = ("both", "rising", "falling")
MAX_BCM_PIN = 53
INSTALL_HINT = "pip install 'janitoo[pi]'"


class BackendUnusable(HardwareError):
    """The library cannot do this on this machine at all (not this pin's fault): try another library."""


def pin_label(pin: int) -> str:
    return f"GPIO{pin}"


def check_pin(pin: int) -> None:
    if isinstance(pin, bool) or not isinstance(pin, int) or not 0 <= pin <= MAX_BCM_PIN:
        raise ValueError(f"invalid GPIO pin {pin!r}: expected a BCM number 0..{MAX_BCM_PIN}")


def check_input_args(pull: str, edge: str, bounce_ms: int) -> None:
    if pull not in PULLS:
        raise ValueError(f"invalid pull {pull!r}: expected one of {', '.join(PULLS)}")
    if edge not in EDGES:
        raise ValueError(f"invalid edge {edge!r}: expected one of {', '.join(EDGES)}")
    if isinstance(bounce_ms, bool) or not isinstance(bounce_ms, int) or bounce_ms < 0:
        raise ValueError(f"invalid bounce time {bounce_ms!r} ms: expected 0 or more")


def missing_library(name: str) -> BackendUnusable:
    return BackendUnusable("gpio", f"{name} is not installed: {INSTALL_HINT}")


class GpioBackend(ABC):
    """What a component may do with GPIO pins, whatever library sits underneath."""

    #: The library's name as the user knows it (shown by hardware-check and in errors).
    name = "gpio"

    def setup_output(self, pin: int, initial: bool = False) -> None:
        """Make ``pin`` an output driven at ``initial``."""
        check_pin(pin)
        self._setup_output(pin, bool(initial))

    def setup_input(
        self,
        pin: int,
        pull: Pull = "none",
        edge: Edge = "both",
        bounce_ms: int = 0,
        callback: EdgeCallback | None = None,
    ) -> None:
        """Make ``pin`` an input; when ``callback`` is given, call it as ``callback(pin, level)`` on edges."""
        check_pin(pin)
        check_input_args(pull, edge, bounce_ms)
        self._setup_input(pin, pull, edge, bounce_ms, callback)

    def write(self, pin: int, level: bool) -> None:
        """Drive an output pin high (True) or low (False)."""
        check_pin(pin)
        self._write(pin, bool(level))

    def read(self, pin: int) -> bool:
        """The current level of a pin."""
        check_pin(pin)
        return self._read(pin)

    @abstractmethod
    def close(self) -> None:
        """Release every pin this backend set up."""

    @abstractmethod
    def _setup_output(self, pin: int, initial: bool) -> None: ...

    @abstractmethod
    def _setup_input(
        self, pin: int, pull: Pull, edge: Edge, bounce_ms: int, callback: EdgeCallback | None
    ) -> None: ...

    @abstractmethod
    def _write(self, pin: int, level: bool) -> None: ...

    @abstractmethod
    def _read(self, pin: int) -> bool: ...
