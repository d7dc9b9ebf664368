"""Bus, component and value registries: built-ins plus the `janitoo.threads` / `janitoo.components` /
`janitoo.values` entry points, each plugin imported when a config first names it."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

log = logging.getLogger("janitoo.plugins")

# The built-in plugins, also declared as entry points in pyproject.toml for other tools (a test keeps the two
# the same). Found here by name: scanning the installed distributions (importlib.metadata, and the email
# parser it loads) would cost every node about 1.5 MB that stays resident, for plugins it mostly does not
# use. Other packages' plugins are still found through their entry points; a built-in name is never taken
# over by another package.
BUILTIN: Mapping[str, Mapping[str, str]] = {
    "janitoo.threads": {
        "fake": "janitoo_node.buses.fake:FakeBus",
        "rpigpio": "janitoo_node.components.gpio:GpioBus",
        "rpi1wire": "janitoo_node.components.onewire:OneWireBus",
        "rpibasic": "janitoo_node.components.dht:BasicBus",
        "hostsensor": "janitoo_node.components.hostsensor:HostSensorBus",
        "rpii2c": "janitoo_node.components.i2c:RpiI2cBus",
        "tutorial3": "janitoo_node.apps.tutorial3:Tutorial3Bus",
    },
    "janitoo.components": {
        "fake.component": "janitoo_node.buses.fake:FakeComponent",
        "rpigpio.led": "janitoo_node.components.gpio:LedComponent",
        "rpigpio.output": "janitoo_node.components.gpio:OutputComponent",
        "rpigpio.input": "janitoo_node.components.gpio:InputComponent",
        "rpigpio.pir": "janitoo_node.components.gpio:PirComponent",
        "rpi1wire.ds18b20": "janitoo_node.components.onewire:Ds18b20Component",
        "rpibasic.dht": "janitoo_node.components.dht:DhtComponent",
        "hostsensor.picpu": "janitoo_node.components.hostsensor:PiCpuComponent",
        "hostsensor.load": "janitoo_node.components.hostsensor:LoadComponent",
        "hostsensor.uptime": "janitoo_node.components.hostsensor:UptimeComponent",
        "rpii2c.bmp280": "janitoo_node.components.i2c:Bmp280Component",
        "tutorial3.ambiance": "janitoo_node.apps.tutorial3:AmbianceComponent",
        "tutorial3.temperature": "janitoo_node.apps.tutorial3:TemperatureComponent",
        "tutorial3.cpu": "janitoo_node.apps.tutorial3:CpuComponent",
        "tutorial3.led": "janitoo_node.apps.tutorial3:StateLedComponent",
    },
    "janitoo.values": {},
}

_BROKEN = object()  # a plugin that failed to load: reported once, then missing


class Registry(Mapping[str, Any]):
    """name -> factory for one entry-point group; a plugin is imported on its first lookup.

    A plugin that cannot be loaded is logged (once) and is missing: one broken plugin must not stop
    the others.
    """

    def __init__(self, group: str) -> None:
        self.group = group
        self._builtin = BUILTIN.get(group, {})
        self._loaded: dict[str, Any] = {}
        self._others: dict[str, Any] | None = None  # other packages' entry points, once looked for

    def _entry_points(self) -> dict[str, Any]:
        if self._others is None:
            from importlib.metadata import entry_points

            self._others = {
                ep.name: ep for ep in entry_points(group=self.group) if ep.name not in self._builtin
            }
        return self._others

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        found = self._loaded[name]
        if found is _BROKEN:
            raise KeyError(name)
        return found

    def _load(self, name: str) -> Any:
        target = self._builtin.get(name)
        try:
            if target is not None:
                module, _, attr = target.partition(":")
                return getattr(importlib.import_module(module), attr)
            ep = self._entry_points().get(name)
            if ep is None:
                return _BROKEN
            target = ep.value
            return ep.load()
        except Exception as exc:  # one broken plugin must not stop the others
            log.error("entry point %s = %s (group %s) cannot be loaded: %s", name, target, self.group, exc)
            return _BROKEN

    def __iter__(self) -> Iterator[str]:
        yield from self._builtin
        yield from self._entry_points()

    def __len__(self) -> int:
        return len(self._builtin) + len(self._entry_points())


def bus_factories() -> Registry:
    """oid -> bus class (or factory taking a BusContext)."""
    return Registry("janitoo.threads")


def component_factories() -> Registry:
    """`<bus oid>.<kind>` -> component class (or factory taking (bus, decl))."""
    return Registry("janitoo.components")


@cache
def value_factories() -> Registry:
    """Extra value factories from other packages (the built-in catalogue is in values.CATALOGUE)."""
    return Registry("janitoo.values")
