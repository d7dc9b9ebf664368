"""Fixtures for the CLI tests: a fake network run by the real node runtime, the CLI runners, helpers."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from janitoo_cli.main import cli
from janitoo_node.broker import MosquittoBroker
from janitoo_node.server import Server
from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Hadd,
    Message,
    NodeInfo,
    ResolvHeartbeat,
    ValueInfo,
)
from janitoo_protocol.events import ReplyRoute
from janitoo_protocol.transport import Envelope, JanitooClient

REPO = Path(__file__).resolve().parents[2]

FAKE_CONF = """\
[system]
service = jnt_fake
broker_ip = 127.0.0.1
broker_port = {port}
topic_prefix = {prefix}
heartbeat_timeout = 60
heartbeat_count = 3

[fake]
auto_start = True
hadd = 1118/0000
components.component1 = fake.component
components.component2 = fake.component
name = Fake controller
location = Local
heartbeat = 15

[fake__component1]
heartbeat = 15
name = Fake component 1
location = Local
hadd = 1118/0001

[fake__component2]
heartbeat = 15
name = Fake component 2
location = Local
hadd = 1118/0002
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No JNT_* setting and no config file of the developer's leaks into a test."""
    for name in list(os.environ):
        if name.startswith("JNT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("NO_COLOR", raising=False)


@dataclass
class FakeNetwork:
    """Controller 1118 with two fake components, served by janitoo_node's Server under a test prefix."""

    broker: MosquittoBroker
    prefix: str
    conf: Path
    server: Server | None = None

    @property
    def args(self) -> list[str]:
        """The common options that point the CLI at this network."""
        return ["--host", self.broker.host, "--port", str(self.broker.port), "--prefix", self.prefix]

    @property
    def env(self) -> dict[str, str]:
        return {"JNT_HOST": self.broker.host, "JNT_PORT": str(self.broker.port), "JNT_PREFIX": self.prefix}

    def client(self, reply_hadd: str = "9999/9990") -> JanitooClient:
        return JanitooClient(self.broker.host, self.broker.port, prefix=self.prefix, reply_hadd=reply_hadd)


def write_fake_conf(path: Path, broker: MosquittoBroker, prefix: str) -> Path:
    path.write_text(FAKE_CONF.format(port=broker.port, prefix=prefix))
    return path


@pytest.fixture
def quiet_network(broker: MosquittoBroker, prefix: str, tmp_path: Path) -> FakeNetwork:
    """The fake network's settings, its node process not started (tests start it when they want)."""
    return FakeNetwork(broker, prefix, write_fake_conf(tmp_path / "fake.conf", broker, prefix))


FAKE_HADDS = ("1118/0000", "1118/0001", "1118/0002")


@pytest.fixture
def fake_network(quiet_network: FakeNetwork) -> Iterator[FakeNetwork]:
    """The fake network, online, its start-up heartbeats already delivered (so no test hears them)."""
    server = Server(quiet_network.conf)
    quiet_network.server = server
    try:
        with quiet_network.client("9999/9003") as watcher, watcher.watch("heartbeats") as beats:
            server.start()
            pending = {f"{quiet_network.prefix}/dhcp/heartbeat/{h}" for h in FAKE_HADDS}
            while pending:
                env = beats.get(10)
                assert env is not None, f"no start-up heartbeat on {sorted(pending)}"
                pending.discard(env.topic)
        yield quiet_network
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------- running


@pytest.fixture
def jnt() -> Callable[..., Result]:
    """Run `jnt` in-process with click's CliRunner; stdout and stderr stay apart."""
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None, cmd: object = cli) -> Result:
        return runner.invoke(cmd, list(args), env=env, catch_exceptions=False)  # type: ignore[arg-type]

    return run


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNT_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def run_module(module: str, *args: str, env: dict[str, str] | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """`python -m <module> args` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=timeout,
        env=subprocess_env(env), cwd=str(REPO),
    )  # fmt: skip


def run_script(name: str, *args: str, env: dict[str, str] | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """A console script (`jnt`, `jnt_query`, `jnt_spy`) as installed next to this Python, else its entry point."""
    script = Path(sys.executable).parent / name
    module, func = {"jnt": ("janitoo_cli.main", "cli"), "jnt_query": ("janitoo_cli.compat", "jnt_query"),
                    "jnt_spy": ("janitoo_cli.compat", "jnt_spy")}[name]  # fmt: skip
    cmd = (
        [str(script)] if script.exists() else [sys.executable, "-c", f"from {module} import {func}; {func}()"]
    )
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=timeout,
                          env=subprocess_env(env), cwd=str(REPO))  # fmt: skip


class LineReader:
    """Reads a pipe line by line in a thread, so a test can wait for one line with a timeout."""

    def __init__(self, stream: object) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, needle: str, timeout: float = 20) -> str:
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"stream ended before {needle!r}; got {self.seen!r}")
            self.seen.append(line)
            if needle in line:
                return line

    def rest(self) -> str:
        out = []
        while True:
            try:
                line = self.lines.get(timeout=20)
            except queue.Empty:
                break
            if line is None:
                break
            out.append(line)
        return "".join(self.seen + out)


# ---------------------------------------------------------------------------------------------- helpers

TIME = re.compile(r"^\d\d:\d\d:\d\d\.\d\d\d  ")


def one_error_line(result: Result | subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (asserts there is exactly one, and no traceback)."""
    err = result.stderr
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def mask_counter(text: str) -> str:
    """The fake components' counter counts its reads: its data varies from run to run."""
    return re.sub(r"(\bcounter +0 +)\S+ +", r"\1<n> ", text)


def golden(name: str) -> str:
    return (Path(__file__).parent / "golden" / name).read_text()


def publish_retained(net: FakeNetwork, items: Sequence[tuple[str, bytes]]) -> None:
    """Publish retained messages (topic tails under the prefix) and wait until the broker holds them all."""
    with net.client("9999/9001") as c:
        for tail, payload in items:
            c.publish_raw(net.prefix + tail, payload, retain=True)
        got: set[str] = set()
        with c.subscribe(net.prefix + "/#") as sub:
            while len(got) < len(items):
                env = sub.get(10)
                assert env is not None, f"retained messages missing: got {sorted(got)}"
                got.add(env.topic)


@dataclass
class Responder:
    """A network controller 0002/0000 (a secondary) that also announces a primary 0001/0000.

    When the CLI's discovery asks for systems, it answers, then publishes `before`, the primary's
    resolv heartbeat (epoch 3, priority 10), then `after`: so `jnt network` sees `before` in its first
    view and `after` as changes.
    """

    net: FakeNetwork
    before: Sequence[Message] = ()
    after: Sequence[Message] = ()
    client: JanitooClient | None = None
    requests: list[DiscoveryRequest] = field(default_factory=list)

    def __enter__(self) -> Responder:
        self.client = self.net.client("0002/0000").connect()
        self.client.subscribe(self.client.topics.broadcast_request(), self._on_request)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.client is not None
        self.client.close()

    def _on_request(self, env: Envelope) -> None:
        m = env.message
        if not isinstance(m, DiscoveryRequest) or m.reply_hadd != Hadd(9999, 9990):
            return
        assert self.client is not None
        self.requests.append(m)
        me = Hadd(2, 0)
        if m.kind == "request_info_nodes":
            node = NodeInfo(uuid="backup", hadd=me, name="Backup primary", cmd_classes=(0x1050, 0x1051),
                            heartbeat=30, state="ONLINE")  # fmt: skip
            self.client.publish(DiscoveryReply(m.kind, m.reply_hadd, ReplyRoute.BROADCAST, nodes=(node,),
                                               extra=m.extra))  # fmt: skip
            return
        values: tuple[ValueInfo, ...] = ()
        if m.kind == "request_info_systems":
            values = (ValueInfo(uuid="network_controller", hadd=me, node_uuid="backup", genre=4, type=8,
                                cmd_class=0x1051, data="secondary", help="The role of the network controller"),)  # fmt: skip
        self.client.publish(
            DiscoveryReply(m.kind, m.reply_hadd, ReplyRoute.BROADCAST, values=values, extra=m.extra)
        )
        if m.kind == "request_info_systems":
            for msg in self.before:
                self.client.publish(msg)
            self.client.publish(ResolvHeartbeat(1, 0, "ONLINE", {"epoch": 3, "priority": 10}))
            for msg in self.after:
                self.client.publish(msg)
