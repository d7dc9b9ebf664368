"""I2C: one shared bus object with one lock per bus, its simulated twin, and the BMP280 driver.

``I2cBus`` wraps any object with smbus2's method names: ``smbus2.SMBus`` (imported lazily and
opened on first use, so a missing ``/dev/i2c-1`` is a read error, not a construction error) or
``SimI2cBus``, a set of register maps. A driver holds ``with bus.locked():`` across a whole
transaction (trigger, wait, read back) so two components never interleave on the wire.
"""

from __future__ import annotations

import errno
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, Protocol

from .errors import HardwareError
from .sim import SimI2cDevice, SimSource

Clock = Callable[[], float]


class SmbusLike(Protocol):
    """The subset of ``smbus2.SMBus`` the drivers use."""

    def read_byte_data(self, i2c_addr: int, register: int) -> int: ...

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None: ...

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]: ...

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None: ...

    def close(self) -> None: ...


class SimI2cBus:
    """An SMBus stand-in backed by per-address ``SimI2cDevice`` register maps.

    An address with no device answers like an absent chip on a real bus: OSError EREMOTEIO.
    """

    def __init__(self, devices: Mapping[int, SimI2cDevice] | None = None) -> None:
        self.devices: dict[int, SimI2cDevice] = dict(devices or {})
        self.closed = False

    def add_device(self, address: int, device: SimI2cDevice) -> SimI2cDevice:
        self.devices[address] = device
        return device

    def _device(self, address: int) -> SimI2cDevice:
        device = self.devices.get(address)
        if device is None or self.closed:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        return device

    def read_byte_data(self, i2c_addr: int, register: int) -> int:
        return self._device(i2c_addr).read_register(register)

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        self._device(i2c_addr).write_register(register, value)

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]:
        return self._device(i2c_addr).read_block(register, length)

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None:
        self._device(i2c_addr).write_block(register, data)

    def close(self) -> None:
        self.closed = True


# One lock per physical bus number, shared by every I2cBus object opened on it in this process.
_BUS_LOCKS: dict[int, threading.RLock] = {}
_BUS_LOCKS_GUARD = threading.Lock()


def _bus_lock(busnum: int) -> threading.RLock:
    with _BUS_LOCKS_GUARD:
        return _BUS_LOCKS.setdefault(busnum, threading.RLock())


class I2cBus:
    """One I2C bus (``/dev/i2c-<busnum>``) shared by the components on it.

    ``backend`` is ``"real"`` (smbus2), ``"sim"`` (an empty ``SimI2cBus``, reachable as ``smbus``)
    or any SMBus-like object. Single calls take the bus lock themselves; it is re-entrant (an
    RLock), so a driver can also hold it around a whole transaction with ``locked()``.
    OSErrors become HardwareError naming the bus and address.
    """

    def __init__(self, busnum: int = 1, backend: Literal["real", "sim"] | SmbusLike = "real") -> None:
        self.busnum = busnum
        self._lock = _bus_lock(busnum)
        self._smbus: SmbusLike | None
        if backend == "real":
            self._smbus = None
        elif backend == "sim":
            self._smbus = SimI2cBus()
        elif isinstance(backend, str):
            raise ValueError(f"unknown I2C backend {backend!r}: expected real or sim")
        else:
            self._smbus = backend

    @property
    def smbus(self) -> SmbusLike:
        """The underlying SMBus object, opened on first use."""
        if self._smbus is None:
            self._smbus = self._open_real()
        return self._smbus

    def _open_real(self) -> SmbusLike:
        try:
            from smbus2 import SMBus
        except ImportError:
            raise HardwareError(f"I2C-{self.busnum}", "smbus2 is not installed: pip install smbus2") from None
        try:
            bus: SmbusLike = SMBus(self.busnum)
        except FileNotFoundError:
            raise HardwareError(
                f"I2C-{self.busnum}", f"/dev/i2c-{self.busnum} not found: enable it with dtparam=i2c_arm=on"
            ) from None
        except OSError as exc:
            raise HardwareError(
                f"I2C-{self.busnum}", f"cannot open /dev/i2c-{self.busnum}: {exc.strerror or exc}"
            ) from None
        return bus

    @contextmanager
    def locked(self) -> Iterator[I2cBus]:
        """Hold the bus for a multi-step transaction."""
        with self._lock:
            yield self

    def _fail(self, address: int, action: str, exc: OSError) -> HardwareError:
        if exc.errno in (errno.EREMOTEIO, errno.ENXIO, errno.EIO):
            reason = f"{action} failed: no answer (check the wiring and the address)"
        else:
            reason = f"{action} failed: {exc.strerror or exc}"
        return HardwareError(f"I2C-{self.busnum} {address:#04x}", reason)

    def read_byte_data(self, address: int, register: int) -> int:
        with self._lock:
            try:
                return int(self.smbus.read_byte_data(address, register))
            except OSError as exc:
                raise self._fail(address, f"read of register {register:#04x}", exc) from None

    def write_byte_data(self, address: int, register: int, value: int) -> None:
        with self._lock:
            try:
                self.smbus.write_byte_data(address, register, value)
            except OSError as exc:
                raise self._fail(address, f"write of register {register:#04x}", exc) from None

    def read_i2c_block_data(self, address: int, register: int, length: int) -> list[int]:
        with self._lock:
            try:
                return list(self.smbus.read_i2c_block_data(address, register, length))
            except OSError as exc:
                raise self._fail(address, f"block read at {register:#04x}", exc) from None

    def write_i2c_block_data(self, address: int, register: int, data: Sequence[int]) -> None:
        with self._lock:
            try:
                self.smbus.write_i2c_block_data(address, register, list(data))
            except OSError as exc:
                raise self._fail(address, f"block write at {register:#04x}", exc) from None

    def close(self) -> None:
        with self._lock:
            if self._smbus is not None:
                self._smbus.close()
                self._smbus = None


# --- Bosch BMP280 (datasheet BST-BMP280-DS001) -----------------------------------------------

BMP280_ADDRESSES: tuple[int, ...] = (0x76, 0x77)
BMP280_CHIP_ID = 0x58
BME280_CHIP_ID = 0x60
# The chip ids whose temperature and pressure work the BMP280 way: the BMP280's samples (0x56, 0x57)
# and production parts (0x58), and the BME280 (0x60), often sold as a "BMP280" module, which has the
# same calibration, control and data registers for T and P (and a humidity channel left unused here).
# The kernel's bmp280 driver accepts the same ids (drivers/iio/pressure/bmp280-core.c).
CHIP_NAMES: dict[int, str] = {
    0x56: "BMP280",
    0x57: "BMP280",
    BMP280_CHIP_ID: "BMP280",
    BME280_CHIP_ID: "BME280",
}
REG_CALIBRATION = 0x88  # 24 bytes, 0x88..0x9F
REG_CHIP_ID = 0xD0
REG_RESET = 0xE0
REG_STATUS = 0xF3
REG_CTRL_MEAS = 0xF4
REG_CONFIG = 0xF5
REG_DATA = 0xF7  # press_msb, press_lsb, press_xlsb, temp_msb, temp_lsb, temp_xlsb
RESET_WORD = 0xB6
STATUS_MEASURING = 0x08
MODE_FORCED = 0x01
ADC_SKIPPED = 0x80000  # what the data registers hold when a measurement was skipped or never made
_OVERSAMPLING_CODES = {1: 1, 2: 2, 4: 3, 8: 4, 16: 5}


@dataclass(frozen=True)
class Bmp280Calibration:
    """The factory trimming parameters stored in the chip's NVM."""

    dig_t1: int
    dig_t2: int
    dig_t3: int
    dig_p1: int
    dig_p2: int
    dig_p3: int
    dig_p4: int
    dig_p5: int
    dig_p6: int
    dig_p7: int
    dig_p8: int
    dig_p9: int

    _FORMAT = "<HhhHhhhhhhhh"  # T1 and P1 unsigned, the rest signed, all little endian

    @classmethod
    def from_bytes(cls, data: bytes | Sequence[int]) -> Bmp280Calibration:
        return cls(*struct.unpack(cls._FORMAT, bytes(data[:24])))

    def to_bytes(self) -> bytes:
        return struct.pack(
            self._FORMAT,
            self.dig_t1,
            self.dig_t2,
            self.dig_t3,
            self.dig_p1,
            self.dig_p2,
            self.dig_p3,
            self.dig_p4,
            self.dig_p5,
            self.dig_p6,
            self.dig_p7,
            self.dig_p8,
            self.dig_p9,
        )


# The worked example of the datasheet (section 3.12): adc_T 519888 -> 25.08 °C, adc_P 415148 -> 100653 Pa.
DATASHEET_CALIBRATION = Bmp280Calibration(
    27504, 26435, -1000, 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000
)


def _div_trunc(numerator: int, denominator: int) -> int:
    # The datasheet's formulas are C: integer division truncates toward zero, Python's floors.
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator >= 0) else -quotient


def bmp280_temperature(adc_t: int, cal: Bmp280Calibration) -> tuple[int, float]:
    """The datasheet's 32-bit integer temperature compensation: (t_fine, °C at 0.01 resolution)."""
    var1 = (((adc_t >> 3) - (cal.dig_t1 << 1)) * cal.dig_t2) >> 11
    var2 = (((((adc_t >> 4) - cal.dig_t1) * ((adc_t >> 4) - cal.dig_t1)) >> 12) * cal.dig_t3) >> 14
    t_fine = var1 + var2
    return t_fine, ((t_fine * 5 + 128) >> 8) / 100


def bmp280_pressure(adc_p: int, t_fine: int, cal: Bmp280Calibration) -> float:
    """The datasheet's 64-bit integer pressure compensation, in Pa (Q24.8 divided by 256).

    Raises ValueError for a calibration that would divide by zero.
    """
    var1 = t_fine - 128000
    var2 = var1 * var1 * cal.dig_p6
    var2 = var2 + ((var1 * cal.dig_p5) << 17)
    var2 = var2 + (cal.dig_p4 << 35)
    var1 = ((var1 * var1 * cal.dig_p3) >> 8) + ((var1 * cal.dig_p2) << 12)
    var1 = (((1 << 47) + var1) * cal.dig_p1) >> 33
    if var1 == 0:
        raise ValueError("pressure calibration gives a division by zero")
    p = 1048576 - adc_p
    p = _div_trunc(((p << 31) - var2) * 3125, var1)
    var1 = (cal.dig_p9 * (p >> 13) * (p >> 13)) >> 25
    var2 = (cal.dig_p8 * p) >> 19
    p = ((p + var1 + var2) >> 8) + (cal.dig_p7 << 4)
    return p / 256


def bmp280_measure_time_s(oversampling_t: int, oversampling_p: int) -> float:
    """The datasheet's maximum measurement time for the given oversampling."""
    return (1.25 + 2.3 * oversampling_t + 2.3 * oversampling_p + 0.575) / 1000


class Bmp280:
    """Bosch BMP280 (or BME280) temperature/pressure sensor in forced mode (one measurement per ``read``).

    The chip id and calibration are read on the first ``read`` (and again after a failure), so
    building the driver never touches the bus. ``sleep`` waits for the conversion (a few ms);
    ``start_measurement`` and ``read_result`` let a scheduler do that wait itself instead.
    """

    def __init__(
        self,
        bus: I2cBus,
        address: int = 0x76,
        *,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        oversampling_t: int = 1,
        oversampling_p: int = 1,
    ) -> None:
        for name, value in (("temperature", oversampling_t), ("pressure", oversampling_p)):
            if value not in _OVERSAMPLING_CODES:
                raise ValueError(f"invalid BMP280 {name} oversampling {value}: expected 1, 2, 4, 8 or 16")
        self.bus = bus
        self.address = address
        self.label = f"BMP280 {address:#04x}"
        self.clock = clock
        self._sleep = sleep
        self._ctrl_meas = (
            _OVERSAMPLING_CODES[oversampling_t] << 5 | _OVERSAMPLING_CODES[oversampling_p] << 2 | MODE_FORCED
        )
        self.measure_time_s = bmp280_measure_time_s(oversampling_t, oversampling_p)
        self.calibration: Bmp280Calibration | None = None
        self.chip: str | None = None  # "BMP280" or "BME280", known after the first read

    def _ensure_ready(self) -> Bmp280Calibration:
        if self.calibration is not None:
            return self.calibration
        chip_id = self.bus.read_byte_data(self.address, REG_CHIP_ID)
        if chip_id not in CHIP_NAMES:
            raise HardwareError(
                self.label,
                f"unexpected chip id {chip_id:#04x} (a BMP280 answers {BMP280_CHIP_ID:#04x}, "
                f"a BME280 {BME280_CHIP_ID:#04x})",
            )
        self.chip = CHIP_NAMES[chip_id]
        calibration = Bmp280Calibration.from_bytes(
            self.bus.read_i2c_block_data(self.address, REG_CALIBRATION, 24)
        )
        if calibration.dig_t1 == 0 or calibration.dig_p1 == 0:
            raise HardwareError(self.label, "calibration data is blank")
        self.bus.write_byte_data(self.address, REG_CONFIG, 0x00)  # no IIR filter, no SPI 3-wire
        self.calibration = calibration
        return calibration

    def start_measurement(self) -> float:
        """Trigger one forced-mode measurement; return the seconds to wait before ``read_result``."""
        with self.bus.locked():
            try:
                self._ensure_ready()
            except HardwareError:
                self.calibration = None
                raise
            self.bus.write_byte_data(self.address, REG_CTRL_MEAS, self._ctrl_meas)
        return self.measure_time_s

    def read_result(self, timeout_s: float = 0.1) -> tuple[float, float]:
        """Wait (bounded by ``timeout_s`` on the clock) for the conversion, then compensate it."""
        calibration = self.calibration
        if calibration is None:
            raise HardwareError(self.label, "no measurement started")
        with self.bus.locked():
            deadline = self.clock() + timeout_s
            while self.bus.read_byte_data(self.address, REG_STATUS) & STATUS_MEASURING:
                if self.clock() >= deadline:
                    raise HardwareError(self.label, f"measurement not finished after {timeout_s} s")
                self._sleep(0.001)
            raw = self.bus.read_i2c_block_data(self.address, REG_DATA, 6)
        adc_p = raw[0] << 12 | raw[1] << 4 | raw[2] >> 4
        adc_t = raw[3] << 12 | raw[4] << 4 | raw[5] >> 4
        if adc_t == ADC_SKIPPED or adc_p == ADC_SKIPPED:
            raise HardwareError(self.label, "no measurement data (conversion skipped)")
        t_fine, celsius = bmp280_temperature(adc_t, calibration)
        try:
            pascal = bmp280_pressure(adc_p, t_fine, calibration)
        except ValueError as exc:
            raise HardwareError(self.label, str(exc)) from None
        return celsius, pascal

    def read(self) -> tuple[float, float]:
        """One measurement: (temperature °C, pressure Pa)."""
        with self.bus.locked():
            self._sleep(self.start_measurement())
            return self.read_result()


class SimBmp280(SimI2cDevice):
    """A BMP280 register model: a forced measurement fills the ADC registers for the scripted values.

    The raw values are found by searching the datasheet's compensation (both are monotonic), so the
    driver reads back the target to the chip's resolution. Tokens: ``fail``/``corrupt`` leave the
    "skipped" ADC value, ``missing`` makes the trigger write fail as an absent chip would.
    """

    def __init__(
        self,
        temperature: SimSource | str | float = "21",
        pressure: SimSource | str | float = "101325",
        *,
        calibration: Bmp280Calibration = DATASHEET_CALIBRATION,
        chip_id: int = BMP280_CHIP_ID,
    ) -> None:
        super().__init__()
        self.temperature = SimSource.coerce(temperature, device="BMP280 (sim)")
        self.pressure = SimSource.coerce(pressure, device="BMP280 (sim)")
        self.calibration = calibration
        self.chip_id = chip_id
        self.measurements = 0
        self._power_on()

    def _power_on(self) -> None:
        self.registers[:] = bytes(256)
        self.registers[REG_CHIP_ID] = self.chip_id
        self.load(REG_CALIBRATION, self.calibration.to_bytes())
        self._store(ADC_SKIPPED, ADC_SKIPPED)

    def _store(self, adc_p: int, adc_t: int) -> None:
        self.load(REG_DATA, (adc_p >> 12, adc_p >> 4 & 0xFF, (adc_p & 0x0F) << 4))
        self.load(REG_DATA + 3, (adc_t >> 12, adc_t >> 4 & 0xFF, (adc_t & 0x0F) << 4))

    def on_write(self, register: int, value: int) -> None:
        if register == REG_RESET and value == RESET_WORD:
            self._power_on()
        elif register == REG_CTRL_MEAS and value & 0x03 in (0x01, 0x02):
            self._measure()
            # Like the chip, fall back to sleep mode once the forced measurement is done.
            self.registers[REG_CTRL_MEAS] = value & 0xFC

    def _measure(self) -> None:
        temperature = self.temperature.next_token()
        pressure = self.pressure.next_token()
        if "missing" in (temperature, pressure):
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        self.measurements += 1
        if not isinstance(temperature, float) or not isinstance(pressure, float):
            self._store(ADC_SKIPPED, ADC_SKIPPED)
            return
        adc_t = _search_adc(
            lambda adc: bmp280_temperature(adc, self.calibration)[1], temperature, increasing=True
        )
        t_fine = bmp280_temperature(adc_t, self.calibration)[0]
        adc_p = _search_adc(
            lambda adc: bmp280_pressure(adc, t_fine, self.calibration), pressure, increasing=False
        )
        self._store(adc_p, adc_t)


def _search_adc(compensate: Callable[[int], float], target: float, *, increasing: bool) -> int:
    """The 20-bit ADC value whose compensated reading is closest to ``target`` (binary search)."""
    low, high = 0, 0xFFFFF - 1  # 0xFFFFF is never produced; 0x80000 is avoided below
    while low < high:
        middle = (low + high) // 2
        value = compensate(middle)
        if (value < target) == increasing:
            low = middle + 1
        else:
            high = middle
    best = min((low - 1, low), key=lambda adc: abs(compensate(adc) - target) if adc >= 0 else float("inf"))
    return best if best != ADC_SKIPPED else best + 1
