"""The hardware layer of the node runtime: narrow per-bus interfaces with real and simulated backends.

Nothing here imports the protocol or the rest of the runtime; components wrap these objects.
Every sysfs path sits under an injectable ``root`` and every delay goes through an injectable
clock, and any device failure is a ``HardwareError`` (publish None, log ``str(error)``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .blink import BLINK_DELAYS, BLINK_MODES, Blinker, normalize_mode
    from .dht import IioDht, PigpioDht, SimDht, decode_frame, encode_frame, read_iio
    from .errors import HardwareError
    from .gpio import GpioBackend, LgpioBackend, PigpioBackend, RPiGpioBackend, SimGpio, make_gpio
    from .host import HostCpu, run_vcgencmd
    from .i2c import Bmp280, I2cBus, SimBmp280, SimI2cBus
    from .onewire import format_w1_slave, list_ds18b20, parse_w1_slave, read_ds18b20
    from .platform import is_raspberry_pi, resolve_backend
    from .sim import SimI2cDevice, SimOneWireTree, SimSource

# Each name from its module when first read: a node imports the hardware of its own buses only.
_WHERE = {
    "BLINK_DELAYS": "blink",
    "BLINK_MODES": "blink",
    "Blinker": "blink",
    "Bmp280": "i2c",
    "GpioBackend": "gpio",
    "HardwareError": "errors",
    "HostCpu": "host",
    "I2cBus": "i2c",
    "IioDht": "dht",
    "LgpioBackend": "gpio",
    "PigpioBackend": "gpio",
    "PigpioDht": "dht",
    "RPiGpioBackend": "gpio",
    "SimBmp280": "i2c",
    "SimDht": "dht",
    "SimGpio": "gpio",
    "SimI2cBus": "i2c",
    "SimI2cDevice": "sim",
    "SimOneWireTree": "sim",
    "SimSource": "sim",
    "decode_frame": "dht",
    "encode_frame": "dht",
    "format_w1_slave": "onewire",
    "is_raspberry_pi": "platform",
    "list_ds18b20": "onewire",
    "make_gpio": "gpio",
    "normalize_mode": "blink",
    "parse_w1_slave": "onewire",
    "read_ds18b20": "onewire",
    "read_iio": "dht",
    "resolve_backend": "platform",
    "run_vcgencmd": "host",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "BLINK_DELAYS",
    "BLINK_MODES",
    "Blinker",
    "Bmp280",
    "GpioBackend",
    "HardwareError",
    "HostCpu",
    "I2cBus",
    "IioDht",
    "LgpioBackend",
    "PigpioBackend",
    "PigpioDht",
    "RPiGpioBackend",
    "SimBmp280",
    "SimDht",
    "SimGpio",
    "SimI2cBus",
    "SimI2cDevice",
    "SimOneWireTree",
    "SimSource",
    "decode_frame",
    "encode_frame",
    "format_w1_slave",
    "is_raspberry_pi",
    "list_ds18b20",
    "make_gpio",
    "normalize_mode",
    "parse_w1_slave",
    "read_ds18b20",
    "read_iio",
    "resolve_backend",
    "run_vcgencmd",
]
