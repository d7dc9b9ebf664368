"""The systemd unit that runs a config file as a service (replacing the original's SysV script)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def systemd_unit(config: Path, service: str, user: str = "janitoo", exe: str | None = None) -> str:
    """A unit running `jnt-node run` in the foreground, restarted on failure, under a dedicated user."""
    jnt_node = exe or shutil.which("jnt-node") or f"{sys.executable} -m janitoo_node.cli"
    return f"""[Unit]
Description=Janitoo node {service} ({config.name})
Documentation=https://pypi.org/project/janitoo/
Wants=network-online.target
After=network-online.target mosquitto.service

[Service]
Type=notify
NotifyAccess=main
ExecStart={jnt_node} run -c {config}
Restart=on-failure
RestartSec=5
User={user}
Group={user}
# GPIO, I2C and 1-wire access on a Raspberry Pi.
SupplementaryGroups=gpio i2c spi
# The node rewrites its config file on a SET of a config value; everything else stays read-only.
ProtectSystem=strict
ReadWritePaths={config.parent}
ProtectHome=true
PrivateTmp=true
NoNewPrivileges=true
TimeoutStopSec=15

[Install]
WantedBy=multi-user.target
"""
