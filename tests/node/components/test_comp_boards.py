"""The hardware buses on fixture trees of real boards with the stand-in libraries: what runs on a Pi 3, 4 and 5.

Each test names the finding it guards (issue 20): run on the previous code, each one fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from janitoo_node.components.gpio import GpioBus
from tests.node.hardware.standins.boards import add_dht11, build_board
from tests.node.hardware.standins.libs_fixture import StandinLibs

from .conftest import Rig

GPIO = """
[rpigpio]
auto_start = True
backend = {backend}
hadd = 0230/0000
{extra}
components.led = rpigpio.led
components.pir = rpigpio.pir

[rpigpio__led]
hadd = 0230/0001
pin_0 = 19

[rpigpio__pir]
hadd = 0230/0002
pin_0 = 17
bouncetime_0 = 0
"""
DHT = """
[rpibasic]
auto_start = True
backend = real
hadd = 0220/0000
components.inside = rpibasic.dht
components.outside = rpibasic.dht

[rpibasic__inside]
hadd = 0220/0001
pin_0 = 4
sensor_0 = 22

[rpibasic__outside]
hadd = 0220/0002
pin_0 = 17
sensor_0 = 22
"""


def _gone_cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A unit running in / under ProtectSystem=strict: nothing can be created in the working directory.
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()


@pytest.mark.parametrize("name", ["pi3", "pi4", "pi5"])
def test_a_pir_gets_its_edges_on_each_board(
    rig_for: Callable[..., Rig], tmp_path: Path, standin_libs: StandinLibs, name: str
) -> None:
    # Finding 2: RPi.GPIO first meant no edges on a 6.6 kernel (Pi 3/4); lgpio comes first now.
    root = standin_libs.board(build_board(tmp_path / "board", name))
    rig = rig_for(GPIO.format(backend="auto", extra=""), root=root)
    assert rig.state("0230/0000") == "ONLINE" and rig.state("0230/0002") == "ONLINE"
    lgpio = standin_libs.module("lgpio")
    rig.take()
    assert lgpio.standin_edge(0, 17, 1)
    assert rig.last_data("0230/0002", "state") == 1


def test_without_a_writable_working_directory_the_gpio_bus_is_failed_not_silent(
    rig_for: Callable[..., Rig],
    tmp_path: Path,
    standin_libs: StandinLibs,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Finding 3: `import lgpio` raised FileNotFoundError out of the bus start, which stopped the node
    # manager on its worker: no heartbeat at all. Now every node says FAILED and the reason is one line.
    root = standin_libs.board(build_board(tmp_path / "board", "pi5"))
    _gone_cwd(monkeypatch, tmp_path)
    with caplog.at_level(logging.ERROR):
        rig = rig_for(GPIO.format(backend="auto", extra=""), root=root)
    assert rig.heartbeats("0230/0000") == ["FAILED"]
    assert rig.heartbeats("0230/0001") == ["FAILED"] and rig.heartbeats("0230/0002") == ["FAILED"]
    bus = rig.bus("rpigpio")
    assert isinstance(bus, GpioBus) and bus.gpio_error is not None
    assert "lgpio cannot create its notification FIFO in the working directory" in bus.gpio_error
    errors = [r.getMessage() for r in caplog.records if r.name == "janitoo.components.gpio"]
    assert any("the bus and its components are FAILED" in line and "\n" not in line for line in errors)


def test_a_pir_no_library_can_serve_makes_the_bus_failed_with_the_reason(
    rig_for: Callable[..., Rig], tmp_path: Path, standin_libs: StandinLibs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Pi 3 on 6.6 without lgpio and without pigpiod: RPi.GPIO loads, then cannot do the PIR's edges.
    root = standin_libs.board(build_board(tmp_path / "board", "pi3"))
    _gone_cwd(monkeypatch, tmp_path)
    rig = rig_for(GPIO.format(backend="auto", extra=""), root=root)
    assert rig.state("0230/0000") == "FAILED"
    assert rig.state("0230/0002") == "FAILED"


def test_a_library_raising_anything_at_load_makes_the_bus_failed(
    rig_for: Callable[..., Rig], tmp_path: Path, standin_libs: StandinLibs, monkeypatch: pytest.MonkeyPatch
) -> None:
    import janitoo_node.components.gpio as gpio_component

    def broken(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", "/dev/gpiomem")

    monkeypatch.setattr(gpio_component, "make_gpio", broken)
    rig = rig_for(GPIO.format(backend="real", extra=""), root=tmp_path)
    assert rig.heartbeats("0230/0000") == ["FAILED"]
    bus = rig.bus("rpigpio")
    assert (
        isinstance(bus, GpioBus)
        and bus.gpio_error == "gpio: PermissionError: [Errno 13] Permission denied: '/dev/gpiomem'"
    )


def test_the_gpiochip_setting_picks_the_chip(
    rig_for: Callable[..., Rig], tmp_path: Path, standin_libs: StandinLibs
) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi5-6.6.20"))
    rig_for(GPIO.format(backend="real", extra="gpiochip = 4"), root=root)
    assert {chip for chip, _pin, _mode in standin_libs.module("lgpio").claims} == {4}


def test_a_gpio_library_setting_forces_one_library(
    rig_for: Callable[..., Rig], tmp_path: Path, standin_libs: StandinLibs
) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi3-6.1"))
    rig = rig_for(GPIO.format(backend="auto", extra="gpio_library = rpigpio"), root=root)
    bus = rig.bus("rpigpio")
    assert isinstance(bus, GpioBus) and bus.gpio is not None and bus.gpio.name == "RPi.GPIO"
    assert rig.state("0230/0002") == "ONLINE"
    assert standin_libs.module("RPi.GPIO").exported == [17]
    sim = rig_for(GPIO.format(backend="sim", extra="gpio_library = lgpio"), root=root)
    assert sim.state("0230/0000") == "ONLINE"  # sim stays sim whatever the library setting


def test_a_bad_gpiochip_setting_is_a_config_error(rig_for: Callable[..., Rig], tmp_path: Path) -> None:
    from janitoo_node.config import ConfigError

    with pytest.raises(ConfigError, match="invalid gpiochip 'four'"):
        rig_for(GPIO.format(backend="sim", extra="gpiochip = four"), start=False)
    with pytest.raises(ConfigError, match="unknown GPIO library 'wiringpi'"):
        rig_for(GPIO.format(backend="sim", extra="gpio_library = wiringpi"), start=False)


def test_two_dht_overlays_two_readings(rig_for: Callable[..., Rig], tmp_path: Path) -> None:
    # Finding 1: the device is dht11@<hex pin>, never plain dht11; each component reads its own pin.
    root = build_board(tmp_path / "board", "pi5")
    add_dht11(root, 0, 4, "21000", "40000")
    add_dht11(root, 1, 17, "5500", "80000")
    rig = rig_for(DHT, root=root)
    assert (rig.last_data("0220/0001", "temperature"), rig.last_data("0220/0001", "humidity")) == (21.0, 40.0)
    assert (rig.last_data("0220/0002", "temperature"), rig.last_data("0220/0002", "humidity")) == (5.5, 80.0)
    assert rig.state("0220/0001") == "ONLINE" and rig.state("0220/0002") == "ONLINE"


def test_a_dht_without_its_overlay_on_a_pi5_says_which_line_to_add(
    rig_for: Callable[..., Rig], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = build_board(tmp_path / "board", "cm5")
    add_dht11(root, 0, 4)
    with caplog.at_level(logging.ERROR):
        rig = rig_for(DHT, root=root)
    assert rig.state("0220/0001") == "ONLINE"
    assert rig.state("0220/0002") == "FAILED"
    assert any(
        "DHT22 GPIO17: no dht11 IIO device for this pin and pigpio does not run on a Pi 5: "
        "add dtoverlay=dht11,gpiopin=17" in r.getMessage()
        for r in caplog.records
    )


def test_a_dht_through_pigpio_gives_its_connection_back_at_stop(
    rig_for: Callable[..., Rig], tmp_path: Path, standin_libs: StandinLibs
) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi4"))
    (root / "run").mkdir()
    (root / "run/pigpio.pid").write_text("321\n")
    rig = rig_for(DHT, root=root)
    pigpio = standin_libs.module("pigpio")
    assert len(pigpio.connections) == 1  # both sensors share one daemon connection
    rig.stop()
    assert pigpio.connections == []
