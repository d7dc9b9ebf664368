"""The single exception raised by the hardware layer when a device is missing or misbehaves."""

from __future__ import annotations


class HardwareError(Exception):
    """A device could not be read or driven.

    ``device`` names the device in the user's words (``DS18B20 28-00000463b745``, ``GPIO19``,
    ``vcgencmd``) and ``reason`` says what went wrong in one line. The runtime catches this one
    class, publishes None for the value and logs ``str(error)``, so the message must stand alone.
    """

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(device, reason)
        self.device = device
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.device}: {self.reason}"
