"""A node's publications, made fast, say exactly what they said before: Value.info's positional build
holds every field its value says, and the text the encoder keeps by a value's `alike` key follows every
change of the value (poll delay, pause, instance labels, node), down to the bytes a real broker delivers."""

from __future__ import annotations

import json
import queue
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from janitoo_node.broker import MosquittoBroker
from janitoo_node.config import JanitooConfig
from janitoo_node.node import Node
from janitoo_node.scheduler import ManualScheduler
from janitoo_node.server import load_buses
from janitoo_node.values import CATALOGUE, Value, ValueSpec, make_value, with_companions
from janitoo_protocol import Genre, Hadd, ValueInfo, ValuePublication, ValueType, encode
from janitoo_protocol import encoding as encoding_module
from janitoo_protocol.codes import COMMAND_CONFIGURATION
from janitoo_protocol.transport import Envelope, JanitooClient
from janitoo_protocol.valuejson import value_writer
from tests.helpers import fake_conf

_FIELDS = [name for name in ValueInfo.__dataclass_fields__ if name != "alike"]


def reference_info(value: Value, index: int, data: Any) -> ValueInfo:
    """Value.info as it was written before: by keywords, from the value's public attributes."""
    node = value.node
    label = value.label
    if value.is_multi and index in value.instance_configs:
        label = f"{value.label} ({value.instance_configs[index]})"
    delay = value.poll_delay
    return ValueInfo(
        uuid=value.uuid, hadd=None if node is None else node.hadd, node_uuid=None if node is None else node.uuid,
        genre=value.genre, type=value.type, cmd_class=value.cmd_class, index=index, data=data,
        default=value.default, label=label, help=value.help, units=value.units, min=value.min, max=value.max,
        list_items=value.list_items, is_readonly=value.is_readonly, is_writeonly=value.is_writeonly,
        is_polled=value.is_polled, poll_delay=int(delay) if float(delay).is_integer() else delay,
        entry_name=value.entry_name,
    )  # fmt: skip


def same_fields(a: ValueInfo, b: ValueInfo) -> None:
    for name in _FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        # Equal and of the same type: 1, 1.0 and True are equal in Python, not on the wire.
        assert (x, type(x)) == (y, type(y)), name


def a_node(uuid: str, hadd: Hadd) -> Node:
    return Node(uuid, hadd, oid="test", section=uuid, config=None)


def plain(info: ValueInfo) -> str:
    return json.dumps(info.to_wire(), default=encoding_module._json_default)


def variety() -> list[Value]:
    """Values of every shape Value.info handles: polled or not, paused, write-only, companions,
    instances with labels, int and float delays, defaults equal but of other types, on a node or not."""
    spec = ValueSpec(Genre.CONFIG, ValueType.INT, COMMAND_CONFIGURATION)
    temperature, poll = with_companions(make_value("sensor_temperature", "t", help="A temperature"))
    load = Value("load", CATALOGUE["sensor_float"], poll_delay=0.5)
    for i, text in enumerate(("1 minute", "5 minutes")):
        load.instance_configs[i] = text
    paused = make_value("sensor_integer", "paused")
    paused.paused = True
    whole = make_value("sensor_integer", "whole", poll_delay=30.0)
    integer = make_value("sensor_integer", "integer")
    integer.poll_delay = 12  # tutorial3 sets an int
    writeonly = Value("w", replace(spec, is_writeonly=True), poll_delay=5)
    values = [temperature, poll, load, paused, whole, integer, writeonly]
    values += [Value("d", spec, default=d, min=d, max=d) for d in (0, False, 0.0, -0.0, 1.5, "x")]
    node = a_node("n", Hadd(12, 3))
    node.add_values(values[:4])
    return values + [make_value("action_switch_binary", "switch"), Value("bare", spec)]


def test_a_values_info_holds_every_field_its_value_says() -> None:
    for value in variety():
        for index in value.indexes:
            for data in (None, 0, 1.0, True, "on"):
                same_fields(value.info(index, data=data), reference_info(value, index, data if data is not None
                                                                         else value.cached(index)))  # fmt: skip


def test_alike_keys_are_equal_only_for_infos_equal_but_for_their_data() -> None:
    infos = [v.info(i, data=1) for v in variety() for i in v.indexes]
    for a in infos:
        for b in infos:
            if a.alike == b.alike:
                same_fields(replace(a, data=None), replace(b, data=None))
    # A changed copy holds none: `replace` is how a field changes, and the encoder then reads the fields.
    assert replace(infos[0], label="Other").alike is None


def test_the_kept_text_follows_every_change_of_a_value() -> None:
    calls: list[Any] = []

    def dumps(obj: Any) -> str:
        calls.append(obj)
        return json.dumps(obj, default=encoding_module._json_default)

    write = value_writer(dumps)
    value, _ = with_companions(make_value("sensor_float", "load", help="The load"))
    node = a_node("n", Hadd(12, 3))
    node.add_values([value])

    def check(data: Any) -> None:
        info = value.info(0, data=data)
        assert write(info) == plain(info)

    check(0.25)
    calls.clear()
    for data in (0.5, 3, "high", None, True, float("nan")):
        check(data)
    assert not any(isinstance(c, dict) for c in calls)  # the kept text each time, no value dict written
    changes = [
        lambda: setattr(value, "poll_delay", 0.5),
        lambda: setattr(value, "poll_delay", 30),  # int: the same text as 30.0
        lambda: setattr(value, "paused", True),
        lambda: setattr(value, "paused", False),
        lambda: value.instance_configs.__setitem__(0, "1 minute"),
        lambda: value.instance_configs.__setitem__(1, "5 minutes"),
        lambda: setattr(value, "poll_delay", 0.0),
    ]
    for change in changes:
        change()
        for data in (1.5, 2):
            for index in value.indexes:
                info = value.info(index, data=data)
                assert write(info) == plain(info)
    other = a_node("m", Hadd(12, 4))
    other.add_values([value])  # the same value on another node: its hadd and node uuid change
    info = value.info(0, data=1)
    assert write(info) == plain(info) and '"hadd": "0012/0004"' in write(info)


@pytest.fixture
def conf(tmp_path: Path, broker: MosquittoBroker) -> Path:
    return fake_conf(tmp_path / "fake.conf", broker.port)


def test_published_values_reach_a_real_broker_as_json_dumps_writes_them(
    broker: MosquittoBroker, conf: Path
) -> None:
    got: queue.Queue[Envelope] = queue.Queue()
    with (
        JanitooClient(port=broker.port, reply_hadd="1118/0000") as client,
        JanitooClient(port=broker.port) as spy,
    ):
        spy.subscribe("/values/#", got.put)
        (rt,) = load_buses(JanitooConfig(conf), ManualScheduler(), lambda s: client.publish, threads=False)
        node = next(nd for h, nd in rt.manager.nodes.items() if h.node == 1)
        value = node.values["counter"]
        rt.manager.online = True
        sent: list[bytes] = []
        for step in range(6):
            if step == 3:
                value.poll_delay = 0.5  # a SET of counter_poll does this
            rt.manager.publish_value(value, fresh=True)
            info = value.info(0, data=value.stored(0))
            sent.append(plain(info).encode())
        for expected in sent:
            env = got.get(timeout=5)
            assert env.topic == "/values/user/1118/0001/counter" and env.payload == expected
        assert isinstance(env.message, ValuePublication) and env.message.value.poll_delay == 0.5
        topic, payload = encode(ValuePublication(Genre.USER, node.hadd, "counter", (info,)))
        assert (topic, payload) == (env.topic, env.payload)


def test_the_fast_publication_builder_makes_the_same_frozen_publication() -> None:
    from dataclasses import FrozenInstanceError, fields

    from janitoo_protocol.events import value_publication

    # It sets these five slots and runs no __init__: a new field or check must show up here.
    assert [f.name for f in fields(ValuePublication)] == ["genre", "hadd", "uuid", "values", "indexed"]
    assert not hasattr(ValuePublication, "__post_init__")
    values = (ValueInfo("t", Hadd(1, 2), data=1), ValueInfo("t", Hadd(1, 2), index=1, data=2))
    for indexed in (False, True):
        made = value_publication(Genre.USER, Hadd(1, 2), "t", values, indexed)
        expected = ValuePublication(Genre.USER, Hadd(1, 2), "t", values, indexed=indexed)
        assert made == expected and repr(made) == repr(expected) and encode(made) == encode(expected)
    with pytest.raises(FrozenInstanceError):
        made.uuid = "other"  # type: ignore[misc]  # still frozen
