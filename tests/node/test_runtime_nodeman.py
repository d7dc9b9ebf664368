"""The node manager, sans threads: a ManualScheduler for time, a list for the wire."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from janitoo_node.config import JanitooConfig
from janitoo_node.nodeman import NodeManager
from janitoo_node.scheduler import ManualScheduler
from janitoo_node.server import load_buses
from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Genre,
    Hadd,
    Heartbeat,
    Message,
    ValuePublication,
    ValueReply,
    ValueRequest,
    encode,
)

DATA = Path(__file__).parent.parent / "data" / "original"
ME = Hadd(9999, 9990)
C1 = Hadd(1118, 1)


class Rig:
    def __init__(self, conf: Path) -> None:
        self.sent: list[Message] = []
        self.scheduler = ManualScheduler()
        self.config = JanitooConfig(conf)
        (rt,) = load_buses(self.config, self.scheduler, lambda s: self.sent.append, threads=False)
        self.manager: NodeManager = rt.manager

    def take(self) -> list[Message]:
        out, self.sent[:] = list(self.sent), []
        return out

    def request(self, **kw: Any) -> list[Message]:
        self.take()
        defaults: dict[str, Any] = {"hadd": C1, "reply_hadd": ME, "target": C1}
        self.manager.handle(ValueRequest(**{**defaults, **kw}))
        return self.take()


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    conf = tmp_path / "fake.conf"
    conf.write_text((DATA / "original-fake-node.conf").read_text())
    r = Rig(conf)
    r.manager.start()
    return r


def _original_reply(kind: str) -> dict[str, Any]:
    for line in (DATA / "original-query-network.jsonl").read_text().splitlines():
        m = json.loads(line)
        if m["topic"].startswith("/broadcast/reply/"):
            p = json.loads(m["payload"])
            if p["uuid"] == kind and ("fake" in p["data"] or "1118/0000" in p["data"]):
                return p
    raise AssertionError(kind)


def test_goes_online_at_once_with_a_heartbeat_per_node(rig: Rig) -> None:
    beats = [m for m in rig.sent if isinstance(m, Heartbeat)]
    assert sorted(str(b.hadd) for b in beats) == ["1118/0000", "1118/0001", "1118/0002"]
    assert {b.state for b in beats} == {"ONLINE"}


def test_heartbeats_follow_each_nodes_configured_period(rig: Rig, tmp_path: Path) -> None:
    rig.take()
    rig.scheduler.advance(14.9)
    assert not [m for m in rig.take() if isinstance(m, Heartbeat)]
    rig.scheduler.advance(0.2)
    assert len([m for m in rig.take() if isinstance(m, Heartbeat)]) == 3
    rig.scheduler.advance(15 * 4)
    assert len([m for m in rig.take() if isinstance(m, Heartbeat)]) == 12


def test_heartbeat_period_change_takes_effect_at_once_and_persists(rig: Rig) -> None:
    out = rig.request(uuid="heartbeat", genre=4, cmd_class=112, data=5, is_writeonly=True, is_readonly=False)
    assert any(isinstance(m, Heartbeat) and m.hadd == C1 for m in out)
    rig.scheduler.advance(5.01)
    assert [m.hadd for m in rig.take() if isinstance(m, Heartbeat)] == [C1]
    assert rig.config.get("fake__component1", "heartbeat") == "5"


def test_nodes_reply_matches_the_original_wire_dicts(rig: Rig) -> None:
    rig.take()
    rig.manager.handle(DiscoveryRequest("request_info_nodes", ME))
    (reply,) = rig.take()
    assert isinstance(reply, DiscoveryReply)
    topic, payload = encode(reply)
    assert topic == "/broadcast/reply/9999/9990"
    ours = json.loads(payload)["data"]
    theirs = _original_reply("request_info_nodes")["data"]
    assert list(ours) == list(theirs)
    for uuid, node in theirs.items():
        # The original's keys in its order, then our one extension (the original ignores unknown keys).
        assert list(ours[uuid]) == [*node, "jnt_index"] and ours[uuid]["jnt_index"] is True
        for key in ("uuid", "oid", "capabilities", "name", "product_name", "product_type",
                    "product_manufacturer", "location", "hadd", "state", "config_timeout"):  # fmt: skip
            assert ours[uuid][key] == node[key], (uuid, key)
    # The configured period (the original reported 30 until queried: a bug we fix).
    assert ours["fake"]["heartbeat"] == 15
    assert ours["fake"]["cmd_classes"] == [4176, 112]


def test_systems_and_configs_match_the_original_shapes(rig: Rig) -> None:
    for kind in ("request_info_systems", "request_info_configs"):
        rig.take()
        rig.manager.handle(DiscoveryRequest(kind, ME, target=Hadd(1118, 0)))
        (reply,) = rig.take()
        topic, payload = encode(reply)
        assert topic == "/nodes/9999/9990/reply"
        ours = json.loads(payload)["data"]
        theirs = _original_reply(kind)["data"]
        for hadd, values in theirs.items():
            for uuid, value in values.items():
                if uuid.startswith("test_"):
                    continue  # the original's untyped test values; ours are typed text values
                assert uuid in ours[hadd], (hadd, uuid)
                mine = ours[hadd][uuid]
                assert list(mine) == list(value), (hadd, uuid)
                if "uuid" not in value:  # 3-level
                    mine, value = mine["0"], value["0"]
                for key, v in value.items():
                    if (uuid, key) == ("heartbeat", "min"):
                        # Safety over the original: a heartbeat under 1 s floods the network (its 0).
                        assert (v, mine[key]) == (0, 1)
                    elif key != "data":
                        assert mine[key] == v, (hadd, uuid, key)


def test_config_set_persists_and_echoes_only_on_the_values_topic(rig: Rig) -> None:
    out = rig.request(
        uuid="location", genre=3, cmd_class=112, data="Rack 2", is_writeonly=True, is_readonly=True
    )
    (pub,) = out
    assert isinstance(pub, ValuePublication)
    topic, payload = encode(pub)
    assert topic == "/values/config/1118/0001/location"
    assert json.loads(payload) == {
        "cmd_class": 112, "uuid": "location", "data": "Rack 2", "reply_hadd": "9999/9990", "genre": 3,
        "is_writeonly": False, "is_readonly": True, "hadd": "1118/0001", "label": "location",
        "help": "The location of the node",
    }  # fmt: skip
    assert rig.config.get("fake__component1", "location") == "Rack 2"
    assert JanitooConfig(rig.config.path).get("fake__component1", "location") == "Rack 2"


def test_user_set_answers_on_both_routes_with_the_full_value(rig: Rig) -> None:
    out = rig.request(
        uuid="test_user", genre=2, cmd_class=0, data="hello", is_writeonly=True, is_readonly=False
    )
    reply, pub = out
    assert isinstance(reply, ValueReply) and isinstance(pub, ValuePublication)
    assert encode(reply)[0] == "/nodes/9999/9990/reply"
    assert encode(pub)[0] == "/values/user/1118/0001/test_user"
    body = json.loads(encode(reply)[1])
    assert body["data"] == "hello" and body["is_writeonly"] is False and body["is_readonly"] is True
    assert body["node_uuid"] == "fake__component1" and body["help"] == "A user test value"
    get = rig.request(uuid="test_user", genre=2, cmd_class=0)
    assert isinstance(get[0], ValueReply) and get[0].value.data == "hello"


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"uuid": "nothing", "genre": 2, "cmd_class": 0}, "node 1118/0001 has no value 'nothing'"),
        ({"uuid": "counter", "genre": 2, "cmd_class": 49, "data": 3}, "counter is read-only"),
        ({"uuid": "test_user", "genre": 2, "cmd_class": 48, "data": "x"}, "wrong cmd_class 48 for test_user"),
        (
            {"uuid": "heartbeat", "genre": 4, "cmd_class": 112, "data": "often"},
            "cannot convert 'often' to Int",
        ),
        ({"uuid": "heartbeat", "genre": 4, "cmd_class": 112, "data": 5000}, "5000 is above the maximum 3000"),
        (
            {"uuid": "location", "genre": 2, "cmd_class": 112, "data": "x"},
            "location is a config value, not user",
        ),
        (
            {"uuid": "hadd", "genre": 4, "cmd_class": 112, "data": "0001/0001"},
            "hadd is read-only at run time",
        ),
        (
            {"uuid": "counter_poll", "genre": 3, "cmd_class": 112, "data": -1},
            "poll delay -1 must be 0 (off) or between 1 and 86400 s",
        ),
    ],
)
def test_refused_sets_are_answered_with_the_reason(rig: Rig, kw: dict[str, Any], reason: str) -> None:
    out = rig.request(is_writeonly=True, is_readonly=False, **kw)
    (reply,) = out
    assert isinstance(reply, ValueReply)
    assert reply.error is not None and reason in reply.error
    assert encode(reply)[0] == "/nodes/9999/9990/reply"


def test_refusal_keeps_the_stored_data(rig: Rig) -> None:
    rig.request(uuid="heartbeat", genre=4, cmd_class=112, data="often", is_writeonly=True, is_readonly=False)
    assert rig.manager.nodes[C1].heartbeat == 15
    assert rig.config.get("fake__component1", "heartbeat") == "15"


def test_polls_publish_on_period_and_poll_zero_disables_then_reenables(rig: Rig) -> None:
    def counters() -> list[ValuePublication]:
        return [
            m for m in rig.take() if isinstance(m, ValuePublication) and m.uuid == "counter" and m.hadd == C1
        ]

    rig.scheduler.advance(0)
    assert len(counters()) == 1  # the first poll runs at once
    rig.scheduler.advance(30)
    assert len(counters()) == 1
    rig.request(uuid="counter_poll", genre=3, cmd_class=112, data=0, is_writeonly=True)
    rig.scheduler.advance(300)
    assert counters() == []
    assert rig.config.get("fake__component1", "counter_poll_0") == "0"
    rig.request(uuid="counter_poll", genre=3, cmd_class=112, data=10, is_writeonly=True)
    rig.scheduler.advance(10)
    rig.scheduler.advance(10)
    assert len(counters()) == 2


def test_set_with_an_index_acts_on_that_index(tmp_path: Path) -> None:
    conf = tmp_path / "fake.conf"
    text = (DATA / "original-fake-node.conf").read_text()
    conf.write_text(
        text.replace(
            "hadd = 1118/0001\n", "hadd = 1118/0001\ntest_user_config_0 = a\ntest_user_config_1 = b\n"
        )
    )
    rig = Rig(conf)
    rig.manager.start()
    rig.request(uuid="test_user", genre=2, cmd_class=0, data="zero", is_writeonly=True)
    out = rig.request(uuid="test_user", genre=2, cmd_class=0, data="one", index=1, is_writeonly=True)
    value = rig.manager.nodes[C1].values["test_user"]
    assert value.cached(0) == "zero" and value.cached(1) == "one"
    assert isinstance(out[0], ValueReply) and out[0].value.index == 1
    (refused,) = rig.request(uuid="test_user", genre=2, cmd_class=0, data="x", index=5, is_writeonly=True)
    assert isinstance(refused, ValueReply) and refused.error == "test_user has no index 5"
    rig.scheduler.advance(0)
    rig.take()
    rig.manager.handle(DiscoveryRequest("request_info_users", ME))
    (reply,) = rig.take()
    assert isinstance(reply, DiscoveryReply)
    labels = sorted(
        (v.index, v.label, v.data) for v in reply.values if v.uuid == "test_user" and v.hadd == C1
    )
    assert labels == [(0, "test_user (a)", "zero"), (1, "test_user (b)", "one")]


def test_broadcast_set_for_another_controller_is_ignored(rig: Rig) -> None:
    out = rig.request(hadd=Hadd(42, 1), target=None, uuid="test_user", genre=2, cmd_class=0, data="x",
                      is_writeonly=True)  # fmt: skip
    assert out == []


def test_clean_stop_says_offline_for_every_node(rig: Rig) -> None:
    rig.take()
    rig.manager.stop()
    beats = rig.take()
    assert sorted((str(m.hadd), m.state) for m in beats if isinstance(m, Heartbeat)) == [
        ("1118/0000", "OFFLINE"), ("1118/0001", "OFFLINE"), ("1118/0002", "OFFLINE"),
    ]  # fmt: skip
    rig.scheduler.advance(1000)
    assert rig.take() == []


def test_persisted_config_survives_a_restart(tmp_path: Path) -> None:
    conf = tmp_path / "fake.conf"
    conf.write_text((DATA / "original-fake-node.conf").read_text())
    first = Rig(conf)
    first.manager.start()
    first.request(uuid="test_config", genre=3, cmd_class=112, data="kept", is_writeonly=True)
    first.request(uuid="name", genre=3, cmd_class=112, data="Renamed", is_writeonly=True)
    first.manager.stop()
    second = Rig(conf)
    second.manager.start()
    node = second.manager.nodes[C1]
    assert node.values["test_config"].cached(0) == "kept"
    assert node.name == "Renamed"
    assert Genre.CONFIG == node.values["test_config"].genre


def test_value_factories_come_from_the_catalogue_or_the_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from janitoo_node import plugins
    from janitoo_node.values import Value, ValueSpec, make_value

    def make_gauge(uuid: str, **kwargs: Any) -> Value:
        return Value(uuid, ValueSpec(2, 3, 49, "Gauge", "bar"), **kwargs)

    monkeypatch.setattr(plugins, "value_factories", lambda: {"sensor_gauge": make_gauge})
    assert make_value("sensor_temperature", "t").units == "°C"
    gauge = make_value("sensor_gauge", "pressure", help="A third-party value")
    assert (gauge.uuid, gauge.units, gauge.help) == ("pressure", "bar", "A third-party value")
    with pytest.raises(KeyError, match="unknown value factory 'nothing'"):
        make_value("nothing", "x")
