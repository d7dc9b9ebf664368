"""The bridge as a process: one JanitooClient, one loop feeding the sans-IO Bridge, one worker for requests."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .bridge import Action, Bridge, Discover, Options, Publish, Refresh, SetValue
from .mapping import Entity, Layout
from .wire import (
    NETWORK_REQUESTS,
    Envelope,
    Hadd,
    JanitooClient,
    JanitooError,
    NetworkMap,
    RequestRefused,
    RequestTimeout,
)

log = logging.getLogger("janitoo.ha")

# Events waiting for the loop; beyond this a flood is dropped (and said once in a while).
INBOX_SIZE = 10000
# Requests waiting for the worker (SETs first, then discoveries, then refresh GETs).
JOBS_SIZE = 4096


@dataclass(frozen=True)
class _SetDone:
    entity: Entity
    data: Any
    error: str | None


@dataclass(frozen=True)
class _Discovered:
    network: NetworkMap


_CONNECTED = object()
_STOP = object()


class BridgeRuntime:
    """Runs a Bridge against a broker until `stop()`; `run()` blocks, `start()` runs it in a thread."""

    def __init__(
        self,
        client: JanitooClient,
        layout: Layout,
        options: Options | None = None,
        discovery_timeout: float = 5.0,
        request_timeout: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.bridge = Bridge(layout, options)
        self.layout = layout
        self.discovery_timeout = discovery_timeout
        self.request_timeout = request_timeout
        self.clock = clock
        self._inbox: queue.Queue[object] = queue.Queue(INBOX_SIZE)
        self._jobs: queue.PriorityQueue[tuple[int, int, object]] = queue.PriorityQueue(JOBS_SIZE)
        self._seq = itertools.count()
        self._stopping = threading.Event()
        self._dropped = 0
        self.ready = threading.Event()  # set once the first discovery has been published
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------------------ life

    def start(self) -> BridgeRuntime:
        t = threading.Thread(target=self.run, name="jnt-ha-loop", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def request_stop(self) -> None:
        """Make `run()` return soon (safe from a signal handler: it never blocks)."""
        self._stopping.set()
        try:
            self._inbox.put_nowait(_STOP)
        except queue.Full:
            pass  # the loop checks the flag after every event anyway

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        for t in self._threads:
            t.join(timeout)

    def run(self) -> None:
        """Subscribe, discover the network, then serve until stopped. The client must be connected."""
        worker = threading.Thread(target=self._work, name="jnt-ha-worker", daemon=True)
        worker.start()
        topics = self.client.topics
        subs = [
            self.client.subscribe(topics.heartbeat_all(), self._on_network),
            self.client.subscribe(topics.values_all(), self._on_network),
            self.client.subscribe(f"{self.layout.discovery_prefix}/status", self._on_ha_status),
            self.client.subscribe(self.layout.command_filter(), self._on_command),
        ]
        try:
            self._execute(self.bridge.connected(self.clock()))
            try:
                network = self.client.discover(NETWORK_REQUESTS, timeout=self.discovery_timeout)
            except JanitooError as exc:
                log.warning("first discovery failed: %s; waiting for heartbeats", exc)
                network = NetworkMap()
            self._execute(self.bridge.discovered(network, self.clock()))
            log.info("bridging %d nodes to Home Assistant", len(self.bridge.nodes))
            self.ready.set()
            self._loop()
        finally:
            self._execute(self.bridge.shutdown())
            for s in subs:
                s.close()
            self._jobs.put((-1, -1, _STOP))
            worker.join(self.request_timeout + 2)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            wake = self.bridge.next_wake()
            now = self.clock()
            timeout = None if wake is None else max(0.0, wake - now)
            try:
                event = self._inbox.get(timeout=timeout)
            except queue.Empty:
                event = None
            now = self.clock()
            if event is _STOP:
                return
            try:
                self._execute(self._feed(event, now))
                self._execute(self.bridge.tick(self.clock()))
            except Exception:  # noqa: BLE001 - one bad event must not stop the bridge
                log.exception("bridge failed on an event; going on")

    def _feed(self, event: object, now: float) -> list[Action]:
        if event is None:
            return []
        if event is _CONNECTED:
            return self.bridge.connected(now)
        if isinstance(event, tuple):
            kind, payload = event
            if kind == "ha_status":
                return self.bridge.ha_status(payload[1], now)
            if kind == "command":
                return self.bridge.command(payload[0], payload[1], now)
            if kind == "network":
                return self.bridge.message(payload, now)
        if isinstance(event, _SetDone):
            return self.bridge.set_done(event.entity, event.data, event.error, now)
        if isinstance(event, _Discovered):
            return self.bridge.discovered(event.network, now)
        return []

    # ------------------------------------------------------------------------------ inputs (paho's thread)

    def connection_changed(self, up: bool) -> None:
        """Give this to JanitooClient(on_connection_change=...): a reconnection republishes everything."""
        if up:
            self._post(_CONNECTED, force=True)

    def _post(self, event: object, force: bool = False) -> None:
        try:
            self._inbox.put(event, block=force, timeout=1.0 if force else None)
        except queue.Full:
            self._dropped += 1
            if self._dropped in (1, 10, 100) or self._dropped % 1000 == 0:
                log.warning("bridge is not keeping up: %d messages dropped", self._dropped)

    def _on_network(self, env: Envelope) -> None:
        message = env.message  # undecodable payloads are logged by the client and come out as None
        if message is not None:
            self._post(("network", message))

    def _on_ha_status(self, env: Envelope) -> None:
        self._post(("ha_status", (env.topic, env.payload[:64])))

    def _on_command(self, env: Envelope) -> None:
        self._post(("command", (env.topic, env.payload)))

    # ------------------------------------------------------------------------------ actions

    def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Publish):
                self.client.publish_raw(action.topic, action.payload, qos=1, retain=action.retain)
            elif isinstance(action, SetValue):
                self._job(0, action)
            elif isinstance(action, Discover):
                self._job(1, action)
            elif isinstance(action, Refresh):
                self._job(2, action)

    def _job(self, priority: int, action: Action) -> None:
        try:
            self._jobs.put_nowait((priority, next(self._seq), action))
        except queue.Full:
            log.warning("too many requests waiting: %s dropped", type(action).__name__)

    # ------------------------------------------------------------------------------ the worker

    def _work(self) -> None:
        """Blocking requests, one at a time: a node's ceiling on pending requests is never hit by us."""
        while True:
            _, _, job = self._jobs.get()
            if job is _STOP:
                return
            try:
                if isinstance(job, SetValue):
                    self._post(self._set(job), force=True)
                elif isinstance(job, Discover):
                    self._discover(job.hadd)
                elif isinstance(job, Refresh):
                    self._refresh(job)
            except Exception:  # noqa: BLE001 - the worker outlives any one request
                log.exception("request failed")

    def _set(self, job: SetValue) -> _SetDone:
        t = job.entity.target
        assert t is not None
        try:
            self.client.set_value(t.hadd, t.uuid, t.genre, job.data, t.cmd_class, t.index or None,
                                  timeout=self.request_timeout)  # fmt: skip
        except RequestRefused as exc:
            # The node's own words: "node 0225/0000 refused SET of 'x': <reason>"; keep the reason.
            return _SetDone(job.entity, job.data, str(exc).split(": ", 1)[-1])
        except JanitooError as exc:
            return _SetDone(job.entity, job.data, str(exc))
        return _SetDone(job.entity, job.data, None)

    def _discover(self, hadd: Hadd) -> None:
        network = self.client.discover(NETWORK_REQUESTS, timeout=self.discovery_timeout, target=hadd)
        if network.nodes:
            self._post(_Discovered(network), force=True)

    def _refresh(self, job: Refresh) -> None:
        silent: set[Hadd] = set()
        for t in job.targets:
            if self._stopping.is_set():
                return
            if t.hadd in silent:
                continue
            try:
                self.client.get_value(t.hadd, t.uuid, t.genre, t.cmd_class, t.index or None,
                                      timeout=self.request_timeout)  # fmt: skip
            except RequestTimeout as exc:
                # A node that does not answer once is skipped for this round: SETs wait behind us.
                silent.add(t.hadd)
                log.debug("refresh of %s %s: %s", t.hadd, t.uuid, exc)
            except JanitooError as exc:
                log.debug("refresh of %s %s: %s", t.hadd, t.uuid, exc)
