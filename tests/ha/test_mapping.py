"""The value-to-entity mapping, sans-IO: the rule table, units, templates, ids, commands, hostile strings."""

from __future__ import annotations

import json
import re
from typing import Any

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from janitoo_ha import naming
from janitoo_ha.mapping import (
    MAX_STATE,
    CommandError,
    Entity,
    Layout,
    bridge_entities,
    command_data,
    node_entities,
    state_template,
    value_entity,
)
from janitoo_ha.wire import STATES, CommandClass, Genre, Hadd, NodeInfo, Topics, ValueInfo, ValueType

LAYOUT = Layout()
NODE = NodeInfo(uuid="n", hadd=Hadd(225, 4), name="Led", product_name="LED", product_manufacturer="Janitoo")
LED = Hadd(225, 4)
ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def value(uuid: str = "v", genre: Genre = Genre.USER, **kw: Any) -> ValueInfo:
    kw.setdefault("type", ValueType.DECIMAL)
    return ValueInfo(uuid=uuid, hadd=LED, genre=int(genre), **kw)


def entity(v: ValueInfo, genre: Genre | None = None, node: NodeInfo = NODE, hadd: Hadd = LED) -> Entity:
    e = value_entity(node, hadd, genre or Genre(v.genre), v, LAYOUT)
    assert e is not None
    return e


# ---------------------------------------------------------------------------------------------- the table

SWITCH = CommandClass.SWITCH_BINARY
RO, RW = {"is_readonly": True}, {"is_readonly": False}
TABLE = [
    # (genre, cmd_class, type, access, list_items) -> (platform, entity_category)
    (Genre.USER, 49, ValueType.DECIMAL, RO, None, "sensor", None),
    (Genre.USER, 49, ValueType.INT, RW, None, "number", None),
    (Genre.USER, 48, ValueType.BOOL, RO, None, "binary_sensor", None),
    (Genre.USER, 0, ValueType.BOOL, RW, None, "switch", None),
    (Genre.BASIC, SWITCH, ValueType.LIST, RW, ["on", "off"], "switch", None),
    (Genre.BASIC, SWITCH, ValueType.LIST, RW, ["on", "off", "auto"], "select", None),
    (Genre.BASIC, 0x3203, ValueType.LIST, RW, ["off", "blink"], "select", None),
    (Genre.BASIC, 49, ValueType.LIST, RO, ["a", "b"], "sensor", None),
    (Genre.USER, 0, ValueType.STRING, RW, ["wakeup", "sleep"], "select", None),
    (Genre.USER, 1, ValueType.STRING, RW, None, "text", None),
    (Genre.BASIC, 49, ValueType.STRING, RO, None, "sensor", None),
    (Genre.USER, 0, ValueType.BUTTON, RW, None, "button", None),
    (Genre.COMMAND, 0, ValueType.INT, RW, None, "button", None),
    (Genre.CONFIG, 112, ValueType.INT, RW, None, "number", "config"),
    (Genre.CONFIG, 112, ValueType.STRING, RW, None, "text", "config"),
    (Genre.CONFIG, 112, ValueType.LIST, RW, ["BCM", "BOARD"], "select", "config"),
    (Genre.CONFIG, 112, ValueType.BOOL, RW, None, "switch", "config"),
    (Genre.CONFIG, 112, ValueType.INT, RO, None, "sensor", "diagnostic"),
    (Genre.SYSTEM, 112, ValueType.INT, RW, None, "sensor", "diagnostic"),
    (Genre.SYSTEM, 112, ValueType.HADD, RW, None, "sensor", "diagnostic"),
]


@pytest.mark.parametrize(("genre", "cc", "vtype", "access", "items", "platform", "category"), TABLE)
def test_the_table_picks_the_platform_and_category(
    genre: Genre,
    cc: int,
    vtype: int,
    access: dict[str, bool],
    items: Any,
    platform: str,
    category: str | None,
) -> None:
    e = entity(value("x", genre, cmd_class=cc, type=vtype, list_items=items, **access))
    assert (e.platform, e.config.get("entity_category")) == (platform, category)


@pytest.mark.parametrize("vtype", [ValueType.PASSWORD, ValueType.RAW, ValueType.JSON, ValueType.ARRAY])
def test_secrets_and_blobs_are_not_bridged(vtype: int) -> None:
    assert value_entity(NODE, LED, Genre.USER, value("secret", type=vtype), LAYOUT) is None


@pytest.mark.parametrize(
    ("uuid", "units", "unit", "device_class"),
    [
        ("temperature", "°C", "°C", "temperature"),
        ("humidity", "%", "%", "humidity"),
        ("battery_level", "%", "%", "battery"),
        ("load", "%", "%", None),
        ("voltage", "V", "V", "voltage"),
        ("frequency", "MHz", "MHz", "frequency"),
        ("uptime", "seconds", "s", "duration"),
        ("pressure", "hPa", "hPa", "pressure"),
        ("distance", "furlongs", "furlongs", None),
    ],
)
def test_units_give_ha_units_and_device_classes(
    uuid: str, units: str, unit: str, device_class: str | None
) -> None:
    cfg = entity(value(uuid, units=units)).config
    assert cfg["unit_of_measurement"] == unit
    assert cfg.get("device_class") == device_class
    assert cfg["state_class"] == "measurement"


def test_energy_is_a_growing_total() -> None:
    assert entity(value("energy", units="kWh")).config["state_class"] == "total_increasing"


def test_a_read_only_list_is_an_enum_sensor() -> None:
    cfg = entity(value("state", Genre.BASIC, type=ValueType.LIST, list_items=["a", "b"])).config
    assert cfg["device_class"] == "enum" and cfg["options"] == ["a", "b"]


def test_a_number_gets_its_bounds_or_a_wide_range() -> None:
    bounded = entity(
        value("hb", Genre.CONFIG, type=ValueType.INT, is_readonly=False, min=1, max=3000, units="seconds")
    )
    assert (bounded.config["min"], bounded.config["max"], bounded.config["step"]) == (1.0, 3000.0, 1)
    assert bounded.config["unit_of_measurement"] == "s"
    wide = entity(value("x", Genre.CONFIG, type=ValueType.DECIMAL, is_readonly=False, min="nan", max=[1]))
    assert wide.config["min"] == -2147483648 and wide.config["max"] == 2147483647
    assert wide.bounds == (None, None) and not wide.integer


def test_the_state_comes_from_the_values_own_topic() -> None:
    e = entity(value("temperature", units="°C"))
    assert e.config["state_topic"] == "/values/user/0225/0004/temperature"
    prefixed = value_entity(NODE, LED, Genre.USER, value("t"), Layout(topics=Topics("site")))
    assert prefixed is not None and prefixed.config["state_topic"] == "site/values/user/0225/0004/t"


def test_device_identifies_the_node_and_its_controller() -> None:
    cfg = entity(value("t")).config
    assert cfg["device"] == {"identifiers": ["janitoo_0225_0004"], "name": "Led", "model": "LED",
                             "manufacturer": "Janitoo", "serial_number": "0225/0004",
                             "via_device": "janitoo_0225_0000"}  # fmt: skip
    controller = NodeInfo(
        uuid="c", hadd=Hadd(225, 0), name="Hello", product_manufacturer="Default product manufacturer"
    )
    e = value_entity(controller, Hadd(225, 0), Genre.USER, value("t"), Layout(web_url="http://pi:8080/"))
    assert e is not None
    assert "via_device" not in e.config["device"] and "manufacturer" not in e.config["device"]
    assert e.config["device"]["configuration_url"] == "http://pi:8080/node/0225/0000"
    assert e.config["unique_id"] == "janitoo_0225_0000_user_t"


def test_names_come_from_the_uuid_and_a_main_feature_takes_the_device_name() -> None:
    assert entity(value("tutorial3_temperature")).config["name"] == "Tutorial3 temperature"
    assert entity(value("load", index=2)).config["name"] == "Load 2"
    ds18b20 = NodeInfo(uuid="t", hadd=LED, name="Temperature")
    assert entity(value("temperature"), node=ds18b20).config["name"] is None


def test_availability_needs_both_the_bridge_and_the_node() -> None:
    cfg = entity(value("t")).config
    assert cfg["availability"] == [{"topic": "janitoo-ha/bridge/availability"},
                                   {"topic": "janitoo-ha/janitoo_0225_0004/availability"}]  # fmt: skip
    assert cfg["availability_mode"] == "all"


def test_node_entities_add_liveness_and_stay_under_the_limit() -> None:
    values = [(Genre.USER, value(f"v{i}")) for i in range(10)]
    entities = node_entities(NODE, LED, values, LAYOUT, STATES, limit=4)
    assert [e.object_id for e in entities] == ["user_v0", "user_v1", "user_v2", "user_v3", "liveness"]
    live = entities[-1].config
    assert live["state_topic"] == "janitoo-ha/janitoo_0225_0004/state" and live["options"] == list(STATES)
    assert live["availability"] == [{"topic": "janitoo-ha/bridge/availability"}]


def test_the_bridge_device_reports_refusals() -> None:
    (refusal,) = bridge_entities(LAYOUT)
    assert refusal.config["state_topic"] == "janitoo-ha/bridge/refusal"
    assert (
        LAYOUT.config_topic(refusal.platform, *refusal.key)
        == "homeassistant/sensor/janitoo_bridge/last_refusal/config"
    )


# ---------------------------------------------------------------------------------------------- templates


def render(template: str, payload: Any) -> str:
    return jinja2.Environment().from_string(template).render(value_json=payload)


def test_template_reads_data_from_a_single_value_dict() -> None:
    tpl = state_template("sensor", 0)
    assert render(tpl, {"uuid": "t", "genre": 2, "data": 21.5, "index": 0}) == "21.5"
    assert render(tpl, {"uuid": "t", "data": 21.5}) == "21.5"  # a config echo: no index key
    assert render(tpl, {"uuid": "t", "data": None}) == "None"  # HA: unknown
    assert render(tpl, {"uuid": "t", "index": 1, "data": 3}) == ""  # another index: HA ignores ""


def test_template_reads_its_index_from_an_indexed_publication() -> None:
    payload = {
        "0": {"uuid": "load", "index": 0, "data": 0.25},
        "2": {"uuid": "load", "index": 2, "data": 0.75},
    }
    assert render(state_template("sensor", 2), payload) == "0.75"
    assert render(state_template("sensor", 1), payload) == ""
    assert render(state_template("sensor", 2), {"uuid": "load", "index": 2, "data": 7}) == "7"


def test_template_shapes_two_states_for_switches() -> None:
    tpl = state_template("switch", 0)
    assert [render(tpl, {"uuid": "s", "data": d}) for d in ("on", "off", True, False, "ON")] == [
        "ON", "OFF", "ON", "OFF", "ON"
    ]  # fmt: skip


@pytest.mark.parametrize("payload", [[1, 2], "text", 5, None, {"0": "x"}, {"uuid": "t"}])
def test_template_survives_any_payload_shape(payload: Any) -> None:
    assert render(state_template("sensor", 0), payload) == ""


def test_template_cuts_long_states() -> None:
    out = render(state_template("sensor", 0), {"uuid": "t", "data": "x" * 1000})
    assert len(out) == MAX_STATE


# ---------------------------------------------------------------------------------------------- hostile wire


@given(st.text(max_size=300))
def test_object_ids_are_always_safe(raw: str) -> None:
    assert ID.match(naming.object_id(raw))


@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_different_wire_strings_never_share_an_id(a: str, b: str) -> None:
    if a != b:
        assert naming.object_id(a) != naming.object_id(b)


@pytest.mark.parametrize("uuid", ["a/b", "+", "#", "a/#", "x\x00", "t\n", "u" * 200, ""])
def test_a_uuid_that_cannot_be_a_topic_level_is_not_bridged(uuid: str) -> None:
    assert value_entity(NODE, LED, Genre.USER, value(uuid), LAYOUT) is None


HOSTILE = [
    "{{ states('sensor.x') }}",
    "{% for x in range(10**9) %}{% endfor %}",
    'quote" and \\ backslash',
    "new\nline\r\x00nul\x1b[31m",
    "\u202eevil rtl",
    "x" * 10000,
    "homeassistant/switch/x/y/config",
    "../../etc",
]


@pytest.mark.parametrize("evil", HOSTILE)
def test_hostile_names_units_and_items_stay_data(evil: str) -> None:
    node = NodeInfo(uuid=evil, hadd=LED, name=evil, product_name=evil, product_manufacturer=evil)
    values = [
        (Genre.USER, value("temperature", units=evil, label=evil, help=evil)),
        (
            Genre.BASIC,
            value("mode", Genre.BASIC, type=ValueType.LIST, is_readonly=False, list_items=[evil, "b"]),
        ),
        (Genre.USER, value("word_" + evil[:20].replace("/", "_"), type=ValueType.STRING, is_readonly=False)),
    ]
    for e in node_entities(node, LED, values, LAYOUT, STATES):
        topic = LAYOUT.config_topic(e.platform, *e.key)
        # Five levels under the prefix, ids HA accepts: a wire string never builds a topic.
        levels = topic.split("/")
        assert len(levels) == 5 and levels[0] == "homeassistant" and levels[4] == "config"
        assert ID.match(levels[2]) and ID.match(levels[3])
        cfg = json.loads(e.payload())
        for key in ("command_topic", "state_topic"):
            if key in cfg and key != "state_topic":
                assert cfg[key] == f"janitoo-ha/{e.node_id}/{e.object_id}/set"
        # No wire text in a template: HA would run it.
        assert evil[:8] not in cfg.get("value_template", "")
        assert len(cfg["device"]["name"]) <= naming.MAX_NAME
        assert all(ch.isprintable() for ch in cfg["device"]["name"] + cfg["name"])
        assert len(cfg.get("unit_of_measurement", "")) <= naming.MAX_UNIT


def test_display_text_is_bounded_and_printable() -> None:
    assert naming.text("a\x00b\nc\u200bd" + "x" * 500, 20) == "ab cdxxxxxxxxxxxxxxx"
    assert naming.text(None, 10, "fallback") == "fallback"
    nid = naming.node_id(LED, "site/+#")
    assert ID.match(nid) and nid.startswith("janitoo_site_") and nid.endswith("_0225_0004")


# ---------------------------------------------------------------------------------------------- commands


def test_switch_commands_become_the_values_own_words() -> None:
    e = entity(value("switch", Genre.BASIC, cmd_class=SWITCH, type=ValueType.LIST, is_readonly=False,
                     list_items=["on", "off"]))  # fmt: skip
    assert (command_data(e, b"ON"), command_data(e, b"OFF")) == ("on", "off")
    b = entity(value("relay", type=ValueType.BOOL, is_readonly=False))
    assert (command_data(b, b"ON"), command_data(b, b"OFF")) == (True, False)
    with pytest.raises(CommandError, match="ON or OFF"):
        command_data(e, b"toggle")


def test_select_takes_only_its_options() -> None:
    e = entity(
        value("blink", Genre.BASIC, type=ValueType.LIST, is_readonly=False, list_items=["off", "blink"])
    )
    assert command_data(e, b"blink") == "blink"
    with pytest.raises(CommandError, match="not one of the options"):
        command_data(e, b"dance")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [(b"5", 5), (b"5.0", 5), (b" 7 ", 7), (b"nan", "not a finite"), (b"inf", "not a finite"), (b"1e400", "not a finite"),
     (b"2.5", "not a whole"), (b"0", "out of range"), (b"3001", "out of range"), (b"x", "not a finite")],
)  # fmt: skip
def test_number_commands_are_checked(payload: bytes, expected: Any) -> None:
    e = entity(value("hb", Genre.CONFIG, type=ValueType.INT, is_readonly=False, min=1, max=3000))
    if isinstance(expected, int):
        assert command_data(e, payload) == expected
    else:
        with pytest.raises(CommandError, match=expected):
            command_data(e, payload)


def test_text_and_raw_payloads_are_checked() -> None:
    e = entity(value("location", Genre.CONFIG, type=ValueType.STRING, is_readonly=False))
    assert command_data(e, "Salle à manger".encode()) == "Salle à manger"
    for bad, reason in ((b"a\nb", "line break"), (b"x" * 300, "too long"), (b"\xff\xfe", "UTF-8"),
                        (b"x" * 2000, "bytes")):  # fmt: skip
        with pytest.raises(CommandError, match=reason):
            command_data(e, bad)
    sensor = entity(value("t"))
    with pytest.raises(CommandError, match="takes no command"):
        command_data(sensor, b"1")
