"""LED blink modes (the ``blink`` value) as a sans-IO engine driven by the caller's clock.

Each blinking mode lights the LED for its ``on`` time, then keeps it dark for its ``off`` time,
and repeats: ``heartbeat`` is a 0.5 s flash every ~300 s, ``warning`` a 0.6 s flash every ~5.6 s,
``alert`` a 0.6 s flash every ~1.6 s.

Two deliberate differences from the original:

* The original's timer chain swapped the two delays (after lighting the LED it waited the ``off``
  time, then the ``on`` time), so ``heartbeat`` would have meant 300 s lit and 0.5 s dark. Nobody
  noticed because its GPIO callbacks were empty. This engine implements the intent.
* In the original ``on`` had the heartbeat delays. Here ``on`` is a steady lit LED, because a user
  who writes "on" (or 1) expects the LED to be lit. ``BLINK_DELAYS`` keeps the original table
  (it is published as ``delays``), ``on`` included.

The engine never sleeps: ``set_mode`` and ``step`` return the next time they want to be called
(or None when nothing is scheduled), and the runtime's scheduler calls ``step`` then.
"""

from __future__ import annotations

from .gpio import GpioBackend

# The blink value's list_items, in the original's order.
BLINK_MODES: list[str] = ["off", "blink", "heartbeat", "info", "notify", "warning", "alert"]
# Modes the setter also accepts besides list_items.
BLINK_EXTRA_MODES: list[str] = ["on", "info1", "info2"]
ACCEPTED_MODES: list[str] = BLINK_MODES + BLINK_EXTRA_MODES

# mode -> (on seconds, off seconds), the original's table.
BLINK_DELAYS: dict[str, tuple[float, float]] = {
    "off": (0.0, 1.0),
    "blink": (0.6, 2.5),
    "heartbeat": (0.5, 300.0),
    "on": (0.5, 300.0),
    "info": (0.6, 60.0),
    "info1": (0.6, 60.0),
    "info2": (0.6, 60.0),
    "notify": (0.6, 10.0),
    "warning": (0.6, 5.0),
    "alert": (0.6, 1.0),
}

_STEADY = {"off": False, "on": True}


def normalize_mode(data: object) -> str:
    """Turn the written data into a mode name: 0/1 (or "0"/"1", False/True) are off/on.

    Raises ValueError listing the accepted modes for anything else.
    """
    if isinstance(data, bool | int) and data in (0, 1):
        return "on" if data else "off"
    if isinstance(data, str):
        word = data.strip().lower()
        if word in ("0", "1"):
            return "on" if word == "1" else "off"
        if word in BLINK_DELAYS:
            return word
    raise ValueError(f"unknown blink mode {data!r}: expected one of {', '.join(ACCEPTED_MODES)} (or 0/1)")


class Blinker:
    """Drives one LED pin through the blink modes, without threads or sleeps."""

    def __init__(self, gpio: GpioBackend, pin: int, *, setup: bool = True) -> None:
        self.gpio = gpio
        self.pin = pin
        self._mode = "off"
        self._lit = False
        self._next: float | None = None
        if setup:
            gpio.setup_output(pin, initial=False)

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def lit(self) -> bool:
        """The level last driven on the pin."""
        return self._lit

    @property
    def next_wakeup(self) -> float | None:
        return self._next

    @property
    def delays(self) -> tuple[float, float]:
        """The (on, off) pair of the current mode, as published in the value's ``delays``."""
        return BLINK_DELAYS[self._mode]

    def _drive(self, level: bool) -> None:
        self.gpio.write(self.pin, level)
        self._lit = level

    def set_mode(self, mode: object, now: float) -> float | None:
        """Switch to ``mode`` at time ``now``; return the next wake-up time or None.

        A blinking mode starts with the LED lit at ``now``. Setting the mode already running keeps
        its cycle (re-publishing the value must not restart the flash). ``off`` drives the pin low
        at once, ``on`` drives it high at once; neither schedules anything.
        """
        name = normalize_mode(mode)
        if name == self._mode and name not in _STEADY:
            return self._next
        self._mode = name
        if name in _STEADY:
            self._next = None
            self._drive(_STEADY[name])
            return None
        on_time, off_time = BLINK_DELAYS[name]
        self._drive(True)
        self._next = now + on_time
        return self._next

    def step(self, now: float) -> float | None:
        """Toggle the pin if its time has come; return the next wake-up time or None."""
        if self._next is None or now < self._next:
            return self._next
        on_time, off_time = BLINK_DELAYS[self._mode]
        due = self._next
        if self._lit:
            self._drive(False)
            next_at = due + off_time
        else:
            self._drive(True)
            next_at = due + on_time
        # Keep to the grid when called a little late (no drift), but never schedule in the past
        # after a long stall: that would fire a burst of catch-up toggles.
        self._next = next_at if next_at > now else now + (off_time if not self._lit else on_time)
        return self._next
