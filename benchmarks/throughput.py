"""Publish and ingest throughput: the node runtime's publishing and `jnt spy`, each next to raw paho.

1. Runtime publish: the node manager publishing a polled value N times (value -> ValueInfo -> encode ->
   JanitooClient) vs raw paho publishing the same bytes, messages/s and ratio.
2. Spy ingest: N value publications are queued by mosquitto for two subscriber processes started at
   the same time, `jnt spy --count N` (decoding every message into a readable line) and a raw paho
   subscriber printing `topic qos payload` as the original jnt_spy did. The figure is each one's
   output lines per second, from its first line to its N-th, and the ratio.

    python benchmarks/throughput.py [--n 20000]
"""

from __future__ import annotations

import argparse
import queue
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from _common import ROOT, tool
from paho.mqtt.enums import CallbackAPIVersion

from janitoo_node.broker import MosquittoBroker
from janitoo_node.config import JanitooConfig
from janitoo_node.scheduler import ManualScheduler
from janitoo_node.server import load_buses
from janitoo_protocol import Genre, ValuePublication, encode
from janitoo_protocol.transport import JanitooClient
from tests.helpers import fake_conf

QUEUE_ALL = "max_queued_messages 0\nmax_queued_bytes 0\n"


def runtime_publish(port: int, n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        conf = fake_conf(Path(tmp) / "fake.conf", port)
        with JanitooClient(port=port, reply_hadd="1118/0000") as client:
            (rt,) = load_buses(
                JanitooConfig(conf), ManualScheduler(), lambda s: client.publish, threads=False
            )
            node = next(nd for h, nd in rt.manager.nodes.items() if h.node == 1)
            value = node.values["counter"]
            rt.manager.online = True
            t = time.perf_counter()
            for _ in range(n):
                rt.manager.publish_value(value, fresh=True)
            ours = n / (time.perf_counter() - t)
            payloads = []
            rt.manager.publish = lambda m: payloads.append(encode(m))  # type: ignore[method-assign]
            for _ in range(n):
                rt.manager.publish_value(value, fresh=True)
    raw = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    raw.connect("127.0.0.1", port)
    raw.loop_start()
    t = time.perf_counter()
    for topic, payload in payloads:
        raw.publish(topic, payload)
    base = n / (time.perf_counter() - t)
    raw.disconnect()
    raw.loop_stop()
    return ours, base


RAW_SPY = textwrap.dedent(
    """
    import sys
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    n = int(sys.argv[2]); seen = [0]
    def on_message(c, u, msg):
        print(msg.topic, msg.qos, msg.payload.decode())
        seen[0] += 1
        if seen[0] == n:
            sys.stdout.flush()
            c.disconnect()
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    c.on_message = on_message
    c.on_connect = lambda c, u, f, rc, p: c.subscribe("/values/#")
    c.connect("127.0.0.1", int(sys.argv[1]))
    c.loop_forever()
    """
)


def spy_ingest(port: int, n: int) -> tuple[float, float]:
    """Rates of `jnt spy` and of the raw subscriber, timed from their first to their n-th output line."""
    commands = [
        [*tool("jnt"), "spy", "--port", str(port), "--count", str(n), "--topic", "/values/#"],
        [sys.executable, "-c", RAW_SPY, str(port), str(n)],
    ]
    first: queue.Queue[int] = queue.Queue()
    stamps: dict[int, tuple[float, float]] = {}
    procs = []

    def read(i: int, p: subprocess.Popen[str]) -> None:
        assert p.stdout is not None
        start = 0.0
        for count, _ in enumerate(p.stdout, 1):
            if count == 1:
                start = time.perf_counter()
                first.put(i)
            if count == n:
                stamps[i] = (start, time.perf_counter())
                return

    for i, cmd in enumerate(commands):
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        threading.Thread(target=read, args=(i, p), daemon=True).start()
        procs.append(p)
    with tempfile.TemporaryDirectory() as tmp:
        conf = fake_conf(Path(tmp) / "fake.conf", port)
        (rt,) = load_buses(JanitooConfig(conf), ManualScheduler(), lambda s: lambda m: None, threads=False)
        node = next(nd for h, nd in rt.manager.nodes.items() if h.node == 1)
        info = node.values["counter"].info(0, data=1)
        topic, payload = encode(ValuePublication(Genre.USER, node.hadd, "counter", (info,)))
    pub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    # Warm-up: the same message until both subscribers have printed one line (so both are subscribed);
    # then the flood. Each is timed over n lines from its first one.
    warm: set[int] = set()
    while len(warm) < 2:
        pub.publish(topic, payload)
        try:
            warm.add(first.get(timeout=0.05))
        except queue.Empty:
            continue
    for _ in range(n):
        pub.publish(topic, payload)
    for p in procs:
        p.wait(300)
    pub.disconnect()
    pub.loop_stop()
    rates = [(n - 1) / (stamps[i][1] - stamps[i][0]) for i in range(2)]
    return rates[0], rates[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    with MosquittoBroker(extra_config=QUEUE_ALL) as broker:
        ours, base = runtime_publish(broker.port, args.n)
        spy, raw = spy_ingest(broker.port, args.n)
    print("| messages/s | raw paho | ours | ours / raw |")
    print("|---|---:|---:|---:|")
    print(
        f"| runtime publish (node manager -> JanitooClient) | {base:,.0f} | {ours:,.0f} | {ours / base:.2f} |"
    )
    print(
        f"| spy ingest (`jnt spy` lines vs raw paho `topic qos payload`) | {raw:,.0f} | {spy:,.0f} | {spy / raw:.2f} |"
    )
    print()
    print(f"summary: runtime publish (ours / raw paho) | {ours / base:.2f} | >= 0.5 | not published")


if __name__ == "__main__":
    main()
