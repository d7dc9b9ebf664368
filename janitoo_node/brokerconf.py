"""The `[system]` broker keys of a node config: address, credentials (a password or a password file) and TLS."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from janitoo_protocol.transport import TlsOptions

from .config import ConfigError, JanitooConfig

SECTION = "system"
# Every key read here, for the config reference (docs/config.md) and its test.
BROKER_KEYS = (
    "broker_ip", "broker_port", "broker_keepalive", "topic_prefix", "broker_user", "broker_password",
    "broker_password_file", "broker_tls", "broker_tls_ca", "broker_tls_cert", "broker_tls_key",
    "broker_tls_insecure",
)  # fmt: skip
# A password file holds one password; anything much larger is not one.
MAX_PASSWORD_FILE = 4096


@dataclass(frozen=True)
class BrokerKeys:
    """What the broker keys say, checked: files exist and are readable, the password file is read."""

    host: str
    port: int
    keepalive: int
    prefix: str
    username: str | None
    password: str | None
    tls: TlsOptions | None


def read_password_file(
    path: Path, where: JanitooConfig | None = None, key: str = "broker_password_file"
) -> str:
    """The password held by `path` (its first line, without the line break); ConfigError when unusable."""

    def fail(what: str) -> ConfigError:
        if where is None:
            return ConfigError(path, what)
        return ConfigError(where.path, f"{path}: {what}", SECTION, key)

    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_PASSWORD_FILE + 1)
    except OSError as exc:
        raise fail(f"cannot read the password file ({exc.strerror or exc})") from None
    if len(raw) > MAX_PASSWORD_FILE:
        raise fail(f"not a password file (over {MAX_PASSWORD_FILE} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("the password file is not UTF-8 text") from None
    lines = text.splitlines()
    password = lines[0] if lines else ""
    if not password:
        raise fail("the password file is empty (its first line is the password)")
    return password


def _readable_file(cfg: JanitooConfig, key: str) -> str | None:
    raw = cfg.get(SECTION, key)
    if raw is None or not raw.strip():
        return None
    path = Path(os.path.expanduser(raw.strip()))
    if not path.is_file():
        raise ConfigError(cfg.path, f"{path}: no such file", SECTION, key)
    if not os.access(path, os.R_OK):
        raise ConfigError(cfg.path, f"{path}: not readable by this user", SECTION, key)
    return str(path)


def broker_keys(cfg: JanitooConfig) -> BrokerKeys:
    """Read and check the broker keys; raises ConfigError (one line) for a missing or unreadable file."""
    user = (cfg.get(SECTION, "broker_user") or "").strip() or None
    password = cfg.get(SECTION, "broker_password") or None
    password_file = (cfg.get(SECTION, "broker_password_file") or "").strip()
    if password is not None and password_file:
        raise ConfigError(cfg.path, "give broker_password or broker_password_file, not both", SECTION,
                          "broker_password_file")  # fmt: skip
    if password_file:
        password = read_password_file(Path(os.path.expanduser(password_file)), cfg)
    if password is not None and user is None:
        raise ConfigError(cfg.path, "a password needs its broker_user", SECTION, "broker_user")
    ca = _readable_file(cfg, "broker_tls_ca")
    cert = _readable_file(cfg, "broker_tls_cert")
    key = _readable_file(cfg, "broker_tls_key")
    if key is not None and cert is None:
        raise ConfigError(cfg.path, "a client key needs its broker_tls_cert", SECTION, "broker_tls_key")
    insecure = cfg.get_bool(SECTION, "broker_tls_insecure", False)
    use_tls = cfg.get_bool(SECTION, "broker_tls", False) or bool(ca or cert or insecure)
    prefix = (cfg.get(SECTION, "topic_prefix", "") or "").strip()
    if "+" in prefix or "#" in prefix:
        raise ConfigError(cfg.path, "a topic prefix cannot hold the MQTT wildcards + or #", SECTION,
                          "topic_prefix")  # fmt: skip
    return BrokerKeys(
        host=cfg.get(SECTION, "broker_ip", "127.0.0.1") or "127.0.0.1",
        port=cfg.get_int(SECTION, "broker_port", 1883),
        keepalive=cfg.get_int(SECTION, "broker_keepalive", 60),
        prefix=prefix,
        username=user,
        password=password,
        tls=TlsOptions(ca, cert, key, insecure) if use_tls else None,
    )


def is_loopback(host: str) -> bool:
    """True for a broker on this machine: `localhost` or a loopback address."""
    name = host.strip().lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def clear_password_warning(host: str, port: int, password: str | None, tls: TlsOptions | None) -> str | None:
    """The warning to log when a password would cross the network in clear, else None."""
    if password is None or tls is not None or is_loopback(host):
        return None
    return (
        f"the broker password goes in clear to {host}:{port} (no TLS): anyone on the network can read it; "
        "set broker_tls_ca (see docs/security.md)"
    )
