"""The kernel's GPIO chips: which ``/dev/gpiochipN`` drives the 40-pin header, and its legacy sysfs numbers.

The chip numbers are not stable across kernels: a Pi 5 had its header (the RP1 chip) on gpiochip4
before kernel 6.6.45 and on gpiochip0 after it, with the SoC's own chips moved to 10-13 and a
``/dev/gpiochip4`` link kept for old code (raspberrypi/linux#6144). What is stable is the device-tree
node behind each chip, so the header chip is found by its ``of_node/compatible``. The legacy sysfs
interface (``/sys/class/gpio``, used by RPi.GPIO for edges) numbers the lines from the chip's
``base``, which is 0 up to kernel 6.5 and 512 or more since 6.6.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..platform import is_raspberry_pi_5

# The GPIO controllers that carry the header, newest board first (Pi 5, Pi 4, Pi 1-3 and Zero).
HEADER_COMPATIBLES: tuple[str, ...] = ("raspberrypi,rp1-gpio", "brcm,bcm2711-gpio", "brcm,bcm2835-gpio")
_CHIP = re.compile(r"gpiochip(\d+)")


@dataclass(frozen=True)
class GpioChip:
    """One ``/sys/bus/gpio/devices/gpiochipN``: its number, device-tree compatible, line count and sysfs base."""

    number: int
    compatible: tuple[str, ...]
    ngpio: int | None
    sysfs_base: int | None

    @property
    def drives_header(self) -> bool:
        return any(entry in HEADER_COMPATIBLES for entry in self.compatible)


def _strings(path: Path) -> tuple[str, ...]:
    try:
        raw = path.read_bytes()
    except OSError:
        return ()
    return tuple(part.decode("ascii", errors="replace") for part in raw.split(b"\x00") if part)


def _int(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _chip(directory: Path, number: int) -> GpioChip:
    # The of_node link sits on the gpiochip device on recent kernels and on its parent (the
    # platform device of the controller) on all of them.
    real = directory.resolve()
    compatible = _strings(real / "of_node/compatible") or _strings(real.parent / "of_node/compatible")
    ngpio = base = None
    for legacy in sorted((real / "gpio").glob("gpiochip*")):
        base, ngpio = _int(legacy / "base"), _int(legacy / "ngpio")
        break
    return GpioChip(number, compatible, ngpio, base)


def list_gpiochips(root: Path = Path("/")) -> list[GpioChip]:
    """Every GPIO chip the kernel registered, by number (empty off Linux or without GPIO)."""
    base = root / "sys/bus/gpio/devices"
    try:
        entries = list(base.iterdir())
    except OSError:
        return []
    chips = []
    for entry in entries:
        match = _CHIP.fullmatch(entry.name)
        if match is not None:
            chips.append(_chip(entry, int(match.group(1))))
    return sorted(chips, key=lambda chip: chip.number)


def header_gpiochip(root: Path = Path("/")) -> GpioChip | None:
    """The chip whose device-tree node is the header's GPIO controller, or None when none is found."""
    chips = [chip for chip in list_gpiochips(root) if chip.drives_header]
    for compatible in HEADER_COMPATIBLES:
        for chip in chips:
            if compatible in chip.compatible:
                return chip
    return None


def default_gpiochip(root: Path = Path("/")) -> int:
    """The number of the gpiochip that drives the 40-pin header.

    Found by compatible when sysfs shows it; otherwise the old guess: gpiochip4 on a BCM2712 board
    when it exists, else gpiochip0.
    """
    chip = header_gpiochip(root)
    if chip is not None:
        return chip.number
    if is_raspberry_pi_5(root) and (root / "dev/gpiochip4").exists():
        return 4
    return 0


def parse_chip_setting(text: str | None) -> int | None:
    """The ``gpiochip`` setting: empty or ``auto`` for discovery, else a chip number (``4`` or ``gpiochip4``)."""
    value = (text or "").strip().lower()
    if value in ("", "auto"):
        return None
    match = _CHIP.fullmatch(value) or re.fullmatch(r"(\d+)", value)
    if match is None or int(match.group(1)) > 255:
        raise ValueError(f"invalid gpiochip {text!r}: expected auto, a number or gpiochipN")
    return int(match.group(1))
