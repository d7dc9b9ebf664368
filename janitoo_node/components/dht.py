"""The `rpibasic` bus and `rpibasic.dht`: DHT11/DHT22/AM2302 temperature and humidity.

Backends: the kernel's dht11 IIO driver when its overlay is loaded for the component's pin (any Pi,
Pi 5 included; the device named `dht11@<hex pin>`), pigpio bit-banging otherwise on a Pi 1 to 4 (pigpio
does not support the BCM2712 of a Pi 5), and the simulator. Unlike the original (two full reads per poll, up to 30 s of
retries under a lock), one sensor transaction per poll feeds both values: the backend keeps its last
outcome for `cache_s` seconds, and its retries are bounded to a couple of seconds.
"""

from __future__ import annotations

import logging

from ..bus import Bus, BusContext, Component
from ..config import ComponentDecl
from ..hardware.dht import DhtReader, IioDht, PigpioDht, SimDht, check_model, find_iio_dht, iio_dht_devices
from ..hardware.errors import HardwareError
from ..hardware.platform import is_raspberry_pi, is_raspberry_pi_5
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
        self._build_failure: tuple[float, HardwareError] | None = None
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
        self._build_failure = None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def stop(self) -> None:
        self._forget_reader()

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
        label = f"DHT{model} GPIO{pin}"
        if find_iio_dht(ctx.root, pin) is not None:
            # Looked up by pin at each read: the device index may change from one boot to the next.
            return IioDht(ctx.root, pin=pin, clock=ctx.clock, cache_s=self.cache_s)
        overlay = f"add dtoverlay=dht11,gpiopin={pin} to /boot/firmware/config.txt and reboot"
        others = ", ".join(name for _i, name, _p in iio_dht_devices(ctx.root))
        if others:
            overlay += f" (dht11 devices found: {others})"
        if is_raspberry_pi_5(ctx.root):
            raise HardwareError(
                label, f"no dht11 IIO device for this pin and pigpio does not run on a Pi 5: {overlay}"
            )
        if is_raspberry_pi(ctx.root):
            try:
                return PigpioDht(pin, model, clock=ctx.clock, cache_s=self.cache_s)
            except HardwareError as exc:
                raise HardwareError(label, f"{exc.reason}; or {overlay}") from None
        raise HardwareError(
            label, f"no dht11 IIO device and not a Raspberry Pi: {overlay}, or use backend = sim"
        )

    def read(self) -> tuple[float, float]:
        """(temperature °C, humidity %), one sensor transaction shared by both values."""
        now = self.bus.ctx.clock()
        try:
            if self._reader is None:
                # Built on first use (on the bus worker); retried at the next poll when it failed, not by
                # the second value of the same poll (one daemon connection attempt per poll).
                failed = self._build_failure
                if failed is not None and now - failed[0] < self.cache_s:
                    raise HardwareError(failed[1].device, failed[1].reason)
                try:
                    self._reader = self.make_reader()
                except HardwareError as exc:
                    self._build_failure = (now, exc)
                    raise
                self._build_failure = None
            reading = self._reader.read()
        except HardwareError as exc:
            self.failure = str(exc)
            raise
        self.failure = None
        return reading

    def check_heartbeat(self) -> str | None:
        # The last sensor transaction decides, whichever of the two values asked for it.
        return FAILED if self.failure is not None else None
