"""The retained-state extension, sans-IO: payloads round-trip, every malformed or lying one is rejected."""

from __future__ import annotations

import json

import pytest

from janitoo_protocol import Hadd, NodeInfo, ProtocolError, ValueInfo
from janitoo_protocol.retained import (
    MAX_RETAINED_PAYLOAD,
    Cleared,
    RetainedNode,
    RetainedReader,
    RetainedStatus,
    RetainedTopics,
    node_payload,
    parse_retained,
    status_payload,
)

RT = RetainedTopics("site")
H = Hadd(7, 1)
NODE = NodeInfo(uuid="n1", hadd=H, name="Node 1", state="ONLINE")
VALUE = ValueInfo(uuid="temperature", hadd=H, genre=2, cmd_class=49, type=3, index=0, data=21.5)


def _reader() -> RetainedReader:
    return RetainedReader(RT, "me", "nonce")


def test_topics_sit_under_the_prefix_off_the_original_namespace() -> None:
    assert RT.node(H) == "site/retained/nodes/0007/0001"
    assert RT.status(7) == "site/retained/status/0007"
    assert RetainedTopics("").everything() == "/retained/#"


def test_a_node_payload_round_trips() -> None:
    item = parse_retained(RT, RT.node(H), node_payload(NODE, [VALUE], 7))
    assert isinstance(item, RetainedNode)
    assert item.node.hadd == H and item.node.state == "ONLINE" and item.status == 7
    assert [(v.uuid, v.data) for v in item.values] == [("temperature", 21.5)]


def test_the_reader_builds_the_map_and_ends_at_its_own_marker() -> None:
    r = _reader()
    assert not r.feed(RT.status(7), status_payload("ONLINE", [7]))
    assert not r.feed(RT.node(H), node_payload(NODE, [VALUE], 7))
    assert not r.feed(RT.sync("other"), b"nonce")  # another client's marker
    assert not r.feed(RT.sync("me"), b"wrong")
    assert r.feed(RT.sync("me"), b"nonce")
    net = r.network_map()
    assert net.node(H).state == "ONLINE"
    assert net.value(H, "temperature").data == 21.5


def test_a_retained_will_makes_its_nodes_offline_and_only_those_that_point_to_it() -> None:
    r = _reader()
    r.feed(RT.node(H), node_payload(NODE, [], 7))
    r.feed(RT.status(7), status_payload("OFFLINE", [7]))
    assert r.network_map().node(H).state == "OFFLINE"
    # A status of controller 8 claiming controller 7 too: 7's node does not point to it.
    r2 = _reader()
    r2.feed(RT.node(H), node_payload(NODE, [], 7))
    r2.feed(RT.status(8), status_payload("OFFLINE", [7, 8]))
    assert r2.network_map().node(H).state == "ONLINE"


def test_an_empty_payload_clears() -> None:
    r = _reader()
    r.feed(RT.node(H), node_payload(NODE, [], 7))
    assert parse_retained(RT, RT.node(H), b"") == Cleared(hadd=H)
    r.feed(RT.node(H), b"")
    assert len(r.network_map()) == 0


def _good() -> dict[str, object]:
    return json.loads(node_payload(NODE, [VALUE], 7))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (RT.node(H), b"x" * (MAX_RETAINED_PAYLOAD + 1), "limit"),
        (RT.node(H), b"{not json", "not JSON"),
        (RT.node(H), b"[1]", "not a JSON object"),
        (RT.node(H), b'{"node": [], "values": [], "status": 7}', "'node' must be an object"),
        (RT.node(H), json.dumps({**_good(), "values": {}}).encode(), "'values' must be a list"),
        (RT.node(H), json.dumps({**_good(), "values": [{}] * 3000}).encode(), "'values' must be a list"),
        (RT.node(H), json.dumps({**_good(), "status": "7"}).encode(), "'status'"),
        (RT.node(H), json.dumps({**_good(), "status": True}).encode(), "'status'"),
        (RT.node(Hadd(7, 2)), json.dumps(_good()).encode(), "is not the topic's"),
        (
            RT.node(H),
            json.dumps({**_good(), "values": [{"uuid": "x", "hadd": "0007/0009"}]}).encode(),
            "has hadd 0007/0009",
        ),  # fmt: skip
        (RT.node(H), json.dumps({**_good(), "values": [{"no": "uuid"}]}).encode(), "uuid"),
        (
            RT.node(H),
            json.dumps({**_good(), "node": {"uuid": "n1", "hadd": "0007/0001", "state": "PWNED"}}).encode(),
            "unknown state",
        ),  # fmt: skip
        (RT.root + "nodes/abc/0001", json.dumps(_good()).encode(), "not a node address"),
        (RT.root + "nodes/0007/0001/x", b"{}", "not a retained-state topic"),
        (RT.status(7), b'{"state": "MAYBE", "controllers": [7]}', "ONLINE or OFFLINE"),
        (RT.status(7), b'{"state": "OFFLINE", "controllers": [8]}', "its own among them"),
        (RT.status(7), b'{"state": "OFFLINE", "controllers": [true, 7]}', "controller numbers"),
        (RT.root + "status/7", b'{"state": "OFFLINE", "controllers": [7]}', "4 digits"),
        ("other/retained/nodes/0007/0001", b"{}", "not a retained-state topic"),
    ],
)
def test_hostile_payloads_are_rejected_with_a_reason(topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        parse_retained(RT, topic, payload)
    r = _reader()
    r.feed(topic, payload)
    assert r.rejected == 1 and len(r.network_map()) == 0


def test_a_status_parses() -> None:
    assert parse_retained(RT, RT.status(7), status_payload("ONLINE", [8, 7])) == RetainedStatus(
        7, "ONLINE", frozenset({7, 8})
    )
