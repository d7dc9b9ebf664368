"""janitoo_ha: the Home Assistant bridge; every Janitoo node appears in Home Assistant through MQTT discovery."""

from __future__ import annotations

__version__ = "0.1.0"
