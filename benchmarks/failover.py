"""Failover takeover time, with real node processes and a private mosquitto.

Crash: from SIGKILL of the primary's process to the new primary's first resolv heartbeat on the wire
(the broker publishes the dead connection's will; the best-ranked secondary promotes after the will
grace). Hang: from SIGSTOP of the primary to the same (the secondaries' resolv watchdog). The killed or
stopped process is then restarted or resumed and rejoins as a secondary, so the roles rotate between
three controllers. The original needed 5 s to notice and 18 s to rebuild its map.

    python benchmarks/failover.py [--runs 10] [--hang-runs 3] [--heartbeat 0.5] [--timeout 2]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import Hadd, ResolvHeartbeat, ValuePublication
from janitoo_protocol.roles import RoleConfig
from janitoo_protocol.transport import Envelope, JanitooClient, Subscription
from tests.helpers import NodeProcess

CONTROLLERS = {Hadd(10, 0): 10, Hadd(20, 0): 5, Hadd(30, 0): 1}  # hadd -> priority
PRIMARY = Hadd(10, 0)


def conf(tmp: Path, port: int, hadd: Hadd, priority: int, heartbeat: float, timeout: float) -> Path:
    role = "is_primary" if hadd == PRIMARY else "is_secondary"
    path = tmp / f"c{hadd.controller}.conf"
    path.write_text(
        f"[system]\nservice = bench{hadd.controller}\nbroker_ip = 127.0.0.1\nbroker_port = {port}\n"
        f"slow_start = 0\n\n[network]\n{role} = true\npriority = {priority}\n"
        f"resolv_heartbeat = {heartbeat}\nresolv_timeout = {timeout}\n\n"
        f"[fake]\nhadd = {hadd}\nheartbeat = 1\ncomponents.c1 = fake.component\n\n"
        f"[fake__c1]\nhadd = {hadd.controller:04d}/0001\nheartbeat = 1\n"
    )
    return path


def wait(sub: Subscription, pred: Callable[[Envelope], bool], timeout: float, what: str) -> Envelope:
    deadline = time.monotonic() + timeout
    while True:
        env = sub.get(max(0.0, deadline - time.monotonic()))
        if env is None:
            raise RuntimeError(f"{what}: nothing within {timeout:g} s")
        if pred(env):
            return env


def new_primary(epoch: int) -> Callable[[Envelope], bool]:
    def pred(env: Envelope) -> bool:
        m = env.message
        return (
            isinstance(m, ResolvHeartbeat) and m.state == "ONLINE" and int(m.extra.get("epoch") or 0) > epoch
        )

    return pred


def following(hadd: Hadd, primary: Hadd) -> Callable[[Envelope], bool]:
    def pred(env: Envelope) -> bool:
        m = env.message
        return (
            isinstance(m, ValuePublication) and m.uuid == "network_controller" and m.hadd == hadd
            and m.value.extra.get("role") == "secondary" and m.value.extra.get("primary") == str(primary)
            and m.value.extra.get("synced") is True
        )  # fmt: skip

    return pred


def summary(name: str, xs: list[float]) -> str:
    return (f"{name}: median {statistics.median(xs) * 1000:7.1f} ms   max {max(xs) * 1000:7.1f} ms   "
            f"min {min(xs) * 1000:7.1f} ms   ({len(xs)} runs)")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10, help="crash takeovers to measure")
    ap.add_argument("--hang-runs", type=int, default=3, help="hang takeovers to measure")
    ap.add_argument("--heartbeat", type=float, default=0.5, help="[network] resolv_heartbeat (s)")
    ap.add_argument("--timeout", type=float, default=2.0, help="[network] resolv_timeout (s)")
    args = ap.parse_args()
    grace = RoleConfig(is_primary=True).will_grace

    with tempfile.TemporaryDirectory(prefix="jnt-bench-failover-") as d, MosquittoBroker() as broker:
        tmp = Path(d)
        confs = {
            h: conf(tmp, broker.port, h, p, args.heartbeat, args.timeout) for h, p in CONTROLLERS.items()
        }
        procs: dict[Hadd, NodeProcess] = {}
        with JanitooClient(port=broker.port, reply_hadd="9999/0077") as client, client.watch("all") as sub:
            try:
                procs[PRIMARY] = NodeProcess(confs[PRIMARY]).start()
                env = wait(sub, new_primary(0), 20, "the first primary")
                assert isinstance(env.message, ResolvHeartbeat)
                primary, epoch = env.message.hadd, int(env.message.extra["epoch"])
                for h in CONTROLLERS:
                    if h != PRIMARY:
                        procs[h] = NodeProcess(confs[h]).start()
                for h in CONTROLLERS:
                    if h != primary:
                        wait(sub, following(h, primary), 20, f"{h} following {primary}")

                def takeover(sig: signal.Signals) -> tuple[float, Hadd, int]:
                    nonlocal primary, epoch
                    old = primary
                    t0 = time.monotonic()
                    procs[old].send(sig)
                    env = wait(sub, new_primary(epoch), args.timeout + 10, "a new primary")
                    m = env.message
                    assert isinstance(m, ResolvHeartbeat)
                    primary, epoch = m.hadd, int(m.extra["epoch"])
                    return env.received_at - t0, old, epoch

                crash: list[float] = []
                for i in range(args.runs):
                    dt, old, ep = takeover(signal.SIGKILL)
                    crash.append(dt)
                    print(f"crash {i + 1:2d}: {old} killed -> {primary} primary (epoch {ep}) in {dt * 1000:6.1f} ms",
                          flush=True)  # fmt: skip
                    procs[old].stop(signal.SIGKILL)
                    procs[old] = NodeProcess(confs[old]).start()  # it comes back as a secondary
                    for h in CONTROLLERS:
                        if h != primary:
                            wait(sub, following(h, primary), 20, f"{h} following {primary}")
                hang: list[float] = []
                for i in range(args.hang_runs):
                    dt, old, ep = takeover(signal.SIGSTOP)
                    hang.append(dt)
                    print(f"hang  {i + 1:2d}: {old} stopped -> {primary} primary (epoch {ep}) in {dt * 1000:6.1f} ms",
                          flush=True)  # fmt: skip
                    procs[old].send(signal.SIGCONT)
                    for h in CONTROLLERS:
                        if h != primary:
                            wait(sub, following(h, primary), 20, f"{h} following {primary}")
            finally:
                for p in procs.values():
                    p.stop(signal.SIGKILL)

    print()
    print(f"resolv_heartbeat {args.heartbeat:g} s, resolv_timeout {args.timeout:g} s, will_grace {grace:g} s; "
          f"3 controllers, each a node process with 2 nodes")  # fmt: skip
    print(summary("crash (SIGKILL -> new primary's first resolv heartbeat)", crash), "   target < 1000 ms")
    if hang:
        print(summary("hang  (SIGSTOP -> new primary's first resolv heartbeat)", hang),
              f"   target < {(args.timeout + 1) * 1000:.0f} ms (timeout + 1 s)")  # fmt: skip
    print(f"summary: failover after a primary's crash, median of {len(crash)} | "
          f"{statistics.median(crash) * 1000:.0f} ms | < 1000 ms | no election: every secondary fails over alone")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
