"""A node of the runtime: its identity, its values (system, config and its own), and its wire dict."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from janitoo_protocol import Genre, Hadd, NodeInfo, ValueType
from janitoo_protocol.codes import COMMAND_CONFIGURATION
from janitoo_protocol.model import INDEX_KEY

from .config import ConfigError
from .validation import ValueRefused, check_poll_delay
from .values import Value, ValueSpec

if TYPE_CHECKING:
    from .config import JanitooConfig

log = logging.getLogger("janitoo.node")

# Bounds of the system values. A heartbeat under a second floods the network (the original accepted
# 0); 3000 s is the original's ceiling. The same bounds apply to the config file and to SETs, so a
# value a SET stored is always one the next start accepts.
HEARTBEAT_MIN = 1
SYSTEM_MAX = 3000
_SYS = ValueSpec(Genre.SYSTEM, ValueType.INT, COMMAND_CONFIGURATION, units="seconds", min=0, max=SYSTEM_MAX)
_HEARTBEAT = replace(_SYS, min=HEARTBEAT_MIN)
_HADD = ValueSpec(Genre.SYSTEM, ValueType.HADD, COMMAND_CONFIGURATION, units="")
_CONF = ValueSpec(Genre.CONFIG, ValueType.STRING, COMMAND_CONFIGURATION)


class Node:
    """A Janitoo node (the controller `NNNN/0000` or a component's node) and its values."""

    # A simulated network holds thousands: slots, and its system values share their getters and setters.
    __slots__ = (
        "uuid", "hadd", "oid", "section", "config", "name", "location", "product_name", "product_type",
        "product_manufacturer", "capabilities", "base_cmd_classes", "heartbeat", "config_timeout",
        "check_heartbeat", "failure", "values", "twins", "on_poll_change", "on_heartbeat_change",
    )  # fmt: skip

    def __init__(
        self,
        uuid: str,
        hadd: Hadd,
        *,
        oid: str,
        section: str,
        config: JanitooConfig | None,
        name: str = "Default name",
        location: str = "Default location",
        product_name: str = "Default product name",
        product_type: str = "Default product type",
        product_manufacturer: str = "Default product manufacturer",
        capabilities: Iterable[int] = (),
        cmd_classes: Iterable[int] = (),
        heartbeat: float = 30,
        config_timeout: float = 3,
        check_heartbeat: Callable[[], str | None] | None = None,
    ) -> None:
        self.uuid = uuid
        self.hadd = hadd
        self.oid = oid
        self.section = section
        self.config = config
        self.name = name
        self.location = location
        self.product_name = product_name
        self.product_type = product_type
        self.product_manufacturer = product_manufacturer
        self.capabilities = tuple(capabilities)
        self.base_cmd_classes = tuple(cmd_classes)
        self.heartbeat = heartbeat
        self.config_timeout = config_timeout
        # Returns the heartbeat state word; None means "the node is fine" (ONLINE).
        self.check_heartbeat = check_heartbeat
        # Why the node's bus or component could not start (then it heartbeats FAILED), or None.
        self.failure: str | None = None
        self.values: dict[str, Value] = {}
        # Values that share a uuid with one of `values` in another genre (the tutorial's state is both a
        # basic and a user value): listed and answered in their genre, never polled. Most nodes have none:
        # they share one empty mapping until add_twin() gives them their own.
        self.twins: Mapping[tuple[int, str], Value] = _NO_TWINS
        # Called when a value's poll delay changes, or heartbeat period (the node manager reschedules).
        self.on_poll_change: Callable[[Value], None] | None = None
        self.on_heartbeat_change: Callable[[Node], None] | None = None
        self._add_internal_values()

    # -- values

    def add_value(self, value: Value) -> Value:
        if value.uuid in self.values:
            raise ValueError(f"node {self.uuid} already has a value {value.uuid!r}")
        value.node = self
        self.values[value.uuid] = value
        return value

    def add_values(self, values: Iterable[Value]) -> None:
        for v in values:
            self.add_value(v)

    def add_twin(self, value: Value) -> Value:
        """A value with the uuid of one already here, in another genre (GET and discovery by genre)."""
        first = self.values.get(value.uuid)
        if first is None or first.genre == value.genre or (value.genre, value.uuid) in self.twins:
            raise ValueError(f"node {self.uuid}: a twin of {value.uuid!r} needs that value in another genre")
        value.node = self
        twins = self.twins if isinstance(self.twins, dict) else {}
        twins[(value.genre, value.uuid)] = value
        self.twins = twins
        return value

    def value_for(self, uuid: str, genre: Genre | int) -> Value | None:
        """The value a request names by uuid and genre (the uuid's own value when no twin has the genre)."""
        return self.twins.get((genre, uuid)) or self.values.get(uuid)

    @property
    def cmd_classes(self) -> list[int]:
        """The constructor's list plus each value's cmd_class, as the original builds it."""
        out = list(self.base_cmd_classes)
        for v in self.values.values():
            if v.cmd_class not in out:
                out.append(v.cmd_class)
        return out

    def _add_internal_values(self) -> None:
        # Every node's system values share these getters and setters, which find their node through the value.
        self.add_value(Value("heartbeat", _HEARTBEAT, help="The heartbeat delay in seconds", label="heartbeat",
                             get=_get_attribute, set=_set_heartbeat))  # fmt: skip
        self.add_value(Value("hadd", _HADD, help="The Janitoo Home address", label="hadd",
                             get=_get_hadd, set=_refuse_hadd))  # fmt: skip
        self.add_value(Value("config_timeout", _SYS, label="config_timeout",
                             help="The config timeout before applying configuration and rebooting",
                             get=_get_attribute, set=_set_config_timeout))  # fmt: skip
        self.add_value(Value("name", _CONF, help="The name of the node", label="name",
                             get=_get_attribute, set=_set_text))  # fmt: skip
        self.add_value(Value("location", _CONF, help="The location of the node", label="location",
                             get=_get_attribute, set=_set_text))  # fmt: skip

    def values_of(self, genre: Genre | int) -> list[Value]:
        return [v for v in (*self.values.values(), *self.twins.values()) if v.genre == genre]

    # -- config

    def persist(self, key: str, data: Any) -> None:
        if self.config is not None:
            self.config.set(self.section, key, _plain(data))

    def load_persisted(self) -> None:
        """Load `<uuid>_<i>`, `<uuid>_poll_<i>` and `<uuid>_config_<i>` keys of this node's section."""
        cfg = self.config
        if cfg is None:
            return
        for value in list(self.values.values()):
            if value.master is not None:
                continue
            # Instances exist while `<uuid>_config_<i>` keys exist, contiguous from 0 (§8.3).
            for i, text in cfg.indexed(self.section, f"{value.uuid}_config"):
                value.instance_configs[i] = text
                if value.config_value is not None:
                    value.config_value.store(text, i)
            raw_poll = cfg.get(self.section, f"{value.uuid}_poll_0")
            if raw_poll is not None and raw_poll.strip():
                # What the file holds passes the checks a SET passes, or the node does not start: run and
                # check-config refuse it alike, in one line naming the key (never a silent default).
                try:
                    delay = float(raw_poll)
                    check_poll_delay(delay)
                except (ValueError, ValueRefused) as exc:
                    raise ConfigError(cfg.path, str(exc), self.section, f"{value.uuid}_poll_0") from None
                value.poll_delay = delay
            if value.persist:
                for i, text in cfg.indexed(self.section, value.uuid):
                    try:
                        value.store(value.convert(text), i)
                    except ValueRefused as exc:
                        raise ConfigError(cfg.path, str(exc), self.section, f"{value.uuid}_{i}") from None

    # -- wire

    def info(self, state: str | None = None) -> NodeInfo:
        return NodeInfo(
            uuid=self.uuid,
            hadd=self.hadd,
            oid=self.oid,
            name=self.name,
            location=self.location,
            product_name=self.product_name,
            product_type=self.product_type,
            product_manufacturer=self.product_manufacturer,
            capabilities=tuple(self.capabilities),
            cmd_classes=tuple(self.cmd_classes),
            heartbeat=_plain(self.heartbeat),
            config_timeout=_plain(self.config_timeout),
            state=state,
            # An extension the original ignores: our nodes honour the `index` of a GET or SET.
            extra={INDEX_KEY: True},
        )

    def heartbeat_state(self) -> str:
        if self.failure is not None:
            return "FAILED"
        if self.check_heartbeat is None:
            return "ONLINE"
        try:
            return self.check_heartbeat() or "ONLINE"
        except Exception:  # noqa: BLE001 - a broken check must not stop the heartbeats of others
            log.exception("heartbeat check of %s failed", self.hadd)
            return "FAILED"

    def __repr__(self) -> str:
        return f"<Node {self.hadd} {self.uuid}>"


_NO_TWINS: Mapping[tuple[int, str], Value] = MappingProxyType({})


# -- the system values' getters and setters (`value.uuid` is the node's attribute of the same name)


def _node_of(value: Value) -> Node:
    node = value.node
    assert node is not None, f"system value {value.uuid} has no node"
    return node


def _get_attribute(value: Value, index: int) -> Any:
    return getattr(_node_of(value), value.uuid)


def _get_hadd(value: Value, index: int) -> str:
    return str(_node_of(value).hadd)


# Setters persist first: when the file cannot be written, memory keeps the old value too.
def _set_heartbeat(value: Value, index: int, data: Any) -> None:
    node = _node_of(value)
    node.persist("heartbeat", _plain(data))
    node.heartbeat = float(data)
    if node.on_heartbeat_change is not None:
        node.on_heartbeat_change(node)


def _set_config_timeout(value: Value, index: int, data: Any) -> None:
    node = _node_of(value)
    node.persist("config_timeout", _plain(data))
    node.config_timeout = float(data)


def _refuse_hadd(value: Value, index: int, data: Any) -> None:
    # The original let anyone rewrite a node's address over the network; an address is the
    # node's identity on the wire, so it changes in the config file only.
    raise ValueRefused("hadd is read-only at run time: change it in the config file")


def _set_text(value: Value, index: int, data: Any) -> None:
    node = _node_of(value)
    node.persist(value.uuid, str(data))
    setattr(node, value.uuid, str(data))


def _plain(x: Any) -> Any:
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x
