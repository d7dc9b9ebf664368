"""The retained-state extension, sans-IO: payloads round-trip, every malformed or lying one is rejected."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from janitoo_protocol import Hadd, NetworkMap, NodeInfo, ProtocolError, UsageError, ValueInfo
from janitoo_protocol.exchange import check_source, from_retained
from janitoo_protocol.retained import (
    MAX_RETAINED_PAYLOAD,
    Cleared,
    RetainedController,
    RetainedReader,
    RetainedStatus,
    RetainedTopics,
    controller_payload,
    node_part,
    parse_retained,
    payload_of_parts,
    status_payload,
)

RT = RetainedTopics("site")
C = Hadd(7, 0)
H = Hadd(7, 1)
NODES = (NodeInfo(uuid="c7", hadd=C, name="Controller", state="ONLINE"),
         NodeInfo(uuid="n1", hadd=H, name="Node 1", state="FAILED"))  # fmt: skip
VALUE = ValueInfo(uuid="temperature", hadd=H, genre=2, cmd_class=49, type=3, index=0, data=21.5)


def _reader() -> RetainedReader:
    return RetainedReader(RT, "me", "nonce")


def _good() -> dict[str, object]:
    return json.loads(controller_payload(NODES, [VALUE], 7))  # type: ignore[no-any-return]


def _with(**changes: object) -> bytes:
    return json.dumps({**_good(), **changes}).encode()


def test_topics_sit_under_the_prefix_off_the_original_namespace() -> None:
    assert RT.controller(7) == "site/retained/controllers/0007"
    assert RT.status(7) == "site/retained/status/0007"
    assert RT.sync("me") == "site/retained/sync/me"
    assert RetainedTopics("").everything() == "/retained/#"


def test_a_controller_payload_round_trips() -> None:
    item = parse_retained(RT, RT.controller(7), controller_payload(NODES, [VALUE], 7))
    assert isinstance(item, RetainedController)
    assert [(n.hadd, n.state) for n in item.nodes] == [(C, "ONLINE"), (H, "FAILED")]
    assert item.status == 7
    assert [(v.uuid, v.data) for v in item.values] == [("temperature", 21.5)]


def test_the_reader_builds_the_map_and_ends_at_its_own_marker() -> None:
    r = _reader()
    assert not r.feed(RT.status(7), status_payload("ONLINE", [7]))
    assert not r.feed(RT.controller(7), controller_payload(NODES, [VALUE], 7))
    assert not r.feed(RT.sync("other"), b"nonce")  # another client's marker
    assert not r.feed(RT.sync("me"), b"wrong")
    assert r.feed(RT.sync("me"), b"nonce")
    net = r.network_map()
    assert net.node(C).state == "ONLINE" and net.node(H).state == "FAILED"
    assert net.value(H, "temperature").data == 21.5


def test_a_retained_will_makes_its_nodes_offline_and_only_those_that_point_to_it() -> None:
    r = _reader()
    r.feed(RT.controller(7), controller_payload(NODES, [], 7))
    r.feed(RT.status(7), status_payload("OFFLINE", [7]))
    assert {n.state for n in r.network_map().node_list()} == {"OFFLINE"}
    # A status of controller 8 claiming controller 7 too: 7's state does not point to it.
    r2 = _reader()
    r2.feed(RT.controller(7), controller_payload(NODES, [], 7))
    r2.feed(RT.status(8), status_payload("OFFLINE", [7, 8]))
    assert r2.network_map().node(C).state == "ONLINE"


def test_an_empty_payload_clears() -> None:
    r = _reader()
    r.feed(RT.controller(7), controller_payload(NODES, [], 7))
    r.feed(RT.status(7), status_payload("OFFLINE", [7]))
    assert parse_retained(RT, RT.controller(7), b"") == Cleared(7)
    assert parse_retained(RT, RT.status(7), b"") == Cleared(7, status=True)
    r.feed(RT.status(7), b"")
    assert r.statuses == {}
    r.feed(RT.controller(7), b"")
    assert len(r.network_map()) == 0


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (RT.controller(7), b"x" * (MAX_RETAINED_PAYLOAD + 1), "limit"),
        (RT.controller(7), b"{not json", "not JSON"),
        (RT.controller(7), b"[1]", "not a JSON object"),
        (RT.controller(7), _with(nodes={}), "'nodes' must be a list"),
        (RT.controller(7), _with(nodes=[]), "'nodes' must be a list"),
        (RT.controller(7), _with(values={}), "'values' must be a list"),
        (RT.controller(7), _with(values=[{}] * 60000), "'values' must be a list"),
        (RT.controller(7), _with(status="7"), "'status'"),
        (RT.controller(7), _with(status=True), "'status'"),
        (RT.controller(8), json.dumps(_good()).encode(), "is not of controller 0008"),
        (RT.controller(7), _with(values=[{"uuid": "x", "hadd": "0007/0009"}]), "not one of its nodes"),
        (RT.controller(7), _with(values=[{"uuid": "x", "hadd": None}]), "not one of its nodes"),
        (RT.controller(7), _with(values=[{"no": "uuid"}]), "uuid"),
        (RT.controller(7), _with(nodes=[{"uuid": "n", "hadd": None}]), "is not of controller"),
        (
            RT.controller(7),
            _with(nodes=[{"uuid": "n", "hadd": "0007/0001", "state": "PWNED"}]),
            "unknown state",
        ),
        (RT.controller(7), _with(nodes=[{"uuid": "n", "hadd": "0007/0001", "cmd_classes": "x"}]), "integers"),
        (RT.root + "controllers/abcd", json.dumps(_good()).encode(), "4 digits"),
        (RT.root + "controllers/0007/x", b"{}", "not a retained-state topic"),
        (RT.status(7), b'{"state": "MAYBE", "controllers": [7]}', "ONLINE or OFFLINE"),
        (RT.status(7), b'{"state": "OFFLINE", "controllers": [8]}', "its own among them"),
        (RT.status(7), b'{"state": "OFFLINE", "controllers": [true, 7]}', "controller numbers"),
        (RT.root + "status/7", b'{"state": "OFFLINE", "controllers": [7]}', "4 digits"),
        ("other/retained/controllers/0007", b"{}", "not a retained-state topic"),
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


def test_the_discovery_source_rule() -> None:
    r = _reader()
    r.feed(RT.controller(7), controller_payload(NODES, [VALUE], 7))
    kept = r.network_map()
    assert from_retained(kept, "auto", None) is kept
    assert from_retained(NetworkMap(), "auto", None) is None  # nothing retained: ask the nodes
    assert from_retained(NetworkMap(), "retained", None) == NetworkMap()  # never asks
    of_7 = from_retained(kept, "auto", Hadd(7, 3))
    assert of_7 is not None and set(of_7.nodes) == {C, H}
    assert from_retained(kept, "auto", Hadd(8, 0)) is None  # nothing of that controller: ask it
    with pytest.raises(UsageError, match="unknown discovery source 'cache'"):
        check_source("cache")


def _as_before(nodes: list[NodeInfo], values: list[ValueInfo], status: int) -> bytes:
    # How controller_payload wrote the payload before node parts were kept: one dumps of the whole dict.
    whole = {"nodes": [n.to_wire() for n in nodes], "values": [v.to_wire() for v in values], "status": status}
    return json.dumps(whole, separators=(",", ":"), default=str).encode("utf-8")


# Text a node or a value may carry: quotes, backslashes, line breaks, controls, non-ASCII, surrogates.
_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
_DATA = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | _TEXT


@given(
    st.lists(
        st.tuples(_TEXT, st.sampled_from(["ONLINE", "FAILED", "OFFLINE"]), st.lists(st.tuples(_TEXT, _DATA),
                  max_size=3)), max_size=4,
    ),
    st.integers(0, 9999),
)  # fmt: skip
def test_a_payload_of_kept_node_parts_is_byte_for_byte_the_whole_one(
    spec: list[tuple[str, str, list[tuple[str, object]]]], status: int
) -> None:
    nodes, values, parts = [], [], []
    for n, (name, state, vals) in enumerate(spec):
        hadd = Hadd(7, n)
        node = NodeInfo(uuid=f"n{n}", hadd=hadd, name=name, state=state)
        own = [ValueInfo(uuid=f"v{i}", hadd=hadd, genre=2, cmd_class=49, type=3, index=0, label=label, data=data)
               for i, (label, data) in enumerate(vals)]  # fmt: skip
        nodes.append(node)
        values.extend(own)
        parts.append(node_part(node, own))
    assert payload_of_parts(parts, status) == controller_payload(nodes, values, status)
    assert payload_of_parts(parts, status) == _as_before(nodes, values, status)
