"""janitoo_cli: `jnt`, the command line to look at and drive a Janitoo network (and the original's `jnt_query`/`jnt_spy`)."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
