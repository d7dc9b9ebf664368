"""The systemd unit that runs `jnt bridge homeassistant` as a service, its settings in an environment file."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

DEFAULT_ENV_FILE = Path("/etc/janitoo/ha-bridge.env")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


def _word(text: str) -> str:
    """One word of an ExecStart line: `%` doubled (it starts a specifier), quoted when it has spaces."""
    escaped = text.replace("%", "%%")
    if any(c.isspace() for c in escaped) or '"' in escaped or "\\" in escaped:
        escaped = '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return escaped


def systemd_unit(env_file: Path = DEFAULT_ENV_FILE, user: str = "janitoo", exe: str | None = None) -> str:
    """A unit running the bridge in the foreground, restarted on failure, under a dedicated user.

    The broker, prefixes and credentials come from `env_file` (JNT_HOST=..., JNT_PASSWORD=...), so the
    password is in neither the unit nor the process list. Raises ValueError for a user that is not a name
    or an environment file that is not an absolute path on one line.
    """
    if not _USER.match(user):
        raise ValueError(f"invalid user name {user!r}")
    path = str(env_file)
    if not env_file.is_absolute() or any(c in path for c in "\r\n\x00"):
        raise ValueError(f"the environment file must be an absolute path on one line, got {path!r}")
    # Found on PATH: one word. The fallback "<python> -m janitoo_cli" is three.
    found = exe or shutil.which("jnt")
    command = _word(found) if found else f"{_word(sys.executable)} -m janitoo_cli"
    return f"""[Unit]
Description=Janitoo to Home Assistant bridge (MQTT discovery)
Documentation=https://pypi.org/project/janitoo/
Wants=network-online.target
After=network-online.target mosquitto.service

[Service]
Type=simple
# JNT_HOST, JNT_PORT, JNT_USERNAME, JNT_PASSWORD, JNT_PREFIX, JNT_HA_WEB_URL...; "-": optional.
EnvironmentFile=-{path.replace("%", "%%")}
ExecStart={command} bridge homeassistant
Restart=on-failure
RestartSec=5
# Exit 2 is a usage error (a bad setting): restarting would not fix it.
RestartPreventExitStatus=2
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
