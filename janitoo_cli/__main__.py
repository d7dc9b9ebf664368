"""`python -m janitoo_cli`: the same as `jnt`."""

from .main import cli

cli()
