"""The systemd unit that runs `jnt bridge homeassistant` as a service, its settings in an environment file."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

DEFAULT_ENV_FILE = Path("/etc/janitoo/ha-bridge.env")


def systemd_unit(env_file: Path = DEFAULT_ENV_FILE, user: str = "janitoo", exe: str | None = None) -> str:
    """A unit running the bridge in the foreground, restarted on failure, under a dedicated user.

    The broker, prefixes and credentials come from `env_file` (JNT_HOST=..., JNT_PASSWORD=...), so the
    password is in neither the unit nor the process list.
    """
    jnt = exe or shutil.which("jnt") or f"{sys.executable} -m janitoo_cli"
    return f"""[Unit]
Description=Janitoo to Home Assistant bridge (MQTT discovery)
Documentation=https://pypi.org/project/janitoo/
Wants=network-online.target
After=network-online.target mosquitto.service

[Service]
Type=simple
EnvironmentFile=-{env_file}
ExecStart={jnt} bridge homeassistant
Restart=on-failure
RestartSec=5
User={user}
Group={user}
# It only talks MQTT: no file is written, no device is opened.
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true
PrivateDevices=true
NoNewPrivileges=true
TimeoutStopSec=15

[Install]
WantedBy=multi-user.target
"""
