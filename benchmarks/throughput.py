"""Publish and ingest throughput: the node runtime's publishing and `jnt spy`, each next to raw paho.

1. Runtime publish: the node manager publishing a polled value N times (value -> ValueInfo -> encode ->
   JanitooClient) vs raw paho publishing the same bytes, messages/s and ratio; rounds of each in turn,
   medians (one long run of each, one after the other, measured whatever load came during one of them).
2. Spy ingest: N value publications are queued by mosquitto for two subscriber processes started at
   the same time, `jnt spy --count N` (decoding every message into a readable line) and a raw paho
   subscriber printing `topic qos payload` as the original jnt_spy did. The figure is each one's
   output lines per second, from its first line to its N-th, and the ratio.

    python benchmarks/throughput.py [--n 20000] [--rounds 6]
"""

from __future__ import annotations

import argparse
import queue
import statistics
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


def runtime_publish(port: int, n: int, rounds: int) -> tuple[float, float, list[float]]:
    """Messages/s of the node manager publishing a polled value and of raw paho publishing the same bytes,
    each the median of `rounds` rounds of n messages, the two taking turns (which goes first alternates):
    a burst of load on a shared machine then weighs on both, not on whichever ran during it. Also the
    ratio of each round."""
    with tempfile.TemporaryDirectory() as tmp:
        conf = fake_conf(Path(tmp) / "fake.conf", port)
        with JanitooClient(port=port, reply_hadd="1118/0000") as client:
            (rt,) = load_buses(
                JanitooConfig(conf), ManualScheduler(), lambda s: client.publish, threads=False
            )
            node = next(nd for h, nd in rt.manager.nodes.items() if h.node == 1)
            value = node.values["counter"]
            rt.manager.online = True
            publish = rt.manager.publish
            payloads: list[tuple[str, bytes]] = []
            rt.manager.publish = lambda m: payloads.append(encode(m))  # type: ignore[method-assign]
            for _ in range(n):
                rt.manager.publish_value(value, fresh=True)
            rt.manager.publish = publish  # type: ignore[method-assign]
            raw = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
            raw.connect("127.0.0.1", port)
            raw.loop_start()

            def run_ours() -> float:
                t = time.perf_counter()
                for _ in range(n):
                    rt.manager.publish_value(value, fresh=True)
                rate = n / (time.perf_counter() - t)
                client.wait_written(30)  # the next round starts with nothing left to write
                return rate

            def run_raw() -> float:
                t = time.perf_counter()
                for topic, payload in payloads:
                    info = raw.publish(topic, payload)
                rate = n / (time.perf_counter() - t)
                info.wait_for_publish(30)
                return rate

            ours, base = [], []
            for r in range(rounds):
                if r % 2:
                    base.append(run_raw())
                    ours.append(run_ours())
                else:
                    ours.append(run_ours())
                    base.append(run_raw())
            raw.disconnect()
            raw.loop_stop()
    ratios = [o / b for o, b in zip(ours, base, strict=True)]
    return statistics.median(ours), statistics.median(base), ratios


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
    ap.add_argument("--rounds", type=int, default=6, help="rounds of runtime publish, ours and raw in turn")
    args = ap.parse_args()
    with MosquittoBroker(extra_config=QUEUE_ALL) as broker:
        ours, base, ratios = runtime_publish(broker.port, args.n, args.rounds)
        spy, raw = spy_ingest(broker.port, args.n)
    print("| messages/s | raw paho | ours | ours / raw |")
    print("|---|---:|---:|---:|")
    print(
        f"| runtime publish (node manager -> JanitooClient) | {base:,.0f} | {ours:,.0f} | {ours / base:.2f} |"
    )
    print(
        f"| spy ingest (`jnt spy` lines vs raw paho `topic qos payload`) | {raw:,.0f} | {spy:,.0f} | {spy / raw:.2f} |"
    )
    print(f"\nruntime publish, ours / raw of each round ({args.rounds} rounds of {args.n:,} messages, taking turns): "
          f"{', '.join(f'{r:.2f}' for r in ratios)}; the table gives the medians")  # fmt: skip
    print()
    print(f"summary: runtime publish (ours / raw paho) | {ours / base:.2f} | >= 0.5 | not published")


if __name__ == "__main__":
    main()
