"""Stand-in for RPi.GPIO 0.7.1 (sourceforge raspberry-gpio-python), behaving as the real module does.

* Import: ``RuntimeError("This module can only be run on a Raspberry Pi!")`` off a Pi (cpuinfo.c).
  On a BCM2712 board (Pi 5) the import succeeds and ``setup()`` raises
  ``RuntimeError("Cannot determine SOC peripheral base address")`` (c_gpio.c, setup()).
* Edge detection: ``add_event_detect`` exports the raw BCM number through /sys/class/gpio/export
  (event_gpio.c, gpio_export), which the kernel refuses unless the number belongs to a chip's legacy
  range (drivers/gpio/gpiolib-sysfs.c, export_store); since 6.6 the header's range starts at 512, so
  the export of "17" fails and RPi.GPIO raises ``RuntimeError("Failed to add edge detection")``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import _standin_root

BCM, BOARD = 11, 10
OUT, IN = 0, 1
HIGH, LOW = 1, 0
PUD_OFF, PUD_DOWN, PUD_UP = 20, 21, 22
RISING, FALLING, BOTH = 31, 32, 33

if not _standin_root.is_pi():
    raise RuntimeError("This module can only be run on a Raspberry Pi!")

levels: dict[int, int] = {}
detect: dict[int, Callable[[int], None]] = {}
exported: list[int] = []
cleaned: list[int] = []


def _kernel_accepts_export(number: int) -> bool:
    for chip in (_standin_root.root() / "sys/class/gpio").glob("gpiochip*"):
        base = int((chip / "base").read_text())
        ngpio = int((chip / "ngpio").read_text())
        if base <= number < base + ngpio:
            return True
    return False


def setwarnings(flag: bool) -> None:
    pass


def setmode(mode: int) -> None:
    pass


def setup(channel: int, direction: int, pull_up_down: int = PUD_OFF, initial: int = -1) -> None:
    if _standin_root.is_bcm2712():
        raise RuntimeError("Cannot determine SOC peripheral base address")
    if direction == OUT and initial != -1:
        levels[channel] = initial


def output(channel: int, value: int) -> None:
    levels[channel] = value


def input(channel: int) -> int:  # noqa: A001 - the real name
    return levels.get(channel, 0)


def add_event_detect(channel: int, edge: int, callback: Any = None, bouncetime: int = -666) -> None:
    if channel in detect:
        raise RuntimeError("Conflicting edge detection already enabled for this GPIO channel")
    if not _kernel_accepts_export(channel):
        raise RuntimeError("Failed to add edge detection")
    exported.append(channel)
    detect[channel] = callback


def remove_event_detect(channel: int) -> None:
    detect.pop(channel, None)


def cleanup(channels: Any = None) -> None:
    for channel in channels or list(levels):
        cleaned.append(channel)
        detect.pop(channel, None)


def standin_edge(channel: int, level: int) -> bool:
    levels[channel] = level
    func = detect.get(channel)
    if func is None:
        return False
    func(channel)
    return True
