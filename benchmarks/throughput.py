"""Publish and ingest throughput: the node runtime's publishing and `jnt spy`, each next to raw paho.

1. Runtime publish: the node manager publishing a polled value N times (value -> ValueInfo -> encode ->
   JanitooClient) vs raw paho publishing the same bytes, messages/s and ratio.
2. Spy ingest: N value publications are queued by mosquitto for two subscriber processes started at
   the same time, `jnt spy --count N` (decoding every message into a readable line) and a raw paho
   subscriber printing `topic qos payload` as the original jnt_spy did; both write to /dev/null. The
   figure is each one's messages/s from its first to its last message, and the ratio.

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
from janitoo_protocol import ValuePublication, encode
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
    import sys, time
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    n = int(sys.argv[2]); seen = [0, 0.0]
    def on_message(c, u, msg):
        if seen[0] == 0:
            seen[1] = time.perf_counter()
            print("WARM", file=sys.stderr, flush=True)
        print(msg.topic, msg.qos, msg.payload.decode())
        seen[0] += 1
        if seen[0] == n:
            print(f"RATE {(n - 1) / (time.perf_counter() - seen[1])}", file=sys.stderr)
            c.disconnect()
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    c.on_message = on_message
    c.on_connect = lambda c, u, f, rc, p: c.subscribe("/values/#")
    c.connect("127.0.0.1", int(sys.argv[1]))
    c.loop_forever()
    """
)

JNT_SPY = textwrap.dedent(
    """
    import sys, time
    sys.argv = ["jnt", "spy", "--port", sys.argv[1], "--count", sys.argv[2], "--topic", "/values/#"]
    from janitoo_cli import spy as spy_module
    stamps = []
    real_echo = spy_module.click.echo
    def echo(*a, **k):
        stamps.append(time.perf_counter())
        if len(stamps) == 1:
            print("WARM", file=sys.stderr, flush=True)
        return real_echo(*a, **k)
    spy_module.click.echo = echo
    from janitoo_cli.main import cli
    try:
        cli.main(standalone_mode=False)
    finally:
        if len(stamps) > 1:
            print(f"RATE {(len(stamps) - 1) / (stamps[-1] - stamps[0])}", file=sys.stderr)
    """
)


def spy_ingest(port: int, n: int) -> tuple[float, float]:
    procs = []
    lines: queue.Queue[tuple[int, str]] = queue.Queue()
    for i, script in enumerate((JNT_SPY, RAW_SPY)):
        p = subprocess.Popen([sys.executable, "-c", script, str(port), str(n)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip
        threading.Thread(target=lambda i=i, p=p: [lines.put((i, ln)) for ln in p.stderr], daemon=True).start()
        procs.append(p)
    with tempfile.TemporaryDirectory() as tmp:
        conf = fake_conf(Path(tmp) / "fake.conf", port)
        (rt,) = load_buses(JanitooConfig(conf), ManualScheduler(), lambda s: lambda m: None, threads=False)
        node = next(nd for h, nd in rt.manager.nodes.items() if h.node == 1)
        info = node.values["counter"].info(0, data=1)
        topic, payload = encode(ValuePublication(2, node.hadd, "counter", (info,)))  # type: ignore[arg-type]
    pub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    # Warm-up: the same message until both subscribers have received one (so both are subscribed),
    # then the flood. Each stops after n messages counted from its first one.
    warm: set[int] = set()
    rates: dict[int, float] = {}
    while len(warm) < 2:
        pub.publish(topic, payload)
        try:
            i, line = lines.get(timeout=0.05)
        except queue.Empty:
            continue
        if line.startswith("WARM"):
            warm.add(i)
    for _ in range(n):
        pub.publish(topic, payload)
    while len(rates) < 2:
        i, line = lines.get(timeout=300)
        if line.startswith("RATE"):
            rates[i] = float(line.split()[1])
    for p in procs:
        p.wait(60)
    pub.disconnect()
    pub.loop_stop()
    return rates[0], rates[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    _ = tool
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


if __name__ == "__main__":
    main()
