"""The narrow GPIO interface, its simulated backend and the RPi.GPIO, pigpio and lgpio backends.

Pins are BCM numbers everywhere (GPIO 6 for the tutorial's DHT, GPIO 19 for its LED), as the
original used in practice whatever its ``rpigpio_boardmode`` value said. Edge callbacks receive
``(pin, level)`` and may run on a library thread (RPi.GPIO, pigpio and lgpio each have one): a
component must hand the event over to its own scheduler rather than do work in the callback.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeAlias

from .errors import HardwareError
from .platform import is_raspberry_pi, is_raspberry_pi_5

Pull: TypeAlias = Literal["up", "down", "none"]
Edge: TypeAlias = Literal["both", "rising", "falling"]
EdgeCallback: TypeAlias = Callable[[int, bool], None]
Clock: TypeAlias = Callable[[], float]

PULLS: tuple[str, ...] = ("up", "down", "none")
EDGES: tuple[str, ...] = ("both", "rising", "falling")
GPIO_KINDS: tuple[str, ...] = ("auto", "real", "sim", "rpigpio", "pigpio", "lgpio")
INSTALL_HINT = "pip install 'janitoo[pi]'"


def _pin_label(pin: int) -> str:
    return f"GPIO{pin}"


def _check_pin(pin: int) -> None:
    if isinstance(pin, bool) or not isinstance(pin, int) or not 0 <= pin <= 53:
        raise ValueError(f"invalid GPIO pin {pin!r}: expected a BCM number 0..53")


def _check_input_args(pull: str, edge: str, bounce_ms: int) -> None:
    if pull not in PULLS:
        raise ValueError(f"invalid pull {pull!r}: expected one of {', '.join(PULLS)}")
    if edge not in EDGES:
        raise ValueError(f"invalid edge {edge!r}: expected one of {', '.join(EDGES)}")
    if bounce_ms < 0:
        raise ValueError(f"invalid bounce time {bounce_ms} ms: expected 0 or more")


class GpioBackend(ABC):
    """What a component may do with GPIO pins, whatever library sits underneath."""

    @abstractmethod
    def setup_output(self, pin: int, initial: bool = False) -> None:
        """Make ``pin`` an output driven at ``initial``."""

    @abstractmethod
    def setup_input(
        self,
        pin: int,
        pull: Pull = "none",
        edge: Edge = "both",
        bounce_ms: int = 0,
        callback: EdgeCallback | None = None,
    ) -> None:
        """Make ``pin`` an input; when ``callback`` is given, call it as ``callback(pin, level)`` on edges."""

    @abstractmethod
    def write(self, pin: int, level: bool) -> None:
        """Drive an output pin high (True) or low (False)."""

    @abstractmethod
    def read(self, pin: int) -> bool:
        """The current level of a pin."""

    @abstractmethod
    def close(self) -> None:
        """Release every pin this backend set up."""


class SimGpio(GpioBackend):
    """An in-memory GPIO controller driven by an injectable clock, for tests and the simulator.

    Every level driven on an output (including the initial one at setup) is recorded in
    ``history`` as ``(time, pin, level)``. ``simulate_input`` plays the outside world on an input.
    Debounce follows RPi.GPIO: an edge within ``bounce_ms`` of the last *reported* edge is not
    reported, although the pin level does change (``read`` always tells the truth).
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.history: list[tuple[float, int, bool]] = []
        self.closed = False
        self._modes: dict[int, Literal["input", "output"]] = {}
        self._levels: dict[int, bool] = {}
        self._inputs: dict[int, tuple[Edge, int, EdgeCallback | None]] = {}
        self._last_reported: dict[int, float] = {}

    def _check_open(self, pin: int) -> None:
        if self.closed:
            raise HardwareError(_pin_label(pin), "GPIO backend is closed")

    def setup_output(self, pin: int, initial: bool = False) -> None:
        _check_pin(pin)
        self._check_open(pin)
        self._modes[pin] = "output"
        self._inputs.pop(pin, None)
        self._levels[pin] = bool(initial)
        self.history.append((self.clock(), pin, bool(initial)))

    def setup_input(
        self,
        pin: int,
        pull: Pull = "none",
        edge: Edge = "both",
        bounce_ms: int = 0,
        callback: EdgeCallback | None = None,
    ) -> None:
        _check_pin(pin)
        _check_input_args(pull, edge, bounce_ms)
        self._check_open(pin)
        self._modes[pin] = "input"
        # A floating input reads low here; a real one reads whatever noise it picks up.
        self._levels[pin] = pull == "up"
        self._inputs[pin] = (edge, bounce_ms, callback)
        self._last_reported.pop(pin, None)

    def write(self, pin: int, level: bool) -> None:
        self._check_open(pin)
        if self._modes.get(pin) != "output":
            raise HardwareError(_pin_label(pin), "not set up as an output")
        self._levels[pin] = bool(level)
        self.history.append((self.clock(), pin, bool(level)))

    def read(self, pin: int) -> bool:
        self._check_open(pin)
        if pin not in self._modes:
            raise HardwareError(_pin_label(pin), "not set up")
        return self._levels[pin]

    def close(self) -> None:
        self.closed = True
        self._modes.clear()
        self._inputs.clear()

    def mode(self, pin: int) -> Literal["input", "output"] | None:
        """``"input"``, ``"output"`` or None for a pin never set up."""
        return self._modes.get(pin)

    def simulate_input(self, pin: int, level: bool) -> bool:
        """Set an input pin's level as the outside world would; return True when a callback fired."""
        self._check_open(pin)
        if self._modes.get(pin) != "input":
            raise HardwareError(_pin_label(pin), "not set up as an input")
        level = bool(level)
        if self._levels[pin] == level:
            return False
        self._levels[pin] = level
        edge, bounce_ms, callback = self._inputs[pin]
        if edge == "rising" and not level or edge == "falling" and level:
            return False
        now = self.clock()
        last = self._last_reported.get(pin)
        if last is not None and now - last < bounce_ms / 1000:
            return False
        self._last_reported[pin] = now
        if callback is not None:
            callback(pin, level)
        return True

    def history_for(self, pin: int) -> list[tuple[float, bool]]:
        """The ``(time, level)`` pairs driven on one pin, oldest first."""
        return [(when, level) for when, p, level in self.history if p == pin]

    def assert_states_and_times(
        self, pin: int, expected: list[tuple[float, bool]], tolerance: float = 1e-6
    ) -> None:
        """Raise AssertionError unless the pin's history matches ``expected`` within ``tolerance`` seconds."""
        actual = self.history_for(pin)
        matches = len(actual) == len(expected) and all(
            level == want_level and abs(when - want_when) <= tolerance
            for (when, level), (want_when, want_level) in zip(actual, expected, strict=True)
        )
        if not matches:
            raise AssertionError(f"GPIO{pin} history {actual} != expected {expected}")


def _missing_library(name: str) -> HardwareError:
    return HardwareError("gpio", f"{name} is not installed: {INSTALL_HINT}")


class RPiGpioBackend(GpioBackend):
    """RPi.GPIO in BCM numbering; edge detection through ``add_event_detect`` (not on a Pi 5).

    ``module`` replaces the imported library (a stand-in for tests).
    """

    def __init__(self, module: Any = None) -> None:
        if module is None:
            try:
                module = importlib.import_module("RPi.GPIO")
            except ImportError:
                raise _missing_library("RPi.GPIO") from None
            except RuntimeError as exc:
                # RPi.GPIO refuses to import on a board it does not know (e.g. a Pi 5).
                raise HardwareError("gpio", f"RPi.GPIO cannot run here: {exc}") from None
        self._gpio = module
        self._pins: set[int] = set()
        self._gpio.setwarnings(False)
        self._gpio.setmode(self._gpio.BCM)

    def setup_output(self, pin: int, initial: bool = False) -> None:
        _check_pin(pin)
        try:
            self._gpio.setup(pin, self._gpio.OUT, initial=self._gpio.HIGH if initial else self._gpio.LOW)
        except (RuntimeError, ValueError) as exc:
            raise HardwareError(_pin_label(pin), f"setup as output failed: {exc}") from None
        self._pins.add(pin)

    def setup_input(
        self,
        pin: int,
        pull: Pull = "none",
        edge: Edge = "both",
        bounce_ms: int = 0,
        callback: EdgeCallback | None = None,
    ) -> None:
        _check_pin(pin)
        _check_input_args(pull, edge, bounce_ms)
        gpio = self._gpio
        pud = {"up": gpio.PUD_UP, "down": gpio.PUD_DOWN, "none": gpio.PUD_OFF}[pull]
        try:
            gpio.setup(pin, gpio.IN, pull_up_down=pud)
            self._pins.add(pin)
            if callback is None:
                return
            detected = {"both": gpio.BOTH, "rising": gpio.RISING, "falling": gpio.FALLING}[edge]

            def on_edge(channel: int) -> None:
                # RPi.GPIO does not pass the level; for one-way edges it is known without a read.
                level = edge == "rising" if edge != "both" else bool(gpio.input(channel))
                callback(channel, level)

            # RPi.GPIO refuses a second add_event_detect on a pin (e.g. after a config reload).
            with contextlib.suppress(RuntimeError, ValueError):
                gpio.remove_event_detect(pin)
            options: dict[str, Any] = {"callback": on_edge}
            if bounce_ms > 0:
                options["bouncetime"] = bounce_ms
            gpio.add_event_detect(pin, detected, **options)
        except (RuntimeError, ValueError) as exc:
            raise HardwareError(_pin_label(pin), f"setup as input failed: {exc}") from None

    def write(self, pin: int, level: bool) -> None:
        try:
            self._gpio.output(pin, self._gpio.HIGH if level else self._gpio.LOW)
        except (RuntimeError, ValueError) as exc:
            raise HardwareError(_pin_label(pin), f"write failed: {exc}") from None

    def read(self, pin: int) -> bool:
        try:
            return bool(self._gpio.input(pin))
        except (RuntimeError, ValueError) as exc:
            raise HardwareError(_pin_label(pin), f"read failed: {exc}") from None

    def close(self) -> None:
        if self._pins:
            self._gpio.cleanup(sorted(self._pins))
            self._pins.clear()


# pigpio's constants, so that an injected stand-in needs only the methods.
_PIGPIO_INPUT, _PIGPIO_OUTPUT = 0, 1
_PIGPIO_PUD = {"none": 0, "down": 1, "up": 2}
_PIGPIO_EDGE = {"rising": 0, "falling": 1, "both": 2}
_PIGPIO_TIMEOUT_LEVEL = 2  # a watchdog report, not an edge
PIGPIO_MAX_GLITCH_US = 300_000


def connect_pigpio(host: str | None = None, port: int = 8888) -> Any:
    """Connect to the pigpio daemon, importing pigpio lazily; HardwareError when either is missing."""
    try:
        pigpio = importlib.import_module("pigpio")
    except ImportError:
        raise _missing_library("pigpio") from None
    pi = pigpio.pi(host, port) if host else pigpio.pi()
    if not pi.connected:
        raise HardwareError(
            "gpio", "pigpio daemon not reachable: start it with 'sudo systemctl start pigpiod'"
        )
    return pi


class PigpioBackend(GpioBackend):
    """pigpio through its daemon (Pi 4 and earlier); debounce uses pigpio's glitch filter.

    The glitch filter reports a level only after it has been steady for ``bounce_ms`` (capped at
    pigpio's 300 ms), which differs slightly from RPi.GPIO's "ignore edges after an edge".
    ``pi`` replaces the daemon connection (a stand-in for tests).
    """

    def __init__(self, pi: Any = None, *, host: str | None = None, port: int = 8888) -> None:
        self._owns_pi = pi is None
        self.pi = connect_pigpio(host, port) if pi is None else pi
        self._callbacks: dict[int, Any] = {}

    def setup_output(self, pin: int, initial: bool = False) -> None:
        _check_pin(pin)
        try:
            self.pi.set_mode(pin, _PIGPIO_OUTPUT)
            self.pi.write(pin, 1 if initial else 0)
        except Exception as exc:  # pigpio.error derives from Exception only
            raise HardwareError(_pin_label(pin), f"setup as output failed: {exc}") from None

    def setup_input(
        self,
        pin: int,
        pull: Pull = "none",
        edge: Edge = "both",
        bounce_ms: int = 0,
        callback: EdgeCallback | None = None,
    ) -> None:
        _check_pin(pin)
        _check_input_args(pull, edge, bounce_ms)
        try:
            self.pi.set_mode(pin, _PIGPIO_INPUT)
            self.pi.set_pull_up_down(pin, _PIGPIO_PUD[pull])
            if bounce_ms > 0:
                self.pi.set_glitch_filter(pin, min(bounce_ms * 1000, PIGPIO_MAX_GLITCH_US))
            if callback is None:
                return

            def on_edge(gpio: int, level: int, tick: int) -> None:
                if level != _PIGPIO_TIMEOUT_LEVEL:
                    callback(gpio, bool(level))

            self._cancel(pin)
            self._callbacks[pin] = self.pi.callback(pin, _PIGPIO_EDGE[edge], on_edge)
        except Exception as exc:
            raise HardwareError(_pin_label(pin), f"setup as input failed: {exc}") from None

    def write(self, pin: int, level: bool) -> None:
        try:
            self.pi.write(pin, 1 if level else 0)
        except Exception as exc:
            raise HardwareError(_pin_label(pin), f"write failed: {exc}") from None

    def read(self, pin: int) -> bool:
        try:
            return bool(self.pi.read(pin))
        except Exception as exc:
            raise HardwareError(_pin_label(pin), f"read failed: {exc}") from None

    def _cancel(self, pin: int) -> None:
        old = self._callbacks.pop(pin, None)
        if old is not None:
            old.cancel()

    def close(self) -> None:
        for pin in list(self._callbacks):
            self._cancel(pin)
        if self._owns_pi:
            self.pi.stop()


def default_gpiochip(root: Path = Path("/")) -> int:
    """The gpiochip that drives the 40-pin header.

    Pi 5 kernels before 6.6.45 put the header (RP1) on gpiochip4; later ones moved it to gpiochip0
    and keep gpiochip4 as a compatibility link, so gpiochip4 is right whenever it exists on a Pi 5.
    """
    if is_raspberry_pi_5(root) and (root / "dev/gpiochip4").exists():
        return 4
    return 0


class LgpioBackend(GpioBackend):
    """lgpio on the kernel's gpiochip character device: the library that works on a Pi 5.

    ``module`` replaces the imported library (a stand-in for tests).
    """

    def __init__(self, chip: int | None = None, root: Path = Path("/"), module: Any = None) -> None:
        if module is None:
            try:
                module = importlib.import_module("lgpio")
            except ImportError:
                raise _missing_library("lgpio") from None
        self._lg = module
        self.chip = default_gpiochip(root) if chip is None else chip
        try:
            self._handle = self._lg.gpiochip_open(self.chip)
        except Exception as exc:  # lgpio.error derives from Exception only
            raise HardwareError("gpio", f"cannot open /dev/gpiochip{self.chip}: {exc}") from None
        self._pins: set[int] = set()
        self._callbacks: dict[int, Any] = {}

    def setup_output(self, pin: int, initial: bool = False) -> None:
        _check_pin(pin)
        try:
            self._release(pin)
            self._lg.gpio_claim_output(self._handle, pin, 1 if initial else 0)
        except Exception as exc:
            raise HardwareError(_pin_label(pin), f"setup as output failed: {exc}") from None
        self._pins.add(pin)

    def setup_input(
        self,
        pin: int,
        pull: Pull = "none",
        edge: Edge = "both",
        bounce_ms: int = 0,
        callback: EdgeCallback | None = None,
    ) -> None:
        _check_pin(pin)
        _check_input_args(pull, edge, bounce_ms)
        lg = self._lg
        flags = {"up": lg.SET_PULL_UP, "down": lg.SET_PULL_DOWN, "none": lg.SET_PULL_NONE}[pull]
        try:
            self._release(pin)
            if callback is None:
                lg.gpio_claim_input(self._handle, pin, flags)
                self._pins.add(pin)
                return
            detected = {"both": lg.BOTH_EDGES, "rising": lg.RISING_EDGE, "falling": lg.FALLING_EDGE}[edge]
            lg.gpio_claim_alert(self._handle, pin, detected, flags)
            self._pins.add(pin)
            if bounce_ms > 0:
                lg.gpio_set_debounce_micros(self._handle, pin, bounce_ms * 1000)

            def on_edge(chip: int, gpio: int, level: int, timestamp: int) -> None:
                if level in (0, 1):  # 2 is a watchdog timeout, not an edge
                    callback(gpio, bool(level))

            self._callbacks[pin] = lg.callback(self._handle, pin, detected, on_edge)
        except Exception as exc:
            raise HardwareError(_pin_label(pin), f"setup as input failed: {exc}") from None

    def write(self, pin: int, level: bool) -> None:
        try:
            self._lg.gpio_write(self._handle, pin, 1 if level else 0)
        except Exception as exc:
            raise HardwareError(_pin_label(pin), f"write failed: {exc}") from None

    def read(self, pin: int) -> bool:
        try:
            return bool(self._lg.gpio_read(self._handle, pin))
        except Exception as exc:
            raise HardwareError(_pin_label(pin), f"read failed: {exc}") from None

    def _release(self, pin: int) -> None:
        # A line must be freed before it is claimed again in another mode.
        old = self._callbacks.pop(pin, None)
        if old is not None:
            old.cancel()
        if pin in self._pins:
            self._lg.gpio_free(self._handle, pin)
            self._pins.discard(pin)

    def close(self) -> None:
        for pin in list(self._pins | set(self._callbacks)):
            self._release(pin)
        self._lg.gpiochip_close(self._handle)


def _first_real_backend(root: Path) -> GpioBackend:
    """Try the libraries in order of preference for this board; raise one line naming them all."""
    factories: list[tuple[str, Callable[[], GpioBackend]]]
    if is_raspberry_pi_5(root):
        factories = [("lgpio", lambda: LgpioBackend(root=root))]
    else:
        factories = [
            ("RPi.GPIO", RPiGpioBackend),
            ("pigpio", PigpioBackend),
            ("lgpio", lambda: LgpioBackend(root=root)),
        ]
    reasons = []
    for name, factory in factories:
        try:
            return factory()
        except HardwareError as exc:
            reasons.append(f"{name}: {exc.reason}")
    raise HardwareError("gpio", "no GPIO library usable (" + "; ".join(reasons) + ")")


def make_gpio(kind: str = "auto", root: Path = Path("/"), clock: Clock = time.monotonic) -> GpioBackend:
    """Build the GPIO backend named by ``kind``: auto, real, sim, rpigpio, pigpio or lgpio.

    ``auto`` is ``real`` on a Raspberry Pi and ``sim`` elsewhere; ``real`` picks lgpio on a Pi 5,
    else the first of RPi.GPIO, pigpio and lgpio that works.
    """
    normalized = kind.strip().lower()
    if normalized == "auto":
        normalized = "real" if is_raspberry_pi(root) else "sim"
    if normalized == "sim":
        return SimGpio(clock)
    if normalized == "real":
        return _first_real_backend(root)
    if normalized == "rpigpio":
        return RPiGpioBackend()
    if normalized == "pigpio":
        return PigpioBackend()
    if normalized == "lgpio":
        return LgpioBackend(root=root)
    raise ValueError(f"unknown GPIO backend {kind!r}: expected one of {', '.join(GPIO_KINDS)}")
