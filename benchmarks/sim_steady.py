"""The simulator's CPU at steady state: 1,000 nodes beating and polling every 30 s, spread over their
periods, measured over a window after they settled; optionally beside another checkout, alternately.

The soak (soak.py) says whether the CPU stays flat over an hour; this says what the same traffic costs,
and lets two versions be compared on one machine in one run (each run is a fresh process and broker):

    python benchmarks/sim_steady.py [--window 90] [--runs 2] [--baseline /path/to/other/checkout]

A baseline checkout must have the nodes' spread (`NodeManager.spread`): without it, nodes started together
poll in step, far cheaper for hours, and the comparison would say nothing of a real site.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT


def measure(rate: float, window: float) -> dict[str, float]:
    """One run in this process: the simulator's CPU over `window` seconds and what it published."""
    from janitoo_node.broker import MosquittoBroker
    from janitoo_node.simulate import SimulatedNetwork

    with MosquittoBroker() as broker:
        net = SimulatedNetwork(100, 9, 1, port=broker.port, heartbeat=rate, poll=rate)
        counted = [0]
        publish = net.client.publish

        def counting(message: object, *args: object, **kwargs: object) -> object:
            counted[0] += 1
            return publish(message, *args, **kwargs)  # type: ignore[arg-type]

        net.client.publish = counting  # type: ignore[method-assign,assignment]
        net.start()
        try:
            time.sleep(min(rate, 15.0))  # past the first heartbeats and polls at start
            retained0 = sum(m.retained.published for m in net.managers.values() if m.retained)
            cpu0, n0 = time.process_time(), counted[0]
            time.sleep(window)  # the measurement is of a process left alone: waiting is the point
            cpu1, n1 = time.process_time(), counted[0]
            retained1 = sum(m.retained.published for m in net.managers.values() if m.retained)
        finally:
            net.stop()
    return {"cpu": 100 * (cpu1 - cpu0) / window, "publications": (n1 - n0) * 60 / window,
            "retained": (retained1 - retained0) * 60 / window, "load": os.getloadavg()[0]}  # fmt: skip


def run(checkout: Path, rate: float, window: float) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, __file__, "--one", str(rate), str(window)], env=env, check=True,
                         capture_output=True, text=True, cwd=checkout).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--window", type=float, default=90.0, help="seconds measured per run")
    ap.add_argument("--runs", type=int, default=2, help="runs of each checkout, alternately")
    ap.add_argument("--rate", type=float, default=30.0, help="heartbeat and poll period (s)")
    ap.add_argument("--baseline", type=Path, help="another checkout to compare with")
    ap.add_argument("--label", default="", help="what the baseline is, for the table (a commit, say)")
    ap.add_argument("--one", nargs=2, type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one)))
        return
    checkouts = {"this checkout": ROOT}
    labels = {"this checkout": "this checkout"}
    if args.baseline:
        checkouts["baseline"] = args.baseline.resolve()
        labels["baseline"] = f"baseline: {args.label or checkouts['baseline']}"
    results: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    for _ in range(args.runs):
        for name, path in checkouts.items():
            results[name].append(run(path, args.rate, args.window))
    print(f"1,000 simulated nodes (100 controllers), heartbeats and polls every {args.rate:g} s, spread; "
          f"{args.window:g} s measured per run, {args.runs} runs each\n")  # fmt: skip
    print("| checkout | simulator CPU (% of a core), each run | median | publications/min | "
          "retained publications/min | machine load |")  # fmt: skip
    print("|---|---|---:|---:|---:|---|")
    medians = {}
    for name, rs in results.items():
        medians[name] = statistics.median(r["cpu"] for r in rs)
        cpus = ", ".join(f"{r['cpu']:.2f}" for r in rs)
        loads = ", ".join(f"{r['load']:.2f}" for r in rs)
        print(f"| {labels[name]} | {cpus} | {medians[name]:.2f} | "
              f"{statistics.median(r['publications'] for r in rs):,.0f} | "
              f"{statistics.median(r['retained'] for r in rs):,.0f} | {loads} |")  # fmt: skip
    if "baseline" in medians:
        ratio = medians["this checkout"] / medians["baseline"]
        print(f"\nsummary: simulator CPU at steady state, 1,000 nodes (this / baseline) | {ratio:.2f} | "
              "lower is better | not published")  # fmt: skip
    print(f"summary: simulator CPU at steady state, 1,000 nodes | {medians['this checkout']:.1f} % of a core | "
          "flat over the soak | not published")  # fmt: skip


if __name__ == "__main__":
    main()
