"""A sans-thread rig for the hardware components: ManualScheduler, InlineWorker, a list for the wire."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from janitoo_node.bus import Bus, Component
from janitoo_node.config import JanitooConfig
from janitoo_node.nodeman import NodeManager
from janitoo_node.scheduler import ManualScheduler
from janitoo_node.server import BusRuntime, load_buses
from janitoo_protocol import Hadd, Heartbeat, Message, ValuePublication, ValueReply, ValueRequest
from tests.node.hardware.standins.libs_fixture import standin_libs  # noqa: F401 - a fixture

ME = Hadd(9999, 9990)
SYSTEM = "[system]\nservice = jnt_test\nbroker_ip = 127.0.0.1\nbroker_port = 1883\nslow_start = 0\n\n"


class Rig:
    """The buses of one config file, built as the server builds them but driven by hand."""

    def __init__(self, conf: Path, root: Path) -> None:
        self.sent: list[Message] = []
        self.scheduler = ManualScheduler()
        self.config = JanitooConfig(conf)
        self.runtimes: list[BusRuntime] = load_buses(
            self.config, self.scheduler, lambda section: self.sent.append, root=root, threads=False
        )

    def start(self) -> Rig:
        for rt in self.runtimes:
            rt.manager.start()
        self.scheduler.advance(0)  # the first polls, due at once
        return self

    def stop(self) -> None:
        for rt in self.runtimes:
            rt.manager.stop()

    def manager(self, section: str) -> NodeManager:
        return next(rt.manager for rt in self.runtimes if rt.bus.oid == section)

    def bus(self, section: str) -> Bus:
        return self.manager(section).bus

    def component(self, section: str, key: str) -> Component:
        return self.bus(section).components[key]

    def take(self) -> list[Message]:
        out, self.sent[:] = list(self.sent), []
        return out

    def published(self, hadd: str, uuid: str) -> list[ValuePublication]:
        h = Hadd.parse(hadd)
        return [m for m in self.sent if isinstance(m, ValuePublication) and m.hadd == h and m.uuid == uuid]

    def last_data(self, hadd: str, uuid: str, index: int = 0) -> Any:
        pubs = self.published(hadd, uuid)
        assert pubs, f"{hadd} {uuid} was never published"
        return next(v.data for v in pubs[-1].values if v.index == index)

    def state(self, hadd: str) -> str:
        h = Hadd.parse(hadd)
        for rt in self.runtimes:
            if h in rt.manager.nodes:
                return rt.manager.nodes[h].heartbeat_state()
        raise KeyError(hadd)

    def heartbeats(self, hadd: str) -> list[str]:
        h = Hadd.parse(hadd)
        return [m.state for m in self.sent if isinstance(m, Heartbeat) and m.hadd == h]

    def request(self, hadd: str, uuid: str, genre: int, cmd_class: int, data: Any = None, *, is_set: bool = True,
                index: int | None = None) -> list[Message]:  # fmt: skip
        """Handle one GET or SET as the node would from the network; returns what it sent."""
        h = Hadd.parse(hadd)
        manager = next(rt.manager for rt in self.runtimes if h in rt.manager.nodes)
        before = len(self.sent)
        manager.handle(ValueRequest(hadd=h, uuid=uuid, genre=genre, cmd_class=cmd_class, reply_hadd=ME,
                                    data=data, is_writeonly=is_set, is_readonly=not is_set, index=index,
                                    target=h))  # fmt: skip
        return self.sent[before:]

    def reply(self, *args: Any, **kw: Any) -> ValueReply:
        replies = [m for m in self.request(*args, **kw) if isinstance(m, ValueReply)]
        assert len(replies) == 1, replies
        return replies[0]


@pytest.fixture
def rig_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    """`rig_for(text)`: a started rig on a config made of [system] plus `text`, with tmp_path/root as root."""
    rigs: list[Rig] = []

    def make(text: str, *, start: bool = True, root: Path | None = None) -> Rig:
        conf = tmp_path / f"node{len(rigs)}.conf"
        conf.write_text(SYSTEM + text)
        if root is None:
            root = tmp_path / "root"
            root.mkdir(exist_ok=True)
        rig = Rig(conf, root)
        rigs.append(rig)
        return rig.start() if start else rig

    yield make
    for rig in rigs:
        rig.stop()
