"""`jnt-node simulate`: a simulated network that behaves on the wire like `jnt-node run` (discovery, GET/SET,
polls, heartbeats, OFFLINE on stop), in process and as the command, against a real mosquitto."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from janitoo_node.broker import MosquittoBroker
from janitoo_node.bus import InlineWorker
from janitoo_node.config import JanitooConfig
from janitoo_node.runtime import build_bus
from janitoo_node.scheduler import ManualScheduler
from janitoo_node.simulate import SimulatedBus, SimulatedNetwork, SimulatedNode, write_config
from janitoo_protocol import Genre, Hadd, Heartbeat, JanitooClient, Message, NodeState, ValuePublication
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_write_config_describes_every_controller_node_and_value(tmp_path: Path) -> None:
    text = write_config(tmp_path / "sim.conf", 2, 3, 2, first=500, heartbeat=7, poll=11).read_text()
    assert text.count("components.n") == 2 * 3
    assert "[sim0501__n3]" in text and "hadd = 0501/0003" in text
    assert "heartbeat = 7" in text and text.count("temperature_1_poll_0 = 11") == 2 * 3


def test_simulated_network_answers_discovery_get_and_set_and_polls(
    broker: MosquittoBroker, prefix: str
) -> None:
    with SimulatedNetwork(2, 3, 2, port=broker.port, prefix=prefix, first=700, poll=1) as net:
        assert net.node_count == 2 * (1 + 3)
        with JanitooClient(port=broker.port, prefix=prefix) as client:
            network = client.discover(timeout=5)
            assert set(network.nodes) == {Hadd(c, n) for c in (700, 701) for n in range(4)}
            temperature = network.value("0701/0002", "temperature_1")
            assert temperature.genre == Genre.USER and 5.0 <= client.get(temperature).data <= 35.0
            # The poll period is a config value: set it through the protocol, read it back.
            poll = network.value("0701/0002", "temperature_1_poll")
            assert client.set(poll, 2).data == 2
            assert client.get(poll).data == 2
            with client.watch("values") as values:
                pub = wait_for(values, lambda e: isinstance(e.message, ValuePublication)
                               and e.message.uuid == "temperature_0", 5, "a poll of temperature_0")  # fmt: skip
            assert isinstance(pub.message, ValuePublication) and 5.0 <= pub.message.value.data <= 35.0


def test_stopping_the_simulated_network_says_offline_for_every_node(
    broker: MosquittoBroker, prefix: str
) -> None:
    with JanitooClient(port=broker.port, prefix=prefix) as client, client.watch("heartbeats") as beats:
        net = SimulatedNetwork(1, 2, port=broker.port, prefix=prefix, first=710).start()
        net.stop()
        offline: set[Hadd] = set()

        def all_offline(env: object) -> bool:
            m = getattr(env, "message", None)
            if isinstance(m, Heartbeat) and m.state == NodeState.OFFLINE:
                offline.add(m.hadd)
            return len(offline) == 3

        wait_for(beats, all_offline, 5, "OFFLINE from the 3 simulated nodes")
    assert offline == {Hadd(710, n) for n in range(3)}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_simulate_command_runs_until_a_signal_and_stops_cleanly(
    broker: MosquittoBroker, prefix: str, sig: signal.Signals
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "janitoo_node.cli", "simulate", "--controllers", "2", "--nodes", "2",
           "--values", "1", "--first", "720", "--port", str(broker.port), "--prefix", prefix]  # fmt: skip
    with JanitooClient(port=broker.port, prefix=prefix) as client, client.watch("heartbeats") as beats:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            wait_for(beats, lambda e: isinstance(e.message, Heartbeat) and e.message.hadd == Hadd(721, 2), 20,
                     "the last simulated node online")  # fmt: skip
            network = client.discover(timeout=5)
            assert len(network) == 2 * 3
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    assert proc.returncode == 0, err
    assert f"simulating 2 controllers, 6 nodes on 127.0.0.1:{broker.port}" in err


def _publication_times(
    tmp_path: Path, spread: bool, announce_at: float | None = None
) -> dict[str, list[float]]:
    """When each node of a simulated controller heartbeats and polls in its first 90 s (sans threads),
    with every node announced again at `announce_at` (what a broker reconnect does)."""
    cfg = JanitooConfig(write_config(tmp_path / "sim.conf", 1, 10, 1, heartbeat=30, poll=30))
    sched = ManualScheduler()
    times: dict[str, list[float]] = {}

    def publish(m: Message) -> None:
        if isinstance(m, Heartbeat | ValuePublication):
            times.setdefault(f"{type(m).__name__} {m.hadd}", []).append(sched.now)

    (section,) = cfg.buses()
    manager = build_bus(cfg, section, SimulatedBus, {"simulated.node": SimulatedNode}, sched, InlineWorker(),
                        publish).manager  # fmt: skip
    manager.spread = spread
    manager.start()
    if announce_at is not None:
        sched.advance(announce_at)
        manager.announce()
    sched.advance(90 - (announce_at or 0))
    return times


def test_spread_nodes_beat_and_poll_apart_after_their_first_time_at_start(tmp_path: Path) -> None:
    times = _publication_times(tmp_path, spread=True)
    assert len(times) == 11 + 10  # 11 nodes heartbeat, 10 poll their temperature
    for name, at in times.items():
        assert at[0] == 0.0, name  # the first heartbeat and reading at start, as `jnt-node run`
        assert 0.0 < at[1] < 30.0, name  # the second within the first period
        assert [round(b - a, 6) for a, b in zip(at[1:], at[2:], strict=False)] == [30.0] * (len(at) - 2), name
    seconds = sorted(at[1] for at in times.values())
    assert len(set(seconds)) == len(seconds)  # each at a time of its own: no two in step
    assert seconds[-1] - seconds[0] > 15  # over the period, not bunched in a corner of it


def test_without_spread_every_node_keeps_the_beat_of_the_start(tmp_path: Path) -> None:
    times = _publication_times(tmp_path, spread=False)
    assert {tuple(at) for at in times.values()} == {(0.0, 30.0, 60.0, 90.0)}


def test_nodes_announced_after_a_reconnect_stay_spread(tmp_path: Path) -> None:
    times = _publication_times(tmp_path, spread=True, announce_at=45.0)
    beats = {name: at for name, at in times.items() if name.startswith("Heartbeat")}
    assert all(45.0 in at for at in beats.values())  # every node said at once that it is there
    after = sorted(next(t for t in at if t > 45.0) for at in beats.values())
    assert len(set(after)) == len(after) and 45.0 < after[0] and after[-1] < 75.0  # then apart again
