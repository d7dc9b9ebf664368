"""Soak: a 1,000-node simulated network and the HelloWorld V3 appliance left running on one mosquitto;
RSS and CPU of each printed every minute, then whether they stayed flat and the appliance's final RSS.

The network is `jnt-node simulate` (100 controllers of 9 nodes + their controller nodes = 1,000 nodes,
one value each, heartbeats and polls every 30 s, spread over the period as a real site's: about 67
publications/s; `--period 3` sends ten times that, to see in minutes what hours would do). The appliance is a real
`jnt-node run` of examples/helloworldv3.conf on simulated hardware, idle. Every minute a late client
reads the network from the retained state, to show that every node is still there and ONLINE, and a
watcher counts what was published in that minute. "Flat" compares the last minute with the end of the
warm-up (so the one-off growth of the first minutes, imports and first polls, is not counted as a leak)
and fits a line through the minutes after the warm-up. The machine's load is printed beside each
minute: on a machine shared with other work, a process's CPU time for the same work rises with it.

    python benchmarks/soak.py [--minutes 60] [--warmup 5] [--controllers 100] [--nodes 9]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import Simulation, cpu_seconds, rss_mb
from node_boot import appliance_conf, hadds

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol.transport import Envelope, JanitooClient
from tests.helpers import NodeProcess

# Growth allowed after the warm-up before a process is called "not flat": allocator noise and the
# broker's queues move RSS by a few hundred kB; a leak of one object per message would be megabytes.
FLAT_MB = 1.0
APPLIANCE_TARGET_MB = 25.0


@dataclass
class Series:
    """One process's per-minute RSS (MB) and CPU (% of one core over that minute)."""

    name: str
    pid: int
    rss: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    _cpu_mark: float = 0.0

    def start(self) -> None:
        self._cpu_mark = cpu_seconds(self.pid)

    def sample(self, seconds: float) -> None:
        now = cpu_seconds(self.pid)
        self.cpu.append((now - self._cpu_mark) / seconds * 100)
        self._cpu_mark = now
        self.rss.append(rss_mb(self.pid))


class Counter:
    """Counts the publications (values and heartbeats) the network puts on the wire."""

    def __init__(self, port: int) -> None:
        self.client = JanitooClient(port=port).connect()
        self._lock = threading.Lock()
        self._count = 0
        self.client.subscribe(self.client.topics.values_all(), self._seen)
        self.client.subscribe(self.client.topics.heartbeat_all(), self._seen)

    def _seen(self, env: Envelope) -> None:
        with self._lock:
            self._count += 1

    def take(self) -> int:
        with self._lock:
            n, self._count = self._count, 0
        return n

    def close(self) -> None:
        self.client.close()


def slope_mb_per_hour(values: list[float]) -> float:
    """Least-squares slope of per-minute samples, in MB per hour."""
    if len(values) < 2:
        return 0.0
    xs = range(len(values))
    mx, my = statistics.fmean(xs), statistics.fmean(values)
    num = sum((x - mx) * (y - my) for x, y in zip(xs, values, strict=True))
    den = sum((x - mx) ** 2 for x in xs)
    return num / den * 60


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5, help="minutes not judged for flatness")
    ap.add_argument("--controllers", type=int, default=100)
    ap.add_argument("--nodes", type=int, default=9, help="nodes per controller, besides the controller node")
    ap.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    ap.add_argument("--period", type=float, default=30.0,
                    help="heartbeat and poll period of the simulated nodes (3: the hour's traffic ten times over)")  # fmt: skip
    args = ap.parse_args()
    network = args.controllers * (args.nodes + 1)
    with (
        MosquittoBroker() as broker,
        tempfile.TemporaryDirectory() as tmp,
        Simulation(broker.port, args.controllers, args.nodes, heartbeat=args.period, poll=args.period) as sim,
    ):
        conf = appliance_conf(Path(tmp) / "helloworldv3.conf", broker.port)
        node = NodeProcess(conf).start()
        try:
            sim.wait_ready()
            expected = network + len(hadds(conf))
            assert broker.proc is not None
            series = [
                Series(f"simulator ({network:,} nodes)", sim.proc.pid),
                Series("HelloWorld V3 node", node.pid),
                Series("mosquitto", broker.proc.pid),
            ]
            counter = Counter(broker.port)
            for s in series:
                s.start()
            counter.take()
            print(f"{network} simulated nodes ({args.controllers} controllers) + the HelloWorld V3 appliance; "
                  f"a sample every {args.interval:.0f} s for {args.minutes} minutes\n")  # fmt: skip
            print("| sample | simulator RSS (MB) | simulator CPU (%) | node RSS (MB) | node CPU (%) | "
                  "mosquitto RSS (MB) | publications | nodes known (ONLINE) | machine load (1 min) |")  # fmt: skip
            print("|---:|---:|---:|---:|---:|---:|---:|---|---:|", flush=True)
            known_min = expected
            next_at = time.monotonic()
            for minute in range(1, args.minutes + 1):
                next_at += args.interval
                time.sleep(max(0.0, next_at - time.monotonic()))  # the soak's clock: waiting is the point
                for s in series:
                    s.sample(args.interval)
                published = counter.take()
                with JanitooClient(port=broker.port) as late:
                    net = late.discover(timeout=10, source="retained")
                online = sum(1 for n in net.node_list() if n.state == "ONLINE")
                known_min = min(known_min, online)
                sim_s, node_s, mq_s = series
                print(f"| {minute} | {sim_s.rss[-1]:.1f} | {sim_s.cpu[-1]:.1f} | {node_s.rss[-1]:.1f} | "
                      f"{node_s.cpu[-1]:.2f} | {mq_s.rss[-1]:.1f} | {published} | {len(net)} ({online}) | "
                      f"{os.getloadavg()[0]:.2f} |",
                      flush=True)  # fmt: skip
            counter.close()
        finally:
            node.stop(signal.SIGTERM)
    judged_from = min(args.warmup, args.minutes - 1)
    print("\n| process | RSS at warm-up end (MB) | RSS at the end (MB) | growth after warm-up (MB) | "
          "trend (MB/hour) | CPU mean (%) | CPU max (%) | flat (growth < 1 MB) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for s in series:
        after = s.rss[judged_from:]
        growth = s.rss[-1] - s.rss[judged_from]
        print(f"| {s.name} | {s.rss[judged_from]:.1f} | {s.rss[-1]:.1f} | {growth:+.2f} | "
              f"{slope_mb_per_hour(after):+.2f} | {statistics.fmean(s.cpu):.2f} | {max(s.cpu):.2f} | "
              f"{'yes' if abs(growth) < FLAT_MB else 'NO'} |")  # fmt: skip
    node_rss = series[1].rss[-1]
    print(f"\nHelloWorld V3 node RSS after {args.minutes} minutes: {node_rss:.1f} MB "
          f"(target <= {APPLIANCE_TARGET_MB:.0f} MB: {'met' if node_rss <= APPLIANCE_TARGET_MB else 'MISSED'}; "
          f"the original: 13 MB on a Pi)")  # fmt: skip
    print(f"fewest nodes ONLINE at a sample: {known_min} of {expected}")
    print(
        f"summary: HelloWorld V3 node RSS after {args.minutes} min idle | {node_rss:.1f} MB | <= 25 MB | 13 MB"
    )
    # CPU for the same work: the first minutes after the warm-up against the last as many.
    span = max(1, min(args.warmup, (len(series[0].cpu) - judged_from) // 2))
    early = statistics.fmean(series[0].cpu[judged_from : judged_from + span])
    late = statistics.fmean(series[0].cpu[-span:])
    print(f"summary: soak, {network}-node simulator CPU, minutes {judged_from + 1}-{judged_from + span} -> last {span} | "
          f"{early:.1f} % -> {late:.1f} % of a core ({late / early if early else 0:.2f}x) | flat | not published")  # fmt: skip
    sim_growth = series[0].rss[-1] - series[0].rss[judged_from]
    print(f"summary: soak, {network}-node simulator RSS growth over {args.minutes - judged_from} min | "
          f"{sim_growth:+.2f} MB | flat (< 1 MB) | not published")  # fmt: skip


if __name__ == "__main__":
    main()
