"""The RPi.GPIO backend: BCM numbering through ``/dev/gpiomem``; edges through the legacy sysfs interface.

Two limits of the library decide where it is used (checked against RPi.GPIO 0.7.1's sources):

* edge detection (``add_event_detect``) exports the raw BCM number through ``/sys/class/gpio/export``;
  since kernel 6.6 the header's sysfs numbers start at 512, the export fails and the library raises
  ``RuntimeError("Failed to add edge detection")``: inputs without edges still work;
* on a BCM2712 board (Pi 5) the module imports but ``setup()`` raises ``RuntimeError`` (it cannot
  find the SoC's peripherals).

Both are library-wide failures, raised as ``BackendUnusable`` so the factory falls back to another
library instead of leaving the pin dead.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import Any

from ..errors import HardwareError
from .base import BackendUnusable, Edge, EdgeCallback, GpioBackend, Pull, missing_library, pin_label

EDGE_FAILURE = "Failed to add edge detection"


def import_rpigpio() -> Any:
    """``import RPi.GPIO``; BackendUnusable when it is missing or refuses this board."""
    try:
        return importlib.import_module("RPi.GPIO")
    except ImportError:
        raise missing_library("RPi.GPIO") from None
    except RuntimeError as exc:
        # Older releases refuse to import on a board they do not know.
        raise BackendUnusable("gpio", f"RPi.GPIO cannot run here: {exc}") from None


class RPiGpioBackend(GpioBackend):
    """RPi.GPIO in BCM numbering. ``module`` replaces the imported library (a stand-in for tests)."""

    name = "RPi.GPIO"

    def __init__(self, module: Any = None) -> None:
        self._gpio = import_rpigpio() if module is None else module
        self._pins: set[int] = set()
        self._gpio.setwarnings(False)
        self._gpio.setmode(self._gpio.BCM)

    def _setup(self, pin: int, what: str, *args: Any, **kwargs: Any) -> None:
        try:
            self._gpio.setup(pin, *args, **kwargs)
        except RuntimeError as exc:
            # RuntimeError is the library failing as a whole (no /dev/gpiomem, unknown SoC), not the pin.
            raise BackendUnusable(pin_label(pin), f"RPi.GPIO cannot set up {what}: {exc}") from None
        except ValueError as exc:
            raise HardwareError(pin_label(pin), f"setup as {what} failed: {exc}") from None
        self._pins.add(pin)

    def _setup_output(self, pin: int, initial: bool) -> None:
        gpio = self._gpio
        self._setup(pin, "output", gpio.OUT, initial=gpio.HIGH if initial else gpio.LOW)

    def _setup_input(
        self, pin: int, pull: Pull, edge: Edge, bounce_ms: int, callback: EdgeCallback | None
    ) -> None:
        gpio = self._gpio
        pud = {"up": gpio.PUD_UP, "down": gpio.PUD_DOWN, "none": gpio.PUD_OFF}[pull]
        # RPi.GPIO refuses a second add_event_detect on a pin (e.g. after a config reload).
        with contextlib.suppress(RuntimeError, ValueError):
            gpio.remove_event_detect(pin)
        self._setup(pin, "input", gpio.IN, pull_up_down=pud)
        if callback is None:
            return
        detected = {"both": gpio.BOTH, "rising": gpio.RISING, "falling": gpio.FALLING}[edge]

        def on_edge(channel: int) -> None:
            # RPi.GPIO does not pass the level; for one-way edges it is known without a read.
            level = edge == "rising" if edge != "both" else bool(gpio.input(channel))
            callback(channel, level)

        options: dict[str, Any] = {"callback": on_edge}
        if bounce_ms > 0:
            options["bouncetime"] = bounce_ms
        try:
            gpio.add_event_detect(pin, detected, **options)
        except RuntimeError as exc:
            if EDGE_FAILURE in str(exc):
                raise BackendUnusable(
                    pin_label(pin),
                    f"RPi.GPIO cannot detect edges here ({exc}: kernel 6.6+ numbers sysfs GPIOs from 512); "
                    "lgpio can",
                ) from None
            raise HardwareError(pin_label(pin), f"edge detection failed: {exc}") from None
        except ValueError as exc:
            raise HardwareError(pin_label(pin), f"edge detection failed: {exc}") from None

    def _write(self, pin: int, level: bool) -> None:
        try:
            self._gpio.output(pin, self._gpio.HIGH if level else self._gpio.LOW)
        except (RuntimeError, ValueError) as exc:
            raise HardwareError(pin_label(pin), f"write failed: {exc}") from None

    def _read(self, pin: int) -> bool:
        try:
            return bool(self._gpio.input(pin))
        except (RuntimeError, ValueError) as exc:
            raise HardwareError(pin_label(pin), f"read failed: {exc}") from None

    def close(self) -> None:
        if self._pins:
            with contextlib.suppress(RuntimeError, ValueError):
                self._gpio.cleanup(sorted(self._pins))
            self._pins.clear()
