"""The checker's live view of the broker: every message it hears about one controller, and raw sends."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from janitoo_protocol import Hadd, Message, ProtocolError, decode
from janitoo_protocol.transport import Envelope, JanitooClient

# Messages kept per run: a flooding broker must not exhaust memory (the oldest are not needed once judged).
MAX_SEEN = 20000


@dataclass(frozen=True, slots=True)
class Seen:
    """One message heard: when, where, what it decoded to (or why not), and its JSON body if any."""

    at: float
    topic: str
    payload: bytes
    retain: bool
    message: Message | None
    error: str | None
    body: Any  # the parsed JSON (None when not JSON)

    def get(self, key: str) -> Any:
        return self.body.get(key) if isinstance(self.body, dict) else None


def parse_json(payload: bytes) -> Any:
    """The JSON of a payload, or None; never raises (deep nesting, bad UTF-8, NaN...)."""
    try:
        return json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None


class Session:
    """Listens to one controller's topics (heartbeats, replies to us, its values, resolv) and records."""

    def __init__(self, client: JanitooClient, hadd: Hadd, clock: Callable[[], float] = time.monotonic):
        self.client = client
        self.hadd = hadd
        self.controller = Hadd(hadd.controller, 0)
        self.topics = client.topics
        self.reply_hadd = client.reply_hadd
        self.clock = clock
        self.seen: list[Seen] = []
        self._by_topic: dict[str, list[Seen]] = {}  # heartbeats are looked up by topic again and again
        self.dropped = 0
        self._cond = threading.Condition()
        self._subs: list[Any] = []

    def start(self) -> None:
        t = self.topics
        ctrl_word = str(self.controller).split("/")[0]
        filters = [
            # This controller's heartbeats, and the JSON ones (dispatches, wills) of everybody.
            f"{t.prefix}/dhcp/heartbeat/{ctrl_word}/#",
            t.heartbeat_dispatch(),
            t.node_reply(self.reply_hadd),
            t.broadcast_reply(self.reply_hadd),
            f"{t.prefix}/values/+/{ctrl_word}/#",
            t.resolv_all(),
        ]
        for f in filters:
            self._subs.append(self.client.subscribe(f, self._on_message))

    def close(self) -> None:
        for s in self._subs:
            s.close()
        self._subs.clear()

    def _on_message(self, env: Envelope) -> None:
        try:
            message: Message | None = decode(env.topic, env.payload, self.topics)
            error = None
        except ProtocolError as exc:
            message, error = None, exc.reason
        seen = Seen(self.clock(), env.topic, env.payload, env.retain, message, error, parse_json(env.payload))
        with self._cond:
            if len(self.seen) >= MAX_SEEN:
                self.dropped += 1
                return
            self.seen.append(seen)
            self._by_topic.setdefault(env.topic, []).append(seen)
            self._cond.notify_all()

    def mark(self) -> int:
        """A position in the record: wait_for(..., since=mark) looks only at later messages."""
        with self._cond:
            return len(self.seen)

    def wait_for(self, pred: Callable[[Seen], bool], timeout: float, since: int = 0) -> Seen | None:
        """The first recorded message (from `since`) matching `pred`, waiting up to `timeout` seconds."""
        deadline = self.clock() + max(0.0, timeout)
        i = since
        with self._cond:
            while True:
                while i < len(self.seen):
                    s = self.seen[i]
                    i += 1
                    if _safe(pred, s):
                        return s
                left = deadline - self.clock()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.5))

    def wait_until(self, done: Callable[[], bool], deadline: float) -> bool:
        """Wait (woken by each message) until `done()` holds or the monotonic `deadline` passes."""
        with self._cond:
            while True:
                if done():
                    return True
                left = deadline - self.clock()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))

    def matching(self, pred: Callable[[Seen], bool], since: int = 0) -> list[Seen]:
        with self._cond:
            items = self.seen[since:]
        return [s for s in items if _safe(pred, s)]

    def on_topic(self, topic: str) -> list[Seen]:
        """Every message heard on exactly this topic, oldest first."""
        with self._cond:
            return list(self._by_topic.get(topic, ()))

    def send(self, topic: str, body: Any) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.client.publish_raw(topic, payload)


def _safe(pred: Callable[[Seen], bool], s: Seen) -> bool:
    try:
        return bool(pred(s))
    except Exception:  # noqa: BLE001 - a predicate meeting a hostile shape just does not match
        return False
