"""Raspberry Pi detection (board, SoC family, kernel) and the auto|real|sim backend choice, under a root.

The board is read from the device tree the firmware hands the kernel: ``/proc/device-tree/model`` is
the human name ("Raspberry Pi 5 Model B Rev 1.0") and ``/proc/device-tree/compatible`` a NUL-separated
list, board first and SoC last ("raspberrypi,5-model-b", "brcm,bcm2712"). The SoC decides what works:
every BCM2712 board (Pi 5, Compute Module 5, Pi 500) has its header on the RP1 chip, where RPi.GPIO
and pigpio do not work, whatever its model string says.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Backend = Literal["real", "sim"]
BACKEND_CHOICES: tuple[str, ...] = ("auto", "real", "sim")
# The SoC compatible strings of the Raspberry Pi boards, oldest first.
PI_SOCS: tuple[str, ...] = ("brcm,bcm2835", "brcm,bcm2836", "brcm,bcm2837", "brcm,bcm2711", "brcm,bcm2712")
BCM2712 = "brcm,bcm2712"
_KERNEL_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def _read_dt_strings(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError:
        return []
    # A device-tree string list: NUL-terminated strings back to back.
    return [part.decode("utf-8", errors="replace").strip() for part in raw.split(b"\x00") if part.strip()]


def pi_model(root: Path = Path("/")) -> str | None:
    """Return the board model string from the device tree, or None when there is none.

    The file ends with a NUL byte (it is a device-tree string property), which is stripped.
    """
    strings = _read_dt_strings(root / "proc/device-tree/model")
    return strings[0] if strings else None


def dt_compatible(root: Path = Path("/")) -> list[str]:
    """The board's device-tree compatible list, board first and SoC last (empty off a device-tree system)."""
    return _read_dt_strings(root / "proc/device-tree/compatible")


def soc(root: Path = Path("/")) -> str | None:
    """The Raspberry Pi SoC compatible (``brcm,bcm2711``...) or None on any other machine."""
    for entry in dt_compatible(root):
        if entry in PI_SOCS:
            return entry
    return None


def is_raspberry_pi(root: Path = Path("/")) -> bool:
    """True on a Raspberry Pi: its SoC in the compatible list, or (older firmware) "Raspberry Pi" in the model.

    This replaces the original's ``platform.machine().startswith("armv6")`` test, which only
    recognised a Pi 1 or Zero.
    """
    if soc(root) is not None:
        return True
    model = pi_model(root)
    return model is not None and "Raspberry Pi" in model


def is_raspberry_pi_5(root: Path = Path("/")) -> bool:
    """True on a BCM2712 board (Pi 5, CM5, Pi 500...), where RPi.GPIO and pigpio cannot drive the header.

    The compatible list decides; the model string ("Raspberry Pi 5", "Compute Module 5", "Raspberry Pi
    500") is only a fallback for a tree without one, and a CM5 or a Pi 500 would slip past a plain
    "Raspberry Pi 5" substring test.
    """
    compatible = dt_compatible(root)
    if compatible:
        return BCM2712 in compatible
    model = pi_model(root) or ""
    return re.search(r"Raspberry Pi (5|500)\b|Compute Module 5\b", model) is not None


def kernel_release(root: Path = Path("/")) -> str | None:
    """The running kernel's release (``6.6.51+rpt-rpi-v8``) from ``proc/sys/kernel/osrelease`` under root."""
    try:
        text = (root / "proc/sys/kernel/osrelease").read_text(encoding="ascii").strip()
    except OSError:
        text = ""
    if not text and root.resolve() == Path("/"):
        text = os.uname().release
    return text or None


def kernel_version(release: str | None) -> tuple[int, int, int] | None:
    """``"6.6.51+rpt-rpi-v8"`` -> (6, 6, 51); None when the string is not a kernel release."""
    match = _KERNEL_VERSION.match(release or "")
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


@dataclass(frozen=True)
class Board:
    """What the device tree and the kernel say about this machine."""

    model: str | None
    soc: str | None
    kernel: str | None

    @property
    def is_pi(self) -> bool:
        return self.soc is not None or (self.model is not None and "Raspberry Pi" in self.model)

    @property
    def is_bcm2712(self) -> bool:
        return self.soc == BCM2712


def board(root: Path = Path("/")) -> Board:
    """The board model, SoC and kernel release seen under ``root``."""
    model = pi_model(root)
    chip = soc(root)
    if chip is None and is_raspberry_pi_5(root):
        chip = BCM2712  # an old tree without a compatible list, recognised by its model string
    return Board(model, chip, kernel_release(root))


def resolve_backend(choice: str, root: Path = Path("/")) -> Backend:
    """Turn a bus's ``backend`` config value into ``"real"`` or ``"sim"``.

    ``auto`` means real hardware on a Pi and the simulator anywhere else.
    """
    normalized = choice.strip().lower()
    if normalized == "real":
        return "real"
    if normalized == "sim":
        return "sim"
    if normalized == "auto":
        return "real" if is_raspberry_pi(root) else "sim"
    raise ValueError(f"unknown hardware backend {choice!r}: expected one of {', '.join(BACKEND_CHOICES)}")
