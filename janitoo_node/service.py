"""The systemd unit that runs a config file as a service (replacing the original's SysV script).

Each setting answers something the node meets on a real Pi:

* ``RuntimeDirectory`` + ``WorkingDirectory``: ``import lgpio`` creates its notification FIFO in the
  working directory; under ``ProtectSystem=strict`` the default (``/``) is read-only and the import
  fails. ``/run/<service>`` is writable, private to the service and emptied at each stop.
* ``StateDirectory``: ``/var/lib/<service>``, writable and kept, for the service user's state.
* ``SupplementaryGroups``: gpio (``/dev/gpiochip*``, ``/dev/gpiomem``), i2c (``/dev/i2c-*``), spi
  (``/dev/spidev*``) and video (``/dev/vchiq``, which ``vcgencmd`` needs). systemd refuses to start
  a unit naming a group that does not exist (status 216/GROUP), so only the groups present on the
  machine are written, the others named in a comment.
* ``RestartPreventExitStatus=2``: ``jnt-node run`` exits 2 on a config error, which a restart
  cannot fix; systemd stops retrying and the journal shows the one-line reason.
* ``ProtectHome=read-only`` (not ``true``): a virtualenv under /home stays usable.
* ``ReadWritePaths=<the config's directory>``: a SET of a config value is written back atomically
  (temporary file, rename) next to the config, so the directory itself must be writable.
"""

from __future__ import annotations

import grp
import re
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

SERVICE_GROUPS: tuple[str, ...] = ("gpio", "i2c", "spi", "video")
# A unit name (and the directories named after it) or a user name: no path, no specifier, no space.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def group_exists(name: str) -> bool:
    """True when the group is known to this machine (``/etc/group`` or NSS)."""
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _quote(text: str) -> str:
    """One word of a unit file: ``%`` doubled (it starts a specifier), quoted when it has spaces or quotes."""
    escaped = text.replace("%", "%%")
    if any(c.isspace() for c in escaped) or '"' in escaped or "\\" in escaped:
        escaped = '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return escaped


def _exec_words(exe: str) -> str:
    # The default command is "<python> -m janitoo_node.cli": already several words.
    return (
        " ".join(_quote(word) for word in exe.split(" ")) if exe.startswith(sys.executable) else _quote(exe)
    )


def systemd_unit(
    config: Path,
    service: str,
    user: str = "janitoo",
    exe: str | None = None,
    *,
    groups: Iterable[str] = SERVICE_GROUPS,
    has_group: Callable[[str], bool] = group_exists,
) -> str:
    """A unit running `jnt-node run` in the foreground, restarted on failure, under a dedicated user.

    ``config`` should be absolute. ``has_group`` decides which of ``groups`` exist here (tests).
    """
    for what, name in (("service name", service), ("user name", user)):
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid {what} {name[:40]!r}: expected letters, digits, '_', '.' or '-'")
    jnt_node = exe or shutil.which("jnt-node") or f"{sys.executable} -m janitoo_node.cli"
    wanted = list(groups)
    present = [group for group in wanted if has_group(group)]
    absent = [group for group in wanted if group not in present]
    if present:
        group_lines = f"SupplementaryGroups={' '.join(present)}\n"
    else:
        group_lines = ""
    if absent:
        group_lines += (
            f"# Not on this machine when the unit was written, so left out (a missing group stops the start):\n"
            f"# {' '.join(absent)}. Create them (sudo groupadd <group>) and run install-service again.\n"
        )
    return f"""[Unit]
Description=Janitoo node {service} ({config.name.replace("%", "%%")})
Documentation=https://pypi.org/project/janitoo/
Wants=network-online.target
After=network-online.target mosquitto.service

[Service]
Type=notify
NotifyAccess=main
ExecStart={_exec_words(jnt_node)} run -c {_quote(str(config))}
Restart=on-failure
RestartSec=5
# Exit status 2 is a config error: a restart cannot fix it (the journal has the one-line reason).
RestartPreventExitStatus=2
User={user}
Group={user}
# GPIO (gpiochip, gpiomem), I2C, SPI and vcgencmd (/dev/vchiq: video) on a Raspberry Pi.
{group_lines}# lgpio creates its notification FIFO in the working directory: a writable, private one.
RuntimeDirectory={service}
StateDirectory={service}
WorkingDirectory=%t/{service}
# The node rewrites its config file on a SET of a config value; everything else stays read-only.
ProtectSystem=strict
ReadWritePaths={_quote(str(config.parent))}
# read-only rather than true: a virtualenv under /home must stay readable.
ProtectHome=read-only
PrivateTmp=true
NoNewPrivileges=true
TimeoutStopSec=15

[Install]
WantedBy=multi-user.target
"""
