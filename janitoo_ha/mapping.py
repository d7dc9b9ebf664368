"""Janitoo values to Home Assistant entities: the rule table, units, templates and discovery payloads (pure).

Theory of operation. Every value of a node is looked up in RULES, first match wins, on its genre, its
command class, its type and whether it can be written; the rule names the HA platform and the entity
category, or None (not bridged: passwords, raw and JSON blobs). The entity then reads its state straight
from the value's own `/values/<genre>/<hadd>/<uuid>` topic through a value template on the Janitoo payload
(a single value dict, or one dict per index), so no copy of the state is needed. Commands go to a bridge
topic of the entity, `<bridge>/<node_id>/<object_id>/set`, because HA cannot build a Janitoo request; the
runtime turns them into a SET (`command_data` checks and converts the payload first).

Every string from the wire is hostile: ids pass through `naming.object_id`, display text through
`naming.text`, and a value whose uuid cannot be a topic level is not bridged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import naming
from .wire import CommandClass, Genre, Hadd, NodeInfo, Topics, ValueInfo, ValueType

NUMERIC = frozenset({ValueType.BYTE, ValueType.DECIMAL, ValueType.INT, ValueType.SHORT})
INTEGER = frozenset({ValueType.BYTE, ValueType.INT, ValueType.SHORT})
TEXTUAL = frozenset({ValueType.STRING, ValueType.HADD, ValueType.IP})
# Blobs and secrets have no sensible HA entity: a password is never shown, JSON and raw data overflow a state.
NOT_BRIDGED = frozenset(
    {ValueType.PASSWORD, ValueType.RAW, ValueType.JSON, ValueType.ARRAY, ValueType.SCHEDULE, ValueType.VAR,
     ValueType.RGB}
)  # fmt: skip
SWITCHES = frozenset({CommandClass.SWITCH_BINARY, CommandClass.SWITCH_TOGGLE_BINARY})
# HA keeps states up to 255 characters; longer text is cut by the template.
MAX_STATE = 255
MAX_OPTIONS = 64
# Words a two-item list uses for on and off (a switch command class with list_items ['on', 'off']).
ON_WORDS = ("on", "true", "1", "yes", "open")
OFF_WORDS = ("off", "false", "0", "no", "close", "closed")


@dataclass(frozen=True)
class Rule:
    """One row of the mapping table: None in a column matches anything."""

    genres: frozenset[Genre] | None
    cmd_classes: frozenset[int] | None
    types: frozenset[int] | None
    writable: bool | None
    platform: str | None  # None: the value is not bridged
    category: str | None = None  # HA entity_category: "config" or "diagnostic"
    needs: str | None = None  # an extra condition: "options" (a list to choose from), "two_states"

    def matches(self, genre: Genre, value: ValueInfo, writable: bool) -> bool:
        return (
            (self.genres is None or genre in self.genres)
            and (self.cmd_classes is None or value.cmd_class in self.cmd_classes)
            and (self.types is None or value.type in self.types)
            and (self.writable is None or self.writable == writable)
            and (self.needs is None or _NEEDS[self.needs](value))
        )


def _g(*genres: Genre) -> frozenset[Genre]:
    return frozenset(genres)


ANY_TYPE = None
RULES: tuple[Rule, ...] = (
    Rule(None, None, NOT_BRIDGED, None, None),
    # System values (heartbeat, config_timeout, hadd): diagnostics, read-only in HA.
    Rule(_g(Genre.SYSTEM), None, ANY_TYPE, None, "sensor", "diagnostic"),
    # Config values: settings of the device, in HA's configuration section.
    Rule(_g(Genre.CONFIG), None, ANY_TYPE, True, "select", "config", needs="options"),
    Rule(_g(Genre.CONFIG), None, frozenset({ValueType.BOOL}), True, "switch", "config"),
    Rule(_g(Genre.CONFIG), None, NUMERIC, True, "number", "config"),
    Rule(_g(Genre.CONFIG), None, TEXTUAL, True, "text", "config"),
    Rule(_g(Genre.CONFIG), None, ANY_TYPE, None, "sensor", "diagnostic"),
    # Commands and buttons: pressed, never read.
    Rule(None, None, frozenset({ValueType.BUTTON}), True, "button"),
    Rule(_g(Genre.COMMAND), None, ANY_TYPE, True, "button"),
    # Basic and user values.
    Rule(None, SWITCHES, ANY_TYPE, True, "switch", needs="two_states"),
    Rule(None, None, frozenset({ValueType.BOOL}), False, "binary_sensor"),
    Rule(None, None, frozenset({ValueType.BOOL}), True, "switch"),
    Rule(None, None, ANY_TYPE, True, "select", needs="options"),
    Rule(None, None, NUMERIC, True, "number"),
    Rule(None, None, TEXTUAL, True, "text"),
    Rule(None, None, ANY_TYPE, None, "sensor"),
)

# Janitoo units -> (HA device_class, HA unit). The unit is HA's spelling, the device class the one HA
# expects for it; "%" depends on what is measured (PERCENT_CLASSES).
UNITS: dict[str, tuple[str | None, str]] = {
    "°C": ("temperature", "°C"), "°F": ("temperature", "°F"), "K": ("temperature", "K"),
    "V": ("voltage", "V"), "mV": ("voltage", "mV"),
    "A": ("current", "A"), "mA": ("current", "mA"),
    "W": ("power", "W"), "kW": ("power", "kW"),
    "Wh": ("energy", "Wh"), "kWh": ("energy", "kWh"),
    "Hz": ("frequency", "Hz"), "kHz": ("frequency", "kHz"), "MHz": ("frequency", "MHz"),
    "GHz": ("frequency", "GHz"),
    "Pa": ("pressure", "Pa"), "hPa": ("pressure", "hPa"), "kPa": ("pressure", "kPa"),
    "bar": ("pressure", "bar"), "mbar": ("pressure", "mbar"), "psi": ("pressure", "psi"),
    "lx": ("illuminance", "lx"), "lux": ("illuminance", "lx"),
    "dB": ("sound_pressure", "dB"), "ppm": (None, "ppm"),
    "s": ("duration", "s"), "sec": ("duration", "s"), "seconds": ("duration", "s"),
    "ms": ("duration", "ms"), "min": ("duration", "min"), "minutes": ("duration", "min"),
    "h": ("duration", "h"), "hours": ("duration", "h"),
    "mm": ("distance", "mm"), "cm": ("distance", "cm"), "m": ("distance", "m"), "km": ("distance", "km"),
    "B": ("data_size", "B"), "kB": ("data_size", "kB"), "MB": ("data_size", "MB"), "GB": ("data_size", "GB"),
    "%": (None, "%"),
}  # fmt: skip
# "%" of what: a word of the uuid says it.
PERCENT_CLASSES: tuple[tuple[str, str], ...] = (("humid", "humidity"), ("batter", "battery"),
                                               ("moist", "moisture"))  # fmt: skip
# Device classes whose readings only grow (HA's statistics need to know).
TOTALS = frozenset({"energy"})


def rule_for(genre: Genre, value: ValueInfo) -> Rule | None:
    writable = not value.is_readonly or value.is_writeonly
    for rule in RULES:
        if rule.matches(genre, value, writable):
            return rule
    return None  # pragma: no cover - the last rule matches everything


def options(value: ValueInfo) -> list[str]:
    """A value's list_items as HA select options: text, bounded, unique, in order."""
    items = value.list_items
    if not isinstance(items, list | tuple) or not items:
        return []
    out: list[str] = []
    for item in items[:MAX_OPTIONS]:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            continue
        word = naming.text(str(item), MAX_STATE)
        if word and word not in out:
            out.append(word)
    return out


def two_states(value: ValueInfo) -> tuple[Any, Any] | None:
    """The (on, off) data of a switch: True/False for a bool, the two words of an on/off list."""
    if value.type == ValueType.BOOL:
        return True, False
    items = options(value)
    if len(items) != 2:
        return None
    on = next((i for i in items if i.lower() in ON_WORDS), None)
    off = next((i for i in items if i.lower() in OFF_WORDS), None)
    return (on, off) if on is not None and off is not None else None


_NEEDS = {"options": lambda v: bool(options(v)), "two_states": lambda v: two_states(v) is not None}


def unit_and_class(value: ValueInfo) -> tuple[str | None, str | None]:
    """(HA unit, HA device_class) of a value; an unknown unit is kept as display text, with no class."""
    raw = naming.text(value.units, naming.MAX_UNIT)
    if not raw:
        return None, None
    known = UNITS.get(raw)
    if known is None:
        return raw, None
    device_class, unit = known
    if unit == "%":
        word = value.uuid.lower()
        device_class = next((cls for key, cls in PERCENT_CLASSES if key in word), None)
    return unit, device_class


# ---------------------------------------------------------------------------------------------- templates


def _pick(index: int) -> str:
    """Jinja that sets `v` to this index's value dict from either Janitoo payload shape, or to {}.

    A single dict carries `uuid`/`genre` at its top level (and its index, 0 when absent); an indexed
    publication is {"0": {...}, "1": {...}}. A dict for another index renders nothing, which HA ignores.
    """
    return (
        "{% set p = value_json if value_json is mapping else {} %}"
        "{% if 'uuid' in p or 'genre' in p %}"
        f"{{% set v = p if (p.get('index') or 0) | int(-1) == {index} else {{}} %}}"
        f"{{% else %}}{{% set v = p.get('{index}') if p.get('{index}') is mapping else {{}} %}}"
        "{% endif %}"
    )


def state_template(platform: str, index: int) -> str:
    """The value_template of an entity: the `data` of its value, shaped for the platform.

    No string from the wire ever goes into a template (HA would run it): only the index, a bounded int.
    """
    pick = _pick(index)
    if platform in ("binary_sensor", "switch"):
        on_words = json.dumps(list(ON_WORDS))
        return (
            pick + "{% if 'data' in v %}{% if v.data is none %}None"
            f"{{% elif v.data | string | lower in {on_words} %}}ON{{% else %}}OFF{{% endif %}}{{% endif %}}"
        )
    return (
        pick + "{% if 'data' in v %}{% if v.data is none %}None"
        f"{{% else %}}{{{{ v.data | string | truncate({MAX_STATE}, true, '') }}}}{{% endif %}}{{% endif %}}"
    )


# ---------------------------------------------------------------------------------------------- entities


@dataclass(frozen=True)
class Target:
    """The Janitoo value an entity reads and writes."""

    hadd: Hadd
    genre: Genre
    uuid: str
    index: int
    cmd_class: int
    type: int


@dataclass(frozen=True)
class Entity:
    """One HA entity: where its discovery config goes, the config, and how a command becomes data."""

    platform: str
    node_id: str
    object_id: str
    config: Mapping[str, Any]
    target: Target | None = None
    on_off: tuple[Any, Any] | None = None
    choices: tuple[str, ...] = ()
    bounds: tuple[float | None, float | None] = (None, None)
    integer: bool = False
    max_length: int = MAX_STATE

    @property
    def key(self) -> tuple[str, str]:
        return self.node_id, self.object_id

    def payload(self) -> str:
        return json.dumps(self.config, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class Layout:
    """Where things go: HA's discovery prefix, the bridge's own topics, the Janitoo network's topics."""

    discovery_prefix: str = "homeassistant"
    bridge_topic: str = "janitoo-ha"
    network: str = ""  # a name for this Janitoo network in ids (the topic prefix by default)
    topics: Topics = field(default_factory=Topics)
    web_url: str | None = None  # the web manager, for a device's configuration_url

    def config_topic(self, platform: str, node_id: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{platform}/{node_id}/{object_id}/config"

    def node_id(self, hadd: Hadd) -> str:
        return naming.node_id(hadd, self.network)

    def availability_topic(self, node_id: str) -> str:
        return f"{self.bridge_topic}/{node_id}/availability"

    def state_topic(self, node_id: str) -> str:
        """The liveness word of a node (ONLINE, FAILED...), retained."""
        return f"{self.bridge_topic}/{node_id}/state"

    def command_topic(self, node_id: str, object_id: str) -> str:
        return f"{self.bridge_topic}/{node_id}/{object_id}/set"

    def command_filter(self) -> str:
        return f"{self.bridge_topic}/+/+/set"

    @property
    def bridge_availability(self) -> str:
        return f"{self.bridge_topic}/bridge/availability"

    @property
    def refusal_topic(self) -> str:
        """The last command a node refused (or never acknowledged), as JSON, retained."""
        return f"{self.bridge_topic}/bridge/refusal"

    @property
    def bridge_node_id(self) -> str:
        return f"janitoo_bridge_{naming.object_id(self.network, 24)}" if self.network else "janitoo_bridge"


ORIGIN = {"name": "janitoo-ha", "sw": "0.1.0", "url": "https://pypi.org/project/janitoo/"}


def device(node: NodeInfo, hadd: Hadd, layout: Layout) -> dict[str, Any]:
    """The HA device of a node: its hadd as identifier, the controller as via_device, the web page."""
    nid = layout.node_id(hadd)
    dev: dict[str, Any] = {
        "identifiers": [nid],
        "name": naming.text(node.name, naming.MAX_NAME, f"Janitoo {hadd}"),
        "model": naming.text(node.product_name, naming.MAX_NAME, "Janitoo node"),
        "serial_number": str(hadd),
    }
    maker = naming.text(node.product_manufacturer, naming.MAX_NAME)
    if maker and maker != "Default product manufacturer":
        dev["manufacturer"] = maker
    if not hadd.is_controller:
        dev["via_device"] = layout.node_id(hadd.controller_hadd)
    if layout.web_url:
        dev["configuration_url"] = f"{layout.web_url.rstrip('/')}/node/{hadd}"
    return dev


def _availability(layout: Layout, nid: str | None) -> dict[str, Any]:
    topics = [{"topic": layout.bridge_availability}]
    if nid is not None:
        topics.append({"topic": layout.availability_topic(nid)})
    return {"availability": topics, "availability_mode": "all"}


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float | str):
        return None
    try:
        f = float(x)
    except ValueError:
        return None
    return f if math.isfinite(f) and abs(f) < 1e15 else None


def value_entity(node: NodeInfo, hadd: Hadd, genre: Genre, value: ValueInfo, layout: Layout) -> Entity | None:
    """The HA entity of one value (one index of it), or None when it is not bridged."""
    if not naming.topic_safe(value.uuid) or value.index < 0 or value.index > 9999:
        return None
    rule = rule_for(genre, value)
    if rule is None or rule.platform is None:
        return None
    platform = rule.platform
    nid = layout.node_id(hadd)
    suffix = f"_{value.index}" if value.index else ""
    oid = naming.object_id(f"{genre.topic_word}_{value.uuid}{suffix}")
    name = naming.humanize(value.uuid) + (f" {value.index}" if value.index else "")
    dev = device(node, hadd, layout)
    config: dict[str, Any] = {
        # A value named like its node is the node's main feature: HA then shows the device's name alone
        # ("Temperature", not "Temperature Temperature").
        "name": None if name.casefold() == dev["name"].casefold() else name,
        "unique_id": f"{nid}_{oid}",
        "device": dev,
        "origin": ORIGIN,
        **_availability(layout, nid),
    }
    if rule.category:
        config["entity_category"] = rule.category
    target = Target(hadd, genre, value.uuid, value.index, value.cmd_class, value.type)
    extra: dict[str, Any] = {}
    if platform != "button":
        config["state_topic"] = layout.topics.values(genre, hadd, value.uuid)
    on_off = two_states(value) if platform in ("switch", "binary_sensor") else None
    if platform in ("switch", "binary_sensor"):
        if on_off is None:  # pragma: no cover - the rules let only two-state values through
            return None
        config["value_template"] = state_template(platform, value.index)
    elif platform != "button":
        config["value_template"] = state_template(platform, value.index)
    if platform in ("switch", "select", "number", "text", "button"):
        config["command_topic"] = layout.command_topic(nid, oid)
    if platform == "sensor":
        unit, device_class = unit_and_class(value)
        if unit:
            config["unit_of_measurement"] = unit
        if value.type in NUMERIC and rule.category is None:
            if device_class:
                config["device_class"] = device_class
            config["state_class"] = "total_increasing" if device_class in TOTALS else "measurement"
        elif value.type == ValueType.LIST and options(value):
            config["device_class"] = "enum"
            config["options"] = options(value)
            config.pop("unit_of_measurement", None)
    elif platform == "select":
        extra["choices"] = tuple(options(value))
        config["options"] = list(extra["choices"])
    elif platform == "number":
        lo, hi = _number(value.min), _number(value.max)
        if lo is not None and hi is not None and lo > hi:
            lo, hi = None, None
        integer = value.type in INTEGER
        # HA's defaults (1..100) would refuse most Janitoo settings; an open bound stays wide.
        config["min"] = lo if lo is not None else -2147483648
        config["max"] = hi if hi is not None else 2147483647
        config["step"] = 1 if integer else 0.01
        config["mode"] = "box"
        unit, _ = unit_and_class(value)
        if unit:
            config["unit_of_measurement"] = unit
        extra["bounds"] = (lo, hi)
        extra["integer"] = integer
    elif platform == "text":
        config["max"] = MAX_STATE
    elif platform == "switch":
        config["payload_on"], config["payload_off"] = "ON", "OFF"
    return Entity(platform, nid, oid, config, target, on_off, **extra)


def liveness_entity(node: NodeInfo, hadd: Hadd, layout: Layout, states: Sequence[str]) -> Entity:
    """A diagnostic sensor with the node's liveness word, available while the bridge is."""
    nid = layout.node_id(hadd)
    config: dict[str, Any] = {
        "name": "Liveness",
        "unique_id": f"{nid}_liveness",
        "device": device(node, hadd, layout),
        "origin": ORIGIN,
        "entity_category": "diagnostic",
        "state_topic": layout.state_topic(nid),
        "device_class": "enum",
        "options": list(states),
        **_availability(layout, None),
    }
    return Entity("sensor", nid, "liveness", config)


def bridge_entities(layout: Layout) -> list[Entity]:
    """The bridge's own device: the last refused command, with its reason."""
    nid = layout.bridge_node_id
    dev = {"identifiers": [nid], "name": "Janitoo bridge", "model": "jnt bridge homeassistant",
           "manufacturer": "Janitoo", "sw_version": ORIGIN["sw"]}  # fmt: skip
    config: dict[str, Any] = {
        "name": "Last refusal",
        "unique_id": f"{nid}_last_refusal",
        "device": dev,
        "origin": ORIGIN,
        "entity_category": "diagnostic",
        "state_topic": layout.refusal_topic,
        "value_template": "{{ value_json.error | default('') | truncate(255, true, '') }}",
        "json_attributes_topic": layout.refusal_topic,
        **_availability(layout, None),
    }
    return [Entity("sensor", nid, "last_refusal", config)]


def node_entities(
    node: NodeInfo,
    hadd: Hadd,
    values: Iterable[tuple[Genre, ValueInfo]],
    layout: Layout,
    states: Sequence[str],
    limit: int = 256,
) -> list[Entity]:
    """Every entity of one node: its values' (at most `limit`), then its liveness."""
    out: dict[str, Entity] = {}
    for genre, value in values:
        if len(out) >= limit:
            break
        entity = value_entity(node, hadd, genre, value, layout)
        if entity is not None and entity.object_id not in out:
            out[entity.object_id] = entity
    live = liveness_entity(node, hadd, layout, states)
    out[live.object_id] = live
    return list(out.values())


# ---------------------------------------------------------------------------------------------- commands


class CommandError(ValueError):
    """A command from HA that cannot become a SET (the reason is one line)."""


def command_data(entity: Entity, payload: bytes) -> Any:
    """The Janitoo data of a command HA published for `entity`; CommandError when it is not acceptable."""
    if len(payload) > 1024:
        raise CommandError(f"command of {len(payload)} bytes (at most 1024)")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("command is not UTF-8 text") from None
    p = entity.platform
    if p == "button":
        return True
    if p == "switch":
        assert entity.on_off is not None
        if text == "ON":
            return entity.on_off[0]
        if text == "OFF":
            return entity.on_off[1]
        raise CommandError(f"switch command must be ON or OFF, got {naming.text(text, 32)!r}")
    if p == "select":
        if text not in entity.choices:
            raise CommandError(f"{naming.text(text, 32)!r} is not one of the options")
        return text
    if p == "number":
        number = _number(text.strip())
        if number is None:
            raise CommandError(f"{naming.text(text, 32)!r} is not a finite number")
        lo, hi = entity.bounds
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise CommandError(f"{number:g} is out of range")
        if entity.integer:
            if number != int(number):
                raise CommandError(f"{number:g} is not a whole number")
            return int(number)
        return number
    if p == "text":
        if len(text) > entity.max_length or any(ch in text for ch in "\r\n\x00"):
            raise CommandError("text too long or with a line break")
        return text
    raise CommandError(f"a {p} takes no command")
