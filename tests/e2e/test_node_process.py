"""The node runtime as a real process against a real mosquitto: boot, answers, persistence, stop, crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from janitoo_node.broker import MosquittoBroker
from janitoo_node.config import JanitooConfig
from janitoo_protocol import Genre, Heartbeat, HeartbeatDispatch, RequestRefused
from janitoo_protocol.transport import Envelope, JanitooClient, Subscription
from tests.helpers import NodeProcess, fake_conf, wait_for

NODES = {"1118/0000", "1118/0001", "1118/0002"}


def _wait_states(watch: Subscription, hadds: set[str], state: str, timeout: float = 15) -> dict[str, float]:
    """Wait until every hadd heartbeated `state`; returns when each did (monotonic)."""
    seen: dict[str, float] = {}

    def said_it(env: Envelope) -> bool:
        m = env.message
        if isinstance(m, Heartbeat) and m.state == state and str(m.hadd) in hadds:
            seen.setdefault(str(m.hadd), env.received_at)
        return set(seen) == hadds

    wait_for(
        watch, said_it, timeout, f"every one of {sorted(hadds)} saying {state} (only {sorted(seen)} did)"
    )
    return seen


def test_boot_discovery_set_persist_and_clean_stop(
    broker: MosquittoBroker, tmp_path: Path, prefix: str
) -> None:
    conf = fake_conf(tmp_path / "fake.conf", broker.port, prefix=prefix)
    with JanitooClient(port=broker.port, prefix=prefix) as client:
        beats = client.watch("heartbeats")
        started = time.monotonic()
        node = NodeProcess(conf).start()
        try:
            online = _wait_states(beats, NODES, "ONLINE")
            # Process start to every node ONLINE (the original: about 22 s).
            assert max(online.values()) - started < 10, node.output()
            net = client.discover(timeout=5)
            assert [str(n.hadd) for n in net.node_list()] == sorted(NODES)
            assert {n.state for n in net.node_list()} == {"ONLINE"}
            assert {v.uuid for v in net.value_list(Genre.SYSTEM)} == {"heartbeat", "hadd", "config_timeout"}
            ack = client.set_value("1118/0001", "location", "config", "Rack 2")
            assert ack.data == "Rack 2"
            assert JanitooConfig(conf).get("fake__component1", "location") == "Rack 2"
            try:
                client.set_value("1118/0001", "counter", "user", 3, cmd_class=49)
            except RequestRefused as exc:
                assert "counter is read-only" in str(exc)
            else:
                raise AssertionError("a read-only SET was acknowledged")
        finally:
            assert node.stop(signal.SIGTERM) == 0, node.output()
        _wait_states(beats, NODES, "OFFLINE", timeout=5)
        # The SET survived the restart.
        with NodeProcess(conf) as again:
            _wait_states(beats, NODES, "ONLINE")
            assert client.get_value("1118/0001", "location", "config").data == "Rack 2", again.output()


def test_sigkill_is_seen_at_once_through_the_last_will(
    broker: MosquittoBroker, tmp_path: Path, prefix: str
) -> None:
    conf = fake_conf(tmp_path / "fake.conf", broker.port, prefix=prefix)
    with JanitooClient(port=broker.port, prefix=prefix) as client:
        beats = client.watch("heartbeats")
        node = NodeProcess(conf).start()
        try:
            _wait_states(beats, NODES, "ONLINE")
            killed = time.monotonic()
            node.send(signal.SIGKILL)
            env = wait_for(
                beats, lambda e: isinstance(e.message, HeartbeatDispatch), 5, "the last will after SIGKILL"
            )
            m = env.message
            assert isinstance(m, HeartbeatDispatch)
            assert (m.add_ctrl, m.add_node, m.state) == (1118, -1, "OFFLINE")
            assert json.loads(env.payload) == {"add_ctrl": 1118, "add_node": -1, "state": "OFFLINE"}
            assert env.received_at - killed < 2
        finally:
            node.stop(signal.SIGKILL)


def test_node_answers_again_after_a_broker_restart(private_broker: MosquittoBroker, tmp_path: Path) -> None:
    conf = fake_conf(tmp_path / "fake.conf", private_broker.port)
    with NodeProcess(conf) as node, JanitooClient(port=private_broker.port) as client:
        beats = client.watch("heartbeats")
        _wait_states(beats, NODES, "ONLINE")
        # The node is held (SIGSTOP) through the restart so that it reconnects only once our watcher is
        # subscribed again: otherwise its re-announcement can race our own reconnection.
        node.send(signal.SIGSTOP)
        try:
            private_broker.kill()
            private_broker.start()
            assert client.wait_connected(15)
        finally:
            node.send(signal.SIGCONT)
        # Re-announced at once after the reconnect, not a heartbeat period later.
        _wait_states(beats, NODES, "ONLINE", timeout=10)
        assert client.get_value("1118/0002", "name", "config").data == "Fake component 2", node.output()


def test_sigterm_stops_a_node_whose_broker_is_unreachable(tmp_path: Path, refused_port: int) -> None:
    conf = fake_conf(tmp_path / "fake.conf", refused_port)  # connections are refused there
    proc = subprocess.Popen([sys.executable, "-m", "janitoo_node.cli", "run", "-c", str(conf)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the node is in its connect-retry loop once it says so
            if "retrying in" in line:
                break
        proc.send_signal(signal.SIGTERM)
        # Under systemd a stop must not wait for the kill timeout (the loop used to ignore signals).
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
