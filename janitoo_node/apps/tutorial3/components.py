"""The tutorial3 components: the stock DHT, DS18B20, CPU and LED components under the tutorial's names."""

from __future__ import annotations

from ...bus import Bus
from ...components._common import Kind, backend_kind, sim_source
from ...components.dht import DhtComponent
from ...components.gpio import LedComponent
from ...components.hostsensor import PiCpuComponent
from ...components.onewire import Ds18b20Component
from ...config import ComponentDecl


class AmbianceComponent(DhtComponent):
    """`tutorial3.ambiance`: the DHT (sim: 21 °C, 40 %)."""


class TemperatureComponent(Ds18b20Component):
    """`tutorial3.temperature`: the DS18B20 (sim: 19.5 °C, the tutorial's reading)."""

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        self.sim = sim_source(self, "sim_temperature", "19.5", f"DS18B20 {decl.section} (sim)")


class CpuComponent(PiCpuComponent):
    """`tutorial3.cpu`: the Pi's CPU, real on a Pi and simulated elsewhere, like the bus's other parts.

    (The stock `hostsensor` bus reads any Linux host on `auto`; the tutorial's three temperatures are
    one appliance, so a PC runs them all on the simulator: 45 °C, 1000 MHz, 1.2 V.)
    """

    product_type = "Software component"

    @property
    def kind(self) -> Kind:
        return backend_kind(self.bus)


class StateLedComponent(LedComponent):
    """`tutorial3.led`: the LED showing the machine's state."""
