"""Bus and component registries: built-ins plus the `janitoo.threads` / `janitoo.components` entry points."""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import entry_points
from typing import Any

log = logging.getLogger("janitoo.plugins")


def _load(group: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in entry_points(group=group):
        try:
            found[ep.name] = ep.load()
        except Exception as exc:  # one broken plugin must not stop the others
            log.error("entry point %s = %s (group %s) cannot be loaded: %s", ep.name, ep.value, group, exc)
    return found


def bus_factories() -> dict[str, Any]:
    """oid -> bus class (or factory taking a BusContext)."""
    return _load("janitoo.threads")


def component_factories() -> dict[str, Any]:
    """`<bus oid>.<kind>` -> component class (or factory taking (bus, decl))."""
    return _load("janitoo.components")


@cache
def value_factories() -> dict[str, Any]:
    """Extra value factories from other packages (the built-in catalogue is in values.CATALOGUE)."""
    return _load("janitoo.values")
