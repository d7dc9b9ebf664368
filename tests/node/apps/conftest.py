"""The HelloWorld V3 appliance on its sim backends, driven by hand: ManualScheduler, InlineWorker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from janitoo_node.apps.demo import example_config_text
from janitoo_node.apps.tutorial3 import CpuComponent, TemperatureComponent, Tutorial3Bus
from janitoo_node.config import JanitooConfig
from janitoo_node.hardware.gpio import SimGpio
from tests.node.components.conftest import Rig

CONTROLLER = "0225/0000"
LED = "0225/0004"
LED_PIN = 19


class Appliance:
    """A rig on a copy of the example, with handles on the parts the tests drive."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig

    @property
    def bus(self) -> Tutorial3Bus:
        bus = self.rig.bus("tutorial3")
        assert isinstance(bus, Tutorial3Bus)
        return bus

    @property
    def state(self) -> str:
        return self.bus.machine.state

    def advance(self, seconds: float) -> None:
        self.rig.scheduler.advance(seconds)

    @property
    def now(self) -> float:
        return self.rig.scheduler.now

    def gpio(self) -> SimGpio:
        gpio = self.bus.gpio
        assert isinstance(gpio, SimGpio)
        return gpio

    def heat(self, ds18b20: float | str, cpu: float | str) -> None:
        """Script the next readings of the DS18B20 and the CPU (the DHT11 only reads 0..50 °C)."""
        temperature = self.bus.component(TemperatureComponent)
        cpu_comp = self.bus.component(CpuComponent)
        assert temperature is not None and cpu_comp is not None
        temperature.sim.set(ds18b20)
        cpu_comp.cpu.sim_temperature.set(cpu)

    def trigger(self, uuid: str, word: str) -> str | None:
        """SET a trigger value as the network would; returns the refusal's reason, or None."""
        genre, cmd_class = (1, 4272) if uuid == "tutorial3_transition" else (2, 0)
        reply = self.rig.reply(CONTROLLER, uuid, genre, cmd_class, word)
        return reply.value.extra.get("error")


@pytest.fixture
def appliance_for(tmp_path: Path) -> Iterator[Callable[..., Appliance]]:
    """`appliance_for(**keys)`: the example config (backend sim, slow_start 0 unless given), plus
    `(section, key) = value` overrides, built and (unless start=False) started."""
    rigs: list[Rig] = []

    def make(*, start: bool = True, backend: str = "sim", overrides: dict[tuple[str, str], object] | None = None
             ) -> Appliance:  # fmt: skip
        conf = tmp_path / f"helloworldv3-{len(rigs)}.conf"
        conf.write_text(example_config_text(), encoding="utf-8")
        cfg = JanitooConfig(conf)
        settings = {("tutorial3", "backend"): backend, ("system", "slow_start"): 0, **(overrides or {})}
        for (section, key), value in settings.items():
            cfg.set(section, key, value)
        root = tmp_path / f"root{len(rigs)}"
        root.mkdir()
        rig = Rig(conf, root)
        rigs.append(rig)
        if start:
            rig.start()
        return Appliance(rig)

    yield make
    for rig in rigs:
        rig.stop()


@pytest.fixture
def appliance(appliance_for: Callable[..., Appliance]) -> Appliance:
    return appliance_for()
