"""The `hostsensor` bus: the host's CPU (`picpu`), load averages (`load`) and uptime (`uptime`).

`backend = auto` reads the real host on any Linux machine (a plain PC reports its own CPU temperature
and frequency where it has them), unlike the other buses where auto means "real only on a Pi". In sim
mode the CPU values follow `sim_temperature`, `sim_frequency` and `sim_voltage`; load and uptime keep
reading the host unless `sim_load` / `sim_uptime` script them.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from janitoo_protocol import Genre, ValueType

from ..bus import Bus, BusContext, Component
from ..config import ComponentDecl
from ..hardware.errors import HardwareError
from ..hardware.host import HostCpu
from ..hardware.sim import SimSource
from ..values import CATALOGUE, Value, ValueRefused, make_value, with_companions
from ._common import Kind, backend_kind, failed_if_any, sim_source

log = logging.getLogger("janitoo.components.hostsensor")

LOAD_INSTANCES = ("1 minutes", "5 minutes", "15 minutes")
# The original's load and uptime: factory `sensor_float` made basic (genre 1), no units.
_BASIC_FLOAT = replace(CATALOGUE["sensor_float"], genre=Genre.BASIC)


def host_kind(bus: Bus) -> Kind:
    """auto = the real host on Linux (sysfs, /proc), the simulator elsewhere."""
    if (bus.ctx.backend or "auto").strip().lower() == "auto":
        return "real" if sys.platform.startswith("linux") else "sim"
    return backend_kind(bus)


def _is_host_root(root: Path) -> bool:
    return root.resolve() == Path("/")


class HostSensorBus(Bus):
    """The host sensor controller: no shared resource, its components read the host."""

    oid = "hostsensor"
    product_name = "Host sensor controller"

    def __init__(self, ctx: BusContext) -> None:
        super().__init__(ctx)
        self.kind = host_kind(self)


class _HostComponent(Component):
    product_manufacturer = "Janitoo"

    @property
    def kind(self) -> Kind:
        return host_kind(self.bus)


class PiCpuComponent(_HostComponent):
    """The CPU's temperature, frequency (MHz), core voltage and governor, through hardware.host.HostCpu."""

    product_name = "CPU sensors"
    product_type = "Hardware sensor"
    default_name = "Raspberry pi CPU"

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        ctx = bus.ctx
        self.cpu = HostCpu(
            ctx.root,
            self.kind,
            ctx.clock,
            sim_temperature=sim_source(self, "sim_temperature", "45", "CPU temperature (sim)"),
            sim_frequency=sim_source(self, "sim_frequency", "1000", "CPU frequency (sim)"),
            sim_voltage=sim_source(self, "sim_voltage", "1.2", "CPU voltage (sim)"),
        )

    def create_values(self) -> list[Value]:
        cpu = self.cpu
        self.temperature = make_value("sensor_temperature", "temperature", help="The temperature of the CPU",
                                      label="CPUTemp", poll_delay=300,
                                      reader=lambda v, i: cpu.temperature())  # fmt: skip
        self.frequency = make_value("sensor_frequency", "frequency", help="The frequency of the CPU",
                                    label="CPUFreq", poll_delay=300, reader=lambda v, i: cpu.frequency())  # fmt: skip
        self.voltage = make_value("sensor_voltage", "voltage", help="The voltage of the CPU", label="CPUVolt",
                                  poll_delay=300, reader=lambda v, i: cpu.voltage())  # fmt: skip
        self.governor = make_value("action_string", "cpu_governor", help="Change the cpu governor",
                                   label="governor", default="conservative", poll_delay=300,
                                   reader=lambda v, i: cpu.governor(), set=self._set_governor)  # fmt: skip
        return [*with_companions(self.temperature), *with_companions(self.frequency),
                *with_companions(self.voltage), *with_companions(self.governor)]  # fmt: skip

    def _set_governor(self, value: Value, index: int, data: Any) -> None:
        # Checked against the kernel's list, written to sysfs: never a shell (the original's hole).
        try:
            self.cpu.set_governor(str(data).strip())
        except (ValueError, HardwareError) as exc:
            raise ValueRefused(str(exc)) from None

    def check_heartbeat(self) -> str | None:
        # The voltage is None off a Pi and the governor absent in many VMs: neither makes the node FAILED.
        return failed_if_any([self.temperature, self.frequency])


class LoadComponent(_HostComponent):
    """The load averages: one instance per `load_config_<i>` (1, 5 and 15 minutes by default)."""

    product_name = "Load statistics"
    product_type = "Software component"
    default_name = "Load"

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        self.sims: list[SimSource] | None = None
        if self.kind == "sim" and self.option("sim_load"):
            self.sims = [sim_source(self, "sim_load", "0", f"load {i} (sim)") for i in range(3)]

    def create_values(self) -> list[Value]:
        self.load = Value("load", _BASIC_FLOAT, entry_name="sensor_float", help="The load average", label="Load",
                          poll_delay=60, reader=lambda v, i: self.read(i))  # fmt: skip
        values = with_companions(self.load, config=True, config_help="The load average index (1, 5, and 15m)",
                                 config_type=ValueType.BYTE, config_label="loadavg")  # fmt: skip
        config = self.load.config_value
        assert config is not None
        if self.option("load_config_0") is None:
            # Three instances unless the config says otherwise (the node then reads its keys instead).
            for i, text in enumerate(LOAD_INSTANCES):
                self.load.instance_configs[i] = text
                config.store(text, i)
        return values

    def read(self, index: int) -> float:
        if not 0 <= index <= 2:
            raise HardwareError(
                "load", f"no load average for index {index}: 0, 1 and 2 are 1, 5 and 15 minutes"
            )
        if self.sims is not None:
            return self.sims[index].read()
        root = self.bus.ctx.root
        try:
            fields = (root / "proc/loadavg").read_text(encoding="ascii").split()
            return float(fields[index])
        except (OSError, ValueError, IndexError) as exc:
            if not _is_host_root(root):
                raise HardwareError("load", f"cannot read {root / 'proc/loadavg'}: {exc}") from None
        try:
            return os.getloadavg()[index]
        except OSError as exc:
            raise HardwareError("load", f"no load average on this system: {exc}") from None

    def check_heartbeat(self) -> str | None:
        return failed_if_any([self.load])


class UptimeComponent(_HostComponent):
    """The host's uptime in seconds."""

    product_name = "Uptime statistics"
    product_type = "Software component"
    default_name = "Uptime"

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        self.sim: SimSource | None = None
        if self.kind == "sim" and self.option("sim_uptime"):
            self.sim = sim_source(self, "sim_uptime", "0", "uptime (sim)")

    def create_values(self) -> list[Value]:
        self.uptime = Value("uptime", _BASIC_FLOAT, entry_name="sensor_float", help="Uptime in seconds",
                            label="Uptime", poll_delay=300, reader=lambda v, i: self.read())  # fmt: skip
        return with_companions(self.uptime)

    def read(self) -> float:
        if self.sim is not None:
            return self.sim.read()
        root = self.bus.ctx.root
        try:
            return round(float((root / "proc/uptime").read_text(encoding="ascii").split()[0]), 2)
        except (OSError, ValueError, IndexError) as exc:
            if not _is_host_root(root):
                raise HardwareError("uptime", f"cannot read {root / 'proc/uptime'}: {exc}") from None
        import psutil

        try:
            return round(time.time() - psutil.boot_time(), 2)
        except (OSError, RuntimeError) as exc:
            raise HardwareError("uptime", f"no uptime on this system: {exc}") from None

    def check_heartbeat(self) -> str | None:
        return failed_if_any([self.uptime])
