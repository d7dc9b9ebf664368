"""The fast codec gives the wire exactly what the plain `json` path gave: the same bytes out, and the same
values (or the same refusals) in, with msgspec and with the standard library's fallback alike."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from janitoo_protocol import (
    CommandClass,
    DiscoveryReply,
    Genre,
    Hadd,
    Message,
    ProtocolError,
    ValueInfo,
    ValuePublication,
    ValueReply,
    decode,
    encode,
    jsonfast,
)
from janitoo_protocol import encoding as encoding_module
from janitoo_protocol.codes import NodeState, ValueType
from janitoo_protocol.events import ReplyRoute, ReplyShape
from janitoo_protocol.model import VALUE_KEYS
from janitoo_protocol.topics import DEFAULT_TOPICS, Topics
from janitoo_protocol.valuejson import MAX_KEPT, MAX_KEPT_TEXT, value_writer

from .test_codec_properties import (
    discovery_replies,
    discovery_requests,
    dispatches,
    heartbeats,
    lease_messages,
    resolv_heartbeats,
    topic_sets,
    value_requests,
)

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLES = ROOT / "tests" / "data" / "original"
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(params=["msgspec", "json"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test runs with the fast decoder and with the fallback a 32-bit Raspberry Pi gets."""
    if request.param == "json":
        monkeypatch.setattr(jsonfast, "_decode", None)
    elif jsonfast.BACKEND != "msgspec":
        pytest.skip("msgspec is not installed on this machine (the json fallback is tested)")
    yield request.param


# ------------------------------------------------------------------------------------------ strategies

# Text with everything JSON must escape or may not hold: controls, non-ASCII, astral, lone surrogates.
nasty_text = st.text(st.characters(exclude_categories=()), max_size=12)
# Numbers whose JSON differs between libraries: exponents, -0.0, NaN and infinities, beyond 64 bits.
SPECIAL_NUMBERS = [1e16, 1e15, 0.1, -0.0, 0.0, 1e-7, 1e22, 5e-324, 1.7976931348623157e308, 123456789.125,
                   math.nan, math.inf, -math.inf, 2**63, 2**64, -(2**63) - 1, 10**30, -(10**40)]  # fmt: skip
nasty_numbers = st.integers() | st.floats() | st.sampled_from(SPECIAL_NUMBERS)
ENUMS = [Genre.USER, CommandClass.SWITCH_BINARY, ValueType.DECIMAL, NodeState.ONLINE]
nasty_scalars = st.none() | st.booleans() | nasty_numbers | nasty_text | st.sampled_from(ENUMS)
nasty_values = st.recursive(
    nasty_scalars | st.builds(Hadd, st.integers(0, 9999), st.integers(0, 9999)),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(nasty_text, children, max_size=4)
    ),
    max_leaves=10,
)
opt_nasty_text = st.none() | nasty_text
# Equal in Python, not on the wire: a kept text must never stand for another of these.
LOOKALIKES = [0, False, 0.0, -0.0, 1, True, 1.0, Genre.BASIC, CommandClass.NO_OPERATION, "1", None, math.nan]

nasty_value_infos = st.builds(
    ValueInfo,
    uuid=nasty_text.filter(bool),
    hadd=st.none() | st.builds(Hadd, st.integers(-1, 20000), st.integers(-1, 20000)),
    node_uuid=opt_nasty_text,
    genre=st.integers(1, 5) | st.sampled_from(LOOKALIKES),
    type=st.integers(1, 32) | st.sampled_from([ValueType.DECIMAL, True]),
    cmd_class=st.integers(0, 0x4FFF) | st.sampled_from([CommandClass.SWITCH_BINARY, 2**70]),
    index=st.integers(0, 20) | st.sampled_from(LOOKALIKES[:7]),
    data=nasty_values,
    default=nasty_scalars,
    label=opt_nasty_text,
    help=opt_nasty_text,
    units=st.none() | st.sampled_from(["°C", "%", "µs", "m³"]) | nasty_text,
    min=nasty_scalars,
    max=nasty_scalars,
    list_items=st.none() | st.lists(nasty_text, max_size=3),
    is_readonly=st.booleans() | st.sampled_from(LOOKALIKES[:7]),
    is_writeonly=st.booleans(),
    is_polled=st.booleans(),
    poll_delay=nasty_numbers,
    voice_uuid=opt_nasty_text,
    reply_hadd=st.none() | st.builds(Hadd, st.integers(0, 9999), st.integers(0, 9999)),
    entry_name=opt_nasty_text,
    extra=st.dictionaries(st.sampled_from(["jnt_cid", "error", "delays"]), nasty_values, max_size=2),
    wire_keys=st.none() | st.permutations([*VALUE_KEYS, "entry_name"]).map(tuple),
)


# ------------------------------------------------------------------------------------------ the reference


def plain_dumps(obj: Any) -> bytes:
    """What encode() wrote before it had a fast path: json.dumps with the codec's default."""
    return json.dumps(obj, default=encoding_module._json_default).encode("utf-8")


def reference_encode(message: Message, topics: Topics) -> tuple[str, bytes]:
    """encode() as it was, with json.dumps for every payload (the oracle the fast path must match)."""
    m = message
    if isinstance(m, ValuePublication):
        topic = f"{topics.prefix}/values/{Genre(m.genre).topic_word}/{m.hadd}/{m.uuid}"
        if m.indexed:
            return topic, plain_dumps({str(v.index): v.to_wire() for v in m.values})
        return topic, plain_dumps(m.values[0].to_wire())
    if isinstance(m, ValueReply):
        return topics.node_reply(m.reply_hadd), plain_dumps(m.value.to_wire())
    if isinstance(m, DiscoveryReply):
        body = encoding_module._discovery_envelope(m.kind, m.reply_hadd, m.extra)
        body["data"] = encoding_module.discovery_data(m)
        return encoding_module._reply_topic(m, topics), plain_dumps(body)
    # The other kinds go through _json only: swap it for json.dumps for this call.
    saved = encoding_module._json
    encoding_module._json = lambda o: json.dumps(o, default=encoding_module._json_default)
    try:
        return encode(m, topics)
    finally:
        encoding_module._json = saved


def assert_same_bytes(message: Message, topics: Topics = DEFAULT_TOPICS) -> None:
    try:
        expected: tuple[str, bytes] | str = reference_encode(message, topics)
    except (ValueError, TypeError, RecursionError) as exc:
        expected = type(exc).__name__
    for _ in range(2):  # the first time writes the kept texts, the second time uses them
        try:
            got: tuple[str, bytes] | str = encode(message, topics)
        except (ValueError, TypeError, RecursionError) as exc:
            got = type(exc).__name__
        assert got == expected


# ------------------------------------------------------------------------------------------ encoding


@PROPERTY
@given(nasty_value_infos, st.sampled_from(list(Genre)), st.booleans())
def test_value_publications_are_byte_identical_to_json_dumps(
    value: ValueInfo, genre: Genre, indexed: bool
) -> None:
    hadd = value.hadd if isinstance(value.hadd, Hadd) else Hadd(1, 1)
    assert_same_bytes(ValuePublication(genre, hadd, "v", (value,), indexed=indexed))
    assert_same_bytes(ValueReply(Hadd(9999, 9990), value))


@PROPERTY
@given(st.lists(nasty_value_infos, min_size=1, max_size=5), st.sampled_from(list(Genre)))
def test_indexed_publications_are_byte_identical_to_json_dumps(values: list[ValueInfo], genre: Genre) -> None:
    # Repeated indexes included: the dict keeps the first one's place and the last one's value.
    assert_same_bytes(ValuePublication(genre, Hadd(2, 3), "v", tuple(values), indexed=True))


@PROPERTY
@given(
    st.lists(nasty_value_infos, max_size=6),
    st.sampled_from([None, *ReplyShape]),
    st.sampled_from(["request_info_users", "request_info_configs", "request_info_systems", "made_up"]),
    st.dictionaries(st.sampled_from(["jnt_cid", "data", "x"]), nasty_values, max_size=2),
)
def test_value_discovery_replies_are_byte_identical_to_json_dumps(
    values: list[ValueInfo], shape: ReplyShape | None, kind: str, extra: dict[str, Any]
) -> None:
    # Any order: values of a node apart, a uuid or an index twice, an extension key named "data".
    reply = DiscoveryReply(
        kind, Hadd(9999, 9990), ReplyRoute.BROADCAST, values=tuple(values), extra=extra, shape=shape
    )
    assert_same_bytes(reply)


@PROPERTY
@given(st.data())
def test_every_message_kind_is_byte_identical_to_json_dumps(data: st.DataObject) -> None:
    topics = data.draw(topic_sets)
    for reply in data.draw(discovery_replies()):
        assert_same_bytes(reply, topics)
    for strategy in (heartbeats, dispatches, resolv_heartbeats, value_requests, lease_messages()):
        assert_same_bytes(data.draw(strategy), topics)
    assert_same_bytes(data.draw(discovery_requests()), topics)


@PROPERTY
@given(
    nasty_value_infos,
    # The fields on the wire (`alike` is an encoder's hint, tested in tests/node/test_publish_path.py).
    st.sampled_from(sorted(set(ValueInfo.__dataclass_fields__) - {"extra", "wire_keys", "alike"})),
)
def test_a_kept_text_never_stands_for_an_equal_value_of_another_type(value: ValueInfo, name: str) -> None:
    # 1, 1.0, True and Genre.BASIC are equal in Python; 0.0 and -0.0 too: each is written its own way.
    for lookalike in LOOKALIKES:
        assert_same_bytes(
            ValuePublication(Genre.USER, Hadd(1, 1), "v", (replace(value, **{name: lookalike}),))
        )


def test_floats_are_written_as_json_writes_them() -> None:
    for number in SPECIAL_NUMBERS:
        for field in ("data", "default", "poll_delay"):
            value = ValueInfo("f", Hadd(1, 1), **{field: number})
            assert_same_bytes(ValuePublication(Genre.USER, Hadd(1, 1), "f", (value,)))
    _, payload = encode(ValuePublication(Genre.USER, Hadd(1, 1), "f", (ValueInfo("f", data=math.nan),)))
    assert b'"data": NaN' in payload  # as the original's Python sent it, not null


def test_the_unchanging_part_of_a_value_is_written_once() -> None:
    calls: list[Any] = []

    def dumps(obj: Any) -> str:
        calls.append(obj)
        return json.dumps(obj, default=encoding_module._json_default)

    write = value_writer(dumps)
    value = ValueInfo("t", Hadd(1, 2), label="Temp", units="°C", genre=2, cmd_class=49, data=20.5)
    first = write(value)
    assert calls and first == dumps(value.to_wire())
    calls.clear()
    for data in (21.0, -3, "high", None, True):
        assert write(replace(value, data=data)) == json.dumps(replace(value, data=data).to_wire())
    assert calls == []  # every later publication reused the kept text
    write(replace(value, label="Other"))
    assert calls  # another label: written again


def counting_writer() -> tuple[Callable[[ValueInfo], str], list[Any]]:
    calls: list[Any] = []

    def dumps(obj: Any) -> str:
        calls.append(obj)
        return json.dumps(obj, default=encoding_module._json_default)

    return value_writer(dumps), calls


def test_the_kept_texts_are_bounded_and_a_working_set_that_fits_stays_kept() -> None:
    write, calls = counting_writer()
    values = [ValueInfo(f"v{i}", Hadd(1, 1), data=i) for i in range(MAX_KEPT // 2)]
    for _ in range(3):
        for v in values:
            write(v)
    calls.clear()
    for v in values:  # every one of them kept
        assert write(v) == json.dumps(v.to_wire())
    assert calls == []
    for i in range(MAX_KEPT):  # fills the cache up: it starts again from empty
        write(ValueInfo(f"other{i}", Hadd(1, 1)))
    calls.clear()
    write(values[0])
    assert len(calls) == 1  # forgotten, and written again (and kept)
    calls.clear()
    write(values[0])
    assert calls == []


def test_a_long_text_is_not_kept() -> None:
    write, calls = counting_writer()
    value = ValueInfo("t", Hadd(1, 2), help="x" * MAX_KEPT_TEXT)
    for _ in range(3):
        assert write(value) == json.dumps(value.to_wire())
    assert len(calls) == 3


def test_more_distinct_values_than_fit_are_written_plainly() -> None:
    # A big simulation: more values go round than the cache holds, so a kept text is never used again.
    write, calls = counting_writer()
    values = [ValueInfo(f"v{i}", Hadd(1, 1), data=i) for i in range(MAX_KEPT * 3)]
    for v in values:
        assert write(v) == json.dumps(v.to_wire())
    calls.clear()
    for v in values[:100]:  # after the cache filled up unused: one plain json.dumps each, nothing kept
        assert write(v) == json.dumps(v.to_wire())
    assert calls == [v.to_wire() for v in values[:100]]


# ------------------------------------------------------------------------------------------ decoding


def same(a: Any, b: Any) -> bool:
    """Equal with the same types, the same key order, floats by repr (NaN, -0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return type(exc).__name__, str(exc)


def assert_same_loads(payload: bytes) -> None:
    fast = outcome(lambda: jsonfast.loads(payload))
    plain = outcome(lambda: json.loads(payload.decode("utf-8")))
    assert fast[0] == plain[0], payload[:80]
    assert same(fast[1], plain[1]) if fast[0] == "ok" else fast[1] == plain[1], payload[:80]


HOSTILE = [
    b'{"a": 1, "a": 2}', b'{"a": 1, "b": 0, "a": [2]}', b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}',
    b'{"a": "\\ud800"}', b'{"a": "\\udc00\\ud800"}', b'{"a": "\\ud83d\\ude00"}', b'{"\\ud800": 1}',
    b'{"a": 18446744073709551616}', b'{"a": 18446744073709551615}', b'{"a": -9223372036854775809}',
    b'{"a": ' + b"9" * 4300 + b"}", b'{"a": ' + b"9" * 4301 + b"}", b'{"a": 1e400}', b'{"a": -1e400}',
    b'{"a": 1e-400}', b"\xef\xbb\xbf{}", b'{"a": "\xed\xa0\x80"}', b'{"a": "\xff"}', b'{"a": "\xc0\x80"}',
    b'{"a": "\xe2\x82"}', b"{}\xff", b"\x0c{}", b"{}\x0c", b" \t\r\n{} \n", b"\xa0{}", b'{"a": 1.}', b'{"a": .5}',
    b'{"a": 01}', b'{"a": -0}', b'{"a": -0.0}', b'{"a": 1E5}', b'{"a": "\x1f"}', b'{"a": "\x7f"}', b'{"a": "\t"}',
    b'{"a": [1,]}', b'{"a": 1,}', b"{}x", b"{}{}", b"{} \x00", b"", b"   ", b"null", b'"text"', b"[1, 2]",
    b'{"a": tru}', b'{"a": "\\x"}', b'{"a": "\\U0041"}', b'{"a": "\\u00e9\\/"}', b"{'a': 1}", b'{"a" 1}',
    b"[" * 100 + b"]" * 100, b"[" * 100_000 + b"]" * 100_000, b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,
    b'{"$date": 1}', b'{"a": {"$numberLong": "12"}}', b'{"data": 0.30000000000000004, "x": 1.7976931348623157e308}',
]  # fmt: skip


@pytest.mark.parametrize("payload", HOSTILE, ids=range(len(HOSTILE)))
def test_the_fast_decoder_reads_what_json_reads_and_refuses_what_it_refuses(payload: bytes) -> None:
    assert_same_loads(payload)


@FUZZ
@given(st.binary(max_size=64))
def test_random_bytes_load_as_json_loads_them(payload: bytes) -> None:
    assert_same_loads(payload)


@FUZZ
@given(
    st.recursive(
        nasty_scalars.filter(lambda x: not isinstance(x, Hadd)),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(nasty_text, c, max_size=4),
        max_leaves=12,
    ),
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=3),
)
def test_json_texts_and_their_mutations_load_as_json_loads_them(
    obj: Any, ascii_only: bool, flips: list[tuple[int, int]]
) -> None:
    payload = bytearray(json.dumps(obj, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))
    assert_same_loads(bytes(payload))
    for at, byte in flips:
        if payload:
            payload[at % len(payload)] = byte
    assert_same_loads(bytes(payload))


@FUZZ
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "uuid", "\\u0061"]), nasty_numbers | st.none()), max_size=6)
)
def test_duplicate_keys_load_as_json_loads_them(pairs: list[tuple[str, Any]]) -> None:
    # The last value at the first key's place, "\\u0061" and "a" being the same key.
    body = ", ".join(f'"{k}": {json.dumps(v)}' for k, v in pairs)
    assert_same_loads(("{" + body + "}").encode())


def test_deep_nesting_is_refused_by_both_and_moderate_nesting_read_by_both(backend: str) -> None:
    for deep in (b"[" * 100_000 + b"]" * 100_000, b'{"a": ' * 50_000 + b"1" + b"}" * 50_000):
        with pytest.raises(ProtocolError, match="not JSON"):
            decode("/values/user/0001/0001/v", b'{"uuid": "v", "data": ' + deep + b"}")
    nested = b"[" * 200 + b"]" * 200
    message = decode("/values/user/0001/0001/v", b'{"uuid": "v", "data": ' + nested + b"}")
    assert isinstance(message, ValuePublication)


def _sample_payloads() -> list[tuple[str, bytes]]:
    out = []
    for path in sorted(SAMPLES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                out.append((record["topic"], record["payload"].encode("utf-8")))
    return out


def test_every_wire_sample_decodes_alike_with_both_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = _sample_payloads()
    assert len(samples) > 100

    def run() -> list[Any]:
        results: list[Any] = []
        for topic, payload in samples:
            try:
                results.append(decode(topic, payload))
            except ProtocolError as exc:  # pragma: no cover - every sample decodes today
                results.append(str(exc))
        return results

    fast = run()
    monkeypatch.setattr(jsonfast, "_decode", None)
    plain = run()
    assert fast == plain
    for (topic, _), message in zip(samples, fast, strict=True):
        assert not isinstance(message, str), f"{topic}: {message}"


PAYLOADS_BY_TOPIC = [
    (
        "/values/user/0222/0001/temperature",
        b'{"uuid": "temperature", "genre": 2, "data": NaN, "hadd": "0222/0001"}',
    ),
    ("/values/user/0222/0001/temperature", b'{"uuid": "t", "data": 18446744073709551616, "index": "1"}'),
    ("/values/user/0222/0001/temperature", b'{"uuid": "t", "data": "\\udc00", "hadd": [1]}'),
    ("/values/user/0222/0001/temperature", b'{"0": {"uuid": "t"}, "1": {"uuid": "t", "index": 1}}'),
    ("/values/user/0222/0001/temperature", b"{}"),
    ("/values/user/0222/0001/temperature", b'{"uuid": "t", "data": {"$date": 1700000000000}}'),
    ("/broadcast/reply/9999/9990", b'{"uuid": "request_info_users", "cmd_class": 5000, "data": {"x": [1]}}'),
    (
        "/nodes/0001/0002/request",
        b'{"uuid": "x", "cmd_class": 5000, "reply_hadd": "0001/0002", "data": Infinity}',
    ),
    ("/dhcp/heartbeat/", b'{"add_ctrl": 1, "add_node": 99999999999999999999}'),
    ("/dhcp/heartbeat/0001/0001", b"ONLINE"),
    ("/dhcp/heartbeat/0001/0001", b"\xff"),
    ("/values/user/0222/0001/temperature", b"\xef\xbb\xbf{}"),
    ("/values/user/0222/0001/temperature", b'{"uuid": "t", "data": 1e400}'),
]


@pytest.mark.parametrize("topic,payload", PAYLOADS_BY_TOPIC, ids=range(len(PAYLOADS_BY_TOPIC)))
def test_decode_gives_the_same_message_or_the_same_error_with_both_backends(
    topic: str, payload: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run() -> tuple[str, str]:
        try:
            return "ok", repr(decode(topic, payload))
        except ProtocolError as exc:
            return "error", str(exc)

    fast = run()
    monkeypatch.setattr(jsonfast, "_decode", None)
    assert run() == fast


def test_the_decoders_shortcut_builds_the_same_value_publication() -> None:
    from dataclasses import fields

    from janitoo_protocol.decoding import _single_publication

    # The shortcut sets these five slots and runs no __init__: a new field or check must show up here.
    assert [f.name for f in fields(ValuePublication)] == ["genre", "hadd", "uuid", "values", "indexed"]
    assert not hasattr(ValuePublication, "__post_init__")
    value = ValueInfo("t", Hadd(1, 2), data=1)
    made = _single_publication(Genre.USER, Hadd(1, 2), "t", value)
    expected = ValuePublication(Genre.USER, Hadd(1, 2), "t", (value,))
    assert made == expected and repr(made) == repr(expected)
    with pytest.raises(AttributeError):
        made.uuid = "other"  # type: ignore[misc]  # still frozen


# ------------------------------------------------------------------------------------------ from_wire


wire_values = nasty_scalars | st.sampled_from(["0222/0001", "None", "", "12", "true", "x/y"])


@PROPERTY
@given(st.data(), st.booleans())
def test_from_wire_hot_path_builds_what_the_careful_path_builds(data: st.DataObject, entry: bool) -> None:
    keys = data.draw(st.permutations([*VALUE_KEYS, *(["entry_name"] if entry else [])]))
    typical = {
        "uuid": st.just("temperature"), "node_uuid": st.none() | st.just("n"), "hadd": st.just("0001/0002"),
        "cmd_class": st.just(49), "genre": st.just(2), "type": st.just(3), "index": st.just(0),
        "is_readonly": st.booleans(), "is_writeonly": st.booleans(), "is_polled": st.booleans(),
        "poll_delay": st.just(30) | st.just(0.5), "reply_hadd": st.none(),
    }  # fmt: skip
    raw = {k: data.draw(typical.get(k, wire_values) | wire_values if data.draw(st.booleans()) else wire_values)
           for k in keys}  # fmt: skip

    def build(source: Any) -> tuple[str, Any]:
        try:
            v = ValueInfo.from_wire(source)
            return "ok", (v, v.wire_keys, dict(v.extra))
        except ProtocolError as exc:
            return "error", str(exc)

    hot = build(raw)  # a dict: the hot path when its keys and types allow
    careful = build(MappingProxyType(raw))  # not a dict: always the careful path
    assume(hot[0] == "ok" or careful[0] == "error")
    assert hot == careful


@PROPERTY
@given(
    nasty_value_infos,
    st.lists(st.sampled_from([*VALUE_KEYS, "entry_name", "delays", "jnt_cid"]), min_size=0, max_size=25),
)
def test_to_wire_in_a_decoded_key_order_is_the_full_dict_in_that_order(
    value: ValueInfo, keys: list[str]
) -> None:
    value = replace(value, extra={}, wire_keys=tuple(keys))
    full = replace(value, wire_keys=None).to_wire()
    assert list(value.to_wire().items()) == [(k, full.get(k)) for k in dict.fromkeys(keys)]


# ------------------------------------------------------------------------------------------ the fallback


def test_the_backend_is_chosen_once_and_json_can_be_asked_for() -> None:
    assert jsonfast.BACKEND in ("msgspec", "json")
    code = "from janitoo_protocol import jsonfast; print(jsonfast.BACKEND)"
    env = {**os.environ, "JANITOO_JSON": "json", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "json"


def test_the_codec_tests_pass_with_the_json_fallback() -> None:
    # What a 32-bit Raspberry Pi without msgspec runs: the wire samples, golden messages and codec tests.
    env = {**os.environ, "JANITOO_JSON": "json", "PYTHONPATH": str(ROOT)}
    modules = [
        "tests/protocol/test_wire_samples.py", "tests/protocol/test_messages.py", "tests/protocol/test_value_batch.py",
    ]  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *modules],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
