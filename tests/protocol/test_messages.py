"""Messages: decoding every kind from hand-written payloads as in the spec, encoding, and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Genre,
    Hadd,
    Heartbeat,
    HeartbeatDispatch,
    NodeInfo,
    ProtocolError,
    ResolvHeartbeat,
    ValueInfo,
    ValuePublication,
    ValueReply,
    ValueRequest,
    decode,
    encode,
)
from janitoo_protocol.events import CORRELATION_KEY, LeaseMessage, ReplyRoute
from janitoo_protocol.topics import Topics


def dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode()


# A full value dict as a node manager sends it in a request_info_users reply.
TEMPERATURE: dict[str, Any] = {
    "uuid": "temperature", "node_uuid": "tutorial3__cpu", "hadd": "0225/0003", "genre": 2, "type": 3,
    "cmd_class": 49, "index": 0, "data": 37.9, "units": "°C", "label": "CPUTemp",
    "help": "The temperature of the CPU", "is_readonly": True, "is_writeonly": False, "is_polled": True,
    "poll_delay": 30, "default": None, "min": None, "max": None, "list_items": None, "voice_uuid": None,
    "reply_hadd": None, "entry_name": "sensor_temperature",
}  # fmt: skip

# A node dict with its state, as in a request_info_nodes reply.
CPU_NODE: dict[str, Any] = {
    "uuid": "tutorial3__cpu", "oid": "tutorial3.cpu", "hadd": "0225/0003", "name": "CPU",
    "location": "Hostsensor", "product_name": "CPU sensor", "product_type": "Software component",
    "product_manufacturer": "Janitoo", "capabilities": [], "cmd_classes": [112, 49], "heartbeat": 30,
    "config_timeout": 3, "state": "ONLINE",
}  # fmt: skip


def discovery(kind: str, data: Any, reply_hadd: str = "9999/9990") -> bytes:
    return dumps({"cmd_class": 20480, "genre": 4, "uuid": kind, "reply_hadd": reply_hadd, "data": data})


# ------------------------------------------------------------------------------------------ heartbeats


@pytest.mark.parametrize("payload", [b"ONLINE", "ONLINE", b"  online\n", b'"ONLINE"'])
def test_bare_word_heartbeat(payload: bytes | str) -> None:
    assert decode("/dhcp/heartbeat/0225/0003", payload) == Heartbeat(Hadd(225, 3), "ONLINE")


def test_offline_heartbeat_and_its_encoding() -> None:
    msg = decode("/dhcp/heartbeat/0121/0000", b"OFFLINE")
    assert msg == Heartbeat(Hadd(121, 0), "OFFLINE")
    # The original sends the bare word, not a JSON string.
    assert encode(msg) == ("/dhcp/heartbeat/0121/0000", b"OFFLINE")


def test_json_dispatch_on_the_bare_heartbeat_topic() -> None:
    msg = decode("/dhcp/heartbeat/", b'{"add_ctrl": 225, "add_node": 3, "state": "PENDING"}')
    assert msg == HeartbeatDispatch(225, 3, "PENDING")
    assert isinstance(msg, HeartbeatDispatch)
    assert msg.hadd == Hadd(225, 3)
    assert not msg.whole_controller
    topic, payload = encode(msg)
    assert topic == "/dhcp/heartbeat/"
    assert json.loads(payload) == {"add_ctrl": 225, "add_node": 3, "state": "PENDING"}


def test_whole_controller_dispatch_and_default_state() -> None:
    msg = decode("/dhcp/heartbeat/", b'{"add_ctrl": 121, "add_node": -1}')
    assert msg == HeartbeatDispatch(121, -1, "ONLINE")
    assert isinstance(msg, HeartbeatDispatch)
    assert msg.whole_controller
    assert msg.hadd == Hadd(121, 0)


def test_json_heartbeat_on_a_node_heartbeat_topic() -> None:
    # Receivers try JSON first: the addresses come from the payload, not the topic.
    msg = decode("/dhcp/heartbeat/0225/0003", b'{"add_ctrl": 225, "add_node": 3, "state": "offline"}')
    assert msg == HeartbeatDispatch(225, 3, "OFFLINE")


def test_resolv_heartbeat_with_string_addresses() -> None:
    msg = decode("/dhcp/resolv/heartbeat", b'{"add_ctrl": "0001", "add_node": "0000", "state": "ONLINE"}')
    assert msg == ResolvHeartbeat(1, 0, "ONLINE")
    assert isinstance(msg, ResolvHeartbeat)
    assert msg.hadd == Hadd(1, 0)
    topic, payload = encode(msg)
    assert topic == "/dhcp/resolv/heartbeat"
    # The original's DHCP server sends the address parts as zero-padded strings.
    assert json.loads(payload) == {"add_ctrl": "0001", "add_node": "0000", "state": "ONLINE"}


def test_resolv_heartbeat_keeps_extra_keys() -> None:
    msg = decode("/dhcp/resolv/heartbeat", b'{"add_ctrl": 1, "add_node": 0, "epoch": 7, "priority": 10}')
    assert msg == ResolvHeartbeat(1, 0, "ONLINE", {"epoch": 7, "priority": 10})
    assert json.loads(encode(msg)[1])["epoch"] == 7


# ------------------------------------------------------------------------------------------ requests


def test_discovery_request_broadcast() -> None:
    payload = b'{"cmd_class": 20480, "genre": 4, "uuid": "request_info_nodes", "reply_hadd": "9999/9990"}'
    msg = decode("/broadcast/request", payload)
    assert msg == DiscoveryRequest("request_info_nodes", Hadd(9999, 9990))
    assert isinstance(msg, DiscoveryRequest)
    assert msg.target is None
    assert msg.genre is None
    assert encode(msg) == ("/broadcast/request", payload)


def test_discovery_request_direct() -> None:
    payload = b'{"cmd_class": 20480, "genre": 4, "uuid": "request_info_configs", "reply_hadd": "9999/9990"}'
    msg = decode("/nodes/0121/0000/request", payload)
    assert msg == DiscoveryRequest("request_info_configs", Hadd(9999, 9990), target=Hadd(121, 0))
    assert isinstance(msg, DiscoveryRequest)
    assert msg.genre is Genre.CONFIG
    assert encode(msg) == ("/nodes/0121/0000/request", payload)


def test_discovery_request_keeps_our_correlation_key() -> None:
    payload = dumps(
        {
            "cmd_class": 20480,
            "genre": 4,
            "uuid": "request_info_users",
            "reply_hadd": "0001/0000",
            CORRELATION_KEY: "c1",
        }
    )
    msg = decode("/broadcast/request", payload)
    assert isinstance(msg, DiscoveryRequest)
    assert msg.extra == {CORRELATION_KEY: "c1"}
    assert json.loads(encode(msg)[1])[CORRELATION_KEY] == "c1"


def test_resolv_request() -> None:
    payload = b'{"cmd_class": 20480, "genre": 4, "uuid": "request_info_systems", "reply_hadd": "0002/0000"}'
    msg = decode("/dhcp/resolv/request/", payload)
    assert msg == DiscoveryRequest("request_info_systems", Hadd(2, 0), resolv=True)
    assert encode(msg) == ("/dhcp/resolv/request/", payload)


def test_value_get_request() -> None:
    payload = dumps({
        "cmd_class": 112, "uuid": "location", "data": None, "reply_hadd": "9999/9990", "genre": 3,
        "is_writeonly": False, "is_readonly": True, "hadd": "0121/0001",
    })  # fmt: skip
    msg = decode("/nodes/0121/0001/request", payload)
    assert msg == ValueRequest(
        hadd=Hadd(121, 1), uuid="location", genre=3, cmd_class=112, reply_hadd=Hadd(9999, 9990),
        data=None, is_writeonly=False, is_readonly=True, target=Hadd(121, 1),
    )  # fmt: skip
    assert isinstance(msg, ValueRequest)
    assert not msg.is_set
    assert msg.index is None
    topic, out = encode(msg)
    assert topic == "/nodes/0121/0001/request"
    assert json.loads(out) == json.loads(payload)


def test_value_set_request_with_index() -> None:
    payload = dumps({
        "cmd_class": 37, "genre": 2, "uuid": "switch", "hadd": "0225/0004", "reply_hadd": "9999/9990",
        "data": "on", "is_writeonly": True, "is_readonly": False, "index": 2,
    })  # fmt: skip
    msg = decode("/nodes/0225/0004/request", payload)
    assert isinstance(msg, ValueRequest)
    assert msg.is_set
    assert (msg.uuid, msg.genre, msg.cmd_class, msg.data, msg.index) == ("switch", 2, 37, "on", 2)
    assert msg.hadd == msg.target == Hadd(225, 4)
    assert json.loads(encode(msg)[1]) == json.loads(payload)


@pytest.mark.parametrize("false", ["False", "0", "NO", "no", " off ", False])
def test_value_request_string_booleans_false(false: Any) -> None:
    payload = dumps({"cmd_class": 112, "uuid": "name", "genre": 3, "hadd": "0121/0000", "reply_hadd": "9999/9990",
                     "data": "x", "is_writeonly": false, "is_readonly": false})  # fmt: skip
    msg = decode("/nodes/0121/0000/request", payload)
    assert isinstance(msg, ValueRequest)
    assert msg.is_writeonly is False
    assert msg.is_readonly is False


@pytest.mark.parametrize("true", ["True", "1", "yes", "on", True])
def test_value_request_string_booleans_true(true: Any) -> None:
    payload = dumps({"cmd_class": 112, "uuid": "name", "genre": 3, "hadd": "0121/0000", "reply_hadd": "9999/9990",
                     "data": "x", "is_writeonly": true})  # fmt: skip
    msg = decode("/nodes/0121/0000/request", payload)
    assert isinstance(msg, ValueRequest)
    assert msg.is_writeonly is True
    assert msg.is_readonly is True  # the original's default when absent is "read"


def test_value_request_on_broadcast_needs_its_hadd_in_the_payload() -> None:
    payload = dumps(
        {"cmd_class": 49, "uuid": "load", "genre": 1, "hadd": "0121/0001", "reply_hadd": "9999/9990"}
    )
    msg = decode("/broadcast/request", payload)
    assert isinstance(msg, ValueRequest)
    assert msg.hadd == Hadd(121, 1)
    assert msg.target is None
    assert encode(msg)[0] == "/broadcast/request"
    no_hadd = dumps({"cmd_class": 49, "uuid": "load", "genre": 1, "reply_hadd": "9999/9990"})
    with pytest.raises(ProtocolError, match="/broadcast/request"):
        decode("/broadcast/request", no_hadd)


def test_value_request_takes_the_topic_hadd_when_the_payload_has_none() -> None:
    payload = dumps({"cmd_class": 49, "uuid": "load", "genre": 1, "reply_hadd": "9999/9990"})
    msg = decode("/nodes/0121/0001/request", payload)
    assert isinstance(msg, ValueRequest)
    assert msg.hadd == Hadd(121, 1)


# ------------------------------------------------------------------------------------------ replies


EXPECTED_TEMPERATURE = ValueInfo(
    uuid="temperature", hadd=Hadd(225, 3), node_uuid="tutorial3__cpu", genre=2, type=3, cmd_class=49,
    index=0, data=37.9, units="°C", label="CPUTemp", help="The temperature of the CPU", is_readonly=True,
    is_writeonly=False, is_polled=True, poll_delay=30, entry_name="sensor_temperature",
)  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "data"),
    [
        ("3-level", {"0225/0003": {"temperature": {"0": TEMPERATURE}}}),
        ("2-level", {"0225/0003": {"temperature": TEMPERATURE}}),
        ("uuid-keyed", {"temperature": TEMPERATURE}),
        ("bare value", TEMPERATURE),
    ],
)
def test_value_discovery_reply_shapes_normalise_to_the_same_values(shape: str, data: Any) -> None:
    msg = decode("/broadcast/reply/9999/9990", discovery("request_info_users", data))
    assert isinstance(msg, DiscoveryReply)
    assert msg.kind == "request_info_users"
    assert msg.genre is Genre.USER
    assert msg.route is ReplyRoute.BROADCAST
    assert msg.reply_hadd == msg.topic_hadd == Hadd(9999, 9990)
    assert msg.nodes == ()
    assert msg.values == (EXPECTED_TEMPERATURE,)
    assert msg.hadds() == {Hadd(225, 3)}
    assert msg.controllers == {225}


def test_three_level_reply_with_several_indexes_and_nodes() -> None:
    load = {"uuid": "load", "hadd": "0121/0001", "genre": 1, "cmd_class": 49, "type": 3}
    data = {
        "0121/0001": {"load": {str(i): {**load, "index": i, "data": i / 10} for i in range(3)}},
        "0121/0002": {"uptime": {"0": {**load, "uuid": "uptime", "hadd": "0121/0002", "data": 1373.83}}},
    }
    msg = decode("/nodes/9999/9990/reply", discovery("request_info_basics", data))
    assert isinstance(msg, DiscoveryReply)
    assert msg.route is ReplyRoute.NODE
    assert [(v.hadd, v.uuid, v.index, v.data) for v in msg.values] == [
        (Hadd(121, 1), "load", 0, 0.0),
        (Hadd(121, 1), "load", 1, 0.1),
        (Hadd(121, 1), "load", 2, 0.2),
        (Hadd(121, 2), "uptime", 0, 1373.83),
    ]
    # Encoded in the original's 3-level shape again.
    assert json.loads(encode(msg)[1])["data"] == data


EXPECTED_CPU = NodeInfo(
    uuid="tutorial3__cpu", hadd=Hadd(225, 3), oid="tutorial3.cpu", name="CPU", location="Hostsensor",
    product_name="CPU sensor", product_type="Software component", product_manufacturer="Janitoo",
    capabilities=(), cmd_classes=(112, 49), heartbeat=30, config_timeout=3, state="ONLINE",
)  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "data"),
    [
        ("keyed by uuid", {"tutorial3__cpu": CPU_NODE}),
        ("keyed by hadd", {"0225/0003": CPU_NODE}),
        ("bare node", CPU_NODE),
    ],
)
def test_node_discovery_reply_shapes_normalise_to_the_same_nodes(shape: str, data: Any) -> None:
    msg = decode("/nodes/9999/9990/reply", discovery("request_info_nodes", data))
    assert isinstance(msg, DiscoveryReply)
    assert msg.kind == "request_info_nodes"
    assert msg.genre is None
    assert msg.nodes == (EXPECTED_CPU,)
    assert msg.values == ()
    assert not msg.nodes[0].is_controller
    # And each shape re-encodes to the shape it came in.
    assert json.loads(encode(msg)[1])["data"] == data


def test_empty_discovery_reply() -> None:
    # A controller with no user values still answers, with "data": {} (capture surprise 8).
    msg = decode("/broadcast/reply/9999/9990", discovery("request_info_users", {}))
    assert isinstance(msg, DiscoveryReply)
    assert msg.values == () and msg.nodes == ()
    assert json.loads(encode(msg)[1])["data"] == {}


def test_resolv_reply_and_resolv_broadcast() -> None:
    data = {"0225/0003": CPU_NODE}
    reply = decode("/dhcp/resolv/reply/0002/0000", discovery("request_info_nodes", data, "0002/0000"))
    assert isinstance(reply, DiscoveryReply)
    assert reply.route is ReplyRoute.RESOLV
    assert reply.topic_hadd == Hadd(2, 0)
    assert reply.nodes == (EXPECTED_CPU,)
    bcast = decode("/dhcp/resolv/broadcast/", discovery("request_info_nodes", data, ""))
    assert isinstance(bcast, DiscoveryReply)
    assert bcast.route is ReplyRoute.RESOLV_BROADCAST
    assert bcast.reply_hadd is None and bcast.topic_hadd is None
    assert encode(bcast)[0] == "/dhcp/resolv/broadcast/"


def test_value_reply() -> None:
    payload = dumps({**TEMPERATURE, "reply_hadd": "9999/9990", CORRELATION_KEY: "c42", "error": "read-only"})
    msg = decode("/nodes/9999/9990/reply", payload)
    assert isinstance(msg, ValueReply)
    assert msg.reply_hadd == Hadd(9999, 9990)
    assert msg.value.uuid == "temperature"
    assert msg.value.reply_hadd == Hadd(9999, 9990)
    assert msg.correlation == "c42"
    assert msg.error == "read-only"
    assert encode(msg) == ("/nodes/9999/9990/reply", payload)


# ------------------------------------------------------------------------------------------ publications


# A single-shape value publication captured from the original, key order and all.
SPEC_TEMPERATURE = (
    '{"help": "The temperature of the CPU", "voice_uuid": null, "max": null, "reply_hadd": null, '
    '"node_uuid": "hostsensor__picpu", "entry_name": "sensor_temperature", "genre": 2, "poll_delay": 300, '
    '"data": 40.1, "is_polled": true, "is_writeonly": false, "list_items": null, "index": 0, '
    '"uuid": "temperature", "is_readonly": true, "min": null, "default": null, "type": 3, "cmd_class": 49, '
    '"hadd": "0222/0001", "label": "CPUTemp", "units": "\\u00b0C"}'
)


def test_single_value_publication() -> None:
    topic = "/values/user/0222/0001/temperature"
    msg = decode(topic, SPEC_TEMPERATURE.encode())
    assert isinstance(msg, ValuePublication)
    assert (msg.genre, msg.hadd, msg.uuid, msg.indexed) == (Genre.USER, Hadd(222, 1), "temperature", False)
    assert len(msg.values) == 1
    v = msg.value
    assert (v.data, v.units, v.label, v.type, v.cmd_class, v.poll_delay) == (
        40.1,
        "°C",
        "CPUTemp",
        3,
        49,
        300,
    )
    assert v.hadd == Hadd(222, 1)
    assert v.is_polled and v.is_readonly and not v.is_writeonly
    out_topic, out = encode(msg)
    assert out_topic == topic
    # Same keys, same order: our payload reads like theirs.
    assert list(json.loads(out)) == list(json.loads(SPEC_TEMPERATURE))
    assert json.loads(out) == json.loads(SPEC_TEMPERATURE)


def test_indexed_value_publication() -> None:
    base = {"uuid": "load", "hadd": "0121/0001", "genre": 1, "cmd_class": 49, "type": 3, "poll_delay": 10}
    labels = ["Load (1 minutes)", "Load (5 minutes)", "Load (15 minutes)"]
    obj = {
        str(i): {**base, "index": i, "data": d, "label": labels[i]} for i, d in enumerate([0.31, 0.49, 0.59])
    }
    msg = decode("/values/basic/0121/0001/load", dumps(obj))
    assert isinstance(msg, ValuePublication)
    assert msg.indexed
    assert [(v.index, v.data, v.label) for v in msg.values] == [
        (0, 0.31, labels[0]),
        (1, 0.49, labels[1]),
        (2, 0.59, labels[2]),
    ]
    assert msg.value.index == 0
    assert encode(msg) == ("/values/basic/0121/0001/load", dumps(obj))


def test_config_echo_with_few_keys_re_encodes_to_the_same_keys() -> None:
    # Config/system answers hold only the request's keys plus label and help (capture surprise 2).
    echo = {"cmd_class": 112, "uuid": "location", "data": "Rack 2", "reply_hadd": "9999/9990", "genre": 3,
            "is_writeonly": False, "is_readonly": True, "hadd": "0121/0001", "label": "location",
            "help": "The location of the node"}  # fmt: skip
    msg = decode("/values/config/0121/0001/location", dumps(echo))
    assert isinstance(msg, ValuePublication)
    assert msg.value.data == "Rack 2"
    assert msg.value.reply_hadd == Hadd(9999, 9990)
    assert encode(msg)[1] == dumps(echo)


def test_mongo_date_is_accepted_as_plain_data() -> None:
    payload = dumps({"uuid": "last_seen", "hadd": "0121/0000", "genre": 2, "data": {"$date": 1700000000000}})
    msg = decode("/values/user/0121/0000/last_seen", payload)
    assert isinstance(msg, ValuePublication)
    assert msg.value.data == "2023-11-14T22:13:20+00:00"
    # It re-encodes as plain JSON, not extended JSON.
    assert json.loads(encode(msg)[1])["data"] == "2023-11-14T22:13:20+00:00"


@pytest.mark.parametrize(
    ("ext", "plain"),
    [
        ({"$date": "2023-11-14T22:13:20Z"}, "2023-11-14T22:13:20Z"),
        ({"$date": {"$numberLong": "1700000000000"}}, "2023-11-14T22:13:20+00:00"),
        ({"$uuid": "0f8fad5b-d9cb-469f-a165-70867728950e"}, "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ({"$numberLong": "12345678901"}, 12345678901),
        ({"$date": 10**30}, 10**30),  # beyond what datetime holds: kept as the number
    ],
)
def test_other_extended_json_forms_are_plain_data(ext: Any, plain: Any) -> None:
    msg = decode("/values/user/0121/0000/x", dumps({"uuid": "x", "data": ext}))
    assert isinstance(msg, ValuePublication)
    assert msg.value.data == plain


# ------------------------------------------------------------------------------------------ lease RPC


def test_lease_request_and_rpc_reply() -> None:
    request = {
        "rep_uuid": "r-1",
        "add_ctrl": -1,
        "add_node": -1,
        "options": {"name": "test", "location": "lab"},
    }
    msg = decode("/dhcp/lease/new", dumps(request))
    assert msg == LeaseMessage("new", request, "r-1")
    assert encode(msg) == ("/dhcp/lease/new", dumps(request))
    lookup = decode("/dhcp/resolv/hadd", dumps({"rep_uuid": "r-2", "add_ctrl": 10, "add_node": 0}))
    assert isinstance(lookup, LeaseMessage)
    assert lookup.action == "resolv/hadd"
    assert encode(lookup)[0] == "/dhcp/resolv/hadd"
    answer = {"msg_status": 200, "rep_uuid": "r-1", "add_ctrl": 10, "add_node": 0, "state": "BOOT"}
    reply = decode("/reply/r-1", dumps(answer))
    assert reply == LeaseMessage("reply", answer, "r-1")
    assert encode(reply) == ("/reply/r-1", dumps(answer))


# ------------------------------------------------------------------------------------------ prefix


def test_decode_and_encode_under_a_prefix() -> None:
    site = Topics("site1")
    msg = decode("site1/dhcp/heartbeat/0225/0003", b"ONLINE", site)
    assert msg == Heartbeat(Hadd(225, 3), "ONLINE")
    assert encode(msg, site) == ("site1/dhcp/heartbeat/0225/0003", b"ONLINE")
    with pytest.raises(ProtocolError, match="/dhcp/heartbeat/0225/0003"):
        decode("/dhcp/heartbeat/0225/0003", b"ONLINE", site)


def test_encode_rejects_what_is_not_a_message() -> None:
    with pytest.raises(TypeError):
        encode("ONLINE")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ errors

VALUE_REQUEST = {"cmd_class": 112, "uuid": "name", "genre": 3, "hadd": "0121/0000", "reply_hadd": "9999/9990"}

BAD = [
    ("invalid UTF-8", "/values/user/0121/0001/x", b'{"uuid": "x", "label": "\xff\xfe"}'),
    ("invalid UTF-8 heartbeat", "/dhcp/heartbeat/0121/0001", b"ONL\xc3INE"),
    ("not JSON", "/broadcast/request", b"{cmd_class: 20480}"),
    ("not JSON", "/nodes/0121/0000/request", b"hello"),
    ("empty payload", "/broadcast/request", b""),
    ("JSON array", "/values/user/0121/0001/x", b'[{"uuid": "x"}]'),
    ("JSON array", "/dhcp/heartbeat/", b"[121, 1]"),
    ("JSON string", "/broadcast/reply/9999/9990", b'"request_info_nodes"'),
    ("missing uuid", "/broadcast/request", b'{"cmd_class": 20480, "genre": 4, "reply_hadd": "9999/9990"}'),
    ("missing uuid", "/broadcast/reply/9999/9990", b'{"cmd_class": 20480, "genre": 4, "data": {}}'),
    ("missing uuid", "/nodes/0121/0000/request", b'{"cmd_class": 112, "genre": 3, "hadd": "0121/0000"}'),
    ("missing uuid", "/values/user/0121/0001/x", b'{"genre": 2, "data": 1}'),
    ("missing uuid", "/dhcp/resolv/request/", b'{"cmd_class": 20480, "genre": 4}'),
    ("non-integer genre", "/nodes/0121/0000/request", dumps({**VALUE_REQUEST, "genre": "user"})),
    ("non-integer genre", "/nodes/0121/0000/request", dumps({**VALUE_REQUEST, "genre": [3]})),
    ("missing genre", "/nodes/0121/0000/request", dumps({k: v for k, v in VALUE_REQUEST.items() if k != "genre"})),
    ("non-integer genre", "/values/user/0121/0001/x", b'{"uuid": "x", "genre": "abc"}'),
    ("infinite genre", "/values/user/0121/0001/x", b'{"uuid": "x", "genre": Infinity}'),
    ("infinite index", "/nodes/0121/0000/request", dumps({**VALUE_REQUEST, "index": float("inf")})),
    ("bad index", "/nodes/0121/0000/request", dumps({**VALUE_REQUEST, "index": "first"})),
    ("bad hadd in payload", "/nodes/0121/0000/request", dumps({**VALUE_REQUEST, "hadd": "abc"})),
    ("bad reply_hadd", "/broadcast/request", b'{"cmd_class": 20480, "uuid": "request_info_nodes", "reply_hadd": "1/2/3"}'),
    ("bad hadd in value", "/values/user/0121/0001/x", b'{"uuid": "x", "hadd": "a/b"}'),
    ("bad hadd in node", "/broadcast/reply/9999/9990", discovery("request_info_nodes", {"n": {"uuid": "n", "hadd": 5}})),
    ("bad add_ctrl", "/dhcp/heartbeat/", b'{"add_ctrl": "x", "add_node": 1}'),
    ("bool add_node", "/dhcp/heartbeat/", b'{"add_ctrl": 1, "add_node": true}'),
    ("dispatch without add_node", "/dhcp/heartbeat/", b'{"add_ctrl": 1, "state": "ONLINE"}'),
    ("resolv heartbeat without address", "/dhcp/resolv/heartbeat", b'{"state": "ONLINE"}'),
    ("heartbeat with spaces", "/dhcp/heartbeat/0121/0001", b"ON LINE"),
    ("heartbeat with digits", "/dhcp/heartbeat/0121/0001", b"ONLINE2"),
    ("heartbeat number", "/dhcp/heartbeat/0121/0001", b"42"),
    ("empty heartbeat", "/dhcp/heartbeat/0121/0001", b""),
    ("broken JSON string heartbeat", "/dhcp/heartbeat/0121/0001", b'"ONLINE'),
    ("dispatch state with spaces", "/dhcp/heartbeat/", b'{"add_ctrl": 1, "add_node": 1, "state": "NOT OK"}'),
    ("dispatch state not text", "/dhcp/heartbeat/", b'{"add_ctrl": 1, "add_node": 1, "state": 5}'),
    ("discovery data not an object", "/broadcast/reply/9999/9990", discovery("request_info_users", [1, 2])),
    ("value data not nested objects", "/broadcast/reply/9999/9990", discovery("request_info_users", {"0121/0001": [1]})),
    ("node not an object", "/nodes/9999/9990/reply", discovery("request_info_nodes", {"n": "x"})),
    ("node capabilities not integers", "/nodes/9999/9990/reply", discovery("request_info_nodes", {"n": {"uuid": "n", "capabilities": ["a"]}})),
    ("empty indexed publication", "/values/basic/0121/0001/load", b"{}"),
    ("indexed entry not an object", "/values/basic/0121/0001/load", b'{"0": 1}'),
    ("bad boolean", "/nodes/0121/0000/request", dumps({**VALUE_REQUEST, "is_writeonly": [1]})),
    ("bad poll_delay", "/values/user/0121/0001/x", b'{"uuid": "x", "poll_delay": "soon"}'),
    ("foreign topic", "/foo/bar/baz", b"{}"),
]  # fmt: skip


@pytest.mark.parametrize(("why", "topic", "payload"), BAD, ids=[f"{b[0]}@{b[1]}" for b in BAD])
def test_bad_input_raises_protocol_error_naming_the_topic(why: str, topic: str, payload: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        decode(topic, payload)
    assert info.value.topic == topic
    assert topic in str(info.value)
    assert info.value.reason


def test_error_messages_say_what_is_wrong() -> None:
    with pytest.raises(ProtocolError, match="not UTF-8"):
        decode("/values/user/0121/0001/x", b"\xff")
    with pytest.raises(ProtocolError, match="not JSON"):
        decode("/broadcast/request", b"hello")
    with pytest.raises(ProtocolError, match="JSON object, got list"):
        decode("/broadcast/request", b"[]")
    with pytest.raises(ProtocolError, match="genre must be an integer"):
        decode("/nodes/0121/0000/request", dumps({**VALUE_REQUEST, "genre": "user"}))
    with pytest.raises(ProtocolError, match="'abc'"):
        decode("/nodes/0121/0000/request", dumps({**VALUE_REQUEST, "hadd": "abc"}))
    with pytest.raises(ProtocolError, match="'ON LINE'"):
        decode("/dhcp/heartbeat/0121/0001", b"ON LINE")
