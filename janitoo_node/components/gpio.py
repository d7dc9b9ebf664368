"""The `rpigpio` bus and its components: LED (switch and blink modes), output, input and PIR, on one GPIO backend.

Pins are BCM numbers, as the original used in practice: its `rpigpio_boardmode` value (default BOARD)
was never applied, and the tutorial's GPIO 6 and 19 are BCM numbers. The value is kept for the wire.

Unlike the original, the LED and the output drive their pin (its LED callbacks were empty and its output
never wrote), the blink modes flash for their `on` time then stay dark for their `off` time (the original
chain swapped the two), and the input's edge callback publishes the new state at once.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from janitoo_protocol import Genre, ValueInfo

from ..bus import Bus, BusContext, Component
from ..config import ComponentDecl, ConfigError
from ..hardware.blink import BLINK_DELAYS, BLINK_MODES, Blinker, normalize_mode
from ..hardware.errors import HardwareError
from ..hardware.gpio import GPIO_LIBRARIES, Edge, GpioBackend, Pull, make_gpio, parse_chip_setting
from ..hardware.platform import BACKEND_CHOICES
from ..scheduler import Timer
from ..values import CATALOGUE, Value, ValueRefused, make_value, with_companions
from ._common import FAILED, store_then

log = logging.getLogger("janitoo.components.gpio")

SWITCH_HELP = "A switch. Valid values are : ['on', 'off']"
PULLS: dict[str, Pull] = {"PUD_UP": "up", "PUD_DOWN": "down", "NONE": "none"}
EDGES: dict[str, Edge] = {"BOTH": "both", "RISING": "rising", "FALLING": "falling"}
# The blink value publishes the original's delay table as `delays`: mode -> on/off seconds.
BLINK_DELAYS_WIRE: dict[str, dict[str, float]] = {
    mode: {"on": on, "off": off} for mode, (on, off) in BLINK_DELAYS.items()
}
_ON_WORDS = {"on", "1", "true", "yes"}
_OFF_WORDS = {"off", "0", "false", "no"}


def switch_word(data: Any) -> str:
    """`on` or `off` from what a client may send for a binary switch; ValueRefused for anything else."""
    if isinstance(data, bool) or (isinstance(data, int | float) and data in (0, 1)):
        return "on" if data else "off"
    if isinstance(data, str):
        word = data.strip().lower()
        if word in _ON_WORDS:
            return "on"
        if word in _OFF_WORDS:
            return "off"
    raise ValueRefused(f"{data!r} is not one of on, off")


class SwitchValue(Value):
    """A binary switch (list [on, off]) that also takes 0/1 and true/false, as clients send them."""

    __slots__ = ()

    def convert(self, data: Any) -> Any:
        return switch_word(data)


class BlinkValue(Value):
    """The `blink` value: a mode from the list (plus on, info1, info2, 0 and 1), published with `delays`."""

    __slots__ = ()

    def convert(self, data: Any) -> Any:
        try:
            return normalize_mode(data)
        except ValueError as exc:
            raise ValueRefused(str(exc)) from None

    def info(self, index: int = 0, data: Any = None, fresh: bool = False) -> ValueInfo:
        info = super().info(index, data, fresh)
        return replace(info, extra={**info.extra, "delays": BLINK_DELAYS_WIRE})


class GpioBus(Bus):
    """The GPIO controller: one backend (RPi.GPIO, pigpio, lgpio or the simulator) shared by its components."""

    oid = "rpigpio"
    product_name = "Raspberry GPIO controller"

    def __init__(self, ctx: BusContext) -> None:
        super().__init__(ctx)
        self.kind = (ctx.backend or "auto").strip().lower()
        if self.kind not in BACKEND_CHOICES:
            raise ConfigError(ctx.config.path, f"unknown GPIO backend {ctx.backend!r}: expected one of "
                              f"{', '.join(BACKEND_CHOICES)}", ctx.section, "backend")  # fmt: skip
        # `gpio_library = lgpio` (or rpigpio, pigpio) forces one library on real hardware, without fallback.
        self.library = (self.option("gpio_library") or "auto").strip().lower()
        if self.library not in GPIO_LIBRARIES:
            raise ConfigError(ctx.config.path, f"unknown GPIO library {self.library!r}: expected one of "
                              f"{', '.join(GPIO_LIBRARIES)}", ctx.section, "gpio_library")  # fmt: skip
        try:
            # `gpiochip = 4` overrides the header chip found by device-tree compatible (lgpio only).
            self.chip = parse_chip_setting(self.option("gpiochip"))
        except ValueError as exc:
            raise ConfigError(ctx.config.path, str(exc), ctx.section, "gpiochip") from None
        self.gpio: GpioBackend | None = None
        self.gpio_error: str | None = None

    def create_values(self) -> list[Value]:
        return [make_value("config_list", f"{self.oid}_boardmode", help="The board mode to use", label="Board",
                           list_items=["BCM", "BOARD"], default="BOARD")]  # fmt: skip

    def start(self) -> None:
        try:
            self.gpio = make_gpio(self.kind, self.ctx.root, self.ctx.clock, self.chip, self.library)
        except HardwareError as exc:
            self.gpio_error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a library failing to load must not stop the node manager
            self.gpio_error = f"gpio: {type(exc).__name__}: {exc}"
        else:
            self.gpio_error = None
            log.info("[%s] GPIO through %s", self.ctx.section, self.gpio.name)
            return
        log.error("[%s] %s: the bus and its components are FAILED", self.ctx.section, self.gpio_error)

    def check_heartbeat(self) -> str | None:
        # A fallback that ran out of libraries at run time leaves a failure behind.
        return FAILED if self.gpio is None or getattr(self.gpio, "failure", None) is not None else None

    def stop(self) -> None:
        gpio, self.gpio = self.gpio, None
        if gpio is not None:
            try:
                gpio.close()
            except HardwareError as exc:
                log.error("[%s] closing the GPIO backend: %s", self.ctx.section, exc)


class GpioComponent(Component):
    """A component on one GPIO pin: the `pin` value, the set-up on start, ONLINE while the pin is set up."""

    product_type = "Software"

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        self.pin_ready = False
        self.pin_in_use: int | None = None
        self._started = False

    # -- hooks

    def setup(self, gpio: GpioBackend, pin: int) -> None:
        """Set `pin` up for this component (HardwareError or ValueError when it cannot be)."""

    def release(self) -> None:
        """Leave the pin in use before a new set-up or at stop."""

    # -- common

    @property
    def gpio(self) -> GpioBackend | None:
        # Any bus sharing a `gpio` backend (an aggregating bus too) can carry these components.
        return getattr(self.bus, "gpio", None)

    def clock(self) -> float:
        return self.bus.ctx.clock()

    def pin_value(self) -> Value:
        def set_pin(value: Value, index: int, data: Any) -> None:
            old = value.cached(index)
            value.store(data, index)
            error = self.reset()
            if error is not None:
                value.store(old, index)
                self.reset()
                raise ValueRefused(error)

        return make_value("config_integer", "pin", help="The pin number on the board", label="Pin", default=1,
                          set=set_pin)  # fmt: skip

    def start(self) -> None:
        self._started = True
        self.reset()

    def stop(self) -> None:
        self._started = False
        if self.pin_ready:
            self.release()
        self.pin_ready = False

    def reset(self) -> str | None:
        """(Re)do the pin set-up from the current values; returns the reason when it failed (and logs it)."""
        if not self._started:
            return None  # a SET before start only stores; start sets the pin up
        if self.pin_ready:
            self.release()
        self.pin_ready = False
        gpio = self.gpio
        pin = self.data("pin")
        if gpio is None:
            error = f"GPIO{pin}: no GPIO backend on bus {self.bus.oid}"
        else:
            try:
                self.setup(gpio, int(pin))
            except (HardwareError, ValueError, TypeError) as exc:
                error = f"GPIO{pin} cannot be set up: {exc}"
            except Exception as exc:  # noqa: BLE001 - a library's own exception must not stop the node manager
                error = f"GPIO{pin} cannot be set up: {type(exc).__name__}: {exc}"
            else:
                self.pin_in_use = int(pin)
                self.pin_ready = True
                return None
        log.error("%s: %s", self.section, error)
        return error

    def check_heartbeat(self) -> str | None:
        return None if self.pin_ready else FAILED

    def read_level(self) -> int:
        gpio = self.gpio
        if not self.pin_ready or gpio is None or self.pin_in_use is None:
            raise HardwareError(f"GPIO{self.data('pin')}", "not set up")
        return int(gpio.read(self.pin_in_use))


class LedComponent(GpioComponent):
    """A LED: `switch` lights it steadily or puts it out, `blink` flashes it in one of the blink modes."""

    product_name = "LED"
    default_name = "Led"

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        self.blinker: Blinker | None = None
        self.mode = "off"
        self._timer: Timer | None = None
        self._generation = 0

    def create_values(self) -> list[Value]:
        switch = SwitchValue("switch", replace(CATALOGUE["action_switch_binary"], genre=Genre.BASIC),
                             entry_name="action_switch_binary", help=SWITCH_HELP, default="off", poll_delay=300,
                             get=lambda v, i: "off" if self.mode == "off" else "on",
                             set=lambda v, i, data: self.set_mode(data))  # fmt: skip
        blink = BlinkValue("blink", CATALOGUE["blink"], entry_name="blink", help="Blink", list_items=BLINK_MODES,
                           poll_delay=300, get=lambda v, i: self.mode,
                           set=lambda v, i, data: self.set_mode(data))  # fmt: skip
        return [self.pin_value(), *with_companions(switch), *with_companions(blink)]

    def set_mode(self, data: Any) -> None:
        """Switch the LED to a blink mode (or `on`/`off`); applied at once when the pin is set up."""
        self.mode = normalize_mode(data)
        if self.blinker is not None:
            self._schedule(self.blinker.set_mode(self.mode, self.clock()))

    def setup(self, gpio: GpioBackend, pin: int) -> None:
        self.blinker = Blinker(gpio, pin)
        if self.mode != "off":
            self._schedule(self.blinker.set_mode(self.mode, self.clock()))

    def release(self) -> None:
        self._schedule(None)
        blinker, self.blinker = self.blinker, None
        if blinker is not None:
            try:
                blinker.set_mode("off", self.clock())
            except HardwareError as exc:
                log.warning("%s: %s", self.section, exc)

    def _schedule(self, next_at: float | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        # A step already handed to the worker when the timer was cancelled sees a newer generation.
        self._generation += 1
        if next_at is None:
            return
        generation = self._generation
        ctx = self.bus.ctx
        self._timer = ctx.scheduler.call_at(
            next_at, lambda: ctx.worker.submit(lambda: self._step(generation))
        )

    def _step(self, generation: int) -> None:
        if generation != self._generation or self.blinker is None:
            return
        try:
            next_at = self.blinker.step(self.clock())
        except HardwareError as exc:
            log.error("%s: blinking stopped: %s", self.section, exc)
            self.pin_ready = False
            self._schedule(None)
            return
        self._schedule(next_at)


class OutputComponent(GpioComponent):
    """A digital output: `switch` drives the pin high (on) or low (off), `state` reads it back."""

    product_name = "GPIO output"
    default_name = "Output"

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        self.on = False

    def create_values(self) -> list[Value]:
        switch = SwitchValue("switch", CATALOGUE["action_switch_binary"], entry_name="action_switch_binary",
                             help=SWITCH_HELP, default="off", poll_delay=60,
                             get=lambda v, i: "on" if self.on else "off", set=self._set_switch)  # fmt: skip
        self.state = make_value("sensor_byte", "state", help="The state of the GPIO", label="State",
                                poll_delay=60, reader=lambda v, i: self.read_level())  # fmt: skip
        return [self.pin_value(), *with_companions(switch), *with_companions(self.state)]

    def setup(self, gpio: GpioBackend, pin: int) -> None:
        gpio.setup_output(pin, initial=self.on)
        self.state.store(int(self.on))

    def release(self) -> None:
        gpio = self.gpio
        if gpio is not None and self.pin_in_use is not None:
            try:
                gpio.write(self.pin_in_use, False)
            except HardwareError as exc:
                log.warning("%s: %s", self.section, exc)

    def _set_switch(self, value: Value, index: int, data: Any) -> None:
        on = data == "on"
        gpio = self.gpio
        if self.pin_ready and gpio is not None and self.pin_in_use is not None:
            try:
                gpio.write(self.pin_in_use, on)
            except HardwareError as exc:
                raise ValueRefused(str(exc)) from None
        self.on = on
        self.state.store(int(on))
        ctx = self.bus.ctx
        # After the SET's own answer: the state follows the switch on the network at once.
        ctx.worker.submit(lambda: ctx.publish_value(self.state))


class InputComponent(GpioComponent):
    """A digital input with pull and debounce; an edge publishes `state` at once (when `trigger` is on)."""

    product_name = "GPIO input"
    default_name = "Input"

    def create_values(self) -> list[Value]:
        reset = store_then(self._reconfigure)
        self.pullupdown = make_value("config_list", "pullupdown", help="The pull up/down resistor of the pin",
                                     label="Pull", list_items=list(PULLS), default="PUD_UP", set=reset)  # fmt: skip
        self.edge = make_value("config_list", "edge", help="The edge to detect: BOTH, RISING or FALLING",
                               label="Edge", list_items=list(EDGES), default="BOTH", set=reset)  # fmt: skip
        self.bouncetime = make_value("config_integer", "bouncetime", help="The bounce time in milliseconds",
                                     label="Bounce", units="ms", default=300, min=0, set=reset)  # fmt: skip
        self.trigger = make_value("config_boolean", "trigger", help="Should we trigger the state's change",
                                  label="Trigger", default=True)  # fmt: skip
        self.state = make_value("sensor_byte", "state", help="The state of the GPIO", label="State",
                                poll_delay=60, reader=lambda v, i: self.read_level())  # fmt: skip
        return [self.pin_value(), self.pullupdown, self.edge, self.bouncetime, self.trigger,
                *with_companions(self.state)]  # fmt: skip

    def setup(self, gpio: GpioBackend, pin: int) -> None:
        pull = PULLS.get(str(self.pullupdown.cached()), "up")
        edge = EDGES.get(str(self.edge.cached()), "both")
        gpio.setup_input(pin, pull=pull, edge=edge, bounce_ms=int(self.bouncetime.cached() or 0),
                         callback=self._on_edge)  # fmt: skip
        self.state.store(int(gpio.read(pin)))

    def _reconfigure(self) -> None:
        # A new pull, edge or bounce time takes effect at once (a failure is logged and shows as FAILED).
        self.reset()

    def _on_edge(self, pin: int, level: bool) -> None:
        # Called on the GPIO library's thread: the work is the bus worker's.
        self.bus.ctx.worker.submit(lambda: self._edge(pin, level))

    def _edge(self, pin: int, level: bool) -> None:
        if not self.pin_ready or pin != self.pin_in_use:
            return  # an edge of a pin this component has left
        self.state.store(int(level))
        if self.trigger.cached():
            self.bus.ctx.publish_value(self.state)


class PirComponent(InputComponent):
    """A PIR motion sensor (or a button): an input whose edges are published at once."""

    product_name = "PIR sensor"
    default_name = "PIR"
