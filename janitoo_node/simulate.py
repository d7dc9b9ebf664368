"""A simulated network in one process: N controllers of M nodes with K polled values each, every
controller driven by the real node manager, so on the wire it behaves exactly like `jnt-node run`."""

from __future__ import annotations

import logging
import random
import sys
import tempfile
import threading
from pathlib import Path

from janitoo_protocol import DiscoveryRequest, Hadd, Message, ValueRequest
from janitoo_protocol.retained import OFFLINE, ONLINE, RetainedTopics, status_payload
from janitoo_protocol.transport import Envelope, JanitooClient

from .bus import Bus, Component, ComponentFactory, Worker
from .config import JanitooConfig
from .nodeman import NodeManager
from .retainedstate import RetainedState
from .runtime import build_bus
from .scheduler import Scheduler
from .values import Value, make_value, with_companions

log = logging.getLogger("janitoo.simulate")

# Messages (or kB) published before waiting for paho to have written them (SimulatedNetwork._paced).
PACE = 200


class SimulatedBus(Bus):
    """A controller with no hardware."""

    product_name = "Simulated controller"


# The steps of every walk: the reads run on the one worker thread, so one generator serves them all (a
# Random per node would weigh 2.5 kB; a simulated network has thousands).
_STEPS = random.Random(0x4A4E54)


class Walk:
    """A temperature following a bounded random walk from a start that depends on the node's section."""

    __slots__ = ("t",)

    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self, value: Value, index: int) -> float:
        self.t = min(35.0, max(5.0, self.t + _STEPS.uniform(-0.3, 0.3)))
        return round(self.t, 2)


class SimulatedNode(Component):
    """A node whose K values are temperatures following a bounded random walk."""

    product_name = "Simulated sensor"
    product_type = "Simulated component"
    default_name = "Simulated node"

    def create_values(self) -> list[Value]:
        count = int(self.option("values", "1") or 1)
        starts = random.Random(self.section)
        out: list[Value] = []
        for k in range(count):
            v = make_value("sensor_temperature", sys.intern(f"temperature_{k}"), help="A simulated temperature",
                           reader=Walk(20.0 + starts.random() * 5))  # fmt: skip
            out.extend(with_companions(v))
        return out


def write_config(path: Path, controllers: int, nodes: int, values: int, *, first: int = 1000,
                 heartbeat: float = 30, poll: float = 30) -> Path:  # fmt: skip
    """The config of a simulated network (one bus section per controller)."""
    lines = ["[system]", "service = jnt_simulate", ""]
    for c in range(first, first + controllers):
        oid = f"sim{c:04d}"
        lines += [f"[{oid}]", f"hadd = {c:04d}/0000", f"name = Simulated controller {c}",
                  "location = Simulation", f"heartbeat = {heartbeat}"]  # fmt: skip
        lines += [f"components.n{n} = simulated.node" for n in range(1, nodes + 1)]
        lines.append("")
        for n in range(1, nodes + 1):
            lines += [f"[{oid}__n{n}]", f"hadd = {c:04d}/{n:04d}", f"name = Node {n}", "location = Simulation",
                      f"heartbeat = {heartbeat}", f"values = {values}"]  # fmt: skip
            lines += [f"temperature_{k}_poll_0 = {poll:g}" for k in range(values)]
            lines.append("")
    path.write_text("\n".join(lines))
    return path


class SimulatedNetwork:
    """Runs the simulated controllers on one MQTT connection, one scheduler and one worker thread."""

    def __init__(
        self,
        controllers: int,
        nodes: int,
        values: int = 1,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        prefix: str = "",
        first: int = 1000,
        heartbeat: float = 30,
        poll: float = 30,
        workdir: Path | None = None,
        retained: bool = True,
    ) -> None:
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="jnt-sim-")
        folder = workdir or Path(self._tmp.name)  # type: ignore[union-attr]
        self.config = JanitooConfig(write_config(folder / "simulate.conf", controllers, nodes, values,
                                                 first=first, heartbeat=heartbeat, poll=poll))  # fmt: skip
        self.scheduler = Scheduler()
        self.worker = Worker("simulate")
        self.client = JanitooClient(host, port, prefix=prefix, reply_hadd=Hadd(first, 0),
                                    on_connection_change=self._reconnected)  # fmt: skip
        self.managers: dict[int, NodeManager] = {}
        self._unpaced: dict[JanitooClient, int] = {}  # messages published since waiting for paho (_paced)
        factories: dict[str, ComponentFactory] = {"simulated.node": SimulatedNode}
        for section in self.config.buses():
            # The same assembly as `jnt-node run`; every controller shares the one connection and worker.
            manager = build_bus(self.config, section, SimulatedBus, factories, self.scheduler, self.worker,
                                self._publish).manager  # fmt: skip
            # Thousands of nodes started in the same instant would beat and poll in step for hours (see
            # NodeManager._phase): spread over their periods, they make the steady flow a real site has.
            manager.spread = True
            self.managers[manager.controller.hadd.controller] = manager
        self.started = threading.Event()
        # The late-join extension, as `jnt-node run` does it: a second connection with a retained will.
        self.retained_topics = RetainedTopics(prefix)
        self.state_client: JanitooClient | None = None
        if retained:
            ctrls = sorted(self.managers)
            self.state_client = JanitooClient(
                host, port, prefix=prefix, reply_hadd=Hadd(first, 0),
                will=(self.retained_topics.status(first), status_payload(OFFLINE, ctrls)), will_retain=True,
                on_connection_change=self._state_reconnected,
            )  # fmt: skip
            for m in self.managers.values():
                m.retained = RetainedState(self._publish_retained, prefix, first)

    def _publish(self, message: Message) -> None:
        self.client.publish(message)
        self._paced(self.client, 1)

    def _publish_retained(self, topic: str, payload: bytes, force: bool) -> bool:
        assert self.state_client is not None
        self.state_client.publish_raw(topic, payload, retain=True)
        # A controller's retained state is tens of kB: count it as many messages.
        self._paced(self.state_client, 1 + len(payload) // 1024)
        return True

    def _paced(self, client: JanitooClient, weight: int) -> None:
        # Thousands of nodes poll, heartbeat and answer in the same instant: the one worker would queue their
        # messages in paho faster than its network thread writes them, and the simulator's memory would grow
        # by tens of MB at each burst. It waits for paho to catch up every PACE messages instead.
        self._unpaced[client] = self._unpaced.get(client, 0) + weight
        if self._unpaced[client] >= PACE:
            self._unpaced[client] = 0
            client.wait_written(1.0)

    @property
    def node_count(self) -> int:
        return sum(len(m.nodes) for m in self.managers.values())

    def _reconnected(self, up: bool) -> None:
        if up and self.started.is_set():
            for m in self.managers.values():
                self.worker.submit(m.announce)

    def _state_reconnected(self, up: bool) -> None:
        # A restarted broker without persistence lost every retained message: publish them again.
        if up and self.started.is_set() and self.state_client is not None:
            ctrls = sorted(self.managers)
            self.state_client.publish_raw(self.retained_topics.status(ctrls[0]), status_payload(ONLINE, ctrls),
                                          retain=True)  # fmt: skip
            for m in self.managers.values():
                self.worker.submit(m.republish_retained)

    def _on_request(self, env: Envelope) -> None:
        msg = env.message
        if not isinstance(msg, DiscoveryRequest | ValueRequest):
            return
        if msg.target is None:
            for m in self.managers.values():
                self.worker.submit(m.handle, msg)
            return
        manager = self.managers.get(msg.target.controller)
        if manager is not None:
            self.worker.submit(manager.handle, msg)

    def start(self) -> SimulatedNetwork:
        self.client.connect()
        if self.state_client is not None:
            self.state_client.connect()
            ctrls = sorted(self.managers)
            status = self.retained_topics.status(ctrls[0])
            self.state_client.publish_raw(status, status_payload(ONLINE, ctrls), retain=True)
        self.client.subscribe(self.client.topics.broadcast_request(), self._on_request)
        self.client.subscribe(self.client.topics.node_requests(), self._on_request)
        self.scheduler.start()
        for m in self.managers.values():
            self.worker.submit(m.start)
        self.worker.drain(60)
        # What the starts scheduled at once (every value's first poll, every controller's retained state)
        # runs before this marker: a network of thousands of nodes takes seconds over it, and is not up
        # (answering at once, its retained state complete) until it is done.
        settled = threading.Event()
        self.scheduler.call_later(0.0, self.worker.submit, settled.set)
        settled.wait(120)
        self.started.set()
        return self

    def stop(self) -> None:
        for m in self.managers.values():
            self.worker.submit(m.stop)
        self.worker.drain(60)
        self.worker.stop()
        self.scheduler.stop()
        if self.state_client is not None:
            self.state_client.publish_raw(self.retained_topics.status(min(self.managers)), b"", retain=True)
            self.state_client.close()
        self.client.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> SimulatedNetwork:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
