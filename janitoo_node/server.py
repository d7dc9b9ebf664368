"""One node process: a config file's buses on the network, each with its own MQTT connection and will."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from janitoo_protocol import (
    ConnectError,
    DiscoveryRequest,
    Heartbeat,
    HeartbeatDispatch,
    RoleConfig,
    ValueRequest,
)
from janitoo_protocol.retained import OFFLINE, ONLINE, RetainedTopics, status_payload
from janitoo_protocol.transport import Envelope, JanitooClient, TlsOptions

from .brokerconf import broker_keys, clear_password_warning
from .bus import ComponentFactory, InlineWorker, Worker
from .config import ConfigError, JanitooConfig
from .configcheck import BACKENDS, config_warnings
from .guard import Gate, Limits, limits_from_config
from .netctl import NetworkControllerHost, network_settings
from .plugins import bus_factories, component_factories
from .retainedstate import RetainedState
from .runtime import BusRuntime, build_bus
from .scheduler import BaseScheduler, Scheduler

log = logging.getLogger("janitoo.server")


@dataclass
class BrokerSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    keepalive: int = 60
    prefix: str = ""
    tls: TlsOptions | None = None

    @classmethod
    def from_config(cls, cfg: JanitooConfig) -> BrokerSettings:
        """The `[system]` broker keys; raises ConfigError (one line) for an unreadable password or TLS file."""
        keys = broker_keys(cfg)
        return cls(
            host=keys.host,
            port=keys.port,
            username=keys.username,
            password=keys.password,
            keepalive=keys.keepalive,
            prefix=keys.prefix,
            tls=keys.tls,
        )

    def warn_if_clear(self) -> None:
        """One WARNING line when the password would cross the network unencrypted."""
        warning = clear_password_warning(self.host, self.port, self.password, self.tls)
        if warning is not None:
            log.warning("%s", warning)

    def client(self, **kwargs: Any) -> JanitooClient:
        """A client for this broker (not connected yet); `kwargs` are JanitooClient's other arguments."""
        return JanitooClient(
            self.host, self.port, keepalive=self.keepalive, username=self.username, password=self.password,
            tls=self.tls, prefix=self.prefix, **kwargs,
        )  # fmt: skip


@dataclass(frozen=True)
class Preflight:
    """What `run` and `check-config` read from a config besides its buses, read once."""

    broker: BrokerSettings
    limits: Limits
    role: RoleConfig | None
    warnings: list[str]


def preflight(cfg: JanitooConfig) -> Preflight:
    """The checks `run` and `check-config` share besides building the buses.

    Raises ConfigError on the first setting that `run` would refuse.
    """
    return Preflight(BrokerSettings.from_config(cfg), limits_from_config(cfg), network_settings(cfg),
                     config_warnings(cfg))  # fmt: skip


def load_buses(
    cfg: JanitooConfig,
    scheduler: BaseScheduler,
    publish_for: Callable[[str], Callable[[Any], None]],
    *,
    root: Path = Path("/"),
    backend: str | None = None,
    threads: bool = True,
    buses: Mapping[str, Any] | None = None,
    components: Mapping[str, ComponentFactory] | None = None,
) -> list[BusRuntime]:
    """Build every auto-started bus of the config; raises ConfigError on the first problem."""
    bus_classes = bus_factories() if buses is None else buses
    comp_factories = component_factories() if components is None else components
    runtimes: list[BusRuntime] = []
    seen: dict[int, str] = {}
    for section in cfg.buses():
        if not cfg.get_bool(section, "auto_start", True):
            log.info("bus %s: auto_start is off, not started", section)
            continue
        if cfg.get(section, "hadd") is None:
            if cfg.components(section):
                raise ConfigError(cfg.path, "missing (every bus needs its hadd)", section, "hadd")
            log.warning("%s [%s]: not a bus (no hadd); ignored", cfg.path, section)
            continue
        factory = bus_classes.get(section)
        if factory is None:
            raise ConfigError(cfg.path, f"unknown bus {section!r}: no janitoo.threads entry point of that name",
                              section)  # fmt: skip
        hadd = cfg.get_hadd(section)
        if not hadd.is_controller:
            raise ConfigError(cfg.path, f"a bus is a controller: its hadd must end in /0000, got {hadd}",
                              section, "hadd")  # fmt: skip
        if hadd.controller in seen:
            raise ConfigError(cfg.path, f"controller {hadd.controller:04d} is already used by [{seen[hadd.controller]}]",
                              section, "hadd")  # fmt: skip
        seen[hadd.controller] = section
        # The file's value is checked even when overridden (check-config builds on simulated hardware).
        configured = (cfg.get(section, "backend", "auto") or "auto").strip()
        if configured not in BACKENDS:
            raise ConfigError(cfg.path, f"must be one of {', '.join(BACKENDS)}, got {configured!r}", section,
                              "backend")  # fmt: skip
        chosen = backend or configured
        worker: Worker | InlineWorker = Worker(section) if threads else InlineWorker()
        try:
            runtimes.append(
                build_bus(
                    cfg,
                    section,
                    factory,
                    comp_factories,
                    scheduler,
                    worker,
                    publish_for(section),
                    root=root,
                    backend=chosen,
                )  # fmt: skip
            )
        except BaseException:
            worker.stop()
            raise
    if not runtimes:
        raise ConfigError(cfg.path, "no bus to start (a bus is a section with a hadd and auto_start = True)")
    return runtimes


class Server:
    """Runs one config file: `start()`, then `stop()` (or `run()` until SIGTERM/SIGINT)."""

    def __init__(
        self,
        config_path: Path | str,
        *,
        broker: BrokerSettings | None = None,
        root: Path = Path("/"),
        backend: str | None = None,
        connect_retry: float = 2.0,
    ) -> None:
        self.config = JanitooConfig(config_path)
        checked = preflight(self.config)
        for warning in checked.warnings:
            log.warning("%s", warning)
        self.broker = broker or checked.broker
        self.limits = checked.limits
        self.scheduler = Scheduler()
        self.connect_retry = connect_retry
        self.stopping = threading.Event()
        self.started_at: float | None = None
        self.online_at: float | None = None
        self._clients: dict[str, JanitooClient] = {}
        self._gates: dict[str, Gate] = {}
        # The late-join extension: one more connection per process, whose retained will says OFFLINE.
        self.retained_enabled = self.config.get_bool("system", "retained_state", True)
        self._state_client: JanitooClient | None = None
        # [network] is_primary / is_secondary: this process also hosts a network controller.
        netctl_settings = checked.role
        self.runtimes = load_buses(self.config, self.scheduler, self._publisher, root=root, backend=backend)
        self.netctl: NetworkControllerHost | None = None
        if netctl_settings is not None:
            first = self.runtimes[0].manager.controller
            self.netctl = NetworkControllerHost(
                netctl_settings, first, self.broker, self.scheduler, connect_retry
            )

    def _publisher(self, section: str) -> Callable[[Any], None]:
        lim = self.limits
        gate = Gate(f"[{section}] publications", lim.publish_rate, lim.publish_burst, time.monotonic)
        self._gates[section] = gate

        def publish(message: Any) -> None:
            client = self._clients.get(section)
            # Heartbeats are bounded by their period (at least 1 s a node); everything else a node
            # sends is bounded here, whatever its config or the network tells it.
            if client is not None and (isinstance(message, Heartbeat) or gate.admit()):
                client.publish(message)

        return publish

    def _retained_publisher(self, section: str) -> Callable[[str, bytes, bool], bool]:
        gate = self._gates[section]

        def publish(topic: str, payload: bytes, force: bool) -> bool:
            # A node's retained copy counts against its bus's publication ceiling like any publication;
            # clears (force) are bounded by the node count and must never be dropped.
            client = self._state_client
            if client is None or not (force or gate.admit()):
                return False
            client.publish_raw(topic, payload, retain=True)
            return True

        return publish

    # -- life cycle

    def _start_retained(self) -> None:
        """Connect the retained-state connection, say ONLINE, and clear what a config no longer holds."""
        controllers = [rt.manager.controller.hadd.controller for rt in self.runtimes]
        rtopics = RetainedTopics(self.broker.prefix)
        status = controllers[0]
        announced = threading.Event()

        def reconnected(up: bool) -> None:
            # A restarted broker without persistence lost every retained message: publish them again.
            if up and announced.is_set():
                client.publish_raw(rtopics.status(status), status_payload(ONLINE, controllers), retain=True)
                for rt in self.runtimes:
                    rt.worker.submit(rt.manager.republish_retained)

        client = self.broker.client(
            reply_hadd=self.runtimes[0].manager.controller.hadd,
            will=(rtopics.status(status), status_payload(OFFLINE, controllers)),
            will_retain=True,
            on_connection_change=reconnected,
            max_payload=self.limits.max_payload,
        )  # fmt: skip
        if not self._connect(client):
            return
        self._state_client = client
        # Controllers a config no longer holds would stay on the broker: the status topics of our
        # controllers list those of their last run (a crashed one's will); clear what is gone.
        last = client.retained_snapshot(timeout=2.0, status_of=controllers)
        for old in last.statuses.values():
            for ctrl in sorted(old.controllers - set(controllers)):
                log.info("retained state of controller %04d cleared: no longer in %s", ctrl, self.config.path)
                client.publish_raw(rtopics.controller(ctrl), b"", retain=True)
            if old.controller != status:
                client.publish_raw(rtopics.status(old.controller), b"", retain=True)
        client.publish_raw(rtopics.status(status), status_payload(ONLINE, controllers), retain=True)
        for rt in self.runtimes:
            rt.manager.retained = RetainedState(
                self._retained_publisher(rt.bus.oid), self.broker.prefix, status
            )
        announced.set()

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.scheduler.start()
        if self.retained_enabled:
            self._start_retained()
        slow_start = self.config.get_float("system", "slow_start", 0.0)
        for i, rt in enumerate(self.runtimes):
            if i and slow_start > 0:
                # slow_start spaces the buses on slow machines, as the original's thread starts were.
                if self.stopping.wait(slow_start):
                    return
            self._start_bus(rt)
        if self.stopping.is_set():
            return
        if self.netctl is not None:
            # After the buses, so the network controller's first broadcast finds our own nodes too.
            self.netctl.start(self.stopping)
        self.online_at = time.monotonic()
        log.info("all buses online in %.3f s", self.online_at - self.started_at)
        sd_notify("READY=1")

    def _start_bus(self, rt: BusRuntime) -> None:
        manager = rt.manager
        ctrl = manager.controller.hadd
        b = self.broker

        def reconnected(up: bool) -> None:
            if up:  # re-announce every node at once after a broker restart
                rt.worker.submit(manager.announce)

        client = b.client(
            reply_hadd=ctrl,
            # A crash is seen at once: the broker publishes "the whole controller is OFFLINE" for us.
            will=HeartbeatDispatch(ctrl.controller, -1, "OFFLINE"),
            on_connection_change=reconnected,
            max_payload=self.limits.max_payload,
        )  # fmt: skip
        self._clients[rt.bus.oid] = client
        rt.client = client
        if not self._connect(client):
            return

        lim = self.limits
        gate = Gate(f"[{rt.bus.oid}] requests", lim.request_rate, lim.request_burst, time.monotonic,
                    max_pending=lim.max_pending)  # fmt: skip
        rt.request_gate = gate

        def on_request(env: Envelope) -> None:
            # Admitted before decoding: a flood costs a counter, and the worker's queue stays short, so
            # heartbeats (which run on the same worker) wait behind max_pending requests at most.
            if not gate.admit():
                return
            msg = env.message  # an undecodable one is logged by the envelope and dropped
            if not isinstance(msg, DiscoveryRequest | ValueRequest):
                gate.done()
                return

            def handle() -> None:
                try:
                    manager.handle(msg)
                finally:
                    gate.done()

            rt.worker.submit(handle)

        client.subscribe(client.topics.broadcast_request(), on_request)
        client.subscribe(client.topics.node_requests(ctrl.controller), on_request)
        started = threading.Event()

        def go_online() -> None:
            try:
                manager.start()
            finally:
                started.set()

        rt.worker.submit(go_online)
        started.wait(30)

    def _connect(self, client: JanitooClient) -> bool:
        """Connect, retrying every `connect_retry` seconds until it works; False once stopping."""
        while not self.stopping.is_set():
            try:
                client.connect()
                return True
            except ConnectError as exc:
                log.error("%s; retrying in %g s", exc, self.connect_retry)
                self.stopping.wait(self.connect_retry)
        return False

    def stop(self) -> None:
        """Clean stop: every node says OFFLINE, then the connections close (no will is sent)."""
        self.stopping.set()
        if self.netctl is not None:
            self.netctl.stop()
        for rt in self.runtimes:
            rt.worker.submit(rt.manager.stop)
            rt.worker.drain(10)
            rt.worker.stop()
        self.scheduler.stop()
        state = self._state_client
        if state is not None:
            # After every node's clear: nothing of this process stays on the broker after a clean stop.
            controllers = [rt.manager.controller.hadd.controller for rt in self.runtimes]
            state.publish_raw(RetainedTopics(self.broker.prefix).status(controllers[0]), b"", retain=True)
            state.close()
        for client in self._clients.values():
            client.close()

    def run(self) -> int:
        """Run in the foreground until SIGTERM or SIGINT; returns the exit code."""
        done = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: stopping", signal.Signals(signum).name)
            # `stopping` ends the connect retries too: a node whose broker is down still stops at once.
            self.stopping.set()
            done.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            while not done.wait(3600):
                pass
        finally:
            sd_notify("STOPPING=1")
            self.stop()
            for s, h in previous.items():
                signal.signal(s, h)
        return 0


def sd_notify(state: str) -> None:
    """Tell systemd (Type=notify) our state, when started by it."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(addr)
            s.sendall(state.encode())
    except OSError as exc:
        log.debug("sd_notify failed: %s", exc)
