"""Hostile requests through a node's request handling, in-process: count, crashes (must be 0), peak RSS.

    python benchmarks/fuzz_requests.py [--count 1000000] [--seed 1]

Each payload goes where a request from the broker goes in `jnt-node run`: the size ceiling, `decode`,
then the node manager of the original's fake node (sans threads, its config file on disk, its wire a
counter). Payloads are valid requests with one or more fields replaced by hostile data: text with
every line-breaking and control character, config-file syntax, huge and non-finite numbers, wrong
JSON shapes, deep nesting, garbage bytes and truncated JSON. A crash is any exception other than the
codec's ProtocolError escaping; after the run the config file must still load with the same sections
and keys, and every value must still hold data its own validation accepts.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from janitoo_node.config import JanitooConfig
from janitoo_node.guard import Limits
from janitoo_node.nodeman import NodeManager
from janitoo_node.scheduler import ManualScheduler
from janitoo_node.server import load_buses
from janitoo_node.validation import ValueRefused
from janitoo_protocol import DiscoveryRequest, ProtocolError, ValueRequest, decode

FAKE_CONF = Path(__file__).resolve().parent.parent / "tests" / "data" / "original" / "original-fake-node.conf"
TOPICS = [
    "/nodes/1118/0001/request",
    "/nodes/1118/0000/request",
    "/broadcast/request",
    "/nodes/1118/0002/request",
]
UUIDS = ["name", "location", "heartbeat", "config_timeout", "counter", "counter_poll", "hadd", "nope",
         "request_info_nodes", "request_info_configs", "request_info_users", "request_info_systems"]  # fmt: skip
BREAKERS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00\t\x1b\x7f"
KEYS = [
    "cmd_class",
    "genre",
    "uuid",
    "hadd",
    "data",
    "reply_hadd",
    "is_writeonly",
    "is_readonly",
    "index",
    "jnt_cid",
]


@dataclass
class Result:
    count: int = 0
    oversized: int = 0
    undecodable: int = 0
    handled: int = 0
    sent: int = 0
    crashes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0


def _text(rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        c = rng.choice(BREAKERS)
        return f"Led{c}location = a{c}[DEFAULT]x{c}kwargs = __import__('os').system('id') or {{}}"
    if kind == 1:
        return "x" * rng.choice([1024, 1025, 5000, 70_000])
    if kind == 2:
        return "".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(1, 40)))
    if kind == 3:
        return rng.choice(["[system]", "%(here)s", "${x}", "'; DROP", "../../../../etc/passwd", "\ud800", ""])
    if kind == 4:
        return rng.choice(["nan", "inf", "-inf", "1e999", "0x10", "0.5", "-1", "99999999999999999999999"])
    return "".join(rng.choice("abcdefghij0123456789 _-/") for _ in range(rng.randrange(0, 20)))


def _hostile(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(10)
    if kind < 3:
        return _text(rng)
    if kind == 3:
        return rng.choice([0, -1, 1, 2**31, 2**63, 2**70, -(2**64), 3000, 3001, 86401])
    if kind == 4:
        return rng.choice([0.0, -0.0, 0.5, 1e308, -1e308, float("nan"), float("inf")])
    if kind == 5:
        return rng.choice([True, False, None])
    if kind == 6 and depth < 3:
        return [_hostile(rng, depth + 1) for _ in range(rng.choice([0, 1, 3, 65]))]
    if kind == 7 and depth < 3:
        return {_text(rng)[:20]: _hostile(rng, depth + 1) for _ in range(rng.randrange(0, 4))}
    return rng.choice(["1118/0001", "9999/9990", "0000/0000", "1118/10000", "-1/0", "abc"])


class Payloads:
    """Hostile (topic, payload) pairs; the hostile field values come from a pool made once (speed)."""

    def __init__(self, rng: random.Random, pool_size: int = 5000) -> None:
        self.rng = rng
        self.texts = [_text(rng) for _ in range(pool_size)]
        self.values = [_hostile(rng) for _ in range(pool_size)]

    def __next__(self) -> tuple[str, bytes]:
        return payload(self.rng, self.texts, self.values)


def payload(rng: random.Random, texts: list[str], values: list[object]) -> tuple[str, bytes]:
    """One hostile (topic, payload): a request with fields from the pools of hostile texts and values."""
    topic = rng.choice(TOPICS)
    kind = rng.randrange(20)
    if kind == 0:
        return topic, bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
    if kind == 1:
        return topic, (rng.choice(["[", '{"a":']) * rng.randrange(100, 5000)).encode()
    uuid = rng.choice(UUIDS)
    body: dict[str, object] = {
        "cmd_class": rng.choice([112, 49, 0x5000, 4272]), "genre": rng.choice([1, 2, 3, 4, 5]), "uuid": uuid,
        "hadd": topic.split("/")[2] + "/" + topic.split("/")[3] if topic.startswith("/nodes") else "1118/0001",
        "reply_hadd": "9999/9990", "data": rng.choice(texts), "is_writeonly": rng.random() < 0.6,
        "is_readonly": rng.random() < 0.4,
    }  # fmt: skip
    for key in rng.sample(KEYS, rng.randrange(1, 4)):
        body[key] = rng.choice(values)
    if rng.random() < 0.1:
        body["pad"] = "A" * rng.choice([10, 70_000])
    text = json.dumps(body, allow_nan=True)
    if kind == 2:
        text = text[: rng.randrange(len(text))]
    return topic, text.encode("utf-8", "surrogatepass")


def run(count: int, seed: int = 1, workdir: Path | None = None) -> Result:
    """Drive `count` hostile payloads through one node; the crashes and the figures."""
    rng = random.Random(seed)
    # Log lines are bounded and tested elsewhere; formatting a million of them would measure stderr.
    logging.disable(logging.CRITICAL)
    tmp = Path(tempfile.mkdtemp(prefix="jnt-fuzz-", dir=workdir))
    conf = tmp / "fake.conf"
    conf.write_text(FAKE_CONF.read_text())
    result = Result()
    sent = [0]
    manager: NodeManager
    config = JanitooConfig(conf)
    (rt,) = load_buses(
        config, ManualScheduler(), lambda s: lambda m: sent.__setitem__(0, sent[0] + 1), threads=False
    )
    manager = rt.manager
    manager.start()
    limit = Limits().max_payload
    sections_before = {s: set(config.parser.options(s)) for s in config.parser.sections()}
    started = time.perf_counter()
    payloads = Payloads(rng)
    for _ in range(count):
        topic, data = next(payloads)
        result.count += 1
        if len(data) > limit:
            result.oversized += 1
            continue
        try:
            msg = decode(topic, data)
        except ProtocolError:
            result.undecodable += 1
            continue
        except Exception as exc:  # noqa: BLE001 - the point is to count these
            result.crashes.append(f"decode: {type(exc).__name__}: {str(exc)[:200]} on {data[:200]!r}")
            continue
        if isinstance(msg, DiscoveryRequest | ValueRequest):
            try:
                manager.handle(msg)
                result.handled += 1
            except Exception as exc:  # noqa: BLE001
                result.crashes.append(f"handle: {type(exc).__name__}: {str(exc)[:200]} on {data[:200]!r}")
    result.seconds = time.perf_counter() - started
    logging.disable(logging.NOTSET)
    result.sent = sent[0]
    manager.stop()
    _check_config(conf, sections_before, result)
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _check_config(conf: Path, sections_before: dict[str, set[str]], result: Result) -> None:
    """The file still loads, with no new section, and every persisted value passes its own validation."""
    try:
        config = JanitooConfig(conf)
        (rt,) = load_buses(config, ManualScheduler(), lambda s: lambda m: None, threads=False)
    except Exception as exc:  # noqa: BLE001
        result.crashes.append(f"config no longer loads: {exc}")
        return
    if set(config.parser.sections()) != set(sections_before):
        result.crashes.append(f"sections changed: {sorted(config.parser.sections())}")
    for node in rt.manager.nodes.values():
        for value in node.values.values():
            if value.is_readonly:
                continue
            for index in value.indexes:
                data = value.cached(index)
                try:
                    if data is not None:
                        value.convert(data)
                except ValueRefused as exc:
                    result.crashes.append(f"{node.hadd} {value.uuid} holds refused data: {exc}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    r = run(args.count, args.seed)
    print(f"payloads      {r.count:,}")
    print(f"  oversized   {r.oversized:,} (dropped before decoding, > {Limits().max_payload} bytes)")
    print(f"  undecodable {r.undecodable:,}")
    print(f"  handled     {r.handled:,} (messages sent in answer: {r.sent:,})")
    print(f"crashes       {len(r.crashes)}")
    for line in r.crashes[:10]:
        print(f"  {line}")
    print(f"rate          {r.count / r.seconds:,.0f} payloads/s ({r.seconds:.1f} s)")
    print(f"peak RSS      {r.peak_rss_mb:.1f} MB")
    print(f"summary: crashes in {r.count:,} hostile payloads | {len(r.crashes)} | 0 | not published")
    return 1 if r.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
