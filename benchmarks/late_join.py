"""Late join from retained state: how fast a late client knows a 1,000-node network, and what 10 tools
joining at once put on the wire, against the same with requests (the original's way).

A `jnt-node simulate` network (100 controllers of 9 nodes + their controller nodes = 1,000 nodes, one
polled value each) publishes its retained state. Then:
- one late client: `JanitooClient.discover()` (retained first) timed from the call to the map, and the
  connect + discover total; the nodes, values and ONLINE states it knows;
- `jnt query network --vuuid all` (process start to exit), from the retained state and by requests;
- 10 tools joining at once (threads, one connection each): requests counted on the wire (a watcher on
  the request topics), replies counted too, and the slowest tool's time; then the same with
  `source="requests"`.

    python benchmarks/late_join.py [--controllers 100] [--nodes 9] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import threading
import time

from _common import Simulation, tool

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol.retained import RetainedTopics
from janitoo_protocol.transport import Envelope, JanitooClient


def wait_retained(port: int, expected: int, timeout: float = 120) -> None:
    """Until the broker holds every node's retained copy with its first poll (values with data)."""
    deadline = time.monotonic() + timeout
    while True:
        with JanitooClient(port=port) as c:
            net = c.read_retained()
        polled = sum(1 for v in net.value_list(2) if v.data is not None)
        if len(net) >= expected and polled >= expected - expected // 10:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"retained state incomplete: {len(net)}/{expected} nodes, {polled} readings")
        time.sleep(0.5)  # a benchmark's setup poll, not a measurement


class Wire:
    """Counts requests and replies on the wire while it is open."""

    def __init__(self, port: int) -> None:
        self.client = JanitooClient(port=port).connect()
        self.requests = 0
        self.replies = 0
        t = self.client.topics
        self.client.subscribe(t.broadcast_request(), self._request)
        self.client.subscribe(t.node_requests(), self._request)
        self.client.subscribe(t.node_replies(), self._reply)
        self.client.subscribe(t.broadcast_replies(), self._reply)

    def _request(self, env: Envelope) -> None:
        self.requests += 1

    def _reply(self, env: Envelope) -> None:
        self.replies += 1

    def close(self) -> None:
        self.client.close()


def tools_at_once(port: int, tools: int, source: str) -> tuple[int, int, float, list[int]]:
    wire = Wire(port)
    found: list[int] = [0] * tools
    took: list[float] = [0.0] * tools
    go = threading.Barrier(tools)

    def tool(i: int) -> None:
        with JanitooClient(port=port) as c:
            go.wait()
            t = time.monotonic()
            found[i] = len(c.discover(timeout=30, source=source))
            took[i] = time.monotonic() - t

    threads = [threading.Thread(target=tool, args=(i,)) for i in range(tools)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # The wire is drained by a round trip through the broker: our own marker comes after everything sent.
    with JanitooClient(port=port) as c:
        c.read_retained(timeout=5)
    wire.close()
    return wire.requests, wire.replies, max(took), found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--controllers", type=int, default=100)
    ap.add_argument("--nodes", type=int, default=9, help="nodes per controller, besides the controller node")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tools", type=int, default=10)
    args = ap.parse_args()
    expected = args.controllers * (args.nodes + 1)
    with MosquittoBroker() as broker, Simulation(broker.port, args.controllers, args.nodes) as sim:
        sim.wait_ready()
        wait_retained(broker.port, expected)
        lib, total = [], []
        for _ in range(args.runs):
            t0 = time.monotonic()
            with JanitooClient(port=broker.port) as c:
                t1 = time.monotonic()
                net = c.discover(source="auto")
                t2 = time.monotonic()
            lib.append(t2 - t1)
            total.append(t2 - t0)
        online = sum(1 for n in net.node_list() if n.state == "ONLINE")
        print(f"network: {expected} simulated nodes ({args.controllers} controllers), retained under "
              f"{RetainedTopics().everything()}")  # fmt: skip
        print("| measure | value | target |")
        print("|---|---|---|")
        print(f"| nodes known by a late client | {len(net)} ({online} ONLINE), {net.value_count()} values | "
              f"{expected} |")  # fmt: skip
        print(f"| late client discover() (median of {args.runs}) | {statistics.median(lib) * 1000:.0f} ms "
              f"(min {min(lib) * 1000:.0f}) | < 200 ms |")  # fmt: skip
        print(f"| connect + discover() (median) | {statistics.median(total) * 1000:.0f} ms | |")
        cli: dict[str, float] = {}
        for source in ("auto", "requests"):
            took = []
            for _ in range(args.runs):
                t = time.monotonic()
                out = subprocess.run([*tool("jnt"), "query", "network", "--vuuid", "all", "--port", str(broker.port),
                                      "--format", "json", "--source", source], capture_output=True, text=True,
                                     timeout=120)  # fmt: skip
                took.append(time.monotonic() - t)
                if out.returncode != 0:
                    raise RuntimeError(out.stderr)
            cli[source] = statistics.median(took)
            print(f"| `jnt query network --vuuid all --source {source}` (median of {args.runs}) | "
                  f"{statistics.median(took):.2f} s | {'< 0.8 s' if source == 'auto' else 'baseline'} |",
                  flush=True)  # fmt: skip
        for source in ("auto", "requests"):
            requests, replies, slowest, found = tools_at_once(broker.port, args.tools, source)
            print(f"| {args.tools} tools at once, source={source}: requests / replies on the wire | "
                  f"{requests} / {replies} (slowest tool {slowest * 1000:.0f} ms, nodes known "
                  f"{min(found)}-{max(found)}) | {'0 requests' if source == 'auto' else 'baseline'} |",
                  flush=True)  # fmt: skip
            if source == "auto":
                storm = requests
    print()
    print(f"summary: a late client knows {expected:,} nodes from the retained state (median) | "
          f"{statistics.median(lib) * 1000:.0f} ms | < 200 ms | never (no retained state)")  # fmt: skip
    print(f"summary: `jnt query network --vuuid all`, {expected:,} nodes (retained state, then requests) | "
          f"{cli['auto']:.2f} s | < 0.8 s | 72 s (six requests, 12 s waits)")  # fmt: skip
    print(f"summary: requests on the wire when {args.tools} tools join at once | {storm} | 0 | "
          f"{6 * args.tools} requests, each answered by every controller")  # fmt: skip


if __name__ == "__main__":
    main()
