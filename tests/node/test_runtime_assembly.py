"""The runtime assembly: a bus's context is complete when the bus is built, so a component can publish from
its first moment, through the same function as its node manager."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from janitoo_node.bus import InlineWorker
from janitoo_node.buses.fake import FakeBus, FakeComponent
from janitoo_node.config import JanitooConfig
from janitoo_node.runtime import build_bus
from janitoo_node.scheduler import ManualScheduler
from janitoo_node.values import Value, ValueSpec
from janitoo_protocol import Genre, Hadd, Message, ValuePublication, ValueType, encode

DATA = Path(__file__).parent.parent / "data" / "original"


def test_a_component_publishes_through_the_context_built_with_the_bus(tmp_path: Path) -> None:
    conf = tmp_path / "fake.conf"
    conf.write_text((DATA / "original-fake-node.conf").read_text())
    sent: list[Message] = []
    rt = build_bus(JanitooConfig(conf), "fake", FakeBus, {"fake.component": FakeComponent}, ManualScheduler(),
                   InlineWorker(), sent.append)  # fmt: skip
    ctx = rt.bus.ctx
    # The manager and the components publish through one function (which also keeps the retained state
    # current), and it sends through the runtime's.
    assert ctx.publish is rt.manager.publish
    component = next(iter(rt.bus.components.values()))
    assert component.node is not None
    value = component.node.values["test_user"]
    value.store("hello")
    ctx.publish_value(value)  # before start(): nothing is dropped on the floor
    assert len(sent) == 1
    pub = sent[0]
    assert isinstance(pub, ValuePublication) and (pub.genre, pub.uuid, pub.value.data) == (
        Genre.USER,
        "test_user",
        "hello",
    )
    # Byte for byte what the node manager publishes for the same value.
    rt.manager.publish_value(value)
    assert encode(sent[1]) == encode(pub)


def test_a_value_without_a_node_is_not_published_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conf = tmp_path / "fake.conf"
    conf.write_text((DATA / "original-fake-node.conf").read_text())
    sent: list[Message] = []
    rt = build_bus(JanitooConfig(conf), "fake", FakeBus, {"fake.component": FakeComponent}, ManualScheduler(),
                   InlineWorker(), sent.append)  # fmt: skip
    orphan = Value("orphan", ValueSpec(int(Genre.USER), ValueType.STRING, 0, label="orphan"))
    with caplog.at_level(logging.WARNING, logger="janitoo.bus"):
        rt.bus.ctx.publish_value(orphan)
    assert sent == []
    assert any("orphan has no node yet" in r.getMessage() for r in caplog.records)
    assert rt.manager.controller.hadd == Hadd(1118, 0)
