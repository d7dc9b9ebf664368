"""The `rpibasic` bus and `rpibasic.dht`: DHT11/DHT22/AM2302 temperature and humidity.

Backends: the kernel's dht11 IIO driver when it is loaded (any Pi, Pi 5 included), pigpio bit-banging
otherwise on a Pi, and the simulator. Unlike the original (two full reads per poll, up to 30 s of
retries under a lock), one sensor transaction per poll feeds both values: the backend keeps its last
outcome for `cache_s` seconds, and its retries are bounded to a couple of seconds.
"""

from __future__ import annotations

import logging

from ..bus import Bus, BusContext, Component
from ..config import ComponentDecl
from ..hardware.dht import DhtReader, IioDht, PigpioDht, SimDht, check_model, find_iio_dht
from ..hardware.errors import HardwareError
from ..hardware.platform import is_raspberry_pi
from ..values import Value, make_value, with_companions
from ._common import FAILED, backend_kind, sim_source, store_then

log = logging.getLogger("janitoo.components.dht")


class BasicBus(Bus):
    """The plain Raspberry bus of the original `janitoo_raspberry` package: no shared resource."""

    oid = "rpibasic"
    product_name = "Raspberry basic controller"

    def __init__(self, ctx: BusContext) -> None:
        super().__init__(ctx)
        self.kind = backend_kind(self)


class DhtComponent(Component):
    """A DHT11, DHT22 or AM2302 on one GPIO pin (BCM): `temperature` and `humidity` from one read."""

    product_name = "DHT"
    product_type = "Temperature/humidity sensor"
    default_name = "Input"
    cache_s = 2.0  # a DHT answers at most every ~2 s; both values of one poll share the read

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        self.sim_temperature = sim_source(self, "sim_temperature", "21", f"DHT {decl.section} (sim)")
        self.sim_humidity = sim_source(self, "sim_humidity", "40", f"DHT {decl.section} (sim)")
        self._reader: DhtReader | None = None
        self.failure: str | None = None

    def create_values(self) -> list[Value]:
        rebuild = store_then(self._forget_reader)
        self.pin = make_value("config_integer", "pin", help="The pin number on the board", label="Pin", default=1,
                              set=rebuild)  # fmt: skip
        self.sensor = make_value("config_integer", "sensor", help="The sensor type : 11,22,2302", label="Type",
                                 default=11, set=rebuild)  # fmt: skip
        self.temperature = make_value("sensor_temperature", "temperature", help="The temperature", label="Temp",
                                      poll_delay=300, reader=lambda v, i: self.read()[0])  # fmt: skip
        self.humidity = make_value("sensor_humidity", "humidity", help="The humidity", label="Hum",
                                   poll_delay=300, reader=lambda v, i: self.read()[1])  # fmt: skip
        return [self.pin, self.sensor, *with_companions(self.temperature), *with_companions(self.humidity)]

    def _forget_reader(self) -> None:
        self._reader = None

    @property
    def kind(self) -> str:
        return str(getattr(self.bus, "kind", None) or backend_kind(self.bus))

    def make_reader(self) -> DhtReader:
        """The backend for the current pin and sensor type (HardwareError when there is none)."""
        pin = int(self.pin.cached())
        try:
            model = check_model(int(self.sensor.cached()))
        except ValueError as exc:
            raise HardwareError(f"DHT GPIO{pin}", str(exc)) from None
        ctx = self.bus.ctx
        if self.kind == "sim":
            return SimDht(self.sim_temperature, self.sim_humidity, model=model, clock=ctx.clock,
                          cache_s=self.cache_s, device=f"DHT{model} GPIO{pin} (sim)")  # fmt: skip
        index = find_iio_dht(ctx.root)
        if index is not None:
            return IioDht(ctx.root, index, clock=ctx.clock, cache_s=self.cache_s)
        if is_raspberry_pi(ctx.root):
            return PigpioDht(pin, model, clock=ctx.clock, cache_s=self.cache_s)
        raise HardwareError(f"DHT{model} GPIO{pin}", "no dht11 IIO device and not a Raspberry Pi: "
                            "enable dtoverlay=dht11,gpiopin=<pin> or use backend = sim")  # fmt: skip

    def read(self) -> tuple[float, float]:
        """(temperature °C, humidity %), one sensor transaction shared by both values."""
        try:
            if self._reader is None:
                # Built on first use (on the bus worker); retried at the next poll when it failed.
                self._reader = self.make_reader()
            reading = self._reader.read()
        except HardwareError as exc:
            self.failure = str(exc)
            raise
        self.failure = None
        return reading

    def check_heartbeat(self) -> str | None:
        # The last sensor transaction decides, whichever of the two values asked for it.
        return FAILED if self.failure is not None else None
