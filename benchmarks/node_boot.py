"""Node runtime boot: process start to every node's first ONLINE heartbeat, and RSS after idling.

Runs `jnt-node run` on the built-in fake bus (a controller and two components) against a private
mosquitto. The original needed about 22 s to come ONLINE (fixed 3.2 s boot timers).

    python benchmarks/node_boot.py [--runs 5] [--idle 10]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from janitoo_node.broker import MosquittoBroker  # noqa: E402
from janitoo_protocol import Heartbeat  # noqa: E402
from janitoo_protocol.transport import JanitooClient  # noqa: E402
from tests.helpers import NodeProcess, fake_conf  # noqa: E402

NODES = {"1118/0000", "1118/0001", "1118/0002"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def boot_once(broker: MosquittoBroker, conf: Path, idle: float) -> tuple[float, float, float]:
    with JanitooClient(port=broker.port) as client:
        beats = client.watch("heartbeats")
        started = time.monotonic()
        node = NodeProcess(conf).start()
        try:
            seen: set[str] = set()
            while seen != NODES:
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--idle", type=float, default=10.0)
    args = ap.parse_args()
    with MosquittoBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        conf = fake_conf(Path(tmp) / "fake.conf", broker.port)
        results = [boot_once(broker, conf, args.idle if i == 0 else 0.0) for i in range(args.runs)]
    boots = [r[0] for r in results]
    print("| figure | value |")
    print("|---|---|")
    print(f"| boot to all ONLINE, median of {args.runs} (s) | {statistics.median(boots):.3f} |")
    print(f"| boot to all ONLINE, max (s) | {max(boots):.3f} |")
    print(f"| RSS after {args.idle:g} s idle (MB) | {results[0][1]:.1f} |")
    print(f"| idle CPU over {args.idle:g} s (%) | {results[0][2]:.2f} |")
    print("| original: boot to ONLINE (s) | ~22 |")


if __name__ == "__main__":
    main()
