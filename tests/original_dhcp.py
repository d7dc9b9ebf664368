"""A stand-in for the original's primary (`janitoo_dhcp`), written from the spec only (original-wire-protocol.md
§3, §4.5, §6.1, §6.4), sans-IO: it drives nothing itself, the simulation or a thread around a real client does.

What it does, as the spec says the original does:
* a resolv heartbeat `{"add_ctrl": "0001", "add_node": "0000", "state": "ONLINE"}` (string addresses, no
  epoch, no extension key) every `period` seconds (its `resolv_timeout`: 15 s in its shipped config);
* it never steps down and does not listen to other primaries;
* it builds its map by broadcast and answers resolv requests for nodes and systems only, with no chunk
  markers, on `/dhcp/resolv/reply/<reply_hadd>` (the request echoed plus `data`); the other four kinds
  crash its handler: no answer at all.
"""

from __future__ import annotations

import threading

from janitoo_protocol import DiscoveryReply, DiscoveryRequest, Hadd, Message, ResolvHeartbeat
from janitoo_protocol.codes import NETWORK_REQUESTS
from janitoo_protocol.events import ReplyRoute
from janitoo_protocol.network import CHUNK_KEY, CHUNKS_KEY, NetworkMap
from janitoo_protocol.transport import Envelope, JanitooClient

ANSWERED = ("request_info_nodes", "request_info_systems")


class OriginalDhcpPrimary:
    """The original's primary as a sans-IO peer: `start`, `beat(now)` at `next_beat`, `handle(message)`."""

    def __init__(self, controller: int = 1, period: float = 15.0, start: float = 0.0) -> None:
        self.controller = controller
        self.hadd = Hadd(controller, 0)
        self.period = period
        self.next_beat = start
        self.alive = True
        self.frozen = False
        self.map = NetworkMap()

    def start(self) -> list[Message]:
        """Its map build: the six broadcast requests (it staggers them; the timing does not matter here)."""
        return [DiscoveryRequest(k, self.hadd) for k in NETWORK_REQUESTS]

    def beat(self, now: float) -> list[Message]:
        self.next_beat = now + self.period
        return [ResolvHeartbeat(self.controller, 0, "ONLINE")]

    def handle(self, m: Message) -> list[Message]:
        if isinstance(m, DiscoveryReply) and m.route is ReplyRoute.BROADCAST and m.topic_hadd == self.hadd:
            self.map.merge_reply(m)
            return []
        if not (isinstance(m, DiscoveryRequest) and m.resolv) or m.kind not in ANSWERED:
            return []  # not a resolv request, or one of the four kinds its handler crashes on
        out: list[Message] = []
        for r in self.map.resolv_replies(m.kind, m.reply_hadd, m.extra, 10_000, when_empty=False):
            extra = {k: v for k, v in r.extra.items() if k not in (CHUNK_KEY, CHUNKS_KEY)}
            out.append(DiscoveryReply(r.kind, r.reply_hadd, r.route, r.nodes, r.values, r.topic_hadd, extra))
        return out


class OriginalDhcpRunner:
    """The stand-in on a real broker: its own client, its heartbeat timer on a thread (an Event wait with
    the period as timeout: a timer, not a sleep), messages handled on the client's thread under a lock."""

    def __init__(self, port: int, period: float, controller: int = 1) -> None:
        self.core = OriginalDhcpPrimary(controller, period)
        self.client = JanitooClient(port=port, reply_hadd=self.core.hadd, reconnect_max=0.5)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="original-dhcp", daemon=True)

    def start(self) -> OriginalDhcpRunner:
        def on_message(env: Envelope) -> None:
            if env.message is None:
                return
            with self._lock:
                out = self.core.handle(env.message)
            for m in out:
                self.client.publish(m)

        self.client.connect()
        t = self.client.topics
        for topic in (
            t.resolv_request() + "#",
            t.broadcast_reply(self.core.hadd),
            t.node_reply(self.core.hadd),
        ):
            self.client.subscribe(topic, on_message)
        for m in self.core.start():
            self.client.publish(m)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.is_set():
            for m in self.core.beat(0.0):
                self.client.publish(m)
            self._stop.wait(self.core.period)

    def stop(self) -> None:
        """Falls silent (the original has no will on its resolv heartbeat)."""
        self._stop.set()
        self._thread.join(5)
        self.client.close()
