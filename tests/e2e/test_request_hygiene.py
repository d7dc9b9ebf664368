"""A node process under hostile traffic through a real mosquitto: oversized payloads and request floods."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import Heartbeat
from janitoo_protocol.transport import Envelope, JanitooClient, Subscription
from tests.helpers import NodeProcess, fake_conf, wait_for

LIMITS = "max_payload = 4096\nmax_request_rate = 20\nmax_request_burst = 40\nmax_pending_requests = 8\n"


def _conf(tmp_path: Path, port: int) -> Path:
    conf = fake_conf(tmp_path / "fake.conf", port, heartbeat=1)
    conf.write_text(conf.read_text().replace("slow_start = 0\n", f"slow_start = 0\n{LIMITS}", 1))
    return conf


def _beat_of_0001(after: float = 0.0) -> Callable[[Envelope], bool]:
    """Accepts a heartbeat of 1118/0001 received after `after` (monotonic)."""

    def accept(env: Envelope) -> bool:
        m = env.message
        return isinstance(m, Heartbeat) and str(m.hadd) == "1118/0001" and env.received_at > after

    return accept


def _wait_online(beats: Subscription) -> None:
    wait_for(beats, _beat_of_0001(), 15, "the node's first heartbeat")


def _raw_client(port: int) -> mqtt.Client:
    raw = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="attacker")
    raw.connect("127.0.0.1", port)
    raw.loop_start()
    return raw


def _get(cid: str, pad: int = 0) -> bytes:
    """A GET of the fake component's counter (a user value: answered on the reply topic)."""
    body = {"cmd_class": 49, "genre": 2, "uuid": "counter", "hadd": "1118/0001", "reply_hadd": "9999/9990",
            "is_writeonly": False, "is_readonly": True, "jnt_cid": cid}  # fmt: skip
    if pad:
        body["pad"] = "A" * pad
    return json.dumps(body).encode()


def test_oversized_requests_are_dropped_undecoded_and_the_node_answers_the_next(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    conf = _conf(tmp_path, broker.port)
    with JanitooClient(port=broker.port) as watcher, NodeProcess(conf) as node:
        beats = watcher.watch("heartbeats")
        replies = watcher.subscribe("/nodes/9999/9990/reply", maxsize=1000)
        _wait_online(beats)
        raw = _raw_client(broker.port)
        try:
            raw.publish("/nodes/1118/0001/request", _get("big", pad=100_000), qos=1).wait_for_publish(5)
            # The positive control, sent after: its answer proves the big one was seen and dropped.
            raw.publish("/nodes/1118/0001/request", _get("small"), qos=1).wait_for_publish(5)
            env = replies.get(10)
            assert env is not None, node.output()
            assert json.loads(env.payload)["jnt_cid"] == "small"
        finally:
            raw.loop_stop()
            raw.disconnect()
    log = node.output()
    assert "dropped a payload of 100" in log and "limit 4096 bytes" in log


def test_a_request_flood_is_capped_and_heartbeats_go_on(broker: MosquittoBroker, tmp_path: Path) -> None:
    conf = _conf(tmp_path, broker.port)
    with JanitooClient(port=broker.port) as watcher, NodeProcess(conf) as node:
        beats = watcher.watch("heartbeats")
        replies = watcher.subscribe("/nodes/9999/9990/reply", maxsize=100_000)
        _wait_online(beats)
        raw = _raw_client(broker.port)
        try:
            started = time.monotonic()
            for i in range(5000):
                raw.publish("/nodes/1118/0001/request", _get(f"f{i}"))
            raw.publish("/nodes/1118/0001/request", _get("last"), qos=1).wait_for_publish(10)
            flooded = time.monotonic() - started
            # The node keeps its heartbeats: one from the flooded node after the flood was sent.
            wait_for(beats, _beat_of_0001(after=time.monotonic()), 10, "a heartbeat after the flood")
            elapsed = time.monotonic() - started
            # Replies go out before the heartbeat that followed them (one worker, in order).
            assert replies.queue is not None
            answered = replies.queue.qsize()
        finally:
            raw.loop_stop()
            raw.disconnect()
    # The ceiling holds: the burst plus the rate over the time the flood lasted, not 5,000 answers.
    assert 0 < answered <= 40 + 20 * (elapsed + 1), (answered, flooded, elapsed)
    assert "requests: over the ceiling, dropped" in node.output()
