"""Property tests of the codec: every message kind round-trips, and no payload crashes a receiver."""

from __future__ import annotations

import copy
import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from janitoo_protocol import (
    CommandClass,
    DiscoveryReply,
    DiscoveryRequest,
    Genre,
    Hadd,
    Heartbeat,
    HeartbeatDispatch,
    Message,
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
from janitoo_protocol.events import CORRELATION_KEY, REQUEST_GENRES, LeaseMessage, ReplyRoute, ReplyShape
from janitoo_protocol.liveness import STATES
from janitoo_protocol.model import NODE_KEYS, VALUE_KEYS
from janitoo_protocol.topics import Topics

ROUND_TRIP = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------------------ strategies

hadds = st.builds(Hadd, st.integers(-1, 20000), st.integers(-1, 20000))
opt_hadds = st.none() | hadds
# Names usable in a topic level (value uuids, rep_uuids): no '/', never empty.
names = st.text(string.ascii_letters + string.digits + "_-.", min_size=1, max_size=16)
texts = st.text(max_size=20)
opt_texts = st.none() | texts
# Plain JSON: no NaN (NaN != NaN), and keys without '$' so no dict reads as MongoDB extended JSON.
json_keys = st.text(string.ascii_letters + string.digits + "_ ", max_size=8)
json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | texts
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=4),
    max_leaves=6,
)
numbers = st.integers(0, 10**6) | st.floats(0, 1e6, allow_nan=False)
states = st.sampled_from(STATES) | st.from_regex(r"[A-Z][A-Z_]{0,31}", fullmatch=True)
topic_sets = st.sampled_from([Topics(), Topics("site1"), Topics("a/b")])


def extras(reserved: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.text(string.ascii_lowercase + "_", min_size=1, max_size=10).filter(lambda k: k not in reserved)
    return st.dictionaries(keys | st.just(CORRELATION_KEY), json_values, max_size=2)


value_infos = st.builds(
    ValueInfo,
    uuid=names,
    hadd=opt_hadds,
    node_uuid=opt_texts,
    genre=st.integers(1, 5),
    type=st.integers(1, 32),
    cmd_class=st.integers(0, 0x4FFF),  # below CommandClass.DISCOVERY: a value, not a discovery message
    index=st.integers(0, 20),
    data=json_values,
    default=json_scalars,
    label=opt_texts,
    help=opt_texts,
    units=opt_texts,
    min=json_scalars,
    max=json_scalars,
    list_items=st.none() | st.lists(texts, max_size=4),
    is_readonly=st.booleans(),
    is_writeonly=st.booleans(),
    is_polled=st.booleans(),
    poll_delay=numbers,
    voice_uuid=opt_texts,
    reply_hadd=opt_hadds,
    entry_name=opt_texts,
    extra=extras(set(VALUE_KEYS) | {"entry_name", "cmd_classes"}),
)

node_infos = st.builds(
    NodeInfo,
    uuid=st.text(string.ascii_letters + "_", min_size=1, max_size=16),  # never looks like a hadd
    hadd=hadds,
    oid=texts,
    name=texts,
    location=texts,
    product_name=texts,
    product_type=texts,
    product_manufacturer=texts,
    capabilities=st.lists(st.integers(0, 255), max_size=4).map(tuple),
    cmd_classes=st.lists(st.integers(0, 0xFFFF), max_size=4).map(tuple),
    heartbeat=numbers,
    config_timeout=numbers,
    state=st.none() | st.sampled_from(STATES),
    extra=extras(set(NODE_KEYS) | {"state"}),
)


NODE_SHAPES = [None, ReplyShape.BY_UUID, ReplyShape.BY_HADD, ReplyShape.BARE]
VALUE_SHAPES = [None, ReplyShape.FLAT, ReplyShape.INDEXED]


@st.composite
def discovery_replies(draw: st.DrawFn) -> list[DiscoveryReply]:
    """One reply for every request kind and every route, from one drawing of nodes, values and addresses."""
    # Keyed by uuid or by hadd on the wire: both must be unique.
    nodes = tuple(draw(st.lists(node_infos, max_size=3, unique_by=(lambda n: n.uuid, lambda n: n.hadd))))
    # One value per (hadd, uuid) so the 2-level shape holds them all; listed in wire order.
    found = draw(st.lists(value_infos, max_size=3, unique_by=lambda v: (v.hadd, v.uuid)))
    values = tuple(sorted(found, key=lambda v: (str(v.hadd) if v.hadd else "", v.uuid)))
    topic_hadd = draw(hadds)
    reply_hadd = draw(st.sampled_from([topic_hadd, None]) | hadds)
    extra = draw(extras({"cmd_class", "genre", "uuid", "reply_hadd", "data"}))
    turn = draw(st.integers(0, 11))
    replies = []
    for kind in sorted(REQUEST_GENRES):
        for route in ReplyRoute:
            turn += 1
            if kind == "request_info_nodes":
                shapes = NODE_SHAPES if len(nodes) == 1 else NODE_SHAPES[:3]
            else:
                shapes = VALUE_SHAPES
            replies.append(
                DiscoveryReply(
                    kind=kind,
                    reply_hadd=reply_hadd,
                    route=route,
                    nodes=nodes if kind == "request_info_nodes" else (),
                    values=() if kind == "request_info_nodes" else values,
                    # The resolv broadcast topic names no hadd.
                    topic_hadd=None if route is ReplyRoute.RESOLV_BROADCAST else topic_hadd,
                    extra=extra,
                    shape=shapes[turn % len(shapes)],
                )
            )
    return replies


@st.composite
def value_publications(draw: st.DrawFn) -> ValuePublication:
    indexed = draw(st.booleans())
    if indexed:
        values = tuple(draw(st.lists(value_infos, min_size=1, max_size=4, unique_by=lambda v: v.index)))
    else:
        values = (draw(value_infos),)
    return ValuePublication(draw(st.sampled_from(list(Genre))), draw(hadds), draw(names), values, indexed)


@st.composite
def discovery_requests(draw: st.DrawFn) -> DiscoveryRequest:
    resolv = draw(st.booleans())
    return DiscoveryRequest(
        kind=draw(st.sampled_from(sorted(REQUEST_GENRES)) | names),
        reply_hadd=draw(opt_hadds),
        target=None if resolv else draw(opt_hadds),
        resolv=resolv,
        extra=draw(extras({"cmd_class", "genre", "uuid", "reply_hadd"})),
    )


value_requests = st.builds(
    ValueRequest,
    hadd=hadds,
    uuid=names,
    genre=st.integers(-10, 10),
    cmd_class=st.integers(0, 0x4FFF),
    reply_hadd=opt_hadds,
    data=json_values,
    is_writeonly=st.booleans(),
    is_readonly=st.booleans(),
    index=st.none() | st.integers(0, 100),
    target=opt_hadds,
    extra=extras(
        {"cmd_class", "genre", "uuid", "reply_hadd", "hadd", "data", "is_writeonly", "is_readonly", "index"}
    ),
)


@st.composite
def lease_messages(draw: st.DrawFn) -> LeaseMessage:
    action = draw(
        st.sampled_from(
            [
                "new",
                "repair",
                "lock",
                "release",
                "remove",
                "resolv/hadd",
                "resolv/name",
                "resolv/cmd_classes",
                "reply",
            ]
        )
    )
    payload = draw(st.dictionaries(json_keys.filter(lambda k: k != "rep_uuid"), json_values, max_size=4))
    if action == "reply":
        rep_uuid: str | None = draw(names)
    else:
        rep_uuid = draw(st.none() | names)
    if rep_uuid is not None and (action != "reply" or draw(st.booleans())):
        payload["rep_uuid"] = rep_uuid
    return LeaseMessage(action, payload, rep_uuid)


heartbeats = st.builds(Heartbeat, hadds, states)
dispatches = st.builds(HeartbeatDispatch, st.integers(0, 20000), st.integers(-1, 20000), states)
resolv_heartbeats = st.builds(
    ResolvHeartbeat,
    st.integers(-1, 20000),
    st.integers(-1, 20000),
    states,
    extras({"add_ctrl", "add_node", "state"}),
)
value_replies = st.builds(ValueReply, hadds, value_infos)

# ------------------------------------------------------------------------------------------ round trips


def assert_round_trip(message: Message, topics: Topics) -> None:
    topic, payload = encode(message, topics)
    assert isinstance(payload, bytes)
    decoded = decode(topic, payload, topics)
    assert decoded == message
    # And the decoded message encodes to the very same bytes.
    assert encode(decoded, topics) == (topic, payload)


@ROUND_TRIP
@given(heartbeats, topic_sets)
def test_heartbeat_round_trip(message: Heartbeat, topics: Topics) -> None:
    assert_round_trip(message, topics)
    assert encode(message, topics)[1] == message.state.encode()  # a bare word, never JSON


@ROUND_TRIP
@given(dispatches, topic_sets)
def test_heartbeat_dispatch_round_trip(message: HeartbeatDispatch, topics: Topics) -> None:
    assert_round_trip(message, topics)


@ROUND_TRIP
@given(resolv_heartbeats, topic_sets)
def test_resolv_heartbeat_round_trip(message: ResolvHeartbeat, topics: Topics) -> None:
    assert_round_trip(message, topics)
    body = json.loads(encode(message, topics)[1])
    assert isinstance(body["add_ctrl"], str) and isinstance(body["add_node"], str)


@ROUND_TRIP
@given(discovery_requests(), topic_sets)
def test_discovery_request_round_trip(message: DiscoveryRequest, topics: Topics) -> None:
    assert_round_trip(message, topics)
    body = json.loads(encode(message, topics)[1])
    assert (body["cmd_class"], body["genre"]) == (CommandClass.DISCOVERY, 4)


@ROUND_TRIP
@given(value_requests, topic_sets)
def test_value_request_round_trip(message: ValueRequest, topics: Topics) -> None:
    assert_round_trip(message, topics)


@ROUND_TRIP
@given(discovery_replies(), topic_sets)
def test_discovery_reply_round_trip_for_each_kind_and_route(
    messages: list[DiscoveryReply], topics: Topics
) -> None:
    assert len({(m.kind, m.route) for m in messages}) == len(REQUEST_GENRES) * len(ReplyRoute)
    for message in messages:
        assert_round_trip(message, topics)


@ROUND_TRIP
@given(value_infos)
def test_value_info_wire_dict_round_trip(value: ValueInfo) -> None:
    wire = value.to_wire()
    assert ValueInfo.from_wire(json.loads(json.dumps(wire))) == value


@ROUND_TRIP
@given(node_infos)
def test_node_info_wire_dict_round_trip(node: NodeInfo) -> None:
    wire = node.to_wire()
    assert NodeInfo.from_wire(json.loads(json.dumps(wire))) == node


@ROUND_TRIP
@given(value_publications(), topic_sets)
def test_value_publication_round_trip(message: ValuePublication, topics: Topics) -> None:
    assert_round_trip(message, topics)


@ROUND_TRIP
@given(value_replies, topic_sets)
def test_value_reply_round_trip(message: ValueReply, topics: Topics) -> None:
    assert_round_trip(message, topics)


@ROUND_TRIP
@given(lease_messages(), topic_sets)
def test_lease_message_round_trip(message: LeaseMessage, topics: Topics) -> None:
    assert_round_trip(message, topics)


# ------------------------------------------------------------------------------------------ fuzzing

# One topic of every kind; bad payloads on any of them may only raise ProtocolError.
TOPICS = [
    "/dhcp/heartbeat/0121/0001",
    "/dhcp/heartbeat/",
    "/broadcast/request",
    "/broadcast/reply/9999/9990",
    "/nodes/0121/0000/request",
    "/nodes/9999/9990/reply",
    *(f"/values/{g.topic_word}/0121/0001/load" for g in Genre),
    "/dhcp/resolv/heartbeat",
    "/dhcp/resolv/request/",
    "/dhcp/resolv/reply/0001/0000",
    "/dhcp/resolv/broadcast/",
    "/dhcp/lease/new",
    "/dhcp/resolv/hadd",
    "/reply/6a0c1d3e",
]

# Keys the decoders look at, so random objects reach deep into them; '$' keys exercise the extended-JSON hook.
PROTOCOL_KEYS = st.sampled_from(
    [
        "uuid", "genre", "cmd_class", "hadd", "reply_hadd", "data", "index", "is_writeonly", "is_readonly",
        "add_ctrl", "add_node", "state", "type", "poll_delay", "capabilities", "cmd_classes", "heartbeat",
        "config_timeout", "rep_uuid", "0", "1", "0121/0001", "$date", "$uuid", "$numberLong",
    ]
)  # fmt: skip
any_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and ±Infinity too: Python's json reads them
    | st.text(max_size=12)
    | st.sampled_from(
        ["0121/0001", "abc", "1/2/3", "", "None", "ONLINE", "request_info_users", "20480", "0x70"]
    )
    | st.just(int(CommandClass.DISCOVERY))
)
any_json = st.recursive(
    any_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(PROTOCOL_KEYS | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=10,
)
json_objects = st.dictionaries(PROTOCOL_KEYS | st.text(max_size=6), any_json, max_size=6)


def assert_only_protocol_errors(payload: bytes | str) -> None:
    """Offer one payload on every topic kind (generating payloads costs far more than decoding them)."""
    for topic in TOPICS:
        try:
            message = decode(topic, payload)
        except ProtocolError as exc:
            assert exc.topic == topic
            assert topic in str(exc)
        else:
            # Whatever decodes is a message that encodes again.
            encode(message)


@FUZZ
@given(payload=st.binary(max_size=200))
def test_random_bytes_raise_only_protocol_error(payload: bytes) -> None:
    assert_only_protocol_errors(payload)


@FUZZ
@given(value=any_json)
def test_random_json_raises_only_protocol_error(value: Any) -> None:
    assert_only_protocol_errors(json.dumps(value).encode())


@FUZZ
@given(obj=json_objects)
def test_random_json_objects_raise_only_protocol_error(obj: dict[str, Any]) -> None:
    assert_only_protocol_errors(json.dumps(obj))


@FUZZ
@given(
    topic=st.text(max_size=40) | st.sampled_from(TOPICS).map(lambda t: t + "/x"),
    payload=st.binary(max_size=20),
)
def test_random_topics_raise_only_protocol_error(topic: str, payload: bytes) -> None:
    try:
        decode(topic, payload)
    except ProtocolError as exc:
        assert exc.topic == topic


# Valid payloads of every shape, one per topic kind; mutating one field of them reaches every check.
_VALUE = {
    "entry_name": "sensor_float", "uuid": "load", "node_uuid": "hostsensor__load", "voice_uuid": None,
    "hadd": "0121/0001", "cmd_class": 49, "is_readonly": True, "is_writeonly": False, "default": None,
    "label": "Load", "help": "The load average", "units": None, "list_items": None, "max": None, "min": None,
    "genre": 1, "type": 3, "index": 0, "is_polled": True, "poll_delay": 20, "reply_hadd": None, "data": 0.63,
}  # fmt: skip
_NODE = {
    "uuid": "hostsensor", "oid": "hostsensor", "capabilities": [4], "cmd_classes": [4176, 112],
    "name": "Host sensors", "product_name": "Host sensor controller", "product_type": "Default product type",
    "product_manufacturer": "Default product manufacturer", "location": "Lab", "heartbeat": 30.0,
    "config_timeout": 3.0, "hadd": "0121/0000", "state": "ONLINE",
}  # fmt: skip
_DISCOVERY = {"cmd_class": 20480, "genre": 4, "uuid": "request_info_nodes", "reply_hadd": "9999/9990"}
TEMPLATES: list[tuple[str, Any]] = [
    ("/dhcp/heartbeat/", {"add_ctrl": 121, "add_node": 1, "state": "OFFLINE"}),
    ("/dhcp/heartbeat/0121/0001", {"add_ctrl": 121, "add_node": -1, "state": "ONLINE"}),
    ("/dhcp/resolv/heartbeat", {"add_ctrl": "0001", "add_node": "0000", "state": "ONLINE"}),
    ("/broadcast/request", _DISCOVERY),
    ("/dhcp/resolv/request/", _DISCOVERY),
    ("/nodes/0121/0001/request", {"cmd_class": 49, "uuid": "load", "data": None, "reply_hadd": "9999/9990",
                                  "genre": 1, "is_writeonly": "False", "is_readonly": True, "hadd": "0121/0001",
                                  "index": 0}),
    ("/broadcast/reply/9999/9990", {**_DISCOVERY, "data": {"hostsensor": _NODE}}),
    ("/dhcp/resolv/reply/0001/0000", {**_DISCOVERY, "data": {"0121/0000": _NODE}}),
    ("/nodes/9999/9990/reply", {**_DISCOVERY, "data": _NODE}),
    ("/nodes/9999/9990/reply", {**_DISCOVERY, "uuid": "request_info_basics",
                                "data": {"0121/0001": {"load": {"0": _VALUE, "1": {**_VALUE, "index": 1}}}}}),
    ("/dhcp/resolv/broadcast/", {**_DISCOVERY, "uuid": "request_info_systems",
                                 "data": {"0121/0001": {"load": _VALUE}}}),
    ("/broadcast/reply/9999/9990", {**_DISCOVERY, "uuid": "request_info_users", "data": _VALUE}),
    ("/nodes/9999/9990/reply", _VALUE),
    ("/values/basic/0121/0001/load", _VALUE),
    ("/values/basic/0121/0001/load", {"0": _VALUE, "1": {**_VALUE, "index": 1}}),
    ("/values/user/0121/0001/when", {**_VALUE, "data": {"$date": 1700000000000}}),
    ("/dhcp/lease/new", {"rep_uuid": "r1", "add_ctrl": -1, "add_node": -1, "options": {"name": "n"}}),
    ("/reply/r1", {"msg_status": 200, "rep_uuid": "r1", "add_ctrl": 10, "add_node": 0}),
]  # fmt: skip


# Values that have broken decoders: non-finite and huge numbers, look-alike text, wrong containers, and
# extended JSON that datetime cannot hold.
NASTY: list[Any] = [
    None, True, False, 0, -1, 2**64, -(2**64), 1.5, float("inf"), float("-inf"), float("nan"), 1e308,
    "", " ", "abc", "0x70", "010", "1/2/3", "None", "\u0663", "9" * 5000, [], [1, "a"], [None], {}, {"a": 1},
    {"uuid": {}}, {"$date": 1e20}, {"$date": float("inf")}, {"$date": -1e17}, {"$date": "x"},
    {"$date": {"$numberLong": "99999999999999999999"}}, {"$numberLong": float("inf")}, {"$uuid": None},
]  # fmt: skip
_DELETE = object()


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a JSON value that can be replaced or deleted."""
    out: list[tuple[Any, ...]] = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


@st.composite
def mutated_templates(draw: st.DrawFn) -> tuple[str, Any]:
    topic, template = draw(st.sampled_from(TEMPLATES))
    obj = copy.deepcopy(template)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(obj)
        if not paths:
            break
        *parent_path, key = draw(st.sampled_from(paths))
        parent = obj
        for step in parent_path:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[key]
        else:
            # A copy: a later mutation may reach inside it, and NASTY must stay as it is.
            parent[key] = copy.deepcopy(draw(st.sampled_from(NASTY) | any_json))
    return topic, obj


def _replaced(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(obj)
    parent = out
    for step in path[:-1]:
        parent = parent[step]
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(value)
    return out


def test_templates_are_valid() -> None:
    for topic, template in TEMPLATES:
        decode(topic, json.dumps(template))


@pytest.mark.parametrize(
    ("topic", "template"), TEMPLATES, ids=[f"{i}:{t}" for i, (t, _) in enumerate(TEMPLATES)]
)
def test_every_field_replaced_by_every_nasty_value_raises_only_protocol_error(
    topic: str, template: Any
) -> None:
    # Exhaustive, not random: one bad field among twenty is too rare a draw for a random search.
    checked = 0
    for path in _paths(template):
        for value in [*NASTY, _DELETE]:
            if value is _DELETE and isinstance(path[-1], int):
                continue
            payload = json.dumps(_replaced(template, path, value))
            try:
                message = decode(topic, payload)
            except ProtocolError as exc:
                assert exc.topic == topic, (path, value)
            else:
                encode(message)
            checked += 1
    assert checked > len(NASTY)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_templates())
def test_mutated_payloads_raise_only_protocol_error(case: tuple[str, Any]) -> None:
    topic, obj = case
    try:
        message = decode(topic, json.dumps(obj))
    except ProtocolError as exc:
        assert exc.topic == topic
        assert topic in str(exc)
    else:
        encode(message)
