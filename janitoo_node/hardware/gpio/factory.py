"""Choosing the GPIO library: the order per board, and the fallback to the next library when one fails at run time.

The order follows the mature projects (gpiozero 2.0 tries lgpio, then RPi.GPIO, then pigpio): lgpio
first everywhere, because it uses the kernel's character device and works on every board and
kernel; on a BCM2712 board (Pi 5, CM5, Pi 500) it is the only one, since RPi.GPIO and pigpio cannot
reach the RP1 chip. A library can load and still fail later: RPi.GPIO loads on a 6.6 kernel and
only fails when asked for edges. ``FallbackGpio`` then closes it, sets every pin up again on the
next library and carries on, so an input still gets its edges.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import HardwareError
from ..platform import is_raspberry_pi, is_raspberry_pi_5
from .base import BackendUnusable, Clock, Edge, EdgeCallback, GpioBackend, Pull
from .lgpio_backend import LgpioBackend
from .pigpio_backend import PigpioBackend
from .rpigpio_backend import RPiGpioBackend
from .sim import SimGpio

log = logging.getLogger("janitoo.hardware.gpio")

GPIO_KINDS: tuple[str, ...] = ("auto", "real", "sim", "rpigpio", "pigpio", "lgpio")
# The `gpio_library` setting of the rpigpio bus: auto (the order below, with fallback) or one library.
GPIO_LIBRARIES: tuple[str, ...] = ("auto", "lgpio", "rpigpio", "pigpio")
Candidate = tuple[str, Callable[[], GpioBackend]]


def real_candidates(root: Path = Path("/"), chip: int | None = None) -> list[Candidate]:
    """The libraries to try on this board, best first."""
    lgpio: Candidate = ("lgpio", lambda: LgpioBackend(chip, root))
    if is_raspberry_pi_5(root):
        return [lgpio]
    return [lgpio, ("RPi.GPIO", RPiGpioBackend), ("pigpio", PigpioBackend)]


class FallbackGpio(GpioBackend):
    """The first library of ``candidates`` that loads, replaced by the next one when it proves unusable.

    Every set-up is recorded (outputs with their last level), so a switch replays them on the new
    library. ``reasons`` keeps why each library before the current one was left.
    """

    def __init__(self, candidates: list[Candidate]) -> None:
        self._candidates = list(candidates)
        self._next = 0
        self.reasons: list[tuple[str, str]] = []
        self._outputs: dict[int, bool] = {}
        self._inputs: dict[int, tuple[Pull, Edge, int, EdgeCallback | None]] = {}
        self.failure: HardwareError | None = None
        self.current: GpioBackend = self._open_next(replay=False)

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.current.name

    def _open_next(self, *, replay: bool) -> GpioBackend:
        while self._next < len(self._candidates):
            label, factory = self._candidates[self._next]
            self._next += 1
            try:
                backend = factory()
            except HardwareError as exc:
                self.reasons.append((label, exc.reason))
                continue
            except Exception as exc:  # noqa: BLE001 - a library failing to load in any way is one line
                self.reasons.append((label, f"{type(exc).__name__}: {exc}"))
                continue
            if not replay:
                return backend
            try:
                self._replay(backend)
            except BackendUnusable as exc:
                self.reasons.append((label, exc.reason))
                with contextlib.suppress(Exception):
                    backend.close()
                continue
            return backend
        tried = "; ".join(f"{label}: {reason}" for label, reason in self.reasons)
        raise HardwareError("gpio", f"no GPIO library usable ({tried})")

    def _replay(self, backend: GpioBackend) -> None:
        for pin, level in self._outputs.items():
            backend.setup_output(pin, level)
        for pin, (pull, edge, bounce_ms, callback) in self._inputs.items():
            backend.setup_input(pin, pull, edge, bounce_ms, callback)

    def _switch(self, failure: BackendUnusable) -> None:
        old = self.current
        self.reasons.append((old.name, failure.reason))
        # The old library lets its pins go first: its clean-up would undo the new library's set-up.
        with contextlib.suppress(Exception):
            old.close()
        try:
            self.current = self._open_next(replay=True)
        except HardwareError as exc:
            # Nothing left: every later call fails with this one line (the bus shows FAILED).
            self.failure = exc
            raise
        log.warning("GPIO: %s; falling back to %s", failure, self.current.name)

    def _attempt(self, action: Callable[[GpioBackend], Any]) -> Any:
        while True:
            if self.failure is not None:
                raise HardwareError(self.failure.device, self.failure.reason)
            try:
                return action(self.current)
            except BackendUnusable as exc:
                self._switch(exc)

    def _setup_output(self, pin: int, initial: bool) -> None:
        self._attempt(lambda gpio: gpio.setup_output(pin, initial))
        self._inputs.pop(pin, None)
        self._outputs[pin] = initial

    def _setup_input(
        self, pin: int, pull: Pull, edge: Edge, bounce_ms: int, callback: EdgeCallback | None
    ) -> None:
        self._attempt(lambda gpio: gpio.setup_input(pin, pull, edge, bounce_ms, callback))
        self._outputs.pop(pin, None)
        self._inputs[pin] = (pull, edge, bounce_ms, callback)

    def _write(self, pin: int, level: bool) -> None:
        self._attempt(lambda gpio: gpio.write(pin, level))
        if pin in self._outputs:
            self._outputs[pin] = level

    def _read(self, pin: int) -> bool:
        return bool(self._attempt(lambda gpio: gpio.read(pin)))

    def close(self) -> None:
        self._outputs.clear()
        self._inputs.clear()
        if self.failure is None:
            self.current.close()


def make_gpio(
    kind: str = "auto",
    root: Path = Path("/"),
    clock: Clock = time.monotonic,
    chip: int | None = None,
    library: str = "auto",
) -> GpioBackend:
    """Build the GPIO backend named by ``kind``: auto, real, sim, rpigpio, pigpio or lgpio.

    ``auto`` is ``real`` on a Raspberry Pi and ``sim`` elsewhere; ``real`` is a FallbackGpio over
    the libraries of ``real_candidates``, or only ``library`` when it is not ``auto``. ``chip``
    overrides the gpiochip lgpio opens.
    """
    normalized = kind.strip().lower()
    if normalized == "auto":
        normalized = "real" if is_raspberry_pi(root) else "sim"
    if normalized == "sim":
        return SimGpio(clock)
    if normalized == "real":
        chosen = library.strip().lower()
        if chosen not in GPIO_LIBRARIES:
            raise ValueError(f"unknown GPIO library {library!r}: expected one of {', '.join(GPIO_LIBRARIES)}")
        if chosen != "auto":
            normalized = chosen
        else:
            return FallbackGpio(real_candidates(root, chip))
    if normalized == "rpigpio":
        return RPiGpioBackend()
    if normalized == "pigpio":
        return PigpioBackend()
    if normalized == "lgpio":
        return LgpioBackend(chip, root)
    raise ValueError(f"unknown GPIO backend {kind!r}: expected one of {', '.join(GPIO_KINDS)}")
