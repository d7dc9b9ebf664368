"""Raspberry Pi detection and the auto|real|sim backend choice, read from an injectable root."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Backend = Literal["real", "sim"]
BACKEND_CHOICES: tuple[str, ...] = ("auto", "real", "sim")


def pi_model(root: Path = Path("/")) -> str | None:
    """Return the board model string from the device tree, or None when there is none.

    The file ends with a NUL byte (it is a device-tree string property), which is stripped.
    """
    try:
        raw = (root / "proc/device-tree/model").read_bytes()
    except OSError:
        return None
    model = raw.decode("utf-8", errors="replace").strip("\x00").strip()
    return model or None


def is_raspberry_pi(root: Path = Path("/")) -> bool:
    """True when ``<root>/proc/device-tree/model`` names a Raspberry Pi.

    This replaces the original's ``platform.machine().startswith("armv6")`` test, which only
    recognised a Pi 1 or Zero.
    """
    model = pi_model(root)
    return model is not None and "Raspberry Pi" in model


def is_raspberry_pi_5(root: Path = Path("/")) -> bool:
    """True on a Raspberry Pi 5 (or a later board of the same family), where RPi.GPIO and pigpio fail."""
    model = pi_model(root)
    return model is not None and "Raspberry Pi 5" in model


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
