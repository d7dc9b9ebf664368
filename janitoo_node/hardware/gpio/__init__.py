"""GPIO: the narrow interface, its simulated backend, one module per real library, and the factory.

The components import from here (``from ..hardware.gpio import GpioBackend, make_gpio``); the
modules behind it are ``base`` (interface and checks), ``sim``, ``lgpio_backend``,
``rpigpio_backend``, ``pigpio_backend``, ``chips`` (which gpiochip is the header) and ``factory``.
"""

from .base import (
    EDGES,
    INSTALL_HINT,
    PULLS,
    BackendUnusable,
    Clock,
    Edge,
    EdgeCallback,
    GpioBackend,
    Pull,
)
from .chips import GpioChip, default_gpiochip, header_gpiochip, list_gpiochips, parse_chip_setting
from .factory import GPIO_KINDS, GPIO_LIBRARIES, FallbackGpio, make_gpio, real_candidates
from .lgpio_backend import LgpioBackend, import_lgpio
from .pigpio_backend import PIGPIO_MAX_GLITCH_US, PigpioBackend, acquire_pigpio, release_pigpio
from .rpigpio_backend import RPiGpioBackend, import_rpigpio
from .sim import SimGpio

__all__ = [
    "EDGES",
    "GPIO_KINDS",
    "GPIO_LIBRARIES",
    "INSTALL_HINT",
    "PIGPIO_MAX_GLITCH_US",
    "PULLS",
    "BackendUnusable",
    "Clock",
    "Edge",
    "EdgeCallback",
    "FallbackGpio",
    "GpioBackend",
    "GpioChip",
    "LgpioBackend",
    "PigpioBackend",
    "Pull",
    "RPiGpioBackend",
    "SimGpio",
    "acquire_pigpio",
    "default_gpiochip",
    "header_gpiochip",
    "import_lgpio",
    "import_rpigpio",
    "list_gpiochips",
    "make_gpio",
    "parse_chip_setting",
    "real_candidates",
    "release_pigpio",
]
