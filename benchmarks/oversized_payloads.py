"""A node's memory under oversized requests: `--count` payloads of `--mb` MB sent to one `jnt-node run`.

The node drops a request over `max_payload` (64 kB) before decoding it; paho still receives the bytes,
so the figure to watch is the resident memory after the burst, against the same node before it. (The
original decoded every payload: 10 MB payloads left its RSS at 300-430 MB.) A broker-side
`message_size_limit` (docs/security.md) keeps such payloads off the network altogether.

    python benchmarks/oversized_payloads.py [--count 20] [--mb 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from _common import rss_mb
from paho.mqtt.enums import CallbackAPIVersion

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import Heartbeat
from janitoo_protocol.transport import JanitooClient
from tests.helpers import NodeProcess, fake_conf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--mb", type=float, default=10)
    args = ap.parse_args()
    body = {"cmd_class": 49, "genre": 2, "uuid": "counter", "hadd": "1118/0001", "reply_hadd": "9999/9990",
            "is_writeonly": False, "is_readonly": True, "pad": "A" * int(args.mb * 1e6)}  # fmt: skip
    big = json.dumps(body).encode()
    small = json.dumps({**body, "pad": "", "jnt_cid": "after"}).encode()
    with tempfile.TemporaryDirectory() as tmp, MosquittoBroker() as broker:
        conf = fake_conf(Path(tmp) / "fake.conf", broker.port, heartbeat=1)
        with JanitooClient(port=broker.port) as watcher, NodeProcess(conf) as node:
            beats = watcher.watch("heartbeats")
            replies = watcher.subscribe("/nodes/9999/9990/reply")
            while not isinstance((env := beats.get(15)) and env.message, Heartbeat):
                pass
            before = rss_mb(node.pid)
            raw = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="big-sender")
            raw.connect("127.0.0.1", broker.port)
            raw.loop_start()
            started = time.monotonic()
            for _ in range(args.count):
                raw.publish("/nodes/1118/0001/request", big, qos=1).wait_for_publish(30)
            # The answer to a small request sent after proves the node went through the whole burst.
            raw.publish("/nodes/1118/0001/request", small, qos=1).wait_for_publish(30)
            answered = replies.get(60) is not None
            elapsed = time.monotonic() - started
            after = rss_mb(node.pid)
            raw.loop_stop()
            raw.disconnect()
    print(
        f"payloads        {args.count} x {args.mb:g} MB in {elapsed:.1f} s; the next request answered: {answered}"
    )
    print(f"node RSS        {before:.1f} MB before, {after:.1f} MB after ({after / before:.2f}x)")
    print(
        f"summary: node RSS after {args.count} x {args.mb:g} MB requests | {after:.1f} MB | bounded | 300-430 MB"
    )


if __name__ == "__main__":
    main()
