"""Codec throughput: janitoo_protocol decode/encode against plain json.loads/json.dumps of the same payloads.

Run from the repository root: `python benchmarks/codec.py [--seconds 0.5] [--rounds 3]`. Prints a markdown table;
asserts nothing. The ratio column is ours / json (1.0 = as fast as bare json, 0.25 = four times slower).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

# Runnable without installing the package: the repository root goes first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from janitoo_protocol import DiscoveryReply, Genre, Hadd, Message, ValueInfo, ValuePublication, decode, encode
from janitoo_protocol.events import ReplyRoute

try:
    from janitoo_protocol.valuejson import MAX_KEPT
except ImportError:  # a checkout from before the kept texts (an A/B run against it)
    MAX_KEPT = 1024

# A single value publication captured from the original, as it sent it.
SINGLE_TOPIC = "/values/user/0222/0001/temperature"
SINGLE_PAYLOAD = (
    b'{"help": "The temperature of the CPU", "voice_uuid": null, "max": null, "reply_hadd": null, '
    b'"node_uuid": "hostsensor__picpu", "entry_name": "sensor_temperature", "genre": 2, "poll_delay": 300, '
    b'"data": 40.1, "is_polled": true, "is_writeonly": false, "list_items": null, "index": 0, '
    b'"uuid": "temperature", "is_readonly": true, "min": null, "default": null, "type": 3, "cmd_class": 49, '
    b'"hadd": "0222/0001", "label": "CPUTemp", "units": "\\u00b0C"}'
)

NODES = 100
# (uuid, type, cmd_class, units) of the user values every node has.
USER_VALUES = (("temperature", 3, 49, "°C"), ("switch", 1, 37, None))


def users_reply() -> DiscoveryReply:
    """A `request_info_users` broadcast reply from a controller of 100 nodes, built with the codec's types."""
    values = []
    for node in range(1, NODES + 1):
        hadd = Hadd(225, node)
        for uuid, vtype, cmd_class, units in USER_VALUES:
            data = 20.0 + node / 10 if uuid == "temperature" else node % 2 == 0
            values.append(
                ValueInfo(
                    uuid=uuid,
                    hadd=hadd,
                    node_uuid=f"tutorial3__node{node}",
                    genre=int(Genre.USER),
                    type=vtype,
                    cmd_class=cmd_class,
                    index=0,
                    data=data,
                    label=uuid.capitalize(),
                    help=f"The {uuid} of node {node}",
                    units=units,
                    is_readonly=uuid != "switch",
                    is_polled=True,
                    poll_delay=30,
                    entry_name=f"sensor_{uuid}",
                )
            )
    return DiscoveryReply(
        kind="request_info_users",
        reply_hadd=Hadd(9999, 9990),
        route=ReplyRoute.BROADCAST,
        values=tuple(values),
        topic_hadd=Hadd(9999, 9990),
    )


def throughput(fn: Callable[[], Any], seconds: float) -> float:
    """Calls per second of `fn`, run in growing batches for about `seconds`."""
    fn()  # warm up
    batch = 1
    calls = 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed
        batch = min(batch * 2, 10_000)


def relabelled(message: Message, i: int) -> Message:
    """The message with every value's label changed: nothing the encoder kept from earlier applies."""
    if isinstance(message, DiscoveryReply):
        return replace(message, values=tuple(replace(v, label=f"{v.label}{i}") for v in message.values))
    assert isinstance(message, ValuePublication)
    return replace(message, values=tuple(replace(v, label=f"{v.label}{i}") for v in message.values))


def cycling(fn: Callable[[Any], Any], items: list[Any]) -> Callable[[], Any]:
    it = itertools.cycle(items)
    return lambda: fn(next(it))


def best_of(
    rounds: int, seconds: float, ours: Callable[[], Any], plain: Callable[[], Any]
) -> tuple[float, float]:
    """The best rate of each, measured in turns: a busy neighbour slows both alike."""
    a = b = 0.0
    for _ in range(rounds):
        a = max(a, throughput(ours, seconds))
        b = max(b, throughput(plain, seconds))
    return a, b


def measure(
    name: str, topic: str, payload: bytes, seconds: float, rounds: int
) -> list[tuple[str, str, float, float]]:
    message = decode(topic, payload)
    obj = json.loads(payload)
    # The encoder writes the fields that do not change between publications once and keeps the text:
    # the same messages with a new label each time show the first publication's cost.
    count = max(MAX_KEPT * 2 // max(1, len(getattr(message, "values", ()))), 2)
    fresh = [relabelled(message, i) for i in range(count)]
    fresh_objs = [json.loads(encode(m)[1]) for m in fresh]
    return [
        (
            name,
            "decode",
            *best_of(rounds, seconds, lambda: decode(topic, payload), lambda: json.loads(payload)),
        ),
        (
            name,
            "encode",
            *best_of(rounds, seconds, lambda: encode(message), lambda: json.dumps(obj).encode("utf-8")),
        ),
        (
            name,
            "encode, nothing kept (a first publication)",
            *best_of(
                rounds,
                seconds,
                cycling(encode, fresh),
                cycling(lambda o: json.dumps(o).encode("utf-8"), fresh_objs),
            ),
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=0.5, help="time spent on each measurement (default 0.5)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="measurements of each, in turns; the best is shown (default 3)"
    )
    args = parser.parse_args(argv)

    reply_topic, reply_payload = encode(users_reply())
    rows = measure("single value publication", SINGLE_TOPIC, SINGLE_PAYLOAD, args.seconds, args.rounds)
    rows += measure(
        f"request_info_users reply, {NODES} nodes", reply_topic, reply_payload, args.seconds, args.rounds
    )

    print(
        f"Python {platform.python_version()} on {platform.machine()}, {args.seconds:g} s per measurement, "
        f"best of {args.rounds} in turns\n"
    )
    print(f"- single value publication: `{SINGLE_TOPIC}`, {len(SINGLE_PAYLOAD)} bytes")
    print(
        f"- discovery reply: `{reply_topic}`, {NODES} nodes × {len(USER_VALUES)} user values, "
        f"{len(reply_payload)} bytes\n"
    )
    print("| payload | operation | ours (msg/s) | json (msg/s) | ours / json |")
    print("|---|---|---:|---:|---:|")
    for name, op, ours, plain in rows:
        print(f"| {name} | {op} | {ours:,.0f} | {plain:,.0f} | {ours / plain:.2f} |")
    print()
    for name, op, ours, plain in rows:
        if "nothing kept" not in op:
            # The original called json itself: 1.0 by definition.
            print(
                f"summary: codec {op}, {name} (ours / plain json) | {ours / plain:.2f} | >= 1.0 | 1.0 (plain json)"
            )


if __name__ == "__main__":
    main()
