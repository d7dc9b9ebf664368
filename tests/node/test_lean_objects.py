"""The objects a node keeps per value and per node stay small (a simulated network holds tens of thousands)
and behave as before: shared traits, data slots, system values without closures, a compact config parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from janitoo_node.config import JanitooConfig
from janitoo_node.node import Node
from janitoo_node.scheduler import ManualScheduler
from janitoo_node.server import load_buses
from janitoo_node.simulate import write_config
from janitoo_node.values import CATALOGUE, Value, ValueSpec, make_value, with_companions
from janitoo_protocol import Genre, Hadd, ValueType
from janitoo_protocol.codes import COMMAND_CONFIGURATION
from tests.helpers import fake_conf


def test_values_alike_share_their_traits_and_keep_their_own_data() -> None:
    a = make_value("sensor_temperature", "temperature", help="A temperature")
    b = make_value("sensor_temperature", "temperature", help="A temperature")
    assert a.traits is b.traits
    a.store(21.5)
    b.store(19.0, 2)
    assert (a.cached(), b.cached(), b.cached(2), b.indexes, a.indexes) == (21.5, None, 19.0, [0, 2], [0])
    assert not hasattr(a, "__dict__")  # slots only
    with pytest.raises(AttributeError):
        a.label = "Another"  # type: ignore[misc]  # traits are set at creation


def test_traits_equal_but_not_the_same_on_the_wire_are_not_shared() -> None:
    spec = ValueSpec(Genre.CONFIG, ValueType.INT, COMMAND_CONFIGURATION)
    zero, false, floating = (Value("v", spec, default=d) for d in (0, False, 0.0))
    assert zero.info().default == 0 and false.info().default is False and isinstance(floating.default, float)
    assert len({id(zero.traits), id(false.traits), id(floating.traits)}) == 3
    one, true = Value("l", spec, list_items=[1, 2]), Value("l", spec, list_items=[True, 2])
    assert one.traits is not true.traits and true.list_items == [True, 2]
    # An unhashable default keeps traits of its own, and works.
    listed = Value("a", spec, default=[1, 2])
    assert listed.info().default == [1, 2]


def test_instances_declared_later_are_listed_in_order() -> None:
    load = Value("load", CATALOGUE["sensor_float"])
    load.store(0.5, 0)
    assert not load.is_multi and load.indexes == [0]
    for i, text in enumerate(("1 minute", "5 minutes", "15 minutes")):
        load.instance_configs[i] = text
    assert load.is_multi and load.indexes == [0, 1, 2]
    assert load.info(1).label == "Float (5 minutes)"


def test_a_poll_companion_shows_its_masters_delay() -> None:
    value, poll = with_companions(make_value("sensor_temperature", "t", poll_delay=12))
    assert poll.uuid == "t_poll" and poll.cached() == 12
    value.poll_delay = 0.5
    assert poll.cached() == 0.5
    poll.store(40, 1)
    assert poll.cached(1) == 40


def test_system_values_act_on_their_own_node(tmp_path: Path) -> None:
    conf = JanitooConfig(fake_conf(tmp_path / "n.conf", 1883))
    first = Node("a", Hadd(1, 1), oid="a", section="fake__component1", config=conf, name="First")
    second = Node("b", Hadd(1, 2), oid="b", section="fake__component2", config=conf, name="Second")
    assert first.values["name"].getter is second.values["name"].getter  # shared, no closure per node
    first.values["name"].write("Renamed")
    first.values["heartbeat"].write(42)
    assert (first.name, second.name, first.heartbeat, second.heartbeat) == ("Renamed", "Second", 42.0, 30)
    assert second.values["hadd"].cached() == "0001/0002"
    text = (tmp_path / "n.conf").read_text()
    assert "name = Renamed" in text and "heartbeat = 42" in text
    assert not hasattr(first, "__dict__")


def test_twins_are_a_nodes_own() -> None:
    first = Node("a", Hadd(1, 1), oid="a", section="a", config=None)
    second = Node("b", Hadd(1, 2), oid="b", section="b", config=None)
    state = first.add_value(Value("state", CATALOGUE["transition_fsm"]))
    twin = first.add_twin(Value("state", CATALOGUE["sensor_list"]))
    assert first.value_for("state", Genre.USER) is twin and first.value_for("state", Genre.BASIC) is state
    assert dict(second.twins) == {} and second.value_for("state", Genre.USER) is None


def test_a_large_config_shares_its_key_names_and_equal_values(tmp_path: Path) -> None:
    cfg = JanitooConfig(write_config(tmp_path / "sim.conf", 3, 4, 1))
    parser = cfg.parser
    sections = [s for s in parser.sections() if "__" in s]
    keys = [k for s in sections for k in parser.options(s)]
    assert len({id(k) for k in keys if k == "location"}) == 1
    assert len({id(parser.get(s, "location")) for s in sections}) == 1
    assert not hasattr(parser[sections[0]], "getint")  # no converter functions per section
    assert cfg.get_float(sections[0], "heartbeat", 0) == 30.0 and cfg.get_int(sections[0], "values", 0) == 1


def test_a_simulated_network_config_still_builds_its_buses(tmp_path: Path) -> None:
    from janitoo_node.simulate import SimulatedBus, SimulatedNode

    cfg = JanitooConfig(write_config(tmp_path / "sim.conf", 2, 3, 2))
    runtimes = load_buses(cfg, ManualScheduler(), lambda s: lambda m: None, threads=False,
                          buses={"sim1000": SimulatedBus, "sim1001": SimulatedBus},
                          components={"simulated.node": SimulatedNode})  # fmt: skip
    nodes = [n for rt in runtimes for n in rt.manager.nodes.values()]
    assert len(nodes) == 2 * 4
    temps = [n.values["temperature_1"] for n in nodes if "temperature_1" in n.values]
    assert len(temps) == 6 and len({id(v.traits) for v in temps}) == 1
    assert all(5.0 <= v.read() <= 35.0 for v in temps)
