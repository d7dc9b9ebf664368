"""Tests for SimGpio, the backend factory and the real backends with stand-in libraries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from janitoo_node.hardware.errors import HardwareError
from janitoo_node.hardware.gpio import (
    LgpioBackend,
    PigpioBackend,
    RPiGpioBackend,
    SimGpio,
    default_gpiochip,
    make_gpio,
)


def test_outputs_record_history(clock: Any) -> None:
    gpio = SimGpio(clock)
    gpio.setup_output(19, initial=True)
    clock.advance(1.5)
    gpio.write(19, False)
    assert gpio.read(19) is False
    assert gpio.history == [(1000.0, 19, True), (1001.5, 19, False)]
    assert gpio.history_for(19) == [(1000.0, True), (1001.5, False)]
    with pytest.raises(AssertionError, match="GPIO19 history"):
        gpio.assert_states_and_times(19, [(1000.0, True)])


def test_write_to_a_pin_not_set_up_as_output(clock: Any) -> None:
    gpio = SimGpio(clock)
    gpio.setup_input(5)
    with pytest.raises(HardwareError, match="GPIO5: not set up as an output"):
        gpio.write(5, True)
    with pytest.raises(HardwareError, match="GPIO6: not set up"):
        gpio.read(6)


def test_input_pull_sets_the_idle_level(clock: Any) -> None:
    gpio = SimGpio(clock)
    gpio.setup_input(5, pull="up")
    gpio.setup_input(6, pull="down")
    assert gpio.read(5) is True and gpio.read(6) is False


def test_edge_callbacks_both(clock: Any) -> None:
    gpio = SimGpio(clock)
    events: list[tuple[int, bool]] = []
    gpio.setup_input(5, pull="down", edge="both", callback=lambda pin, level: events.append((pin, level)))
    assert gpio.simulate_input(5, True)
    assert not gpio.simulate_input(5, True)  # no change, no edge
    assert gpio.simulate_input(5, False)
    assert events == [(5, True), (5, False)]


@pytest.mark.parametrize(("edge", "expected"), [("rising", [True, True]), ("falling", [False, False])])
def test_edge_filter(clock: Any, edge: Any, expected: list[bool]) -> None:
    gpio = SimGpio(clock)
    levels: list[bool] = []
    gpio.setup_input(5, edge=edge, callback=lambda pin, level: levels.append(level))
    for level in (True, False, True, False):
        clock.advance(1)
        gpio.simulate_input(5, level)
    assert levels == expected


def test_debounce_against_the_clock(clock: Any) -> None:
    gpio = SimGpio(clock)
    levels: list[tuple[float, bool]] = []
    gpio.setup_input(
        5, pull="up", bounce_ms=300, callback=lambda pin, level: levels.append((clock.now, level))
    )
    t = clock.now
    assert gpio.simulate_input(5, False)  # the button is pressed
    clock.advance(0.01)
    assert not gpio.simulate_input(5, True)  # contact bounce, within 300 ms: not reported
    clock.advance(0.01)
    assert not gpio.simulate_input(5, False)
    assert gpio.read(5) is False  # the level itself always follows the input
    clock.advance(0.5)
    assert gpio.simulate_input(5, True)  # released, well after the bounce time
    assert levels == [(t, False), (pytest.approx(t + 0.52), True)]


def test_input_on_an_output_pin_is_refused(clock: Any) -> None:
    gpio = SimGpio(clock)
    gpio.setup_output(19)
    with pytest.raises(HardwareError, match="not set up as an input"):
        gpio.simulate_input(19, True)


def test_invalid_arguments(clock: Any) -> None:
    gpio = SimGpio(clock)
    with pytest.raises(ValueError, match="expected one of up, down, none"):
        gpio.setup_input(5, pull="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected one of both, rising, falling"):
        gpio.setup_input(5, edge="any")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="BCM number"):
        gpio.setup_output(99)


def test_closed_backend_refuses_work(clock: Any) -> None:
    gpio = SimGpio(clock)
    gpio.setup_output(19)
    gpio.close()
    with pytest.raises(HardwareError, match="closed"):
        gpio.write(19, True)


def _pi_root(root: Path, model: str) -> Path:
    path = root / "proc/device-tree/model"
    path.parent.mkdir(parents=True)
    path.write_bytes(model.encode() + b"\x00")
    return root


def test_make_gpio_sim_off_a_pi(tmp_path: Path, clock: Any) -> None:
    assert isinstance(make_gpio("auto", tmp_path, clock), SimGpio)
    assert isinstance(make_gpio("sim", tmp_path, clock), SimGpio)
    with pytest.raises(ValueError, match="unknown GPIO backend 'wiringpi'"):
        make_gpio("wiringpi", tmp_path, clock)


@pytest.mark.parametrize(
    ("backend", "library"),
    [(RPiGpioBackend, "RPi.GPIO"), (PigpioBackend, "pigpio"), (LgpioBackend, "lgpio")],
)
def test_real_backends_without_their_library(backend: Callable[[], Any], library: str) -> None:
    try:
        __import__(library)
    except ImportError:
        pass
    else:  # pragma: no cover - only on a machine with the Pi libraries
        pytest.skip(f"{library} is installed here")
    with pytest.raises(HardwareError) as caught:
        backend()
    assert str(caught.value) == f"gpio: {library} is not installed: pip install 'janitoo[pi]'"


def test_make_gpio_on_a_pi_without_libraries_names_them_all(tmp_path: Path, clock: Any) -> None:
    root = _pi_root(tmp_path, "Raspberry Pi 4 Model B Rev 1.4")
    with pytest.raises(HardwareError, match=r"no GPIO library usable \(lgpio: .*; RPi.GPIO: .*; pigpio: "):
        make_gpio("auto", root, clock)
    pi5 = _pi_root(tmp_path / "pi5", "Raspberry Pi 5 Model B Rev 1.0")
    with pytest.raises(HardwareError, match=r"no GPIO library usable \(lgpio: lgpio is not installed"):
        make_gpio("real", pi5, clock)


def test_default_gpiochip(tmp_path: Path) -> None:
    pi5 = _pi_root(tmp_path, "Raspberry Pi 5 Model B Rev 1.0")
    assert default_gpiochip(pi5) == 0
    (pi5 / "dev").mkdir()
    (pi5 / "dev/gpiochip4").touch()
    assert default_gpiochip(pi5) == 4
    assert default_gpiochip(_pi_root(tmp_path / "pi4", "Raspberry Pi 4 Model B")) == 0


# --- the real backends' wiring, against recording fakes -----------------------------------------
# These fakes only record calls, to check each backend maps pulls, edges and levels to the library's
# own constants and signatures. How the real libraries *behave* on each board (what fails where) is
# modelled by the stand-ins of standins/libs and tested in test_hw_boards.py.


class FakeRPiGPIO:
    BCM, OUT, IN, HIGH, LOW = 11, 0, 1, 1, 0
    PUD_UP, PUD_DOWN, PUD_OFF = 22, 21, 20
    RISING, FALLING, BOTH = 31, 32, 33

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.levels: dict[int, int] = {}
        self.detect: dict[int, Callable[[int], None]] = {}

    def setwarnings(self, flag: bool) -> None:
        self.calls.append(("setwarnings", flag))

    def setmode(self, mode: int) -> None:
        self.calls.append(("setmode", mode))

    def setup(self, pin: int, direction: int, **kwargs: Any) -> None:
        self.calls.append(("setup", pin, direction, kwargs))

    def output(self, pin: int, level: int) -> None:
        self.levels[pin] = level

    def input(self, pin: int) -> int:
        return self.levels.get(pin, 0)

    def add_event_detect(self, pin: int, edge: int, callback: Callable[[int], None], **kwargs: Any) -> None:
        self.calls.append(("add_event_detect", pin, edge, kwargs))
        self.detect[pin] = callback

    def remove_event_detect(self, pin: int) -> None:
        if pin not in self.detect:
            raise RuntimeError("no edge detection on this channel")
        del self.detect[pin]

    def cleanup(self, pins: list[int]) -> None:
        self.calls.append(("cleanup", pins))


def test_rpigpio_backend_wiring() -> None:
    lib = FakeRPiGPIO()
    gpio = RPiGpioBackend(module=lib)
    assert ("setmode", lib.BCM) in lib.calls
    gpio.setup_output(19, initial=True)
    gpio.write(19, False)
    assert lib.levels[19] == 0 and gpio.read(19) is False
    events: list[tuple[int, bool]] = []
    gpio.setup_input(5, pull="up", edge="both", bounce_ms=300, callback=lambda p, lv: events.append((p, lv)))
    assert ("add_event_detect", 5, lib.BOTH, {"bouncetime": 300}) in lib.calls
    lib.levels[5] = 1
    lib.detect[5](5)
    assert events == [(5, True)]
    gpio.close()
    assert lib.calls[-1] == ("cleanup", [5, 19])


class FakePigpio:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.levels: dict[int, int] = {}
        self.funcs: dict[int, Callable[[int, int, int], None]] = {}

    def set_mode(self, pin: int, mode: int) -> None:
        self.calls.append(("set_mode", pin, mode))

    def set_pull_up_down(self, pin: int, pud: int) -> None:
        self.calls.append(("pud", pin, pud))

    def set_glitch_filter(self, pin: int, steady_us: int) -> None:
        self.calls.append(("glitch", pin, steady_us))

    def write(self, pin: int, level: int) -> None:
        self.levels[pin] = level

    def read(self, pin: int) -> int:
        return self.levels.get(pin, 0)

    def callback(self, pin: int, edge: int, func: Callable[[int, int, int], None]) -> Any:
        self.calls.append(("callback", pin, edge))
        self.funcs[pin] = func
        fake = self

        class Handle:
            def cancel(self) -> None:
                fake.calls.append(("cancel", pin))

        return Handle()


def test_pigpio_backend_wiring() -> None:
    pi = FakePigpio()
    gpio = PigpioBackend(pi)
    gpio.setup_output(19)
    gpio.write(19, True)
    assert gpio.read(19) is True
    events: list[tuple[int, bool]] = []
    gpio.setup_input(
        5, pull="up", edge="falling", bounce_ms=500, callback=lambda p, lv: events.append((p, lv))
    )
    assert ("glitch", 5, 300_000) in pi.calls  # capped at pigpio's maximum
    assert ("callback", 5, 1) in pi.calls
    pi.funcs[5](5, 0, 123)
    pi.funcs[5](5, 2, 456)  # a watchdog report is not an edge
    assert events == [(5, False)]
    gpio.close()
    assert pi.calls[-1] == ("cancel", 5)


class FakeLgpio:
    SET_PULL_UP, SET_PULL_DOWN, SET_PULL_NONE = 32, 64, 128
    RISING_EDGE, FALLING_EDGE, BOTH_EDGES = 1, 2, 3

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.levels: dict[int, int] = {}
        self.funcs: dict[int, Callable[[int, int, int, int], None]] = {}

    def gpiochip_open(self, chip: int) -> int:
        self.calls.append(("open", chip))
        return 7

    def gpiochip_close(self, handle: int) -> None:
        self.calls.append(("close", handle))

    def gpio_claim_output(self, handle: int, pin: int, level: int) -> None:
        self.levels[pin] = level
        self.calls.append(("claim_output", pin, level))

    def gpio_claim_alert(self, handle: int, pin: int, edge: int, flags: int) -> None:
        self.calls.append(("claim_alert", pin, edge, flags))

    def gpio_claim_input(self, handle: int, pin: int, flags: int) -> None:
        self.calls.append(("claim_input", pin, flags))

    def gpio_set_debounce_micros(self, handle: int, pin: int, micros: int) -> None:
        self.calls.append(("debounce", pin, micros))

    def gpio_free(self, handle: int, pin: int) -> None:
        self.calls.append(("free", pin))

    def gpio_write(self, handle: int, pin: int, level: int) -> None:
        self.levels[pin] = level

    def gpio_read(self, handle: int, pin: int) -> int:
        return self.levels.get(pin, 0)

    def callback(self, handle: int, pin: int, edge: int, func: Callable[[int, int, int, int], None]) -> Any:
        self.funcs[pin] = func
        fake = self

        class Handle:
            def cancel(self) -> None:
                fake.calls.append(("cancel", pin))

        return Handle()


def test_lgpio_backend_wiring(tmp_path: Path) -> None:
    lg = FakeLgpio()
    gpio = LgpioBackend(chip=4, module=lg)
    assert lg.calls[0] == ("open", 4)
    gpio.setup_output(19, initial=True)
    assert gpio.read(19) is True
    events: list[tuple[int, bool]] = []
    gpio.setup_input(
        5, pull="down", edge="rising", bounce_ms=20, callback=lambda p, lv: events.append((p, lv))
    )
    assert ("claim_alert", 5, lg.RISING_EDGE, lg.SET_PULL_DOWN) in lg.calls
    assert ("debounce", 5, 20_000) in lg.calls
    lg.funcs[5](4, 5, 1, 0)
    assert events == [(5, True)]
    gpio.setup_output(5)  # switching a line's mode frees it first
    assert lg.calls[-3:] == [("cancel", 5), ("free", 5), ("claim_output", 5, 0)]
    gpio.close()
    assert lg.calls[-1] == ("close", 7)
