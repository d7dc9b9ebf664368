"""The late-join extension against a real node process and mosquitto: a late client learns the network from
the broker alone; a clean stop clears it, a crash leaves OFFLINE, a removed node is cleared, lies are ignored."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import Genre, Hadd, NetworkMap
from janitoo_protocol.aio import AsyncJanitooClient
from janitoo_protocol.retained import RetainedTopics
from janitoo_protocol.transport import Envelope, JanitooClient
from tests.helpers import NodeProcess, fake_conf, wait_for

NODES = {"1118/0000", "1118/0001", "1118/0002"}


def _wait_retained(client: JanitooClient, hadds: set[str], timeout: float = 15) -> None:
    """Wait until the broker's retained state holds exactly `hadds`, all ONLINE (read again at each change)."""
    rt = RetainedTopics(client.topics.prefix)
    seen: set[str] = set()

    def all_there(env: Envelope) -> bool:
        nonlocal seen
        net = client.read_retained()
        seen = {str(h) for h, n in net.nodes.items() if n.state == "ONLINE"}
        return seen == hadds

    with client.subscribe(rt.root + "controllers/+") as sub:
        wait_for(sub, all_there, timeout, f"retained copies of {sorted(hadds)} ONLINE (only {sorted(seen)})")


def _shape(net: NetworkMap) -> dict[str, set[tuple[int, str, int]]]:
    return {
        str(h): {(int(g), v.uuid, v.index) for g in Genre for v in net.values_of(h, g)} for h in net.nodes
    }


def test_a_late_client_learns_every_node_and_value_with_no_request_sent(
    broker: MosquittoBroker, tmp_path: Path, prefix: str
) -> None:
    conf = fake_conf(tmp_path / "fake.conf", broker.port, prefix=prefix)
    with JanitooClient(port=broker.port, prefix=prefix) as watcher, NodeProcess(conf) as node:
        requests = [watcher.subscribe(watcher.topics.broadcast_request()),
                    watcher.subscribe(watcher.topics.node_requests())]  # fmt: skip
        _wait_retained(watcher, NODES)
        with JanitooClient(port=broker.port, prefix=prefix) as late:
            learned = late.discover(timeout=5, source="auto")
        assert {str(h) for h in learned.nodes} == NODES, node.output()
        assert {n.state for n in learned.node_list()} == {"ONLINE"}
        # The asyncio client reads it the same way.
        learned_async = asyncio.run(_aio_discover(broker.port, prefix))
        assert _shape(learned_async) == _shape(learned)
        # What the nodes themselves answer, asked by a third client: the same nodes and values.
        with JanitooClient(port=broker.port, prefix=prefix) as asker:
            asked = asker.discover(timeout=5)
            cid_prefix = asker.new_correlation().rsplit("-", 1)[0]
        assert _shape(learned) == _shape(asked)
        assert learned.node("1118/0001").name == asked.node("1118/0001").name == "Fake component 1"
        # Every request on the wire is the asker's: the late client sent none.
        seen = [env for sub in requests for env in iter(lambda s=sub: s.get(0.2), None)]
        assert seen, "the asker's requests were not seen: the watcher saw nothing"
        assert all(json.loads(env.payload)["jnt_cid"].startswith(cid_prefix) for env in seen)


def test_clean_stop_clears_and_a_crash_leaves_offline_and_a_removed_node_is_cleared(
    broker: MosquittoBroker, tmp_path: Path, prefix: str
) -> None:
    conf = fake_conf(tmp_path / "fake.conf", broker.port, prefix=prefix)
    with JanitooClient(port=broker.port, prefix=prefix) as client:
        node = NodeProcess(conf).start()
        try:
            _wait_retained(client, NODES)
        finally:
            assert node.stop(signal.SIGTERM) == 0, node.output()
        # Clean stop: nothing of the process stays on the broker.
        assert len(client.read_retained()) == 0
        assert client.discover(source="retained").nodes == {}

        node = NodeProcess(conf).start()
        try:
            _wait_retained(client, NODES)
            node.send(signal.SIGKILL)
            node.proc.wait(10)  # type: ignore[union-attr]
        finally:
            node.stop(signal.SIGKILL)
        # A crash: the retained will says OFFLINE for every node of the controller.
        sub = client.subscribe(RetainedTopics(prefix).status(1118))
        wait_for(sub, lambda e: b"OFFLINE" in e.payload, 10, "the retained will")
        crashed = client.read_retained()
        assert {str(h): n.state for h, n in crashed.nodes.items()} == dict.fromkeys(NODES, "OFFLINE")

        # component2 leaves the config: the next start publishes the controller without it.
        text = conf.read_text().replace("components.component2 = fake.component\n", "")
        conf.write_text(text.split("[fake__component2]")[0])
        with NodeProcess(conf) as again:
            wait_for(sub, lambda e: b"ONLINE" in e.payload, 15, "the status ONLINE again")
            _wait_retained(client, {"1118/0000", "1118/0001"})
            assert again.stop(signal.SIGTERM) == 0, again.output()
        assert len(client.read_retained()) == 0


def test_a_controller_removed_from_the_config_after_a_crash_is_cleared_at_the_next_start(
    broker: MosquittoBroker, tmp_path: Path, prefix: str
) -> None:
    # Two buses in one process (controllers 1118 and 1119), then a crash: both stay OFFLINE.
    two = fake_conf(tmp_path / "two.conf", broker.port, prefix=prefix)
    conf_text = two.read_text()
    two.write_text(conf_text + "\n[hostsensor]\nauto_start = True\nhadd = 1119/0000\nbackend = sim\n")
    with JanitooClient(port=broker.port, prefix=prefix) as client:
        node = NodeProcess(two).start()
        try:
            _wait_retained(client, NODES | {"1119/0000"})
            node.send(signal.SIGKILL)
            node.proc.wait(10)  # type: ignore[union-attr]
        finally:
            node.stop(signal.SIGKILL)
        status = client.subscribe(RetainedTopics(prefix).status(1118))
        wait_for(status, lambda e: b"OFFLINE" in e.payload, 10, "the retained will")
        assert {n.state for n in client.read_retained().node_list()} == {"OFFLINE"}
        # The second bus leaves the config: its controller is cleared at the next start.
        two.write_text(conf_text)
        with NodeProcess(two) as again:
            _wait_retained(client, NODES)
            assert again.stop(signal.SIGTERM) == 0, again.output()
        assert len(client.read_retained()) == 0


def test_hostile_retained_payloads_are_left_out(broker: MosquittoBroker, tmp_path: Path, prefix: str) -> None:
    conf = fake_conf(tmp_path / "fake.conf", broker.port, prefix=prefix)
    rt = RetainedTopics(prefix)
    with JanitooClient(port=broker.port, prefix=prefix) as client, NodeProcess(conf) as node:
        _wait_retained(client, NODES)
        good = json.loads(_raw_retained(client, rt.controller(1118)))
        liar = {**good, "nodes": [{**good["nodes"][0], "hadd": "1118/0001"}]}
        hostile = {
            rt.controller(1117): json.dumps(good).encode(),  # speaks for controller 1118
            rt.controller(1116): json.dumps(liar).encode(),
            rt.controller(1115): b"{not json",
            rt.controller(1114): b"[1, 2]",
            rt.controller(1113): b'{"nodes": [{}], "values": "x", "status": 1118}',
            rt.controller(1112): b"x" * 1_100_000,  # over the retained payload ceiling
            rt.root + "controllers/abc": json.dumps(good).encode(),
            # A status of its own claiming 1118 is OFFLINE: 1118 points to status 1118, not 0007.
            rt.status(7): b'{"state": "OFFLINE", "controllers": [7, 1118]}',
            rt.status(1118) + "/extra": b'{"state": "OFFLINE", "controllers": [1118]}',
        }
        try:
            for topic, payload in hostile.items():
                client.publish_raw(topic, payload, retain=True)
            with JanitooClient(port=broker.port, prefix=prefix) as late:
                learned = late.read_retained()
            assert {str(h) for h in learned.nodes} == NODES, node.output()
            assert {n.state for n in learned.node_list()} == {"ONLINE"}
            assert {str(h) for h in learned.values} == NODES
        finally:
            for topic in hostile:
                client.publish_raw(topic, b"", retain=True)


def _raw_retained(client: JanitooClient, topic: str) -> bytes:
    with client.subscribe(topic) as sub:
        env = wait_for(sub, lambda e: bool(e.payload), 5, f"the retained {topic}")
    return env.payload


def test_a_broker_restart_that_lost_the_retained_state_gets_it_back(
    private_broker: MosquittoBroker, tmp_path: Path
) -> None:
    conf = fake_conf(tmp_path / "fake.conf", private_broker.port)
    with NodeProcess(conf) as node, JanitooClient(port=private_broker.port) as client:
        _wait_retained(client, NODES)
        private_broker.kill()  # no persistence: every retained message is gone
        private_broker.start()
        assert client.wait_connected(15)
        _wait_retained(client, NODES)
        status = _raw_retained(client, RetainedTopics("").status(1118))
        assert json.loads(status) == {"state": "ONLINE", "controllers": [1118]}, node.output()


async def _aio_discover(port: int, prefix: str) -> NetworkMap:
    async with AsyncJanitooClient(port=port, prefix=prefix) as client:
        return await client.discover(source="retained")


def test_auto_asks_only_the_controllers_heard_that_publish_no_retained_state(
    broker: MosquittoBroker, tmp_path: Path, prefix: str
) -> None:
    ours = fake_conf(tmp_path / "ours.conf", broker.port, prefix=prefix)
    # Controller 1119 behaves as the original's (no retained state) and heartbeats every second.
    legacy = fake_conf(tmp_path / "legacy.conf", broker.port, prefix=prefix, controller=1119, heartbeat=1,
                       extra="").read_text().replace("[system]\n", "[system]\nretained_state = false\n", 1)  # fmt: skip
    (tmp_path / "legacy.conf").write_text(legacy)
    legacy_nodes = {"1119/0000", "1119/0001", "1119/0002"}
    with (
        JanitooClient(port=broker.port, prefix=prefix) as watcher,
        NodeProcess(ours),
        NodeProcess(tmp_path / "legacy.conf") as old,
    ):
        requests = [watcher.subscribe(watcher.topics.broadcast_request()),
                    watcher.subscribe(watcher.topics.node_requests())]  # fmt: skip
        _wait_retained(watcher, NODES)
        with watcher.subscribe(watcher.topics.heartbeat(Hadd(1119, 0))) as beat:
            wait_for(beat, lambda e: True, 15, "the legacy controller's heartbeat")
        # The late client hears 1119 while it reads (a heartbeat each second; the read is retried until one
        # falls inside it), finds no retained state of it, and asks it, and it only.
        with JanitooClient(port=broker.port, prefix=prefix) as late:
            deadline = time.monotonic() + 15
            learned = late.discover(timeout=5, source="auto")
            while not legacy_nodes <= {str(h) for h in learned.nodes}:
                assert time.monotonic() < deadline, "no read heard the legacy controller's heartbeat"
                learned = late.discover(timeout=5, source="auto")
        assert {str(h) for h in learned.nodes} == NODES | legacy_nodes, old.output()
        seen = [env for sub in requests for env in iter(lambda s=sub: s.get(0.2), None)]
        assert seen and {env.topic for env in seen} == {f"{prefix}/nodes/1119/0000/request"}
