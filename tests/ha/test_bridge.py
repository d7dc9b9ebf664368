"""The bridge's state machine, sans-IO: fed messages with the time, checked on the actions it returns."""

from __future__ import annotations

import json
from typing import Any

import pytest

from janitoo_ha.bridge import Action, Bridge, Discover, Options, Publish, Refresh, SetValue
from janitoo_ha.mapping import Layout
from janitoo_ha.wire import (
    CommandClass,
    Genre,
    Hadd,
    Heartbeat,
    HeartbeatDispatch,
    NetworkMap,
    NodeInfo,
    ValueInfo,
    ValuePublication,
    ValueType,
)

CTRL, LED = Hadd(225, 0), Hadd(225, 4)
BLINK = ["off", "blink", "warning"]


def network() -> NetworkMap:
    m = NetworkMap()
    m.nodes[CTRL] = NodeInfo(uuid="c", hadd=CTRL, name="Hello world", heartbeat=30)
    m.nodes[LED] = NodeInfo(uuid="led", hadd=LED, name="Led", product_name="LED", heartbeat=30)
    m.merge_value(ValueInfo("blink", LED, genre=1, type=ValueType.LIST, cmd_class=CommandClass.BLINK,
                            is_readonly=False, list_items=BLINK, data="off"))  # fmt: skip
    m.merge_value(ValueInfo("temperature", CTRL, genre=2, type=ValueType.DECIMAL, cmd_class=49, units="°C"))
    m.merge_value(ValueInfo("reboot", CTRL, genre=5, type=ValueType.BUTTON, cmd_class=0, is_readonly=False))
    return m


def publishes(actions: list[Action]) -> dict[str, str]:
    return {a.topic: a.payload for a in actions if isinstance(a, Publish)}


@pytest.fixture
def bridge() -> Bridge:
    b = Bridge(Layout(), Options(refresh_delay=2.0, forget_after=100.0))
    b.connected(0.0)
    b.discovered(network(), 0.0)
    return b


def test_connected_announces_the_bridge() -> None:
    out = publishes(Bridge(Layout()).connected(0.0))
    assert out["janitoo-ha/bridge/availability"] == "online"
    assert (
        json.loads(out["homeassistant/sensor/janitoo_bridge/last_refusal/config"])["name"] == "Last refusal"
    )


def test_discovery_publishes_retained_configs_and_availability() -> None:
    b = Bridge(Layout())
    actions = b.discovered(network(), 0.0)
    assert all(a.retain for a in actions if isinstance(a, Publish))
    out = publishes(actions)
    blink = json.loads(out["homeassistant/select/janitoo_0225_0004/basic_blink/config"])
    assert (
        blink["options"] == BLINK and blink["command_topic"] == "janitoo-ha/janitoo_0225_0004/basic_blink/set"
    )
    assert "homeassistant/sensor/janitoo_0225_0000/user_temperature/config" in out
    assert "homeassistant/button/janitoo_0225_0000/command_reboot/config" in out
    assert out["janitoo-ha/janitoo_0225_0004/availability"] == "online"
    assert out["janitoo-ha/janitoo_0225_0004/state"] == "ONLINE"


def test_values_are_asked_for_once_ha_had_time_to_subscribe(bridge: Bridge) -> None:
    assert bridge.next_wake() == 2.0
    assert not [a for a in bridge.tick(1.9) if isinstance(a, Refresh)]
    (refresh,) = [a for a in bridge.tick(2.0) if isinstance(a, Refresh)]
    assert sorted((t.hadd, t.uuid) for t in refresh.targets) == [(CTRL, "temperature"), (LED, "blink")]
    assert not [a for a in bridge.tick(2.1) if isinstance(a, Refresh)]  # once


def test_the_refresh_waits_for_the_last_announcement(bridge: Bridge) -> None:
    more = network()
    more.nodes[Hadd(225, 9)] = NodeInfo(uuid="n9", hadd=Hadd(225, 9), name="Late")
    bridge.discovered(more, 1.5)
    assert bridge.next_wake() == 3.5
    refreshed = []
    for t in range(2, 40):  # a stream of announcements postpones it, for ten delays at most
        if any(isinstance(a, Refresh) for a in bridge.tick(float(t))):
            refreshed.append(t)
        bridge.discovered(more, float(t))
    assert refreshed[0] == 20


def test_an_unchanged_rediscovery_publishes_no_config_again(bridge: Bridge) -> None:
    out = publishes(bridge.discovered(network(), 5.0))
    assert not [t for t in out if t.endswith("/config")]


def test_a_value_gone_from_the_node_has_its_config_removed(bridge: Bridge) -> None:
    smaller = network()
    del smaller.values[CTRL][Genre.COMMAND]
    bridge.map = NetworkMap()
    out = publishes(bridge.discovered(smaller, 5.0))
    assert out["homeassistant/button/janitoo_0225_0000/command_reboot/config"] == ""


def test_last_will_makes_every_node_of_the_controller_unavailable_then_back(bridge: Bridge) -> None:
    out = publishes(bridge.message(HeartbeatDispatch(225, -1, "OFFLINE"), 10.0))
    assert out["janitoo-ha/janitoo_0225_0004/availability"] == "offline"
    assert out["janitoo-ha/janitoo_0225_0000/availability"] == "offline"
    assert out["janitoo-ha/janitoo_0225_0004/state"] == "OFFLINE"
    out = publishes(bridge.message(Heartbeat(LED, "ONLINE"), 20.0))
    assert out == {
        "janitoo-ha/janitoo_0225_0004/availability": "online",
        "janitoo-ha/janitoo_0225_0004/state": "ONLINE",
    }
    # Back: its values are asked for again.
    (refresh,) = [a for a in bridge.tick(22.0) if isinstance(a, Refresh)]
    assert {t.hadd for t in refresh.targets} == {LED}


def test_a_silent_node_is_pending_then_failed_then_unavailable(bridge: Bridge) -> None:
    bridge.tick(2.0)
    window = 3 * 30 * 1.1  # heartbeat_count periods with the original's slack
    out = publishes(bridge.tick(window + 0.1))
    assert out["janitoo-ha/janitoo_0225_0004/state"] == "PENDING"
    assert "janitoo-ha/janitoo_0225_0004/availability" not in out  # late is not gone
    out = publishes(bridge.tick(2 * window + 0.1))
    assert out["janitoo-ha/janitoo_0225_0004/state"] == "FAILED"
    assert out["janitoo-ha/janitoo_0225_0004/availability"] == "offline"


def test_a_node_gone_for_good_leaves_home_assistant(bridge: Bridge) -> None:
    bridge.message(HeartbeatDispatch(225, -1, "OFFLINE"), 10.0)
    bridge.message(Heartbeat(CTRL, "ONLINE"), 50.0)
    assert bridge.next_wake() is not None and bridge.next_wake() <= 110.0  # type: ignore[operator]
    assert not [a for a in bridge.tick(109.0) if isinstance(a, Publish) and a.payload == ""]
    out = publishes(bridge.tick(110.0))
    removed = sorted(t for t, p in out.items() if p == "")
    assert "homeassistant/select/janitoo_0225_0004/basic_blink/config" in removed
    assert "janitoo-ha/janitoo_0225_0004/availability" in removed
    assert not any("0225_0000" in t for t in removed)  # the controller came back
    assert LED not in bridge.nodes and not [k for k in bridge.entities if k[0] == "janitoo_0225_0004"]
    assert bridge.command("janitoo-ha/janitoo_0225_0004/basic_blink/set", b"blink", 111.0) == []


def test_forget_after_zero_keeps_nodes_forever() -> None:
    b = Bridge(Layout(), Options(forget_after=0))
    b.discovered(network(), 0.0)
    b.message(HeartbeatDispatch(225, -1, "OFFLINE"), 1.0)
    assert not [a for a in b.tick(1e9) if isinstance(a, Publish) and a.payload == ""]


def test_ha_birth_republishes_everything(bridge: Bridge) -> None:
    bridge.tick(2.0)
    assert bridge.ha_status(b"offline", 5.0) == []
    out = publishes(bridge.ha_status(b"online", 5.0))
    assert "homeassistant/select/janitoo_0225_0004/basic_blink/config" in out
    assert out["janitoo-ha/bridge/availability"] == "online"
    assert bridge.next_wake() == 7.0  # and the states are asked for again


def test_a_command_becomes_a_set(bridge: Bridge) -> None:
    (action,) = bridge.command("janitoo-ha/janitoo_0225_0004/basic_blink/set", b"warning", 5.0)
    assert isinstance(action, SetValue) and action.data == "warning"
    assert action.entity.target is not None and (action.entity.target.hadd, action.entity.target.uuid) == (
        LED,
        "blink",
    )


@pytest.mark.parametrize(
    "topic",
    ["janitoo-ha/janitoo_0225_0004/nothing/set", "janitoo-ha/janitoo_9999_0004/basic_blink/set",
     "janitoo-ha/janitoo_0225_0004/basic_blink/get", "set", "janitoo-ha/janitoo_0225_0000/liveness/set",
     "other/janitoo_0225_0004/basic_blink/set"],
)  # fmt: skip
def test_commands_for_unknown_or_stateless_entities_are_dropped(bridge: Bridge, topic: str) -> None:
    assert bridge.command(topic, b"warning", 5.0) == []


def test_a_refused_command_is_reported_with_its_reason(bridge: Bridge) -> None:
    (report,) = bridge.command("janitoo-ha/janitoo_0225_0004/basic_blink/set", b"dance", 5.0)
    assert isinstance(report, Publish) and report.topic == "janitoo-ha/bridge/refusal"
    assert json.loads(report.payload)["error"] == "'dance' is not one of the options"
    (action,) = bridge.command("janitoo-ha/janitoo_0225_0004/basic_blink/set", b"blink", 6.0)
    assert isinstance(action, SetValue)
    (report,) = bridge.set_done(action.entity, "blink", "the LED is busy\n" + "x" * 1000, 6.5)
    body: dict[str, Any] = json.loads(report.payload)  # type: ignore[union-attr]
    assert body["hadd"] == "0225/0004" and body["uuid"] == "blink" and body["data"] == "blink"
    assert body["error"].startswith("the LED is busy x") and len(body["error"]) == 255
    assert bridge.set_done(action.entity, "blink", None, 7.0) == []


def test_an_unknown_node_is_discovered_once_per_period(bridge: Bridge) -> None:
    stranger = Hadd(1118, 1)
    assert bridge.message(Heartbeat(stranger, "ONLINE"), 1.0) == [Discover(Hadd(1118, 0))]
    assert bridge.message(Heartbeat(Hadd(1118, 2), "ONLINE"), 2.0) == []
    assert bridge.message(Heartbeat(stranger, "ONLINE"), 40.0) == [Discover(Hadd(1118, 0))]
    assert bridge.message(Heartbeat(Hadd(3000, 1), "OFFLINE"), 40.0) == []
    assert stranger not in bridge.liveness  # never tracked before it is known


def test_a_flood_of_strangers_is_bounded() -> None:
    b = Bridge(Layout(), Options(max_nodes=2))
    b.discovered(network(), 0.0)
    for c in range(100):
        assert b.message(Heartbeat(Hadd(c + 1, 1), "ONLINE"), 1.0) == []
    assert len(b.liveness) == 2
    more = network()
    more.nodes[Hadd(7, 7)] = NodeInfo(uuid="x", hadd=Hadd(7, 7))
    b.discovered(more, 2.0)
    assert Hadd(7, 7) not in b.nodes


def test_a_new_value_published_by_a_known_node_gets_an_entity(bridge: Bridge) -> None:
    raw = {"uuid": "humidity", "genre": 2, "type": 3, "cmd_class": 49, "units": "%", "data": 40}
    v = ValueInfo.from_wire(raw)
    out = publishes(bridge.message(ValuePublication(Genre.USER, LED, "humidity", (v,)), 3.0))
    cfg = json.loads(out["homeassistant/sensor/janitoo_0225_0004/user_humidity/config"])
    assert cfg["device_class"] == "humidity"
    # An echo (no type) of a value not known is not enough to describe an entity.
    echo = ValueInfo.from_wire({"uuid": "other", "data": 1})
    assert publishes(bridge.message(ValuePublication(Genre.USER, LED, "other", (echo,)), 4.0)) == {}


def test_published_values_cannot_grow_a_node_past_its_limit() -> None:
    b = Bridge(Layout(), Options(max_entities_per_node=4))
    b.discovered(network(), 0.0)
    for i in range(50):
        v = ValueInfo.from_wire({"uuid": f"v{i}", "genre": 2, "type": 3, "data": i})
        b.message(ValuePublication(Genre.USER, LED, f"v{i}", (v,)), 1.0)
    assert b._value_count(LED) == 4
    assert len([k for k in b.entities if k[0] == "janitoo_0225_0004"]) == 4 + 1  # and its liveness


def test_an_unknown_liveness_word_reads_unknown(bridge: Bridge) -> None:
    out = publishes(bridge.message(Heartbeat(LED, "SLEEPY"), 1.0))
    assert out["janitoo-ha/janitoo_0225_0004/state"] == "UNKNOWN"
    assert "janitoo-ha/janitoo_0225_0004/availability" not in out  # a word it does not know is not gone


def test_a_new_heartbeat_period_is_taken(bridge: Bridge) -> None:
    hb = ValueInfo.from_wire({"uuid": "heartbeat", "genre": 4, "type": 4, "data": 5})
    bridge.message(ValuePublication(Genre.SYSTEM, LED, "heartbeat", (hb,)), 0.0)
    out = publishes(bridge.tick(3 * 5 * 1.1 + 0.1))
    assert out["janitoo-ha/janitoo_0225_0004/state"] == "PENDING"


def test_shutdown_marks_the_bridge_offline(bridge: Bridge) -> None:
    assert bridge.shutdown() == [Publish("janitoo-ha/bridge/availability", "offline")]
