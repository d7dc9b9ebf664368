"""The `rpi1wire` bus and `rpi1wire.ds18b20`: DS18B20 sensors read from the kernel's 1-wire sysfs tree.

In sim mode the bus writes a fake sysfs tree (in a temporary folder, or under the runtime's root when it
is not `/`) whose `w1_slave` files follow each sensor's scripted readings, so the real parser runs.
Unlike the original, the bus runs no modprobe: the w1-gpio overlay is the system's business.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from ..bus import Bus, BusContext, Component
from ..config import ComponentDecl
from ..hardware.errors import HardwareError
from ..hardware.onewire import check_hexadd, onewire_bus_present, read_ds18b20, sensors_path
from ..hardware.sim import SimOneWireTree, SimSource
from ..values import Value, ValueRefused, make_value, with_companions
from ._common import FAILED, Kind, backend_kind, failed_if_any, sim_source

log = logging.getLogger("janitoo.components.onewire")

DEFAULT_SENSORS_DIR = "/sys/bus/w1/devices/"
DEFAULT_HEXADD = "28-000005e2fdc3"


class OneWireMaster:
    """One 1-wire master: reads DS18B20 files under a root, real or simulated (a SimOneWireTree)."""

    def __init__(self, root: Path, kind: Kind, sensors_dir: str = DEFAULT_SENSORS_DIR) -> None:
        self.kind = kind
        self.sensors_dir = sensors_dir or DEFAULT_SENSORS_DIR
        sensors_path(root, self.sensors_dir)  # HardwareError before anything is created
        self._tmp: Path | None = None
        self.tree: SimOneWireTree | None = None
        self.root = root
        if kind == "sim":
            if root.resolve() == Path("/"):
                self._tmp = Path(tempfile.mkdtemp(prefix="jnt-1wire-"))
                self.root = self._tmp
            self.tree = SimOneWireTree(self.root, self.sensors_dir)
        # Sensors whose first reading add() already wrote: the first read must not skip it.
        self._fresh: set[str] = set()

    def add_sim(self, hexadd: str, source: SimSource) -> None:
        """Put a simulated sensor on the bus (sim mode only; once per address)."""
        if self.tree is None or hexadd in self.tree.devices:
            return
        try:
            self.tree.add(hexadd, source)
        except HardwareError as exc:
            log.error("%s", exc)
        self._fresh.add(hexadd)

    def read(self, hexadd: str) -> float:
        """The sensor's temperature in °C; HardwareError when it is missing or its reading is bad."""
        tree = self.tree
        if tree is not None and hexadd in tree.devices:
            if hexadd in self._fresh:
                self._fresh.discard(hexadd)
            else:
                tree.refresh(hexadd)
        return read_ds18b20(self.root, hexadd, self.sensors_dir)

    def present(self, hexadd: str) -> bool:
        try:
            return (sensors_path(self.root, self.sensors_dir) / check_hexadd(hexadd)).is_dir()
        except HardwareError:
            return False

    def bus_present(self) -> bool:
        return onewire_bus_present(self.root, self.sensors_dir)

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


class OneWireBus(Bus):
    """The 1-wire bus: ONLINE while its sensors directory exists."""

    oid = "rpi1wire"
    product_name = "Raspberry 1Wire bus"

    def __init__(self, ctx: BusContext) -> None:
        super().__init__(ctx)
        self.kind = backend_kind(self)
        self.onewire: OneWireMaster | None = None

    def create_values(self) -> list[Value]:
        return [make_value("config_string", f"{self.oid}_sensors_dir", help="The sensor directory", label="dir.",
                           default=DEFAULT_SENSORS_DIR, set=self._sensors_dir_set)]  # fmt: skip

    def _sensors_dir_set(self, value: Value, index: int, data: object) -> None:
        # Applied at the next start; refused now when it would lead outside /sys.
        try:
            sensors_path(self.ctx.root, str(data))
        except HardwareError as exc:
            raise ValueRefused(exc.reason) from None

    def start(self) -> None:
        sensors_dir = str(self.value(f"{self.oid}_sensors_dir").cached() or DEFAULT_SENSORS_DIR)
        try:
            self.onewire = OneWireMaster(self.ctx.root, self.kind, sensors_dir)
        except Exception as exc:  # noqa: BLE001 - a bad path or an unwritable sim tree is a FAILED bus
            log.error("[%s] %s: the bus is FAILED", self.ctx.section, exc)
            return
        if not self.onewire.bus_present():
            log.error("[%s] %s not found under %s: enable it with dtoverlay=w1-gpio,gpiopin=4",
                      self.ctx.section, sensors_dir, self.onewire.root)  # fmt: skip

    def check_heartbeat(self) -> str | None:
        return None if self.onewire is not None and self.onewire.bus_present() else FAILED

    def stop(self) -> None:
        master, self.onewire = self.onewire, None
        if master is not None:
            master.close()


class Ds18b20Component(Component):
    """A DS18B20 by its 1-wire address; FAILED while its last read failed or the device is missing."""

    product_name = "DS18B20 sensor"
    product_type = "Temperature sensor"
    default_name = "Onewire DS18B20 sensor"

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        self.sim = sim_source(self, "sim_temperature", "21.5", f"DS18B20 {decl.section} (sim)")

    def create_values(self) -> list[Value]:
        self.temperature = make_value("sensor_temperature", "temperature", help="The temperature", label="Temp",
                                      poll_delay=300, reader=lambda v, i: self.read())  # fmt: skip
        self.hexadd = make_value("config_string", "hexadd", help="The hexadecimal address of the DS18B20",
                                 label="Addr", default=DEFAULT_HEXADD, set=self._hexadd_set)  # fmt: skip
        return [*with_companions(self.temperature), self.hexadd]

    @property
    def master(self) -> OneWireMaster | None:
        # Any bus sharing a `onewire` master (an aggregating bus too) can carry this component.
        return getattr(self.bus, "onewire", None)

    @property
    def address(self) -> str:
        return str(self.hexadd.cached() or DEFAULT_HEXADD).strip()

    def start(self) -> None:
        if self.master is not None:
            self.master.add_sim(self.address, self.sim)

    def _hexadd_set(self, value: Value, index: int, data: object) -> None:
        hexadd = str(data).strip()
        try:
            check_hexadd(hexadd)
        except HardwareError as exc:
            raise ValueRefused(exc.reason) from None
        if self.master is not None:
            self.master.add_sim(hexadd, self.sim)

    def read(self) -> float:
        master = self.master
        if master is None:
            raise HardwareError(f"DS18B20 {self.address}", f"no 1-wire bus on {self.bus.oid}")
        return master.read(self.address)

    def check_heartbeat(self) -> str | None:
        master = self.master
        if master is None or not master.present(self.address):
            return FAILED
        return failed_if_any([self.temperature])
