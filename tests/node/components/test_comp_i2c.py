"""rpii2c.bmp280: one forced measurement per poll feeds temperature and pressure, through the real driver."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from janitoo_node.components.i2c import Bmp280Component, RpiI2cBus
from janitoo_node.hardware.i2c import SimBmp280, SimI2cBus

from .conftest import Rig

SENSOR = "0240/0001"


def conf(backend: str = "sim", extra: str = "") -> str:
    return f"""
[rpii2c]
auto_start = True
backend = {backend}
hadd = 0240/0000
components.baro = rpii2c.bmp280

[rpii2c__baro]
hadd = 0240/0001
{extra}
"""


def smbus(rig: Rig) -> SimI2cBus:
    bus = rig.bus("rpii2c")
    assert isinstance(bus, RpiI2cBus) and bus.i2c is not None
    assert isinstance(bus.i2c.smbus, SimI2cBus)
    return bus.i2c.smbus


def readings(rig: Rig) -> tuple[object, object]:
    return rig.last_data(SENSOR, "temperature"), rig.last_data(SENSOR, "pressure")


def test_values_and_defaults(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf())
    bus = rig.bus("rpii2c")
    assert isinstance(bus, RpiI2cBus) and bus.busnum == 1
    assert bus.node is not None and bus.node.values["rpii2c_busnum"].info().type == 4
    component = rig.component("rpii2c", "baro")
    assert isinstance(component, Bmp280Component) and component.node is not None
    values = component.node.values
    assert values["addr"].info().data == 0x76
    assert (values["pressure"].info().units, values["temperature"].info().units) == ("Pa", "°C")
    assert {"temperature_poll", "pressure_poll"} <= set(values)


def test_one_measurement_feeds_both_values(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf(extra="sim_temperature = 25.08, 19.5\nsim_pressure = 100653, 98000"))
    chip = smbus(rig).devices[0x76]
    assert isinstance(chip, SimBmp280)
    temperature, pressure = readings(rig)
    assert temperature == pytest.approx(25.08, abs=0.01)
    assert pressure == pytest.approx(100653, abs=1)
    assert chip.measurements == 1
    rig.scheduler.advance(300)
    temperature, pressure = readings(rig)
    assert temperature == pytest.approx(19.5, abs=0.01) and pressure == pytest.approx(98000, abs=1)
    assert chip.measurements == 2
    assert rig.state(SENSOR) == "ONLINE"


def test_a_missing_chip_reads_none_and_is_failed(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf(extra="sim_temperature = missing, fail, 20\nsim_pressure = 101325"))
    assert readings(rig) == (None, None)
    assert rig.state(SENSOR) == "FAILED"
    rig.scheduler.advance(300)
    assert readings(rig) == (None, None)  # conversion skipped
    rig.scheduler.advance(300)
    assert readings(rig)[0] == pytest.approx(20, abs=0.01)
    assert rig.state(SENSOR) == "ONLINE" and rig.state("0240/0000") == "ONLINE"


def test_a_new_address_puts_a_new_chip_there(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf(extra="sim_temperature = 18"))
    rig.request(SENSOR, "addr", 3, 112, 0x77)
    assert rig.config.get("rpii2c__baro", "addr_0") == "119"
    assert rig.reply(SENSOR, "temperature", 2, 49, is_set=False).value.data == pytest.approx(18, abs=0.01)
    assert set(smbus(rig).devices) == {0x76, 0x77}


def test_real_without_the_i2c_device_the_bus_is_failed(rig_for: Callable[..., Rig], tmp_path: Path) -> None:
    root = tmp_path / "pc"
    root.mkdir()
    rig = rig_for(conf("real", extra="temperature_poll_0 = 0\npressure_poll_0 = 0"), root=root)
    assert rig.state("0240/0000") == "FAILED"
    (root / "dev").mkdir()
    (root / "dev/i2c-1").touch()
    assert rig.state("0240/0000") == "ONLINE"
