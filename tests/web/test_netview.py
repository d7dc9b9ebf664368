"""The web manager's sans-IO view of the network: states, discovery, values, ceilings and hostile input."""

from __future__ import annotations

from dataclasses import replace

from janitoo_protocol import decode
from janitoo_protocol.addressing import Hadd
from janitoo_protocol.events import Heartbeat, HeartbeatDispatch, ResolvHeartbeat, ValuePublication
from janitoo_protocol.model import NodeInfo, ValueInfo
from janitoo_protocol.network import NetworkMap
from janitoo_web.netview import HISTORY, MAX_TEXT, MAX_VALUES_PER_NODE, History, NetView, cut, shown

H = Hadd(225, 4)


def _discovered(view: NetView, *nodes: NodeInfo, values: tuple[tuple[ValueInfo, int], ...] = ()) -> None:
    network = NetworkMap()
    for n in nodes:
        network.nodes[n.hadd] = n  # type: ignore[index]
    for v, genre in values:
        network.merge_value(v, genre)
    view.add_discovery(network, 0.0, 1000.0)


def test_a_heartbeat_from_an_unknown_node_adds_it_and_asks_its_controller() -> None:
    view = NetView()
    events = view.feed(Heartbeat(H, "ONLINE"), "/dhcp/heartbeat/0225/0004", 1.0, 1001.0)
    assert [e["t"] for e in events] == ["traffic", "node"]
    assert events[1]["new"] is True and events[1]["row"]["state"] == "ONLINE"
    assert view.wanted == {Hadd(225, 0)}


def test_silence_ages_a_node_to_pending_then_failed_and_offline_is_at_once() -> None:
    view = NetView()
    _discovered(view, NodeInfo("led", H, heartbeat=10))
    assert view.state(H) == "ONLINE"
    assert [e["row"]["state"] for e in view.tick(33.0)] == ["PENDING"]
    assert [e["row"]["state"] for e in view.tick(66.0)] == ["FAILED"]
    view.feed(Heartbeat(H, "ONLINE"), "t", 70.0, 1070.0)
    events = view.feed(HeartbeatDispatch(225, -1, "OFFLINE"), "t", 71.0, 1071.0)
    assert [e["row"]["state"] for e in events if e["t"] == "state"] == ["OFFLINE"]
    # Back from OFFLINE: its controller is asked again, since it restarted.
    view.wanted.clear()
    view.feed(Heartbeat(H, "ONLINE"), "t", 72.0, 1072.0)
    assert view.wanted == {Hadd(225, 0)}


def test_a_made_up_state_word_shows_as_unknown() -> None:
    view = NetView()
    events = view.feed(Heartbeat(H, "EXPLODED"), "t", 1.0, 1.0)
    assert events[1]["row"]["state"] == "UNKNOWN"


def test_hostile_texts_are_cut_and_kept_as_text() -> None:
    view = NetView()
    name = "<script>alert(1)</script>" + "x" * 5000
    _discovered(view, NodeInfo("evil", H, name=name))
    row = view.node_row(H, 1.0)
    assert row["name"].startswith("<script>") and len(row["name"]) == MAX_TEXT
    assert shown({"a": [1, 2, {"b": "c" * 1000}]}).endswith("…")
    assert shown(float("nan")) == "nan" and shown(True) is True and shown(None) is None
    assert cut("short") == "short"


def test_publications_update_values_keep_writability_and_feed_the_chart() -> None:
    view = NetView()
    temp = ValueInfo("temperature", H, genre=2, type=3, cmd_class=49, data=20.0)
    name = ValueInfo("name", H, genre=3, type=8, cmd_class=112, data="Led", is_readonly=False)
    _discovered(view, NodeInfo("led", H, name="Led"), values=((temp, 2), (name, 3)))
    for k in range(HISTORY + 5):
        pub = ValuePublication(
            2, H, "temperature", (ValueInfo("temperature", H, genre=2, type=3, data=20.0 + k),)
        )
        events = view.feed(pub, "t", 1.0 + k, 2000.0 + k)
        assert events[-1] == {"t": "value", "hadd": "0225/0004", "key": "2:temperature:0", "data": 20.0 + k,
                              "at": 2000.0 + k, "numeric": True}  # fmt: skip
    points = view.history(H, "temperature", 0)
    assert len(points) == HISTORY and points[-1] == [2000.0 + HISTORY + 4, 20.0 + HISTORY + 4]
    # An echo of a config SET says is_readonly (the way it travels): the value stays writable, and the
    # node's row follows its new name.
    echo = ValuePublication(
        3, H, "name", (ValueInfo("name", H, genre=3, type=8, data="Desk", is_readonly=True),)
    )
    events = view.feed(echo, "t", 100.0, 3000.0)
    assert view.map.get_value(H, "name", 0).is_readonly is False  # type: ignore[union-attr]
    assert events[-1]["t"] == "node" and events[-1]["row"]["name"] == "Desk"


def test_ceilings_on_nodes_and_values() -> None:
    view = NetView(max_nodes=3)
    for n in range(10):
        view.feed(Heartbeat(Hadd(100 + n, 0), "ONLINE"), "t", 1.0, 1.0)
    assert len(view.hadds()) == 3 and view.ignored == 7
    _discovered(view, NodeInfo("a", Hadd(100, 0)))
    for k in range(MAX_VALUES_PER_NODE + 50):
        view.feed(ValuePublication(2, Hadd(100, 0), f"v{k}", (ValueInfo(f"v{k}", Hadd(100, 0), genre=2, data=k),)),
                  "t", 2.0, 2.0)  # fmt: skip
    assert sum(len(u) for u in view.map.values[Hadd(100, 0)].values()) == MAX_VALUES_PER_NODE
    assert len(view.traffic) == 300  # the traffic kept is bounded too


def test_values_of_an_undiscovered_node_are_not_kept_but_its_controller_is_asked() -> None:
    view = NetView()
    view.feed(ValuePublication(2, H, "t", (ValueInfo("t", H, genre=2, data=1),)), "t", 1.0, 1.0)
    assert view.map.values == {} and view.wanted == {Hadd(225, 0)}


def test_the_primary_with_the_highest_epoch_is_in_charge() -> None:
    view = NetView()
    view.feed(ResolvHeartbeat(1, 0, "ONLINE", {"epoch": 3, "priority": 1}), "t", 1.0, 1.0)
    events = view.feed(ResolvHeartbeat(2, 0, "ONLINE", {"epoch": "nan", "priority": 9}), "t", 1.0, 1.0)
    rows = events[-1]["rows"]
    assert [(r["role"], r["hadd"], r["epoch"]) for r in rows] == [
        ("primary", "0001/0000", 3),
        ("primary (contender)", "0002/0000", "nan"),
    ]
    assert view.feed(ResolvHeartbeat(1, 0, "ONLINE", {"epoch": 3, "priority": 1}), "t", 2.0, 2.0)[1:] == []


def test_traffic_lines_describe_messages_and_undecodable_ones() -> None:
    view = NetView()
    topic = "/values/basic/0225/0004/blink"
    msg = decode(
        topic, b'{"uuid": "blink", "hadd": "0225/0004", "genre": 1, "data": "<b>x</b>", "units": "u"}'
    )
    line = view.feed(msg, topic, 1.0, 1.0)[0]["line"]
    assert (line["kind"], line["hadd"], line["text"]) == ("value", "0225/0004", "basic blink = <b>x</b> u")
    line = view.feed(None, "/nodes/x" * 100, 1.0, 1.0, error="payload is not JSON")[0]["line"]
    assert line["kind"] == "other" and line["text"] == "undecodable: payload is not JSON"
    assert len(line["topic"]) == 120


def test_the_history_ring_never_grows() -> None:
    h = History()
    for k in range(1000):
        h.add(float(k), float(k))
    assert len(h) == HISTORY and h.points()[0] == [1000.0 - HISTORY, 1000.0 - HISTORY]


def test_a_discovery_never_brings_back_data_older_than_what_was_heard_live_on_this_connection() -> None:
    # The web manager starts while the node boots: the live publication of "sleeping" comes first, and a
    # discovery begun just after it can still read the retained copy taken at "booting" (it follows the
    # live publication by up to a tenth of a second). The older snapshot must not win.
    view = NetView()
    state = ValueInfo("state", hadd=H, data="booting", genre=1, index=0)
    _discovered(view, NodeInfo("node", H), values=((state, 1),))
    view.feed(ValuePublication(1, H, "state", (replace(state, data="sleeping"),)), "t", 5.0, 1005.0)
    network = NetworkMap()
    network.nodes[H] = NodeInfo("node", H)
    network.merge_value(replace(state, data="booting", help="described"), 1)
    # Connected at 4, the publication heard at 5, the discovery's data read after it.
    view.add_discovery(network, 6.0, 1006.0, live_since=4.0)
    merged = view.map.get_value(H, "state", 0, 1)
    assert merged is not None and merged.data == "sleeping" and merged.help == "described"
    # After a reconnect (at 7), what was heard before may have missed changes: the discovery's data wins.
    view.add_discovery(network, 8.0, 1008.0, live_since=7.0)
    merged = view.map.get_value(H, "state", 0, 1)
    assert merged is not None and merged.data == "booting"
