"""The `rpii2c` bus (one I2C bus, one lock) and `rpii2c.bmp280`, a Bosch BMP280 temperature/pressure sensor.

In sim mode the bus is a set of register maps and each BMP280 component puts a simulated chip at its
address, fed by `sim_temperature` / `sim_pressure`, so the real driver and its compensation run.
Unlike the original, the bus runs no modprobe: `dtparam=i2c_arm=on` is the system's business.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ..bus import Bus, BusContext, Component
from ..config import ComponentDecl
from ..hardware.errors import HardwareError
from ..hardware.i2c import Bmp280, I2cBus, SimBmp280, SimI2cBus
from ..values import Value, make_value, with_companions
from ._common import FAILED, SharedReading, backend_kind, sim_source, store_then

log = logging.getLogger("janitoo.components.i2c")

DEFAULT_BUSNUM = 1  # the original's None: Adafruit's default, bus 1 on every Pi since revision 2


class RpiI2cBus(Bus):
    """The I2C bus: shares `i2c` (an I2cBus, locked per transaction) with its components."""

    oid = "rpii2c"
    product_name = "Raspberry I2C bus"

    def __init__(self, ctx: BusContext) -> None:
        super().__init__(ctx)
        self.kind = backend_kind(self)
        self.i2c: I2cBus | None = None

    def create_values(self) -> list[Value]:
        return [make_value("config_integer", f"{self.oid}_busnum", help="The I2C bus number (1 on every Pi "
                           "since revision 2)", label="Bus", min=0)]  # fmt: skip

    @property
    def busnum(self) -> int:
        data = self.value(f"{self.oid}_busnum").cached()
        return DEFAULT_BUSNUM if data is None else int(data)

    def start(self) -> None:
        self.i2c = I2cBus(self.busnum, self.kind)
        if self.kind == "real" and not self.device_present():
            log.error("[%s] /dev/i2c-%d not found: enable it with dtparam=i2c_arm=on", self.ctx.section,
                      self.busnum)  # fmt: skip

    def device_present(self) -> bool:
        return (self.ctx.root / "dev" / f"i2c-{self.busnum}").exists()

    def check_heartbeat(self) -> str | None:
        if self.i2c is None or (self.kind == "real" and not self.device_present()):
            return FAILED
        return None

    def stop(self) -> None:
        i2c, self.i2c = self.i2c, None
        if i2c is not None:
            i2c.close()


class Bmp280Component(Component):
    """A BMP280 at `addr` (0x76 or 0x77): `temperature` (°C) and `pressure` (Pa) from one measurement."""

    product_name = "BMP280 sensor"
    product_type = "Temperature/pressure sensor"
    default_name = "BMP280"

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        self.sim_temperature = sim_source(self, "sim_temperature", "21", f"BMP280 {decl.section} (sim)")
        self.sim_pressure = sim_source(self, "sim_pressure", "101325", f"BMP280 {decl.section} (sim)")
        self.driver: Bmp280 | None = None
        self.shared = SharedReading(self._measure, bus.ctx.clock, hold=1.0)

    def create_values(self) -> list[Value]:
        self.temperature = make_value("sensor_temperature", "temperature", help="The temperature", label="Temp",
                                      poll_delay=300, reader=lambda v, i: self.shared.get()[0])  # fmt: skip
        self.pressure = make_value("sensor_pressure", "pressure", help="The pressure", label="Press",
                                   poll_delay=300, reader=lambda v, i: self.shared.get()[1])  # fmt: skip
        self.addr = make_value("config_integer", "addr", help="The I2C address of the BMP280 (0x76 or 0x77)",
                               label="Addr", default=0x76, set=store_then(self._forget_driver))  # fmt: skip
        return [*with_companions(self.temperature), *with_companions(self.pressure), self.addr]

    @property
    def address(self) -> int:
        return int(self.addr.cached())

    @property
    def i2c(self) -> I2cBus | None:
        # Any bus sharing an `i2c` I2cBus (an aggregating bus too) can carry this component.
        return getattr(self.bus, "i2c", None)

    def start(self) -> None:
        self._forget_driver()

    def _forget_driver(self) -> None:
        self.driver = None
        self.shared.invalidate()

    def _driver(self) -> Bmp280:
        if self.driver is not None:
            return self.driver
        i2c = self.i2c
        if i2c is None:
            raise HardwareError(f"BMP280 {self.address:#04x}", f"no I2C bus on {self.bus.oid}")
        sleep: Callable[[float], None] = time.sleep
        smbus = i2c.smbus
        if isinstance(smbus, SimI2cBus):
            if self.address not in smbus.devices:
                smbus.add_device(self.address, SimBmp280(self.sim_temperature, self.sim_pressure))
            sleep = _no_wait  # a simulated conversion is done at once
        self.driver = Bmp280(i2c, self.address, clock=self.bus.ctx.clock, sleep=sleep)
        return self.driver

    def _measure(self) -> tuple[float, float]:
        return self._driver().read()

    def check_heartbeat(self) -> str | None:
        # The last measurement decides, whichever of the two values asked for it.
        return FAILED if self.shared.failure is not None else None


def _no_wait(seconds: float) -> None:
    pass
