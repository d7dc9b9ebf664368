"""Discovery wall time and the simulator's memory, against simulated networks of growing size.

Each size runs `jnt-node simulate` (10 nodes per controller, 1 polled value per node, plus the controllers
themselves) in its own process. It then times the whole `jnt query network --vuuid all` command (process
start to exit; it reads the retained state the simulated controllers keep on the broker) and the library
call `JanitooClient.discover()` alone (a request of each kind to every controller, as the original asked),
and reads the simulator's RSS once its nodes heartbeat, and again after the queries. Memory per node is
RSS / nodes, and the marginal cost of a node (RSS(n) - RSS(smallest n)) / (n - smallest n), from the RSS
once the network is up (every controller's retained state on the broker). The broker queues up to 10,000
messages per client (`--broker-queue`; mosquitto's default of 1,000 drops answers at 10,000 nodes). The original waited a fixed 12 s per request: 72 s for `all`, whatever the size.

Targets (issue #17): `jnt query network --vuuid all` under 5 s at 10,000 nodes, and the simulator under
10 kB per node by both measures at 10,000 nodes.

    python benchmarks/discovery.py [--sizes 10,100,1000,10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from dataclasses import dataclass

from _common import Simulation, rss_mb, tool

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol.transport import JanitooClient

TARGET_NODES = 10_000
TARGET_SECONDS = 5.0
TARGET_KB = 10.0


@dataclass
class Row:
    nodes: int
    expected: int  # node hadds in the network: the nodes and their controllers
    found_cli: int
    found_lib: int
    cli: float
    lib: float
    rss: float  # MB, once the nodes heartbeat
    rss_after: float  # MB, after the queries

    @property
    def kb_per_node(self) -> float:
        return self.rss * 1024 / self.nodes


def settle(port: int, expected: int, timeout: float = 120.0) -> None:
    """Wait until the broker's retained state holds every node: the simulator has published the retained state
    of all its controllers (its heartbeats go out first, seconds before that at 10,000 nodes)."""
    deadline = time.monotonic() + timeout
    with JanitooClient(port=port) as c:
        while len(c.read_retained(timeout=2.0).nodes) < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the retained state did not reach {expected} nodes in {timeout:g} s")


def measure(broker: MosquittoBroker, nodes: int, runs: int) -> Row:
    controllers = max(1, nodes // 10)
    per = nodes // controllers
    with Simulation(broker.port, controllers, per) as sim:
        sim.wait_ready()
        settle(broker.port, sim.expected)
        rss = rss_mb(sim.proc.pid)
        cli, lib = [], []
        found_cli = found_lib = 0
        for _ in range(runs):
            t = time.monotonic()
            out = subprocess.run([*tool("jnt"), "query", "network", "--vuuid", "all", "--port", str(broker.port),
                                  "--format", "json"], capture_output=True, text=True, timeout=120)  # fmt: skip
            cli.append(time.monotonic() - t)
            if out.returncode != 0:
                raise RuntimeError(out.stderr)
            found_cli = len(json.loads(out.stdout)["request_info_nodes"])
            with JanitooClient(port=broker.port) as c:
                t = time.monotonic()
                net = c.discover(timeout=60)
                lib.append(time.monotonic() - t)
                found_lib = len(net.nodes)
        return Row(nodes, sim.expected, found_cli, found_lib, statistics.median(cli), statistics.median(lib), rss,
                   rss_mb(sim.proc.pid))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10,100,1000,10000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--broker-queue", type=int, default=10_000, metavar="N",
                    help="the broker's max_queued_messages (mosquitto's default: 1000)")  # fmt: skip
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(
        f"| nodes | nodes found (jnt / discover()) | `jnt query network --vuuid all` (s), target < {TARGET_SECONDS:g} "
        "| discover() (s) | s per 100 nodes | simulator RSS (MB) | after the queries (MB) "
        f"| simulator kB per node, target < {TARGET_KB:g} | marginal kB per node, target < {TARGET_KB:g} "
        "| original (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows: list[Row] = []
    # At 10,000 nodes (1,000 controllers) a discovery by requests gets 6,000 answers at once and a retained
    # reading 1,001 messages: more than mosquitto's default queue of 1,000 QoS 0 messages per client, which
    # drops the rest when the client reads slower than they come (the discovery then waits for its timeout).
    # A broker for a network that size queues more (docs/deployment.md).
    with MosquittoBroker(extra_config=f"max_queued_messages {args.broker_queue}") as broker:
        for n in sizes:
            row = measure(broker, n, args.runs)
            rows.append(row)
            first = rows[0]
            marginal = (
                f"{(row.rss - first.rss) * 1024 / (row.nodes - first.nodes):.1f}" if row is not first else "-"
            )
            print(
                f"| {n} | {row.found_cli} / {row.found_lib} of {row.expected} | {row.cli:.2f} | {row.lib:.2f} "
                f"| {row.lib / n * 100:.3f} | {row.rss:.1f} | {row.rss_after:.1f} | {row.kb_per_node:.1f} "
                f"| {marginal} | 72 |",
                flush=True,
            )
        # Messages the broker dropped (its per-client queue overflowed) make a discovery wait for its timeout.
        drops = [line for line in broker.log if "dropped" in line]
    if drops:
        print(f"\nthe broker dropped messages {len(drops)} times, e.g.: {drops[0]}")
    at_target = [r for r in rows if r.nodes == TARGET_NODES]
    if at_target and len(rows) > 1:
        row = at_target[0]
        marginal = (row.rss - rows[0].rss) * 1024 / (row.nodes - rows[0].nodes)
        print(f"\nAt {TARGET_NODES:,} nodes (issue #17):\n")
        print("| target | figure | met |")
        print("|---|---|---|")
        for what, figure, limit, unit in (
            ("`jnt query network --vuuid all`", row.cli, TARGET_SECONDS, "s"),
            ("simulator kB per node", row.kb_per_node, TARGET_KB, "kB"),
            ("marginal kB per node", marginal, TARGET_KB, "kB"),
        ):
            print(f"| {what} < {limit:g} {unit} | {figure:.2f} | {'yes' if figure < limit else 'no'} |")
        print()
        print(f"summary: `jnt query network --vuuid all`, {TARGET_NODES:,} simulated nodes | {row.cli:.2f} s | "
              f"< {TARGET_SECONDS:g} s | 72 s (six requests, 12 s waits)")  # fmt: skip
        print(f"summary: simulator memory at {TARGET_NODES:,} nodes, RSS / nodes (marginal) | "
              f"{row.kb_per_node:.1f} kB ({marginal:.1f} kB) | < {TARGET_KB:g} kB | not published")  # fmt: skip


if __name__ == "__main__":
    main()
