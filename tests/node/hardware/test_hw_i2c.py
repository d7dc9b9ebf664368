"""Tests for the I2C bus wrapper, its simulated twin and the BMP280 driver."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from janitoo_node.hardware.errors import HardwareError
from janitoo_node.hardware.i2c import (
    DATASHEET_CALIBRATION,
    Bmp280,
    Bmp280Calibration,
    I2cBus,
    SimBmp280,
    SimI2cBus,
    bmp280_pressure,
    bmp280_temperature,
)
from janitoo_node.hardware.sim import SimI2cDevice


def _no_sleep(seconds: float) -> None:
    pass


def test_datasheet_worked_example() -> None:
    t_fine, celsius = bmp280_temperature(519888, DATASHEET_CALIBRATION)
    assert (t_fine, celsius) == (128422, 25.08)
    assert bmp280_pressure(415148, t_fine, DATASHEET_CALIBRATION) == pytest.approx(100653.27, abs=0.1)


def test_calibration_bytes_round_trip() -> None:
    data = DATASHEET_CALIBRATION.to_bytes()
    assert len(data) == 24
    assert Bmp280Calibration.from_bytes(data) == DATASHEET_CALIBRATION


@pytest.mark.parametrize(
    ("temperature", "pressure"), [(21.0, 101325.0), (-10.0, 90000.0), (40.0, 70000.0), (0.0, 110000.0)]
)
def test_driver_against_the_register_model(temperature: float, pressure: float) -> None:
    sim = SimI2cBus({0x76: SimBmp280(temperature, pressure)})
    sensor = Bmp280(I2cBus(1, sim), 0x76, sleep=_no_sleep)
    celsius, pascal = sensor.read()
    assert celsius == pytest.approx(temperature, abs=0.01)
    assert pascal == pytest.approx(pressure, abs=0.5)


def test_driver_follows_a_scripted_sequence_in_forced_mode() -> None:
    chip = SimBmp280("20,21.5", "100000,99000")
    sensor = Bmp280(I2cBus(1, SimI2cBus({0x77: chip})), 0x77, sleep=_no_sleep)
    first = sensor.read()
    second = sensor.read()
    assert first[0] == pytest.approx(20, abs=0.01) and second[0] == pytest.approx(21.5, abs=0.01)
    assert second[1] == pytest.approx(99000, abs=0.5)
    assert chip.measurements == 2
    assert chip.registers[0xF4] & 0x03 == 0  # back to sleep mode after each forced measurement
    assert (0xF4, 0x25) in chip.writes  # x1 oversampling, forced mode


def test_wrong_chip_id() -> None:
    sim = SimI2cBus({0x76: SimBmp280(chip_id=0x61)})  # a BME680: other registers
    with pytest.raises(HardwareError) as caught:
        Bmp280(I2cBus(1, sim), sleep=_no_sleep).read()
    assert str(caught.value) == (
        "BMP280 0x76: unexpected chip id 0x61 (a BMP280 answers 0x58, a BME280 0x60)"
    )


@pytest.mark.parametrize(("chip_id", "name"), [(0x60, "BME280"), (0x58, "BMP280"), (0x57, "BMP280")])
def test_a_bme280_sold_as_bmp280_is_read_for_temperature_and_pressure(chip_id: int, name: str) -> None:
    # Many "BMP280" modules carry a BME280 (id 0x60): same calibration, control and data registers for
    # T and P, so the same driver reads it (the kernel's bmp280 driver accepts both ids too).
    sim = SimI2cBus({0x76: SimBmp280("25.08", "100653", chip_id=chip_id)})
    driver = Bmp280(I2cBus(1, sim), sleep=_no_sleep)
    temperature, pressure = driver.read()
    assert temperature == pytest.approx(25.08, abs=0.01)
    assert pressure == pytest.approx(100653, abs=1)
    assert driver.chip == name


def test_absent_device() -> None:
    with pytest.raises(HardwareError) as caught:
        Bmp280(I2cBus(3, SimI2cBus()), 0x77, sleep=_no_sleep).read()
    assert caught.value.device == "I2C-3 0x77"
    assert "no answer" in caught.value.reason


def test_simulated_failures() -> None:
    sensor = Bmp280(I2cBus(1, SimI2cBus({0x76: SimBmp280("fail,missing,20")})), sleep=_no_sleep)
    with pytest.raises(HardwareError, match="no measurement data"):
        sensor.read()
    with pytest.raises(HardwareError, match="no answer"):
        sensor.read()
    assert sensor.read()[0] == pytest.approx(20, abs=0.01)


def test_measurement_timeout_is_bounded_by_the_clock(clock: Any) -> None:
    class StuckBmp280(SimBmp280):
        def on_read(self, register: int) -> None:
            self.registers[0xF3] = 0x08  # always "measuring"

    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    sensor = Bmp280(I2cBus(1, SimI2cBus({0x76: StuckBmp280()})), clock=clock, sleep=sleep)
    with pytest.raises(HardwareError, match="measurement not finished"):
        sensor.read()
    assert sum(sleeps) == pytest.approx(0.1 + sensor.measure_time_s, abs=0.002)


def test_split_measurement_for_a_scheduler() -> None:
    sensor = Bmp280(I2cBus(1, SimI2cBus({0x76: SimBmp280(25, 100000)})), sleep=_no_sleep)
    wait = sensor.start_measurement()
    assert 0.006 < wait < 0.007  # datasheet maximum for x1/x1 oversampling
    assert sensor.read_result()[0] == pytest.approx(25, abs=0.01)


def test_bus_wraps_os_errors_and_shares_one_lock_per_bus_number() -> None:
    device = SimI2cDevice({0x00: 0x42})
    bus = I2cBus(1, SimI2cBus({0x40: device}))
    assert bus.read_byte_data(0x40, 0x00) == 0x42
    bus.write_i2c_block_data(0x40, 0x10, [1, 2])
    assert bus.read_i2c_block_data(0x40, 0x10, 2) == [1, 2]
    other = I2cBus(1, "sim")
    assert other._lock is bus._lock
    assert I2cBus(2, "sim")._lock is not bus._lock


def test_locked_excludes_other_threads() -> None:
    bus = I2cBus(7, "sim")
    bus.smbus.add_device(0x40, SimI2cDevice())  # type: ignore[attr-defined]
    entered = threading.Event()
    result: list[int] = []

    def other() -> None:
        entered.set()
        result.append(bus.read_byte_data(0x40, 0))

    with bus.locked():
        thread = threading.Thread(target=other)
        thread.start()
        assert entered.wait(5)
        thread.join(0.05)
        assert thread.is_alive() and result == []  # blocked until the transaction ends
    thread.join(5)
    assert result == [0]


def test_real_bus_opens_lazily_and_reports_a_missing_device_file() -> None:
    bus = I2cBus(250)  # no /dev/i2c-250 anywhere
    with pytest.raises(
        HardwareError, match="I2C-250: /dev/i2c-250 not found: enable it with dtparam=i2c_arm=on"
    ):
        bus.read_byte_data(0x76, 0xD0)


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="expected real or sim"):
        I2cBus(1, "fake")  # type: ignore[arg-type]
