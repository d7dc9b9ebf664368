"""Node runtime boot: process start to every node's first ONLINE heartbeat, then RSS and CPU while idle.

Runs `jnt-node run` against a private mosquitto, on the built-in fake bus (a controller and two
components), or with `--appliance` on the HelloWorld V3 appliance (examples/helloworldv3.conf, simulated
hardware). The original needed about 22 s to come ONLINE (fixed 3.2 s boot timers), 13 MB of RSS and
about 6 % of a Pi B's CPU when idle. The RSS of the interpreter alone, measured in the same run, is the
floor under a node's (what the site-packages' .pth files import at start-up counts there).

    python benchmarks/node_boot.py [--runs 5] [--idle 10] [--appliance]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import cpu_seconds, rss_mb

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import Heartbeat
from janitoo_protocol.transport import JanitooClient
from tests.helpers import NodeProcess, fake_conf

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "helloworldv3.conf"


def appliance_conf(path: Path, port: int) -> Path:
    text = EXAMPLE.read_text().replace("broker_port = 1883", f"broker_port = {port}")
    path.write_text(text.replace("backend = auto", "backend = sim"))
    return path


def hadds(conf: Path) -> set[str]:
    return {
        line.split("=", 1)[1].strip() for line in conf.read_text().splitlines() if line.startswith("hadd")
    }


def boot_once(broker: MosquittoBroker, conf: Path, idle: float) -> tuple[float, float, float]:
    nodes = hadds(conf)
    with JanitooClient(port=broker.port) as client:
        beats = client.watch("heartbeats")
        started = time.monotonic()
        node = NodeProcess(conf).start()
        try:
            seen: set[str] = set()
            while seen != nodes:
                env = beats.get(30)
                if env is None:
                    raise RuntimeError(f"not ONLINE within 30 s:\n{node.output()}")
                m = env.message
                if isinstance(m, Heartbeat) and m.state == "ONLINE":
                    seen.add(str(m.hadd))
            boot = time.monotonic() - started
            cpu0 = cpu_seconds(node.pid)
            time.sleep(idle)  # measuring idle time is the point here
            cpu = (cpu_seconds(node.pid) - cpu0) / idle * 100 if idle else 0.0
            return boot, rss_mb(node.pid), cpu
        finally:
            node.stop(signal.SIGTERM)


def interpreter_rss() -> float:
    """The RSS of this Python doing nothing (its site-packages' start-up included): the floor under a node's."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        rss = 0.0
        while time.monotonic() < deadline:
            # Started once its RSS stops growing (no event to wait on: an idle interpreter says nothing).
            now = rss_mb(proc.pid)
            if now == rss and now > 0:
                break
            rss = now
            time.sleep(0.2)
        return rss
    finally:
        proc.communicate(b"")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument(
        "--appliance", action="store_true", help="the HelloWorld V3 appliance on simulated hardware"
    )
    args = ap.parse_args()
    with MosquittoBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        if args.appliance:
            conf = appliance_conf(Path(tmp) / "helloworldv3.conf", broker.port)
        else:
            conf = fake_conf(Path(tmp) / "fake.conf", broker.port)
        results = [boot_once(broker, conf, args.idle if i == 0 else 0.0) for i in range(args.runs)]
    boots = [r[0] for r in results]
    print(f"{'HelloWorld V3 appliance (sim)' if args.appliance else 'fake bus, 3 nodes'}:\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| boot to all ONLINE, median of {args.runs} (s) | {statistics.median(boots):.3f} |")
    print(f"| boot to all ONLINE, max (s) | {max(boots):.3f} |")
    print(f"| RSS after {args.idle:g} s idle (MB) | {results[0][1]:.1f} |")
    print(f"| idle CPU over {args.idle:g} s (%) | {results[0][2]:.2f} |")
    print(f"| RSS of the interpreter alone, as run here (MB) | {interpreter_rss():.1f} |")
    print("| original: boot to ONLINE (s) | ~22 |")
    what = "HelloWorld V3 node" if args.appliance else "node (fake bus)"
    print()
    print(f"summary: {what}, boot to ONLINE (median) | {statistics.median(boots):.2f} s | < 1 s | ~22 s")
    if args.appliance:
        print(f"summary: HelloWorld V3 node RSS after {args.idle:g} s idle | {results[0][1]:.1f} MB | <= 25 MB | "
              "13 MB on a Pi")  # fmt: skip


if __name__ == "__main__":
    main()
