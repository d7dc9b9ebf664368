"""The connected pages: each WebSocket client gets the events its page shows, batched, with a bounded backlog.

While a page is behind, its waiting events are coalesced: a newer state of a node or a newer value of a
value replaces the older one still waiting (a page shows the present, it does not replay the past), and
traffic lines beyond MAX_TRAFFIC_PENDING are only counted. A client that still does not keep up (its
backlog passes MAX_PENDING, or one send takes longer than SEND_TIMEOUT) is dropped, never buffered without
bound: its page reconnects and starts again from a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

log = logging.getLogger("janitoo.web")

MAX_PENDING = 2000  # events waiting for one client
MAX_TRAFFIC_PENDING = 200  # traffic lines waiting for one client; more are counted, not kept
SEND_TIMEOUT = 5.0
MAX_CLIENTS = 200

Event = dict[str, Any]
Send = Callable[[str], Awaitable[None]]

_NETWORK_EVENTS = frozenset({"node", "state", "seen", "roles"})
_NODE_EVENTS = frozenset({"node", "state", "seen"})


class PageClient:
    """One connected page: what it watches, and the events waiting to be sent to it."""

    def __init__(self, send: Send, page: str, hadd: str | None = None) -> None:
        self.send = send
        self.page = page
        self.hadd = hadd
        # Waiting events by coalescing key, in arrival order (a replaced event keeps its place).
        self.pending: dict[Any, Event] = {}
        self._seq = 0
        self.traffic_pending = 0
        self.skipped = 0  # traffic lines not sent because the page was behind
        self.ready = asyncio.Event()
        self.dropped = False

    def queue(self, event: Event) -> None:
        t = event["t"]
        if t == "value":
            key: Any = ("v", event["hadd"], event["key"])
        elif t in ("node", "state"):
            key = ("n", event["row"]["hadd"])
            old = self.pending.get(key)
            if old is not None and old.get("new"):
                event = {**event, "new": True}  # still news to this page
        elif t == "seen":
            key = ("s", event["hadd"])
        elif t in ("roles", "broker"):
            key = (t,)
        else:
            self._seq += 1
            key = ("#", self._seq)
        self.pending[key] = event

    def wants(self, event: Event) -> bool:
        t: str = event["t"]
        if t == "broker":
            return True
        if self.page == "network":
            return t in _NETWORK_EVENTS
        if self.page == "traffic":
            return t == "traffic"
        if self.page == "node":
            if t == "value":
                return bool(event["hadd"] == self.hadd)
            if t in _NODE_EVENTS:
                return bool((event["row"]["hadd"] if "row" in event else event["hadd"]) == self.hadd)
        return False


class Hub:
    """Fans the view's events out to the connected pages."""

    def __init__(self) -> None:
        self.clients: set[PageClient] = set()
        self.dropped = 0

    def add(self, send: Send, page: str, hadd: str | None = None) -> PageClient | None:
        if len(self.clients) >= MAX_CLIENTS:
            return None
        client = PageClient(send, page, hadd)
        self.clients.add(client)
        return client

    def remove(self, client: PageClient) -> None:
        self.clients.discard(client)

    def publish(self, events: Iterable[Event]) -> None:
        events = list(events)
        if not events or not self.clients:
            return
        for client in list(self.clients):
            for event in events:
                if not client.wants(event):
                    continue
                if event["t"] == "traffic":
                    if client.traffic_pending >= MAX_TRAFFIC_PENDING:
                        client.skipped += 1
                        continue
                    client.traffic_pending += 1
                client.queue(event)
            if len(client.pending) > MAX_PENDING:
                self._drop(client, "too far behind")
            elif client.pending:
                client.ready.set()

    def _drop(self, client: PageClient, why: str) -> None:
        log.info("dropping a %s page: %s", client.page, why)
        client.dropped = True
        client.pending = {}
        self.dropped += 1
        self.clients.discard(client)
        client.ready.set()  # wakes its sender, which sees `dropped` and ends

    async def run_sender(self, client: PageClient, first: list[Event]) -> None:
        """Send `first` (the page's snapshot), then every batch of events as they come, until dropped."""
        try:
            await asyncio.wait_for(client.send(json.dumps(first)), SEND_TIMEOUT)
            while not client.dropped:
                await client.ready.wait()
                client.ready.clear()
                if client.dropped:
                    break
                batch, client.pending = list(client.pending.values()), {}
                client.traffic_pending = 0
                if client.skipped:
                    batch.append({"t": "skipped", "n": client.skipped})
                    client.skipped = 0
                if batch:
                    # Whatever arrives while this send waits is sent with the next batch.
                    await asyncio.wait_for(client.send(json.dumps(batch)), SEND_TIMEOUT)
        except TimeoutError:
            self._drop(client, f"a send took longer than {SEND_TIMEOUT:g} s")
        except Exception as exc:  # noqa: BLE001 - a vanished page is a normal end
            log.debug("page sender ended: %s", exc)
        finally:
            self.clients.discard(client)
