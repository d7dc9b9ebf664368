"""Buses and components: the base classes that hardware drivers and appliances subclass.

A bus shares a resource (GPIO, 1-wire, I2C, the host) among its components and is the controller node
`NNNN/0000`; a component is one node `NNNN/xxxx`. Blocking I/O runs on the bus's worker thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from janitoo_protocol import Capability, CommandClass, Genre, Message, ValuePublication

from .config import ComponentDecl, JanitooConfig
from .scheduler import BaseScheduler, Timer
from .values import Value

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger("janitoo.bus")


class Worker:
    """One thread that runs a bus's jobs in order, so hardware reads never block the network thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: queue.Queue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=f"jnt-bus-{name}", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[..., None], *args: Any) -> None:
        """Run `job(*args)` on the worker, after the jobs submitted before."""
        self._queue.put((job, args))

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, args = item
            try:
                job(*args)
            except Exception:  # a failing job must not kill the bus
                log.exception("bus %s: job failed", self.name)

    def stop(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every job submitted so far has run (tests and clean stops)."""
        done = threading.Event()
        self.submit(done.set)
        return done.wait(timeout)


class InlineWorker:
    """Runs jobs at once on the caller's thread: for sans-thread tests with a ManualScheduler."""

    name = "inline"

    def submit(self, job: Callable[..., None], *args: Any) -> None:
        job(*args)

    def stop(self, timeout: float = 5.0) -> None:
        pass

    def drain(self, timeout: float = 5.0) -> bool:
        return True


@dataclass
class BusContext:
    """What the runtime hands a bus: its config, clock and timers, worker, the publishing of messages
    (its MQTT connection), hardware root and backend. Built complete, before the bus (runtime.build_bus)."""

    config: JanitooConfig
    section: str
    scheduler: BaseScheduler
    worker: Worker | InlineWorker
    publish: Callable[[Message], None]
    root: Path = Path("/")
    backend: str = "auto"

    @property
    def clock(self) -> Callable[[], float]:
        return self.scheduler.clock

    def publish_value(self, value: Value) -> None:
        """Publish a value at once on /values/<genre>/<hadd>/<uuid> (a component reporting an edge or a
        state change): its current data, indexed when it has instances."""
        node = value.node
        if node is None:
            log.warning("%s: value %s has no node yet; not published", self.section, value.uuid)
            return
        try:
            genre = Genre(value.genre)
        except ValueError:
            log.error("%s %s: genre %s cannot be published", node.hadd, value.uuid, value.genre)
            return
        infos = tuple(value.info(i) for i in value.indexes)
        self.publish(ValuePublication(genre, node.hadd, value.uuid, infos, indexed=value.is_multi))


class Bus:
    """A bus: the controller node's values, the shared resource, and the components on it."""

    oid = "generic"
    product_name = "Default product name"
    product_type = "Default product type"
    product_manufacturer = "Default product manufacturer"
    cmd_classes: tuple[int, ...] = (int(CommandClass.CONTROLLER),)
    capabilities: tuple[int, ...] = (int(Capability.DYNAMIC_CONTROLLER),)

    def __init__(self, ctx: BusContext) -> None:
        self.ctx = ctx
        self.oid = ctx.section
        self.components: dict[str, Component] = {}
        self.node: Node | None = None  # the controller node, set by the node manager

    # Hooks for subclasses ---------------------------------------------------------------------------

    def create_values(self) -> list[Value]:
        """Values of the controller node (their uuids are prefixed with the bus oid by convention)."""
        return []

    def check_heartbeat(self) -> str | None:
        """The controller's heartbeat state: None (or ONLINE) when the bus works."""
        return None

    def start(self) -> None:
        """Open the shared resource. Called before the components start."""

    def stop(self) -> None:
        """Release the shared resource. Called after the components stopped."""

    # Helpers ---------------------------------------------------------------------------------------

    @property
    def config(self) -> JanitooConfig:
        return self.ctx.config

    def option(self, key: str, default: str | None = None) -> str | None:
        return self.ctx.config.get(self.ctx.section, key, default)

    def value(self, uuid: str) -> Value:
        assert self.node is not None
        return self.node.values[uuid]

    def call_later(self, delay: float, fn: Callable[..., None], *args: Any) -> Timer:
        """Run `fn(*args)` on the bus worker after `delay` seconds of the runtime's clock."""
        return self.ctx.scheduler.call_later(delay, self.ctx.worker.submit, fn, *args)


class Component:
    """A component: one node on a bus, with its own values."""

    product_name = "Default product name"
    product_type = "Software component"
    product_manufacturer = "Janitoo"
    default_name = "Default name"
    cmd_classes: tuple[int, ...] = ()

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        self.bus = bus
        self.decl = decl
        self.key = decl.key
        self.entry = decl.entry
        self.section = decl.section
        self.node: Node | None = None

    def create_values(self) -> list[Value]:
        return []

    def check_heartbeat(self) -> str | None:
        """None (ONLINE) when the component works. Unlike the original base class, a working
        component is ONLINE by default."""
        return None

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def option(self, key: str, default: str | None = None) -> str | None:
        return self.bus.ctx.config.get(self.section, key, default)

    def value(self, uuid: str) -> Value:
        assert self.node is not None
        return self.node.values[uuid]

    def data(self, uuid: str, index: int = 0) -> Any:
        return self.value(uuid).cached(index)


BusFactory = Callable[[BusContext], Bus]
ComponentFactory = Callable[[Bus, ComponentDecl], Component]
