"""A complete map from the first second: three controllers started together, the primary's first resolv answer.

Each run starts three node processes at the same instant on a private mosquitto (one configured primary,
two secondaries, each with two nodes; `resolv_timeout = 2`), asks `request_info_nodes` on
`/dhcp/resolv/request/` every 0.1 s from the launch until a primary answers, and checks that its first
answer lists every node, within 3 s of the launch. Before issue #15 the primary's broadcast went out
before the others had subscribed and their heartbeats were ignored while it listened: its map missed
whole controllers until their next heartbeat, 30 s later.

    python benchmarks/startup_map.py [--runs 20] [--timeout 2] [--within 3]
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

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import DiscoveryReply, DiscoveryRequest, Hadd
from janitoo_protocol.transport import JanitooClient
from tests.helpers import NodeProcess

CONTROLLERS = {Hadd(10, 0): 10, Hadd(20, 0): 5, Hadd(30, 0): 1}  # hadd -> priority
PRIMARY = Hadd(10, 0)
EVERY_NODE = {f"{h.controller:04d}/{i:04d}" for h in CONTROLLERS for i in range(3)}


def conf(tmp: Path, port: int, hadd: Hadd, priority: int, timeout: float) -> Path:
    role = "is_primary" if hadd == PRIMARY else "is_secondary"
    path = tmp / f"c{hadd.controller}.conf"
    path.write_text(
        f"[system]\nservice = startup{hadd.controller}\nbroker_ip = 127.0.0.1\nbroker_port = {port}\n"
        f"slow_start = 0\n\n[network]\n{role} = true\npriority = {priority}\n"
        f"resolv_heartbeat = {timeout / 4:g}\nresolv_timeout = {timeout:g}\n\n"
        f"[fake]\nhadd = {hadd}\nheartbeat = 30\ncomponents.c1 = fake.component\ncomponents.c2 = fake.component\n"
        f"\n[fake__c1]\nhadd = {hadd.controller:04d}/0001\nheartbeat = 30\n"
        f"\n[fake__c2]\nhadd = {hadd.controller:04d}/0002\nheartbeat = 30\n"
    )
    return path


def first_answer(client: JanitooClient, confs: list[Path], limit: float) -> tuple[float, float, set[str]]:
    """Launch the node processes together, poll the resolv server; (seconds after launch, seconds after the
    first node heartbeat on the wire, hadds) of the first complete answer (every chunk of one request).
    Raises RuntimeError after `limit` seconds."""
    me = client.reply_hadd
    procs: list[NodeProcess] = []
    with client.subscribe(client.topics.resolv_reply(me)) as sub, client.watch("heartbeats") as beats:
        launched = time.monotonic()
        try:
            procs = [NodeProcess(c).start() for c in confs]
            chunks: dict[str, dict[int, set[str]]] = {}
            next_ask = launched
            while True:
                now = time.monotonic()
                if now - launched > limit:
                    raise RuntimeError(f"no complete resolv answer within {limit:g} s")
                if now >= next_ask:
                    cid = client.new_correlation()
                    client.publish(
                        DiscoveryRequest("request_info_nodes", me, resolv=True, extra={"jnt_cid": cid})
                    )
                    next_ask = now + 0.1
                env = sub.get(max(0.0, min(next_ask, launched + limit) - time.monotonic()))
                m = None if env is None else env.message
                if not isinstance(m, DiscoveryReply) or m.correlation is None:
                    continue
                got = chunks.setdefault(m.correlation, {})
                got[int(m.extra.get("jnt_chunk", 0))] = {str(n.hadd) for n in m.nodes}
                if len(got) >= int(m.extra.get("jnt_chunks", 1)):
                    assert env is not None
                    assert beats.queue is not None
                    up = env.received_at if beats.queue.empty() else beats.queue.get_nowait().received_at
                    return env.received_at - launched, env.received_at - up, set().union(*got.values())
        finally:
            for p in procs:
                p.stop(signal.SIGKILL)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=2.0, help="[network] resolv_timeout (s)")
    ap.add_argument("--within", type=float, default=3.0, help="the first answer must come within (s)")
    args = ap.parse_args()
    times: list[float] = []
    ups: list[float] = []
    good = complete = 0
    with tempfile.TemporaryDirectory(prefix="jnt-bench-startup-") as d, MosquittoBroker() as broker:
        confs = [conf(Path(d), broker.port, h, p, args.timeout) for h, p in CONTROLLERS.items()]
        with JanitooClient(port=broker.port, reply_hadd="9999/0078") as client:
            for i in range(args.runs):
                try:
                    dt, since_up, hadds = first_answer(client, confs, args.within + 10)
                except RuntimeError as exc:
                    print(f"run {i + 1:2d}: {exc}", flush=True)
                    continue
                ok = hadds == EVERY_NODE and dt <= args.within
                good += ok
                complete += hadds == EVERY_NODE
                times.append(dt)
                ups.append(since_up)
                missing = sorted(EVERY_NODE - hadds)
                print(f"run {i + 1:2d}: first answer after {dt * 1000:6.0f} ms ({since_up * 1000:5.0f} ms after the "
                      f"first heartbeat), {len(hadds)} of {len(EVERY_NODE)} "
                      f"nodes{'' if not missing else ' (missing ' + ', '.join(missing) + ')'}"
                      f"{'' if ok else '   FAIL'}", flush=True)  # fmt: skip
    print()
    print(f"3 controllers started together, resolv_timeout {args.timeout:g} s: the primary's first resolv answer "
          f"listed every node within {args.within:g} s in {good} runs out of {args.runs}")  # fmt: skip
    print(f"the first answer listed every node in {complete} runs out of {args.runs}")
    if times:
        print(f"first answer after the launch: median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms; after the first node heartbeat on the wire (the processes' "
              f"Python start-up excluded): median {statistics.median(ups) * 1000:.0f} ms, "
              f"max {max(ups) * 1000:.0f} ms")  # fmt: skip
    return 0 if good == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
