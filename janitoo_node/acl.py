"""Broker authorization from node configs: one user per node process, roles, a mosquitto acl_file and password file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from janitoo_protocol import Hadd
from janitoo_protocol.retained import RetainedTopics
from janitoo_protocol.topics import Topics

from .brokerconf import broker_keys
from .config import ConfigError, JanitooConfig
from .netctl import network_settings

NODE = "node"
NETWORK_CONTROLLER = "network-controller"
OPERATOR = "operator"
VIEWER = "viewer"
ROLES = (NODE, NETWORK_CONTROLLER, OPERATOR, VIEWER)

READ = "read"
WRITE = "write"

# mosquitto reads a user name up to the first ':' and an acl line up to its end; spaces split acl words.
_USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
# mosquitto_passwd's defaults for the "$7$" (PBKDF2-SHA512) format of mosquitto 2.
PBKDF2_ITERATIONS = 101
SALT_BYTES = 12


class AclError(ValueError):
    """A problem with the users or roles asked for, as one line."""


@dataclass(frozen=True, order=True)
class Rule:
    """One acl_file line: `topic read|write <filter>`."""

    access: str
    topic: str

    def line(self) -> str:
        return f"topic {self.access} {self.topic}"


@dataclass
class BrokerUser:
    """A broker user, its role, where it comes from, its rules and (when known) its password."""

    name: str
    role: str
    source: str
    rules: list[Rule] = field(default_factory=list)
    password: str | None = None
    controllers: tuple[int, ...] = ()
    prefix: str = ""


def check_user_name(name: str) -> str:
    if not _USER_NAME.match(name):
        raise AclError(f"user name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
    return name


def check_prefix(prefix: str) -> str:
    """A prefix that makes one acl word: no MQTT wildcard, no space or control character."""
    if any(c in "+#" or c.isspace() or not c.isprintable() for c in prefix):
        raise AclError(f"topic prefix {prefix!r}: no '+', '#', spaces or control characters")
    return prefix


def node_rules(prefix: str, controllers: Iterable[int]) -> list[Rule]:
    """What a node process may do: publish under its own controllers' hadds, answer anyone, hear requests.

    Every topic a node runtime publishes or subscribes (janitoo_node/server.py, nodeman.py):
    - heartbeats `/dhcp/heartbeat/<ctrl>/<node>` and value publications `/values/<genre>/<ctrl>/<node>/<uuid>`,
      for its own controllers only;
    - its last will `{"add_ctrl": <ctrl>, "add_node": -1, "state": "OFFLINE"}` on `/dhcp/heartbeat/`
      (mosquitto checks a will against the acl at CONNECT: without this rule the node is refused);
    - replies to whoever asked: `/nodes/<reply_hadd>/reply` and `/broadcast/reply/<reply_hadd>`;
    - requests it hears: `/broadcast/request` and `/nodes/<ctrl>/+/request`;
    - the retained-state extension (janitoo_protocol/retained.py): its controllers' status (the retained
      will included, read back at start up to its own sync marker) and state.
    """
    t = Topics(prefix)
    r = RetainedTopics(prefix)
    rules = [
        Rule(WRITE, t.heartbeat_dispatch()),
        Rule(WRITE, t.node_replies()),
        Rule(WRITE, t.broadcast_replies()),
        Rule(READ, t.broadcast_request()),
        Rule(WRITE, r.sync("+")),
        Rule(READ, r.sync("+")),
    ]
    for ctrl in sorted(set(controllers)):
        rules += [
            Rule(WRITE, t.controller_heartbeats(ctrl)),
            Rule(WRITE, t.controller_values(ctrl)),
            Rule(READ, t.node_requests(ctrl)),
            Rule(WRITE, r.status(ctrl)),
            Rule(READ, r.status(ctrl)),
            Rule(WRITE, r.controller(ctrl)),
        ]
    return rules


def network_controller_rules(prefix: str, hadd: Hadd) -> list[Rule]:
    """What a network controller adds (janitoo_node/netctl.py, janitoo_protocol/roles.py): the resolv topics
    both ways, every heartbeat and value in, discovery requests out, and the replies to its own hadd."""
    t = Topics(prefix)
    return [
        Rule(READ, t.resolv_all()),
        Rule(WRITE, t.resolv_all()),
        Rule(READ, t.heartbeat_all()),
        Rule(READ, t.values_all()),
        Rule(WRITE, t.broadcast_request()),
        Rule(WRITE, t.node_requests()),
        Rule(READ, t.broadcast_reply(hadd)),
        Rule(READ, t.node_reply(hadd)),
    ]


def operator_rules(prefix: str) -> list[Rule]:
    """An operator reads everything and sends requests (discovery, GET and SET share these topics)."""
    t = Topics(prefix)
    return [
        Rule(READ, t.everything()),
        Rule(WRITE, t.broadcast_request()),
        Rule(WRITE, t.node_requests()),
        Rule(WRITE, RetainedTopics(prefix).sync("+")),  # the end marker of a retained-state reading
    ]


def viewer_rules(prefix: str) -> list[Rule]:
    """A viewer only subscribes: `jnt spy`, dashboards."""
    return [Rule(READ, Topics(prefix).everything())]


def node_user(conf: Path) -> BrokerUser:
    """The broker user of one node config, with its role and rules; raises ConfigError for a bad config."""
    cfg = JanitooConfig(conf)
    keys = broker_keys(cfg)
    if keys.username is None:
        raise ConfigError(cfg.path, "missing: a node process needs its own broker user for the acl",
                          "system", "broker_user")  # fmt: skip
    controllers: list[int] = []
    for section in cfg.buses():
        if cfg.get(section, "hadd") is None or not cfg.get_bool(section, "auto_start", True):
            continue
        hadd = cfg.get_hadd(section)
        controllers.append(hadd.controller)
    if not controllers:
        raise ConfigError(cfg.path, "no bus to start: nothing to authorize")
    try:
        check_user_name(keys.username)
    except AclError as exc:
        raise ConfigError(cfg.path, str(exc), "system", "broker_user") from None
    try:
        check_prefix(keys.prefix)
    except AclError as exc:
        raise ConfigError(cfg.path, str(exc), "system", "topic_prefix") from None
    rules = node_rules(keys.prefix, controllers)
    role = NODE
    if network_settings(cfg) is not None:
        # The network controller runs as the first bus's controller node (server.py).
        rules += network_controller_rules(keys.prefix, Hadd(controllers[0], 0))
        role = NETWORK_CONTROLLER
    return BrokerUser(keys.username, role, str(conf), rules, keys.password, tuple(controllers), keys.prefix)


def build_users(
    confs: Iterable[Path], operators: Iterable[str] = (), viewers: Iterable[str] = (),
    prefixes: Iterable[str] | None = None, passwords: dict[str, str] | None = None,
) -> list[BrokerUser]:  # fmt: skip
    """Every user: one per node config, then operators and viewers for each prefix of the configs (or
    `prefixes`). Raises ConfigError or AclError (one line) for a bad config or a user named twice."""
    users: list[BrokerUser] = []
    seen: dict[str, str] = {}
    owner: dict[int, tuple[str, str]] = {}  # (prefix, controller) clash check: controller -> user, prefix

    def add(user: BrokerUser) -> None:
        if user.name in seen:
            raise AclError(f"user {user.name!r} is both {seen[user.name]} and {user.source}: one user each")
        seen[user.name] = user.source
        users.append(user)

    config_prefixes: list[str] = []
    for conf in confs:
        user = node_user(conf)
        prefix = user.prefix
        for ctrl in user.controllers:
            other = owner.get(ctrl)
            if other is not None and other[1] == prefix:
                raise AclError(f"controller {ctrl:04d} is in both {other[0]} and {conf}")
            owner[ctrl] = (str(conf), prefix)
        if prefix not in config_prefixes:
            config_prefixes.append(prefix)
        add(user)
    scope = [check_prefix(p) for p in prefixes] if prefixes is not None else config_prefixes or [""]
    for name in operators:
        rules = [r for p in scope for r in operator_rules(p)]
        add(BrokerUser(check_user_name(name), OPERATOR, "--operator", rules))
    for name in viewers:
        rules = [r for p in scope for r in viewer_rules(p)]
        add(BrokerUser(check_user_name(name), VIEWER, "--viewer", rules))
    for user in users:
        if passwords and user.name in passwords:
            user.password = passwords[user.name]
    return users


def acl_text(users: Iterable[BrokerUser]) -> str:
    """A mosquitto acl_file: no rule for anonymous clients (they are refused anyway), one block per user."""
    out = [
        "# mosquitto acl_file generated by `jnt-node acl`: regenerate it, do not edit it.",
        "# Roles: node (own controllers' hadds), network-controller (+ /dhcp/resolv), operator, viewer.",
        "",
    ]
    for user in users:
        out.append(f"# {user.role}: {user.source}")
        out.append(f"user {user.name}")
        out += [r.line() for r in sorted(set(user.rules), key=lambda r: (r.topic, r.access))]
        out.append("")
    return "\n".join(out)


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A mosquitto 2 password hash (`$7$`: PBKDF2-SHA512), the format `mosquitto_passwd` writes."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def check_mosquitto_hash(password: str, hashed: str) -> bool:
    """True when `hashed` (a `$7$` entry) is the hash of `password`."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    salt = base64.b64decode(parts[3])
    expected = mosquitto_hash(password, salt, int(parts[2]))
    return hmac.compare_digest(expected, hashed)


def password_text(users: Iterable[BrokerUser]) -> str:
    """mosquitto password_file lines for the users whose password is known."""
    lines = []
    for user in users:
        if user.password is None:
            continue
        if "\n" in user.password or "\r" in user.password:
            raise AclError(f"the password of {user.name!r} holds a line break")
        lines.append(f"{user.name}:{mosquitto_hash(user.password)}")
    return "".join(line + "\n" for line in lines)


def read_passwords(path: Path) -> dict[str, str]:
    """Plain `user:password` lines (the file `mosquitto_passwd -U` converts); ConfigError when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            path, f"cannot read the passwords file ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, password = line.partition(":")
        if not sep or not name or not password:
            raise ConfigError(path, "expected user:password", line=number)
        out[name] = password
    return out


def write_private(path: Path, text: str, mode: int = 0o640) -> None:
    """Write `text` atomically (temp file, fsync, rename), readable by owner and group only."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = [
    "AclError",
    "BrokerUser",
    "Rule",
    "acl_text",
    "build_users",
    "check_mosquitto_hash",
    "mosquitto_hash",
    "password_text",
    "read_passwords",
    "write_private",
]
