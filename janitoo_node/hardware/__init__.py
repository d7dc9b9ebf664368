"""The hardware layer of the node runtime: narrow per-bus interfaces with real and simulated backends.

Nothing here imports the protocol or the rest of the runtime; components wrap these objects.
Every sysfs path sits under an injectable ``root`` and every delay goes through an injectable
clock, and any device failure is a ``HardwareError`` (publish None, log ``str(error)``).
"""

from .blink import BLINK_DELAYS, BLINK_MODES, Blinker, normalize_mode
from .dht import IioDht, PigpioDht, SimDht, decode_frame, encode_frame, read_iio
from .errors import HardwareError
from .gpio import GpioBackend, LgpioBackend, PigpioBackend, RPiGpioBackend, SimGpio, make_gpio
from .host import HostCpu, run_vcgencmd
from .i2c import Bmp280, I2cBus, SimBmp280, SimI2cBus
from .onewire import format_w1_slave, list_ds18b20, parse_w1_slave, read_ds18b20
from .platform import is_raspberry_pi, resolve_backend
from .sim import SimI2cDevice, SimOneWireTree, SimSource

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
