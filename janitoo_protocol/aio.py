"""AsyncJanitooClient: the Janitoo client for asyncio apps (web servers, Home Assistant integrations).

    async with AsyncJanitooClient("127.0.0.1", 1883) as client:
        network = await client.discover()
        value = network.value("0222/0001", "switch")
        await client.set(value, True)
        async with client.watch("heartbeats") as heartbeats:
            async for envelope in heartbeats:
                print(envelope.message)

How it works: the MQTT connection is a `JanitooClient` (paho's network thread, with its reconnection,
re-subscription, TLS and last will, all tested), and every message it routes to us is handed to the event
loop with `call_soon_threadsafe`. The protocol rules are the same sans-IO ones the threaded client uses
(`exchange`, `DiscoveryCollector`); only the waiting is asyncio's. Driving paho from the event loop
instead (its socket callbacks, as aiomqtt does) would mean a second implementation of all the connection
handling for no gain a home network can measure: one thread hop per message costs microseconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from .addressing import Hadd
from .codes import NETWORK_REQUESTS, Genre
from .discovery import DiscoveryCollector
from .errors import RequestTimeout, UsageError
from .events import CORRELATION_KEY, DiscoveryRequest, Message, ValueRequest
from .exchange import (
    Answer,
    address_of,
    check_source,
    correlated,
    discovery_filters,
    discovery_requests,
    from_retained,
    matches,
    no_answer,
    reply_filters,
    value_answer,
    value_request,
)
from .model import ValueInfo
from .network import NetworkMap
from .transport import DEFAULT_REPLY_HADD, Envelope, JanitooClient, Subscription, TlsOptions

__all__ = ["AsyncJanitooClient", "AsyncSubscription"]

log = logging.getLogger("janitoo.aio")


class AsyncSubscription:
    """Messages on a topic filter as an async iterator; open it with `async with`.

    `async for envelope in subscription` ends when the subscription or its client is closed. When the
    app does not keep up, messages beyond `maxsize` are dropped with a warning (never blocking the
    network thread).
    """

    def __init__(self, client: AsyncJanitooClient, topic_filter: str, maxsize: int = 100000) -> None:
        self.client = client
        self.filter = topic_filter
        self._queue: asyncio.Queue[Envelope | None] = asyncio.Queue(maxsize)
        self._sub: Subscription | None = None
        self._closed = False

    async def open(self) -> AsyncSubscription:
        """Subscribe; returns once the broker acknowledged it (so a request sent next is answered to us)."""
        if self._sub is None and not self._closed:
            deliver = self.client._deliverer(self._put)
            self._sub = await asyncio.to_thread(self.client.sync.subscribe, self.filter, deliver)
        return self

    def _put(self, env: Envelope | None) -> None:
        try:
            self._queue.put_nowait(env)
        except asyncio.QueueFull:
            log.warning(
                "subscription %s is not keeping up: message on %s dropped", self.filter, env and env.topic
            )

    async def get(self, timeout: float | None = None) -> Envelope | None:
        """The next message; None after `timeout` seconds, or once closed."""
        if self._closed and self._queue.empty():
            return None
        if self._sub is None and not self._closed:
            raise UsageError("open the subscription first: async with client.watch(...) as subscription")
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    def __aiter__(self) -> AsyncIterator[Envelope]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Envelope]:
        while True:
            env = await self.get()
            if env is None:
                return
            yield env

    async def close(self) -> None:
        """Unsubscribe; an `async for` over it ends."""
        if self._closed:
            return
        self._closed = True
        if self in self.client._subs:
            self.client._subs.remove(self)
        sub, self._sub = self._sub, None
        if sub is not None:
            sub.close()
        # Wakes a reader waiting in get(); the queue has room for it unless the app stopped reading.
        if not self._queue.full():
            self._queue.put_nowait(None)

    async def __aenter__(self) -> AsyncSubscription:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncJanitooClient:
    """A Janitoo peer on one MQTT connection, for asyncio: `async with AsyncJanitooClient(...) as client`.

    Same options and the same behaviour as `JanitooClient` (which it runs underneath, reachable as
    `sync`); every wait is awaited instead of blocking a thread. Use one client from one event loop.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        keepalive: int = 60,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        tls: TlsOptions | None = None,
        prefix: str = "",
        reply_hadd: Hadd | str = DEFAULT_REPLY_HADD,
        will: Message | tuple[str, bytes] | None = None,
        connect_timeout: float = 5.0,
        reconnect_min: float = 0.1,
        reconnect_max: float = 5.0,
        max_payload: int | None = None,
    ) -> None:
        self.sync = JanitooClient(
            host, port, keepalive=keepalive, client_id=client_id, username=username, password=password,
            tls=tls, prefix=prefix, reply_hadd=reply_hadd, will=will, connect_timeout=connect_timeout,
            reconnect_min=reconnect_min, reconnect_max=reconnect_max, max_payload=max_payload,
        )  # fmt: skip
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: list[AsyncSubscription] = []

    @property
    def connected(self) -> bool:
        """Connected to the broker right now."""
        return self.sync.connected

    @property
    def reply_hadd(self) -> Hadd:
        """The address answers to our requests are sent to."""
        return self.sync.reply_hadd

    async def connect(self) -> AsyncJanitooClient:
        """Connect and wait for the broker's answer; raises ConnectError with a one-line reason."""
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.sync.connect)
        return self

    async def close(self) -> None:
        """Close every subscription and disconnect cleanly (no will is sent)."""
        for sub in list(self._subs):
            await sub.close()
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> AsyncJanitooClient:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _deliverer(self, put: Callable[[Envelope], None]) -> Callable[[Envelope], None]:
        """A handler for paho's thread that runs `put` on our event loop."""
        loop = self._loop
        if loop is None:
            raise UsageError("connect first: async with AsyncJanitooClient(...) as client")

        def deliver(env: Envelope) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(put, env)

        return deliver

    # ------------------------------------------------------------------------------ subscriptions

    def subscribe(self, topic_filter: str, maxsize: int = 100000) -> AsyncSubscription:
        """Messages matching `topic_filter`: `async with client.subscribe(f) as sub: async for env in sub`."""
        sub = AsyncSubscription(self, topic_filter, maxsize)
        self._subs.append(sub)
        return sub

    def watch(self, kind: str = "all", maxsize: int = 100000) -> AsyncSubscription:
        """Decoded messages of one kind: `heartbeats`, `values`, `resolv` or `all`."""
        topics = self.sync.topics
        filters = {
            "all": topics.everything(),
            "heartbeats": topics.heartbeat_all(),
            "values": topics.values_all(),
            "resolv": topics.resolv_all(),
        }
        if kind not in filters:
            raise UsageError(f"unknown watch kind {kind!r}; expected one of {', '.join(filters)}")
        return self.subscribe(filters[kind], maxsize)

    # ------------------------------------------------------------------------------ publishing

    async def publish(self, message: Message) -> None:
        """Encode and publish one message (paho queues it; this never waits for the network)."""
        self.sync.publish(message)

    # ------------------------------------------------------------------------------ request / reply

    async def request(self, request: DiscoveryRequest | ValueRequest, timeout: float = 3.0) -> Answer:
        """Send a request to its node and return the first matching reply; RequestTimeout otherwise."""
        req = correlated(request, self.reply_hadd, self.sync.new_correlation())
        cid = str(req.extra[CORRELATION_KEY])
        answers: asyncio.Queue[Answer] = asyncio.Queue()

        def put(env: Envelope) -> None:
            m = env.message
            if matches(req, m, cid):
                answers.put_nowait(m)  # type: ignore[arg-type]

        subs = await self._listen(reply_filters(req, self.sync.topics, self.reply_hadd), put)
        try:
            self.sync.publish(req)
            try:
                return await asyncio.wait_for(answers.get(), timeout)
            except TimeoutError:
                what = req.kind if isinstance(req, DiscoveryRequest) else req.uuid
                raise RequestTimeout(
                    f"no answer from {req.target or 'the network'} to {what} within {timeout:g} s"
                ) from None
        finally:
            for s in subs:
                s.close()

    async def _listen(self, filters: list[str], put: Callable[[Envelope], None]) -> list[Subscription]:
        deliver = self._deliverer(put)

        def subscribe_all() -> list[Subscription]:
            return [self.sync.subscribe(f, deliver) for f in filters]

        return await asyncio.to_thread(subscribe_all)

    async def get(self, value: ValueInfo, timeout: float = 3.0) -> ValueInfo:
        """Read `value` (as found by `discover`) from its node; RequestTimeout or RequestRefused otherwise."""
        hadd, index = address_of(value)
        req = value_request(
            hadd, value.uuid, value.genre, value.cmd_class, index, None, False, self.reply_hadd
        )
        return await self._value_call(req, timeout)

    async def set(self, value: ValueInfo, data: Any, timeout: float = 3.0) -> ValueInfo:
        """Write `data` to `value` (as found by `discover`); returns the node's acknowledgement. A refusal
        raises RequestRefused, no acknowledgement within `timeout` RequestTimeout."""
        hadd, index = address_of(value)
        req = value_request(
            hadd, value.uuid, value.genre, value.cmd_class, index, data, True, self.reply_hadd
        )
        return await self._value_call(req, timeout)

    async def get_value(
        self,
        hadd: Hadd | str,
        uuid: str,
        genre: Genre | int | str,
        cmd_class: int | None = None,
        index: int | None = None,
        timeout: float = 3.0,
    ) -> ValueInfo:
        """Read one value by address (`cmd_class` may be left out for config and system values)."""
        req = value_request(hadd, uuid, genre, cmd_class, index, None, False, self.reply_hadd)
        return await self._value_call(req, timeout)

    async def set_value(
        self,
        hadd: Hadd | str,
        uuid: str,
        genre: Genre | int | str,
        data: Any,
        cmd_class: int | None = None,
        index: int | None = None,
        timeout: float = 3.0,
    ) -> ValueInfo:
        """Write one value by address; returns the node's acknowledgement."""
        req = value_request(hadd, uuid, genre, cmd_class, index, data, True, self.reply_hadd)
        return await self._value_call(req, timeout)

    async def _value_call(self, req: ValueRequest, timeout: float) -> ValueInfo:
        try:
            answer = await self.request(req, timeout)
        except RequestTimeout:
            raise no_answer(req, timeout) from None
        return value_answer(req, answer)

    # ------------------------------------------------------------------------------ discovery

    async def read_retained(self, timeout: float = 2.0) -> NetworkMap:
        """The network as the broker's retained state tells it, no request sent (see
        `JanitooClient.read_retained`; it waits on its own thread, not on the event loop)."""
        return await asyncio.to_thread(self.sync.read_retained, timeout)

    async def discover(
        self,
        kinds: Iterable[str] = NETWORK_REQUESTS,
        timeout: float = 5.0,
        quiet: float = 0.3,
        idle: float = 1.0,
        target: Hadd | str | None = None,
        expected: Iterable[int] = (),
        source: str = "requests",
    ) -> NetworkMap:
        """Ask the network (or one controller) for nodes and values; returns as soon as it has answered
        (the same completion rule as `JanitooClient.discover`, known controllers waited for, and the same
        `source` choices)."""
        tgt = None if target is None else Hadd.parse(target)
        if check_source(source) != "requests":
            kept = from_retained(await self.read_retained(min(timeout, 2.0)), source, tgt)
            if kept is not None:
                return kept
        cid = self.sync.new_correlation()
        collector = DiscoveryCollector(kinds, time.monotonic(), timeout, quiet, idle, cid, expected)
        inbox: asyncio.Queue[Message] = asyncio.Queue()

        def put(env: Envelope) -> None:
            m = env.message
            if m is not None:
                inbox.put_nowait(m)

        subs = await self._listen(discovery_filters(self.sync.topics, self.reply_hadd, tgt), put)
        try:
            for req in discovery_requests(collector, self.reply_hadd, tgt, cid):
                self.sync.publish(req)
            while not collector.done(now := time.monotonic()):
                try:
                    message = await asyncio.wait_for(inbox.get(), max(0.0, collector.next_wake() - now))
                except TimeoutError:
                    continue
                collector.take(message, time.monotonic())
        finally:
            for s in subs:
                s.close()
        collector.map.unanswered = collector.missing()
        return collector.map
