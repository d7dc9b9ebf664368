"""The bridge between the threaded JanitooClient and the asyncio server: messages in, discoveries and SETs out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .hub import Hub
from .netview import NetView
from .wire import NETWORK_REQUESTS, Envelope, Hadd, JanitooClient, ValueInfo

log = logging.getLogger("janitoo.web")

MAX_INBOX = 20000  # messages waiting for the event loop; beyond, they are counted and dropped
DRAIN_BATCH = 500  # messages handled per turn of the loop, so pages stay served under a flood
REDISCOVER_AFTER = 5.0  # seconds before the same controller is asked again
MAX_SETS = 8  # SETs in flight at once


class Bridge:
    """Feeds the view from the wire (paho's thread hands envelopes over with call_soon_threadsafe)."""

    def __init__(self, client_factory: Callable[[], JanitooClient], view: NetView, hub: Hub,
                 discover_timeout: float = 5.0, set_timeout: float = 5.0) -> None:  # fmt: skip
        self.client_factory = client_factory
        self.view = view
        self.hub = hub
        self.discover_timeout = discover_timeout
        self.set_timeout = set_timeout
        self.client: JanitooClient | None = None
        self.connected = False
        self.dropped = 0
        self.discovered = asyncio.Event()  # the first full discovery is done
        self._inbox: deque[Envelope] = deque()
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick_wake = asyncio.Event()
        self._discover_wake = asyncio.Event()
        self._full_discovery = True
        # When the connection last came up: every live publication since then has been heard (netview.py's
        # add_discovery keeps their data). Set on paho's thread, before it delivers anything of that
        # connection.
        self._live_since = time.monotonic()
        self._asked: dict[Hadd, float] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._sets = asyncio.Semaphore(MAX_SETS)

    # ------------------------------------------------------------------------------ life

    async def start(self) -> None:
        """Connect (ConnectError with a one-line reason when the broker is not there) and start listening."""
        self._loop = asyncio.get_running_loop()
        client = self.client_factory()
        client.on_connection_change = self._connection_changed
        self._live_since = time.monotonic()
        await asyncio.to_thread(client.connect)
        self.client = client
        self.connected = True
        await asyncio.to_thread(client.subscribe, client.topics.everything(), self._on_envelope)
        self._tasks = [asyncio.create_task(self._ticker()), asyncio.create_task(self._discoverer())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping anyway
                pass
        if self.client is not None:
            await asyncio.to_thread(self.client.close)

    # ------------------------------------------------------------------------------ paho's thread

    def _on_envelope(self, env: Envelope) -> None:
        if len(self._inbox) >= MAX_INBOX:
            self.dropped += 1
            return
        self._inbox.append(env)
        if not self._scheduled and self._loop is not None:
            self._scheduled = True
            self._loop.call_soon_threadsafe(self._drain)

    def _connection_changed(self, up: bool) -> None:
        if up:
            self._live_since = time.monotonic()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._set_connected, up)

    # ------------------------------------------------------------------------------ the loop's side

    def _set_connected(self, up: bool) -> None:
        self.connected = up
        self.hub.publish([{"t": "broker", "up": up}])
        if up:
            # Whatever happened while we were away: ask the whole network again.
            self._full_discovery = True
            self._discover_wake.set()

    def _drain(self) -> None:
        # Cleared before draining: an envelope appended from now on schedules another drain.
        self._scheduled = False
        events: list[dict[str, Any]] = []
        wall = time.time()
        for _ in range(DRAIN_BATCH):
            try:
                env = self._inbox.popleft()
            except IndexError:
                break
            try:
                message = env.message
                error = env.error.reason if message is None and env.error is not None else None
                events.extend(self.view.feed(message, env.topic, env.received_at, wall, error))
            except Exception:  # noqa: BLE001 - one bad message must not stop the pages' updates
                log.exception("message on %.120s not taken into the view", env.topic)
        else:
            if self._inbox and not self._scheduled:
                self._scheduled = True
                asyncio.get_running_loop().call_soon(self._drain)
        self.hub.publish(events)
        self._tick_wake.set()
        if self.view.wanted:
            self._discover_wake.set()

    async def _ticker(self) -> None:
        """Ages silent nodes exactly when their next deadline passes (no periodic polling)."""
        while True:
            deadline = self.view.tracker.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                await asyncio.wait_for(self._tick_wake.wait(), timeout)
            except TimeoutError:
                pass
            self._tick_wake.clear()
            self.hub.publish(self.view.tick(time.monotonic()))

    async def _discoverer(self) -> None:
        """One discovery at a time: the whole network at start and after a reconnect, else the controllers
        the view wants (new, or back after a silence), each at most every REDISCOVER_AFTER seconds."""
        while True:
            if self._full_discovery:
                self._full_discovery = False
                await self._discover(None)
                self.view.wanted -= set(self.view.map.nodes)
                self.discovered.set()
                continue
            now = time.monotonic()
            due = [h for h in sorted(self.view.wanted) if now - self._asked.get(h, -1e9) >= REDISCOVER_AFTER]
            if due:
                target = due[0]
                self.view.wanted.discard(target)
                self._asked[target] = now
                if len(self._asked) > 2 * self.view.max_nodes:
                    self._asked.clear()
                await self._discover(target)
                continue
            later = [self._asked[h] + REDISCOVER_AFTER - now for h in self.view.wanted if h in self._asked]
            self._discover_wake.clear()
            try:
                await asyncio.wait_for(self._discover_wake.wait(), min(later) if later else None)
            except TimeoutError:
                pass

    async def _discover(self, target: Hadd | None) -> None:
        client = self.client
        if client is None:
            return
        timeout = self.discover_timeout if target is None else min(self.discover_timeout, 2.0)
        try:
            # The whole network from the retained state our nodes leave on the broker (no request sent, so
            # ten managers starting at once are no storm); the original's controllers are asked one by one
            # when their heartbeats make the view want them, as any new controller is.
            source = "auto" if target is None else "requests"
            network = await asyncio.to_thread(client.discover, NETWORK_REQUESTS, timeout, 0.3, 1.0, target,
                                              source=source)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a failed discovery is retried by the next heartbeat
            log.warning("discovery of %s failed: %s", target or "the network", exc)
            return
        self.hub.publish(self.view.add_discovery(network, time.monotonic(), time.time(), self._live_since))
        self._tick_wake.set()

    # ------------------------------------------------------------------------------ SET

    async def set_value(self, value: ValueInfo, data: Any) -> ValueInfo:
        """SET `value` to `data`; the node's acknowledgement, or RequestRefused / RequestTimeout."""
        client = self.client
        if client is None or value.hadd is None:
            raise RuntimeError("not connected to the broker")
        async with self._sets:
            return await asyncio.to_thread(client.set_value, value.hadd, value.uuid, value.genre, data,
                                           value.cmd_class, value.index, self.set_timeout)  # fmt: skip
