"""Heartbeats under a request flood: a `jnt-node run` node flooded with GETs at a paced rate.

A flooder process publishes requests to the node at `--rate` a second (10,000 by default) for
`--seconds`, while a watcher records the node's heartbeats (period 1 s). Printed: the heartbeat
intervals without and with the flood (measured in the same run, the ratio of their maxima), the
requests actually sent, the answers the node sent, and the node's CPU. The node's request ceiling
(`max_request_rate`, 50/s by default) keeps its answers and CPU bounded whatever the flood.

    python benchmarks/request_flood.py [--rate 10000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

from _common import cpu_seconds

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import Heartbeat
from janitoo_protocol.transport import JanitooClient, Subscription
from tests.helpers import NodeProcess, fake_conf

HADD = "1118/0001"


def flood(port: int, rate: float, seconds: float, sent: multiprocessing.Value) -> None:  # type: ignore[valid-type]
    """Publish GETs at `rate` a second for `seconds` (paced in batches of a millisecond's worth)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="flooder")
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    body = {"cmd_class": 49, "genre": 2, "uuid": "counter", "hadd": HADD, "reply_hadd": "9999/9990",
            "is_writeonly": False, "is_readonly": True}  # fmt: skip
    payload = json.dumps(body).encode()
    start = time.monotonic()
    n = 0
    while (now := time.monotonic()) - start < seconds:
        due = int((now - start) * rate)
        while n < due:
            c.publish(f"/nodes/{HADD}/request", payload)
            n += 1
        time.sleep(0.001)  # pacing the flood, not waiting for a result
    c.loop_stop()
    c.disconnect()
    sent.value = n  # type: ignore[attr-defined]


def intervals(beats: Subscription, until: float) -> list[float]:
    """Seconds between the node's consecutive heartbeats until the monotonic time `until`."""
    times: list[float] = []
    while (left := until - time.monotonic()) > 0:
        env = beats.get(left)
        if env is not None and isinstance(env.message, Heartbeat) and str(env.message.hadd) == HADD:
            times.append(env.received_at)
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=10_000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--no-ceiling", action="store_true",
                    help="Raise the request ceilings to 1e9 (what a node without them would do).")  # fmt: skip
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, MosquittoBroker() as broker:
        conf = fake_conf(Path(tmp) / "fake.conf", broker.port, heartbeat=1)
        if args.no_ceiling:
            unlimited = "".join(f"{k} = 1e9\n" for k in ("max_request_rate", "max_request_burst",
                                                          "max_pending_requests", "max_publish_rate", "max_publish_burst"))  # fmt: skip
            conf.write_text(conf.read_text().replace("slow_start = 0\n", f"slow_start = 0\n{unlimited}", 1))
        with JanitooClient(port=broker.port) as watcher, NodeProcess(conf) as node:
            beats = watcher.watch("heartbeats")
            answers = watcher.subscribe("/nodes/9999/9990/reply", maxsize=10**6)
            quiet = intervals(beats, time.monotonic() + args.seconds)
            sent = multiprocessing.Value("q", 0)
            proc = multiprocessing.Process(target=flood, args=(broker.port, args.rate, args.seconds, sent))
            cpu0 = cpu_seconds(node.pid)
            proc.start()
            flooded = intervals(beats, time.monotonic() + args.seconds)
            proc.join()
            cpu = (cpu_seconds(node.pid) - cpu0) / args.seconds * 100
            assert answers.queue is not None
            answered = answers.queue.qsize()
    print(
        f"flood             {sent.value:,} requests in {args.seconds:g} s ({sent.value / args.seconds:,.0f}/s asked {args.rate:,.0f}/s)"
    )
    print(
        f"heartbeats quiet  {len(quiet)} intervals, mean {statistics.mean(quiet):.3f} s, max {max(quiet):.3f} s"
    )
    print(
        f"heartbeats flood  {len(flooded)} intervals, mean {statistics.mean(flooded):.3f} s, max {max(flooded):.3f} s"
    )
    print(f"max ratio         {max(flooded) / max(quiet):.2f} (flooded / quiet; 1.00 = no delay)")
    ceiling = "none" if args.no_ceiling else "50/s after a burst of 100"
    print(f"answers           {answered:,} (ceiling: {ceiling})")
    print(f"node CPU          {cpu:.0f} % of one core during the flood")
    if not args.no_ceiling:
        print(f"summary: heartbeat delay under a {args.rate:,.0f} requests/s flood (max interval, flooded / quiet) | "
              f"{max(flooded) / max(quiet):.2f}x | 1.00x | not published")  # fmt: skip


if __name__ == "__main__":
    main()
