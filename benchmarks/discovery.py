"""Discovery wall time: `jnt query network --vuuid all` against simulated networks of growing size.

Each size runs `jnt-node simulate` (10 nodes per controller, 1 polled value per node) in its own
process, then times the whole `jnt query network --vuuid all` command (process start to exit) and the
library call `JanitooClient.discover()` alone, and reads the simulator's RSS (memory per simulated node
is the growth of that column). The original waited a fixed 12 s per request: 72 s for
`all`, whatever the size.

    python benchmarks/discovery.py [--sizes 10,100,500,1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from _common import Simulation, rss_mb, tool

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol.transport import JanitooClient


def measure(port: int, nodes: int, runs: int) -> tuple[float, float, int, float]:
    controllers = max(1, nodes // 10)
    per = nodes // controllers
    with Simulation(port, controllers, per) as sim:
        sim.wait_ready()
        rss = rss_mb(sim.proc.pid)
        cli, lib = [], []
        found = 0
        for _ in range(runs):
            t = time.monotonic()
            out = subprocess.run([*tool("jnt"), "query", "network", "--vuuid", "all", "--port", str(port),
                                  "--format", "json"], capture_output=True, text=True, timeout=120)  # fmt: skip
            cli.append(time.monotonic() - t)
            if out.returncode != 0:
                raise RuntimeError(out.stderr)
            with JanitooClient(port=port) as c:
                t = time.monotonic()
                net = c.discover(timeout=60)
                lib.append(time.monotonic() - t)
                found = len(net.nodes)
        return statistics.median(cli), statistics.median(lib), found, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10,100,500,1000")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        "| nodes | nodes found | `jnt query network --vuuid all` (s) | discover() (s) | s per 100 nodes "
        "| simulator RSS (MB) | original (s) |"
    )
    print("|---|---|---|---|---|---|---|")
    with MosquittoBroker() as broker:
        for n in sizes:
            cli, lib, found, rss = measure(broker.port, n, args.runs)
            print(
                f"| {n} | {found} | {cli:.2f} | {lib:.2f} | {lib / n * 100:.3f} | {rss:.1f} | 72 |",
                flush=True,
            )


if __name__ == "__main__":
    main()
