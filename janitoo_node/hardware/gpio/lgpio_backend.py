"""The lgpio backend: the kernel's GPIO character device, the library that works on every Pi (Pi 5 included).

Two traits of the library (lg 0.2, checked in its sources and joan2937/lg#22) shape this module:

* ``import lgpio`` starts a notification thread whose FIFO (``.lgd-nfy<n>``) is created in the
  *working directory*; where that is not writable (``/`` under a hardened systemd unit) the import
  raises FileNotFoundError. The unit gives the service a writable WorkingDirectory; here the failure
  is one line naming the directory;
* ``gpiochip_open`` fails with "can not open gpiochip" when ``/dev/gpiochipN`` is missing or the user
  is not in the ``gpio`` group.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from pathlib import Path
from typing import Any

from ..errors import HardwareError
from .base import BackendUnusable, Edge, EdgeCallback, GpioBackend, Pull, missing_library, pin_label
from .chips import default_gpiochip


def import_lgpio() -> Any:
    """``import lgpio``; BackendUnusable when it is missing or cannot create its FIFO in the working directory."""
    try:
        return importlib.import_module("lgpio")
    except ImportError:
        raise missing_library("lgpio") from None
    except OSError as exc:
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = "(a deleted directory)"
        raise BackendUnusable(
            "gpio",
            f"lgpio cannot create its notification FIFO in the working directory {cwd} "
            f"({exc.strerror or exc}): run from a writable directory (the unit's WorkingDirectory)",
        ) from None


def _open_hint(chip: int, root: Path) -> str:
    device = root / "dev" / f"gpiochip{chip}"
    if not device.exists():
        return f"{device} does not exist (set gpiochip = <n> in the bus section if the header is elsewhere)"
    return "add the service user to the gpio group (sudo usermod -aG gpio <user>)"


class LgpioBackend(GpioBackend):
    """lgpio on ``/dev/gpiochip<chip>`` (found by device-tree compatible when ``chip`` is None).

    ``module`` replaces the imported library (a stand-in for tests).
    """

    name = "lgpio"

    def __init__(self, chip: int | None = None, root: Path = Path("/"), module: Any = None) -> None:
        self._lg = import_lgpio() if module is None else module
        self.chip = default_gpiochip(root) if chip is None else chip
        try:
            self._handle = self._lg.gpiochip_open(self.chip)
        except Exception as exc:  # lgpio.error derives from Exception only
            raise BackendUnusable(
                "gpio", f"lgpio cannot open /dev/gpiochip{self.chip}: {exc}; {_open_hint(self.chip, root)}"
            ) from None
        self._pins: set[int] = set()
        self._callbacks: dict[int, Any] = {}

    def _setup_output(self, pin: int, initial: bool) -> None:
        try:
            self._release(pin)
            self._lg.gpio_claim_output(self._handle, pin, 1 if initial else 0)
        except Exception as exc:
            raise HardwareError(pin_label(pin), f"setup as output failed: {exc}") from None
        self._pins.add(pin)

    def _setup_input(
        self, pin: int, pull: Pull, edge: Edge, bounce_ms: int, callback: EdgeCallback | None
    ) -> None:
        lg = self._lg
        flags = {"up": lg.SET_PULL_UP, "down": lg.SET_PULL_DOWN, "none": lg.SET_PULL_NONE}[pull]
        try:
            self._release(pin)
            if callback is None:
                lg.gpio_claim_input(self._handle, pin, flags)
                self._pins.add(pin)
                return
            detected = {"both": lg.BOTH_EDGES, "rising": lg.RISING_EDGE, "falling": lg.FALLING_EDGE}[edge]
            lg.gpio_claim_alert(self._handle, pin, detected, flags)
            self._pins.add(pin)
            if bounce_ms > 0:
                lg.gpio_set_debounce_micros(self._handle, pin, bounce_ms * 1000)

            def on_edge(chip: int, gpio: int, level: int, timestamp: int) -> None:
                if level in (0, 1):  # 2 is a watchdog timeout, not an edge
                    callback(gpio, bool(level))

            self._callbacks[pin] = lg.callback(self._handle, pin, detected, on_edge)
        except Exception as exc:
            raise HardwareError(pin_label(pin), f"setup as input failed: {exc}") from None

    def _write(self, pin: int, level: bool) -> None:
        try:
            self._lg.gpio_write(self._handle, pin, 1 if level else 0)
        except Exception as exc:
            raise HardwareError(pin_label(pin), f"write failed: {exc}") from None

    def _read(self, pin: int) -> bool:
        try:
            return bool(self._lg.gpio_read(self._handle, pin))
        except Exception as exc:
            raise HardwareError(pin_label(pin), f"read failed: {exc}") from None

    def _release(self, pin: int) -> None:
        # A line must be freed before it is claimed again in another mode.
        old = self._callbacks.pop(pin, None)
        if old is not None:
            old.cancel()
        if pin in self._pins:
            self._lg.gpio_free(self._handle, pin)
            self._pins.discard(pin)

    def close(self) -> None:
        for pin in list(self._pins | set(self._callbacks)):
            with contextlib.suppress(Exception):
                self._release(pin)
        with contextlib.suppress(Exception):
            self._lg.gpiochip_close(self._handle)
