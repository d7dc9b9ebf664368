"""A network controller hosted by a node process: the `[network]` settings, its own MQTT connection and
last will, and the sans-IO `NetworkController` driven by one worker and the process's scheduler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from janitoo_protocol import (
    CommandClass,
    ConnectError,
    Genre,
    NetworkController,
    RoleConfig,
    RoleConfigError,
    ValueType,
)
from janitoo_protocol.roles import NETWORK_CONTROLLER_ITEMS, NETWORK_CONTROLLER_UUID, PRIMARY, Actions
from janitoo_protocol.transport import Envelope

from .bus import Worker
from .config import ConfigError, JanitooConfig
from .scheduler import BaseScheduler, Timer
from .values import Value, ValueRefused, ValueSpec

if TYPE_CHECKING:
    from .node import Node
    from .server import BrokerSettings

log = logging.getLogger("janitoo.netctl")
# transitions logs every callback at INFO; our own role-change line says what matters.
logging.getLogger("transitions").setLevel(logging.WARNING)

SECTION = "network"


def network_settings(cfg: JanitooConfig) -> RoleConfig | None:
    """The `[network]` section as a RoleConfig; None when this process is no network controller.

    Raises ConfigError (one line) for an impossible setting, e.g. is_primary and is_secondary both true.
    """
    is_primary = cfg.get_bool(SECTION, "is_primary", False)
    is_secondary = cfg.get_bool(SECTION, "is_secondary", False)
    if not (is_primary or is_secondary):
        return None
    if is_primary and is_secondary:
        raise ConfigError(cfg.path, "is_primary and is_secondary cannot both be true: pick one", SECTION)

    def optional(key: str) -> float | None:
        raw = cfg.get(SECTION, key)
        return None if raw is None or not raw.strip() else cfg.get_float(SECTION, key, 0.0)

    kwargs: dict[str, Any] = {}
    for key in ("election_step", "listen_timeout", "sync_timeout"):
        v = optional(key)
        if v is not None:
            kwargs[key] = v
    try:
        return RoleConfig(
            is_primary=is_primary,
            is_secondary=is_secondary,
            priority=cfg.get_int(SECTION, "priority", 0),
            resolv_heartbeat=cfg.get_float(SECTION, "resolv_heartbeat", 1.0),
            resolv_timeout=cfg.get_float(SECTION, "resolv_timeout", 5.0),
            take_back=cfg.get_bool(SECTION, "take_back", False),
            do_heartbeat_dispatch=cfg.get_bool(SECTION, "do_heartbeat_dispatch", True),
            heartbeat_count=cfg.get_int("system", "heartbeat_count", 3),
            heartbeat_dead=cfg.get_float("system", "heartbeat_dead", 604800.0),
            request_retry=cfg.get_float(SECTION, "request_retry", 5.0),
            original_period=cfg.get_float(SECTION, "original_period", 15.0),
            **kwargs,
        )
    except RoleConfigError as exc:
        raise ConfigError(cfg.path, str(exc), SECTION) from None


class NetworkControllerHost:
    """Runs a NetworkController for `node` (the first bus's controller) on its own connection.

    The connection's last will is a resolv heartbeat with state OFFLINE: when the process dies, the
    broker tells every secondary at once. Messages and timer ticks are handed to one worker thread,
    so the sans-IO controller is only ever touched by that thread.
    """

    def __init__(
        self,
        settings: RoleConfig,
        node: Node,
        broker: BrokerSettings,
        scheduler: BaseScheduler,
        connect_retry: float = 2.0,
    ) -> None:
        self.settings = settings
        self.hadd = node.hadd
        self.scheduler = scheduler
        self.connect_retry = connect_retry
        self.controller = NetworkController(node.hadd, settings, node_uuid=node.uuid)
        self.worker = Worker(f"netctl-{node.hadd.controller:04d}")
        self._timer: Timer | None = None
        self._running = False
        # The same broker, credentials and TLS as the process's bus connections.
        self.client = broker.client(
            reply_hadd=node.hadd, will=self.controller.will(), on_connection_change=self._on_connection
        )
        self._add_role_value(node)

    def _add_role_value(self, node: Node) -> None:
        """The original's `network_controller` system value (cmd_class 0x1051) on our controller node,
        so discovery lists us as a network controller and a GET tells our role."""
        if NETWORK_CONTROLLER_UUID in node.values:
            return
        spec = ValueSpec(Genre.SYSTEM, ValueType.LIST, int(CommandClass.NETWORK_CONTROLLER),
                         label="Network controller", list_items=tuple(NETWORK_CONTROLLER_ITEMS))  # fmt: skip

        def refuse(value: Value, index: int, data: Any) -> None:
            raise ValueRefused("the role is elected, not set: change [network] in the config file")

        node.add_value(
            Value(
                NETWORK_CONTROLLER_UUID,
                spec,
                help="The role of this network controller: primary or secondary",
                get=lambda v, i: "primary" if self.controller.role == PRIMARY else "secondary",
                set=refuse,
                is_readonly=True,
            )  # fmt: skip
        )

    # ------------------------------------------------------------------------------ life cycle

    def start(self, stopping: threading.Event | None = None) -> None:
        """Connect (retrying while the broker is down), subscribe, and start the controller."""
        stopping = stopping or threading.Event()
        while not stopping.is_set():
            try:
                self.client.connect()
                break
            except ConnectError as exc:
                log.error("network controller: %s; retrying in %g s", exc, self.connect_retry)
                stopping.wait(self.connect_retry)
        if stopping.is_set():
            return
        t = self.client.topics
        for topic in (t.heartbeat_all(), t.values_all(), t.resolv_all(), t.broadcast_reply(self.hadd),
                      t.node_reply(self.hadd)):  # fmt: skip
            self.client.subscribe(topic, self._on_message)
        self._running = True
        log.info(
            "network controller %s starting (%s, priority %d, resolv heartbeat %g s, timeout %g s)",
            self.hadd, "primary" if self.settings.is_primary else "secondary", self.settings.priority,
            self.settings.resolv_heartbeat, self.settings.resolv_timeout,
        )  # fmt: skip
        self._submit(self.controller.start)

    def stop(self) -> None:
        """Say goodbye (secondaries take over at once), then close the connection."""
        if self._running:
            self._running = False
            done = threading.Event()

            def bye() -> None:
                try:
                    for m in self.controller.stop(self.scheduler.clock()).publish:
                        self.client.publish(m)
                finally:
                    done.set()

            self.worker.submit(bye)
            done.wait(5)
        if self._timer is not None:
            self._timer.cancel()
        self.worker.stop()
        self.client.close()

    def status(self, timeout: float = 2.0) -> dict[str, Any]:
        """The controller's state, read on its own thread."""
        box: dict[str, Any] = {}
        done = threading.Event()

        def read() -> None:
            box.update(self.controller.status())
            done.set()

        self.worker.submit(read)
        done.wait(timeout)
        return box

    # ------------------------------------------------------------------------------ plumbing

    def _on_message(self, env: Envelope) -> None:
        msg = env.message
        if msg is None:
            log.debug("undecodable message on %s: %s", env.topic, env.error)
            return
        self._submit(lambda now: self.controller.receive(msg, now))

    def _on_connection(self, up: bool) -> None:
        self._submit(lambda now: self.controller.connection_changed(up, now))

    def _submit(self, step: Callable[[float], Actions]) -> None:
        self.worker.submit(lambda: self._run(step))

    def _run(self, step: Callable[[float], Actions]) -> None:
        if not self._running:
            return
        now = self.scheduler.clock()
        actions = step(now)
        for _ in range(10):
            for m in actions.publish:
                self.client.publish(m)
            if actions.wake_at is None or actions.wake_at > now:
                break
            now = self.scheduler.clock()
            actions = self.controller.tick(now)
        self._schedule(actions.wake_at)

    def _schedule(self, when: float | None) -> None:
        timer = self._timer
        if timer is not None and not timer.cancelled and when is not None and timer.when == when:
            return
        if timer is not None:
            timer.cancel()
        self._timer = None
        if when is not None:
            self._timer = self.scheduler.call_at(when, lambda: self._submit(self.controller.tick))
