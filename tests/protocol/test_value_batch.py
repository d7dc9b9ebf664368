"""The receivers' fast paths (values_from_wire, value_from_wire, decode's single-publication path) against
the general paths they stand in for: the same values, field types and key orders, and the same errors."""

from __future__ import annotations

import dataclasses
import gc
import json
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from janitoo_protocol import DiscoveryReply, ProtocolError, ValueInfo, ValuePublication, decode
from janitoo_protocol.decoding import _decode, decode_parsed
from janitoo_protocol.events import ReplyShape
from janitoo_protocol.model import VALUE_KEYS, _value_from_mapping, value_from_wire, values_from_wire
from janitoo_protocol.topics import DEFAULT_TOPICS

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A value as the original sends it, in its key order (entry_name first), with every field of its JSON type.
VALUE: dict[str, Any] = {
    "entry_name": "sensor_temperature", "uuid": "temperature", "node_uuid": "hostsensor__picpu",
    "voice_uuid": None, "hadd": "0222/0001", "cmd_class": 49, "is_readonly": True, "is_writeonly": False,
    "default": None, "label": "CPUTemp", "help": "The temperature of the CPU", "units": "°C",
    "list_items": None, "max": None, "min": None, "genre": 2, "type": 3, "index": 0, "is_polled": True,
    "poll_delay": 300, "reply_hadd": None, "data": 40.1,
}  # fmt: skip
assert tuple(VALUE) == ("entry_name", *VALUE_KEYS)
WITHOUT_ENTRY_NAME = {k: v for k, v in VALUE.items() if k != "entry_name"}

# Values of every JSON type, and the odd ones a hostile sender may try.
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 2, 2.0, -0.0, 1.5, 10**40, -(10**40), math.nan, math.inf, -math.inf, "", "2",
    "true", "None", "0001/0002", "x" * 10_000, [], [1, "a"], {}, {"a": {"b": [1]}}, {"$date": 5},
]  # fmt: skip


def described(x: Any) -> Any:
    """Everything about a result that matters, each scalar with its type (1, 1.0 and True differ on the wire)."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (
            type(x).__name__,
            tuple((f.name, described(getattr(x, f.name))) for f in dataclasses.fields(x)),
        )
    if isinstance(x, Mapping):
        return (type(x).__name__, tuple((described(k), described(v)) for k, v in x.items()))
    if isinstance(x, list | tuple):
        return (type(x).__name__, tuple(described(v) for v in x))
    if isinstance(x, float) and math.isnan(x):
        return ("float", "nan")
    return (type(x).__name__, repr(x))


def outcome(fn: Callable[[], Any]) -> Any:
    try:
        return ("value", described(fn()))
    except Exception as exc:  # the exception's type and text are part of the behaviour compared
        return ("error", type(exc).__name__, str(exc))


def general(raw: Any) -> ValueInfo:
    return _value_from_mapping(ValueInfo, raw)


def assert_same_as_general(raw: Any) -> None:
    expected = outcome(lambda: general(raw))
    assert outcome(lambda: value_from_wire(raw)) == expected
    assert outcome(lambda: ValueInfo.from_wire(raw)) == expected
    assert outcome(lambda: values_from_wire([raw])) == (
        expected if expected[0] == "error" else ("value", ("list", (expected[1],)))
    )


def mutations() -> list[dict[str, Any]]:
    out = []
    for base in (VALUE, WITHOUT_ENTRY_NAME):
        for key in base:
            for odd in ODD_VALUES:
                out.append({**base, key: odd})
            out.append({k: v for k, v in base.items() if k != key})  # a key missing
        out.append({**base, "extra_key": 1})  # a key we do not model, last
        out.append({"extra_key": 1, **base})  # ... first
        out.append(dict(reversed(base.items())))  # another order
        out.append(dict(sorted(base.items())))
    return out


@pytest.mark.parametrize("raw", [VALUE, WITHOUT_ENTRY_NAME, *mutations()])
def test_a_value_dict_builds_the_same_value_or_error_as_the_general_path(raw: dict[str, Any]) -> None:
    assert_same_as_general(raw)


@pytest.mark.parametrize(
    "raw",
    [None, 5, "uuid", b"{}", [VALUE], (VALUE,), MappingProxyType(VALUE), MappingProxyType({"uuid": ""})],
)
def test_what_is_no_dict_takes_the_general_path(raw: Any) -> None:
    assert_same_as_general(raw)


def test_the_fast_path_keeps_the_key_order_and_types_of_the_payload() -> None:
    v = value_from_wire(json.loads(json.dumps(VALUE)))
    assert v.wire_keys == tuple(VALUE)
    assert type(v.poll_delay) is int and type(v.data) is float and v.extra == {}
    assert v.to_wire() == VALUE and list(v.to_wire()) == list(VALUE)
    # Each value gets its own extension dict, as the dataclass's default factory gives.
    assert value_from_wire(dict(VALUE)).extra is not v.extra


def test_the_fast_paths_set_every_field_a_new_field_included() -> None:
    # They fill the slots one by one: a field added to ValueInfo must be added to them too.
    for v in (value_from_wire(dict(VALUE)), values_from_wire([dict(WITHOUT_ENTRY_NAME)])[0]):
        for f in dataclasses.fields(ValueInfo):
            getattr(v, f.name)  # an unset slot raises AttributeError
        assert v == ValueInfo(**{f.name: getattr(v, f.name) for f in dataclasses.fields(ValueInfo) if f.init})


def test_a_batch_raises_the_first_error_in_order_like_one_value_at_a_time() -> None:
    bad_type = {**VALUE, "genre": "not a number"}
    no_uuid = {**VALUE, "uuid": ""}
    raws: list[Any] = [VALUE, WITHOUT_ENTRY_NAME, bad_type, no_uuid, 5]
    for start in range(len(raws)):
        batch = raws[start:]
        expected = outcome(lambda b=batch: [general(r) for r in b])  # type: ignore[misc]
        assert outcome(lambda b=batch: values_from_wire(b)) == expected  # type: ignore[misc]


@FUZZ
@given(
    # The original's two orders, and any other order of the same keys (read by key, not by position).
    order=st.sampled_from([tuple(VALUE), tuple(WITHOUT_ENTRY_NAME)])
    | st.permutations(list(VALUE)).map(tuple)
    | st.permutations(list(WITHOUT_ENTRY_NAME)).map(tuple),
    changes=st.dictionaries(
        st.sampled_from(list(VALUE)),
        st.one_of(
            st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(),
            st.sampled_from(ODD_VALUES),
        ),
        max_size=4,
    ),
)  # fmt: skip
def test_any_value_of_the_original_key_orders_builds_as_the_general_path_builds_it(
    order: tuple[str, ...], changes: dict[str, Any]
) -> None:
    raw = {k: changes.get(k, VALUE[k]) for k in order}
    assert_same_as_general(raw)
    assert_same_as_general([raw][0] | {"unknown": changes.get("data")})


# ---------------------------------------------------------------------------------------- discovery replies

REPLY_TOPIC = "/broadcast/reply/9999/9990"


def reply(data: Any) -> bytes:
    return json.dumps(
        {
            "cmd_class": 20480,
            "genre": 4,
            "uuid": "request_info_users",
            "reply_hadd": "9999/9990",
            "data": data,
        }
    ).encode()


def walked_one_by_one(data: Mapping[str, Any]) -> tuple[tuple[ValueInfo, ...], ReplyShape | None]:
    """How discovery data was walked before the batch: each value built in turn by the general path."""
    if "uuid" in data and not isinstance(data.get("uuid"), dict):
        return (general(data),), ReplyShape.FLAT
    if data:
        first = next(iter(data.values()))
        if isinstance(first, dict) and "uuid" in first and not isinstance(first.get("uuid"), dict):
            data = {"0": data}
    out: list[ValueInfo] = []
    shape: ReplyShape | None = None
    for per_node in data.values():
        if not isinstance(per_node, dict):
            raise ProtocolError(f"value data must be nested JSON objects, got {type(per_node).__name__}")
        for item in per_node.values():
            if not isinstance(item, dict):
                raise ProtocolError(f"value data must be nested JSON objects, got {type(item).__name__}")
            if "uuid" in item and not isinstance(item.get("uuid"), dict):
                out.append(general(item))
                shape = shape or ReplyShape.FLAT
            else:
                out.extend(general(v) for v in item.values())
                shape = shape or ReplyShape.INDEXED
    return tuple(out), shape


def reference_values(payload: bytes) -> Any:
    data = json.loads(payload)["data"]
    return outcome(lambda: walked_one_by_one(data))


def decoded_values(payload: bytes) -> Any:
    def values() -> Any:
        m = decode(REPLY_TOPIC, payload)
        assert isinstance(m, DiscoveryReply)
        return m.values, m.shape

    result = outcome(values)
    if result[0] == "error":
        # decode names the topic; the walk's own errors carry only the reason.
        return ("error", "ProtocolError", result[2].split(": ", 1)[1] if ": " in result[2] else result[2])
    return result


def nested(values: list[Any], indexed: bool = True) -> dict[str, Any]:
    return {
        f"0225/{i:04d}": {f"v{j}": ({"0": v} if indexed else v) for j, v in enumerate(per)}
        for i, per in enumerate([values[k : k + 2] for k in range(0, len(values), 2)])
    }


HOSTILE_DATA: list[Any] = [
    nested([VALUE] * 6),
    nested([VALUE] * 6, indexed=False),
    nested([VALUE, WITHOUT_ENTRY_NAME, {**VALUE, "genre": "2"}, dict(reversed(VALUE.items()))]),
    nested([VALUE, {**VALUE, "uuid": ""}, {**VALUE, "genre": []}]),
    nested([VALUE, {**VALUE, "extra": {"deep": [[[1]]]}}, {**VALUE, "data": 10**40}]),
    nested([VALUE, 5, VALUE]),
    nested([VALUE, None]),
    {"0225/0001": {"a": {"0": VALUE}}, "0225/0002": [1]},
    {"0225/0001": {"a": {"0": {**VALUE, "uuid": None}}}, "0225/0002": [1]},  # the value's error comes first
    {"0225/0001": {"a": {"0": VALUE}, "b": 3}},
    {"0225/0001": {"a": {"0": VALUE, "1": {**VALUE, "index": 1}}, "b": {}}},
    {"0225/0001": {}, "0225/0002": {"a": {}}},
    {"0225/0001": {"a": {"uuid": {"not": "a value"}, "0": VALUE}}},
    VALUE,
    {"temperature": VALUE, "switch": WITHOUT_ENTRY_NAME},
    {},
]


@pytest.mark.parametrize("data", HOSTILE_DATA)
def test_discovery_values_are_what_walking_them_one_by_one_gave(data: Any) -> None:
    payload = reply(data)
    assert decoded_values(payload) == reference_values(payload)


def test_discovery_values_of_many_nodes_and_the_parsed_dicts_let_go() -> None:
    payload = reply(nested([VALUE, WITHOUT_ENTRY_NAME] * 150))
    first = decoded_values(payload)
    assert first == reference_values(payload)
    # Decoding again gives the same: nothing the first decode cleared was shared with the second.
    assert decoded_values(payload) == first
    m = decode(REPLY_TOPIC, payload)
    assert isinstance(m, DiscoveryReply) and len(m.values) == 300 and m.extra == {}


def test_a_100_node_reply_sets_off_no_garbage_collection_of_its_own() -> None:
    # The parsed dicts are let go as values are built: a decode holds no more containers at once than
    # json.loads' result does, so it crosses the collector's threshold no more often than json.loads.
    payload = reply(nested([VALUE, WITHOUT_ENTRY_NAME] * 100))
    decode(REPLY_TOPIC, payload)
    collections = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collections.append(info)

    gc.collect()
    gc.callbacks.append(count)
    try:
        for _ in range(20):
            decode(REPLY_TOPIC, payload)
    finally:
        gc.callbacks.remove(count)
    threshold = gc.get_threshold()[0]
    if threshold < 700:  # pragma: no cover - someone tuned the collector down: nothing to compare
        pytest.skip(f"gen-0 threshold {threshold}")
    assert collections == []


# ----------------------------------------------------------------------------------- value publications

VALUE_TOPIC = "/values/user/0222/0001/temperature"


def general_decode(topic: str, payload: Any) -> Any:
    """decode() through the general path only (what it was before the single-publication path)."""

    def run() -> Any:
        try:
            return _decode(DEFAULT_TOPICS.parse(topic), topic, payload)
        except ProtocolError as exc:
            if exc.topic is None:
                raise ProtocolError(exc.reason, topic) from None
            raise
        except (LookupError, TypeError, ValueError, AttributeError, RecursionError, OverflowError) as exc:
            raise ProtocolError(f"malformed payload ({type(exc).__name__}: {exc})", topic) from None

    return outcome(run)


HOSTILE_PAYLOADS: list[bytes] = [
    json.dumps(VALUE).encode(),
    json.dumps(WITHOUT_ENTRY_NAME).encode(),
    json.dumps({"0": VALUE, "1": {**VALUE, "index": 1}}).encode(),
    json.dumps({**VALUE, "genre": "2", "is_polled": "true"}).encode(),
    json.dumps({**VALUE, "unknown": [1, {"a": None}]}).encode(),
    json.dumps(dict(reversed(VALUE.items()))).encode(),
    json.dumps({**VALUE, "data": {"$date": 1700000000000}}).encode(),
    json.dumps(VALUE).encode().replace(b"40.1", b"NaN"),
    json.dumps(VALUE).encode().replace(b"40.1", b"-Infinity"),
    json.dumps(VALUE).encode().replace(b"40.1", b"1e999"),
    json.dumps(VALUE).encode().replace(b"40.1", b"1" * 5000),
    json.dumps(VALUE).encode().replace(b'"genre": 2', b'"genre": 123456789012345678901234567890'),
    json.dumps(VALUE).encode().replace(b'"genre": 2', b'"genre": 2, "genre": "3"'),
    json.dumps(VALUE).encode().replace(b'"CPUTemp"', b'"\\ud800"'),
    json.dumps(VALUE).encode().replace(b"40.1", b"[" * 100_000 + b"]" * 100_000),
    json.dumps({**VALUE, "data": "x" * 1_000_000}).encode(),
    json.dumps(VALUE).encode()[:-5],
    b"\xff\xfe{}",
    b"",
    b"   ",
    b"[1, 2]",
    b"null",
    b'"ONLINE"',
    b"{}",
    b'{"0": 5}',
    b'{"uuid": ""}',
    b'{"genre": 2}',
    b"{" * 5000,
]


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS, ids=range(len(HOSTILE_PAYLOADS)))
@pytest.mark.parametrize("topic", [VALUE_TOPIC, "/values/user/0222/0001/temperature/more", "/values/user"])
def test_a_value_publication_decodes_as_the_general_path_decodes_it(topic: str, payload: bytes) -> None:
    assert outcome(lambda: decode(topic, payload)) == general_decode(topic, payload)
    for other in (bytearray(payload), payload.decode("utf-8", "replace")):
        assert outcome(lambda o=other: decode(topic, o)) == general_decode(topic, other)  # type: ignore[misc]


def test_decode_parsed_is_decode_for_a_topic_parsed_beforehand() -> None:
    info = DEFAULT_TOPICS.parse(VALUE_TOPIC)
    for payload in HOSTILE_PAYLOADS[:12]:
        parsed = outcome(lambda p=payload: decode_parsed(info, VALUE_TOPIC, p))  # type: ignore[misc]
        assert parsed == outcome(lambda p=payload: decode(VALUE_TOPIC, p))  # type: ignore[misc]
    m = decode(VALUE_TOPIC, json.dumps(VALUE).encode())
    assert isinstance(m, ValuePublication) and not m.indexed and m.values[0].hadd == m.hadd
