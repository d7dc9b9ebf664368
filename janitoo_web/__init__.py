"""janitoo_web: the browser front end of a Janitoo network (`jnt web`), speaking the wire through janitoo_protocol only."""

from __future__ import annotations

__version__ = "0.1.0"
