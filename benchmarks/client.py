"""JanitooClient throughput and discovery time against a private mosquitto, next to raw paho-mqtt.

1. Receive: N value publications sent by a raw paho publisher (another process), received (a) by a raw
   paho subscriber doing json.loads, (b) by a JanitooClient subscription whose handler decodes
   (`env.message`), through the client's read-ahead socket. The receiver's first message is held until
   everything is at the broker, so what is timed is the receiver draining its backlog as fast as it can,
   not the publisher's pace.
2. Publish: N x JanitooClient.publish(ValuePublication) (encoding included) vs raw paho publish of the
   same bytes, until the broker echoed a marker sent last on the same connection.
3. Discovery: wall time of JanitooClient.discover() with the default settings against 20 fake
   controllers x 10 nodes (tests/protocol/fakenode.py, run in another process); the original's
   `jnt_query network` waits a fixed 12 s per request.

Prints numbers, asserts nothing:  python benchmarks/client.py [-n 20000] [--runs 5] [--discovery-runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from janitoo_node.broker import MosquittoBroker  # noqa: E402
from janitoo_protocol import Genre, Hadd, ValueInfo, ValuePublication, encode  # noqa: E402
from janitoo_protocol.topics import Topics  # noqa: E402
from janitoo_protocol.transport import Envelope, JanitooClient  # noqa: E402

PREFIX = "bench"
TOPICS = Topics(PREFIX)
SPREAD = 16  # publications go to this many value topics (16 nodes' temperature)
# QoS 0 messages for a subscriber that is not reading are queued by mosquitto: let it queue them all.
BROKER_CONFIG = "max_queued_messages 0\nmax_queued_bytes 0\n"
WAIT = 120.0


def publications() -> list[ValuePublication]:
    """A polled user value like the original's (the single-value shape, all 21 keys, ~480 bytes)."""
    out = []
    for i in range(SPREAD):
        hadd = Hadd(222, i + 1)
        value = ValueInfo(
            uuid="temperature", hadd=hadd, node_uuid=f"hostsensor__picpu{i}", genre=2, type=3, cmd_class=49,
            index=0, data=40.1 + i, label="CPUTemp", help="The temperature of the CPU", units="°C",
            is_polled=True, poll_delay=300, entry_name="sensor_temperature",
        )  # fmt: skip
        out.append(ValuePublication(Genre.USER, hadd, "temperature", (value,)))
    return out


def wire() -> list[tuple[str, bytes]]:
    return [encode(p, TOPICS) for p in publications()]


def raw_client(port: int, on_message: Callable[[Any], None] | None = None) -> mqtt.Client:
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    connected, subscribed = threading.Event(), threading.Event()
    c.on_connect = lambda *a: connected.set()
    c.on_subscribe = lambda *a: subscribed.set()
    if on_message is not None:
        c.on_message = lambda client, userdata, msg: on_message(msg)
    c.connect("127.0.0.1", port, 60)
    c.loop_start()
    if not connected.wait(10):
        raise RuntimeError("raw paho client: no CONNACK")
    c._bench_subscribed = subscribed  # type: ignore[attr-defined]
    return c


def raw_subscribe(c: mqtt.Client, topic_filter: str) -> None:
    ev: threading.Event = c._bench_subscribed  # type: ignore[attr-defined]
    ev.clear()
    c.subscribe(topic_filter, 0)
    if not ev.wait(10):
        raise RuntimeError("raw paho client: no SUBACK")


def raw_close(c: mqtt.Client) -> None:
    c.disconnect()
    c.loop_stop()


# --------------------------------------------------------------------------------------------- 1. receive


def publisher_process(port: int, n: int) -> None:
    """Child process: publish n value messages with raw paho, then a QoS 1 marker: its PUBACK says the
    broker has taken (and routed) everything before it."""
    msgs = wire()
    c = raw_client(port)
    for i in range(n):
        topic, payload = msgs[i % SPREAD]
        c.publish(topic, payload, qos=0)
    info = c.publish(f"{PREFIX}/bench/end", b"", qos=1)
    info.wait_for_publish(WAIT)
    raw_close(c)


def run_publisher(port: int, n: int) -> None:
    subprocess.run([sys.executable, __file__, "--publisher", str(port), str(n)], check=True, timeout=WAIT)


class Drain:
    """Counts n messages; the first one blocks the receiving thread until `open()`."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0
        self.gate = threading.Event()
        self.done = threading.Event()
        self.opened = 0.0
        self.finished = 0.0

    def hold(self) -> None:
        if not self.gate.is_set():
            self.gate.wait()

    def tick(self) -> None:
        self.count += 1
        if self.count == self.n:
            self.finished = time.perf_counter()
            self.done.set()

    def open(self) -> float:
        self.opened = time.perf_counter()
        self.gate.set()
        if not self.done.wait(WAIT):
            raise RuntimeError(f"only {self.count}/{self.n} messages arrived")
        return self.n / (self.finished - self.opened)


def receive_raw(port: int, n: int) -> float:
    drain = Drain(n)

    def on_message(msg: Any) -> None:
        drain.hold()
        json.loads(msg.payload)
        drain.tick()

    c = raw_client(port, on_message)
    try:
        raw_subscribe(c, TOPICS.values_all())
        run_publisher(port, n)
        return drain.open()
    finally:
        drain.gate.set()
        raw_close(c)


def receive_janitoo(port: int, n: int, decoding: bool = True) -> float:
    drain = Drain(n)
    bad: list[Envelope] = []

    def handler(env: Envelope) -> None:
        drain.hold()
        if decoding and not isinstance(env.message, ValuePublication):
            bad.append(env)
        drain.tick()

    with JanitooClient("127.0.0.1", port, prefix=PREFIX) as c:
        c.subscribe(c.topics.values_all(), handler)
        run_publisher(port, n)
        try:
            rate = drain.open()
        finally:
            drain.gate.set()
    if bad:
        raise RuntimeError(f"{len(bad)} messages did not decode: {bad[0].error}")
    return rate


# --------------------------------------------------------------------------------------------- 2. publish

MARKER = f"{PREFIX}/bench/marker"


def publish_raw(port: int, n: int) -> float:
    msgs = wire()
    back = threading.Event()
    c = raw_client(port, lambda msg: back.set())
    try:
        raw_subscribe(c, MARKER)
        t0 = time.perf_counter()
        for i in range(n):
            topic, payload = msgs[i % SPREAD]
            c.publish(topic, payload, qos=0)
        c.publish(MARKER, b"", qos=0)
        if not back.wait(WAIT):
            raise RuntimeError("raw publish: the marker never came back")
        return n / (time.perf_counter() - t0)
    finally:
        raw_close(c)


def publish_janitoo(port: int, n: int, encoding: bool = True) -> float:
    pubs = publications()
    msgs = wire()
    back = threading.Event()
    with JanitooClient("127.0.0.1", port, prefix=PREFIX) as c:
        c.subscribe(MARKER, lambda env: back.set())
        t0 = time.perf_counter()
        for i in range(n):
            if encoding:
                c.publish(pubs[i % SPREAD])
            else:
                c.publish_raw(*msgs[i % SPREAD])
        c.publish_raw(MARKER, b"")
        if not back.wait(WAIT):
            raise RuntimeError("JanitooClient publish: the marker never came back")
        return n / (time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------- 3. discovery


def fakes_process(port: int, controllers: int, nodes: int) -> None:
    """Child process: the fake controllers, until stdin closes."""
    from tests.protocol.fakenode import start_controllers

    fakes = start_controllers("127.0.0.1", port, controllers, nodes, first=101)
    print("ready", flush=True)
    sys.stdin.read()
    for f in fakes:
        f.close()


def discovery_times(port: int, controllers: int, nodes: int, runs: int) -> tuple[list[float], int, int]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--fakes", str(port), str(controllers), str(nodes)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the fake controllers did not start")
        times: list[float] = []
        found = values = 0
        with JanitooClient("127.0.0.1", port) as c:
            for _ in range(runs):
                t0 = time.monotonic()
                net = c.discover()  # the default settings
                times.append(time.monotonic() - t0)
                found = len(net.nodes)
                values = sum(len(list(net.value_list(g))) for g in Genre)
        return times, found, values
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)


# --------------------------------------------------------------------------------------------- main


def best_of(runs: int, *fns: Callable[[], float]) -> list[float]:
    """The best rate of each measurement, run interleaved: a busy neighbour slows all of them alike."""
    rates: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for per_fn, fn in zip(rates, fns, strict=True):
            per_fn.append(fn())
    return [max(r) for r in rates]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20000, help="messages per throughput run (default 20000)")
    ap.add_argument("--runs", type=int, default=5, help="throughput runs; the best is shown (default 5)")
    ap.add_argument("--discovery-runs", type=int, default=5, help="discovery runs (default 5)")
    ap.add_argument("--controllers", type=int, default=20)
    ap.add_argument("--nodes", type=int, default=10)
    ap.add_argument("--publisher", nargs=2, type=int, metavar=("PORT", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--fakes", nargs=3, type=int, metavar=("PORT", "C", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.publisher:
        publisher_process(*args.publisher)
        return
    if args.fakes:
        fakes_process(*args.fakes)
        return

    n = args.n
    size = len(wire()[0][1])
    with MosquittoBroker(extra_config=BROKER_CONFIG) as broker:
        port = broker.port
        print(f"mosquitto on 127.0.0.1:{port}; {n} messages of {size} bytes per run, best of {args.runs}\n")
        rx_raw, rx_jnt, rx_route = best_of(
            args.runs,
            lambda: receive_raw(port, n),
            lambda: receive_janitoo(port, n),
            lambda: receive_janitoo(port, n, decoding=False),
        )
        tx_raw, tx_jnt, tx_bytes = best_of(
            args.runs,
            lambda: publish_raw(port, n),
            lambda: publish_janitoo(port, n),
            lambda: publish_janitoo(port, n, encoding=False),
        )
        times, found, values = discovery_times(port, args.controllers, args.nodes, args.discovery_runs)

    print("| messages/s | raw paho | JanitooClient | JanitooClient / raw |")
    print("|---|---:|---:|---:|")
    rows = [
        ("receive (raw: json.loads; client: handler reads env.message)", rx_raw, rx_jnt, " (target >= 1.0)"),
        ("receive (client: routing only, the handler does not decode)", rx_raw, rx_route, ""),
        ("publish (client: publish(ValuePublication), encoding included)", tx_raw, tx_jnt, ""),
        ("publish (client: publish_raw of the same bytes)", tx_raw, tx_bytes, ""),
    ]
    for what, raw, jnt, note in rows:
        print(f"| {what} | {raw:,.0f} | {jnt:,.0f} | {jnt / raw:.2f}{note} |")
    print()
    print("Raw paho is paho as shipped: three or four `recv` calls per packet and a `select` before each. "
          "JanitooClient reads its socket ahead (janitoo_protocol/readahead.py): one `recv` for many "
          "packets, taken one after the other without waiting in `select`.")  # fmt: skip
    print()
    print("| discovery | median | min | max | original |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| {args.controllers} controllers x {args.nodes} nodes ({found} nodes, {values} values), "
        f"default settings, {len(times)} runs | {statistics.median(times):.2f} s | {min(times):.2f} s "
        f"| {max(times):.2f} s | 12 s per request (72 s for the 6) |"
    )
    print()
    print(f"summary: JanitooClient receive, decoding (ours / raw paho + json.loads) | {rx_jnt / rx_raw:.2f} | >= 1.0 | "
          "1.0 (raw paho + json)")  # fmt: skip
    print(f"summary: discovery of {found} nodes ({args.controllers} controllers), median | "
          f"{statistics.median(times):.2f} s | < 1 s | 72 s")  # fmt: skip


if __name__ == "__main__":
    main()
