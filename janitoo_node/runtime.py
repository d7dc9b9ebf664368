"""The runtime assembly: one config section to a bus with its context, node manager and worker, built
complete in one place for `jnt-node run` (server), `jnt-node simulate` and the demo."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from janitoo_protocol import JanitooClient, Message, ValuePublication

from .bus import Bus, BusContext, ComponentFactory, InlineWorker, Worker
from .config import JanitooConfig
from .guard import Gate
from .nodeman import NodeManager
from .scheduler import BaseScheduler

Publish = Callable[[Message], None]


class BusRuntime:
    """A bus with its node manager, worker and MQTT connection."""

    def __init__(self, manager: NodeManager, worker: Worker | InlineWorker) -> None:
        self.manager = manager
        self.worker = worker
        self.client: JanitooClient | None = None  # the server's connection for this bus
        self.request_gate: Gate | None = None  # the server's rate limits for this bus's requests

    @property
    def bus(self) -> Bus:
        """The bus (its controller node and components)."""
        return self.manager.bus


def build_bus(
    cfg: JanitooConfig,
    section: str,
    bus_factory: Callable[[BusContext], Bus],
    component_factories: Mapping[str, ComponentFactory],
    scheduler: BaseScheduler,
    worker: Worker | InlineWorker,
    publish: Publish,
    *,
    root: Path = Path("/"),
    backend: str = "auto",
) -> BusRuntime:
    """Build one bus: its context (publishing included, so a component can publish from its first
    moment), the bus, and the node manager that publishes through the same function."""
    managers: list[NodeManager] = []

    def publish_and_track(message: Message) -> None:
        publish(message)
        # Every value publication (a poll, a SET's answer, a component reporting a change from any thread)
        # reaches the retained state of its node (the late-join extension) within a second.
        if managers and isinstance(message, ValuePublication):
            managers[0].value_published(message.hadd)

    ctx = BusContext(
        config=cfg, section=section, scheduler=scheduler, worker=worker, publish=publish_and_track, root=root,
        backend=backend,
    )  # fmt: skip
    bus = bus_factory(ctx)
    managers.append(NodeManager(bus, component_factories, publish_and_track))
    return BusRuntime(managers[0], worker)
