"""Where the stand-in libraries find the fixture board they run on (JANITOO_STANDIN_ROOT, else /)."""

from __future__ import annotations

import os
from pathlib import Path


def root() -> Path:
    return Path(os.environ.get("JANITOO_STANDIN_ROOT", "/"))


def compatible() -> list[str]:
    try:
        raw = (root() / "proc/device-tree/compatible").read_bytes()
    except OSError:
        return []
    return [part.decode() for part in raw.split(b"\x00") if part]


def is_pi() -> bool:
    socs = {"brcm,bcm2835", "brcm,bcm2836", "brcm,bcm2837", "brcm,bcm2711", "brcm,bcm2712"}
    return any(entry in socs for entry in compatible())


def is_bcm2712() -> bool:
    return "brcm,bcm2712" in compatible()
