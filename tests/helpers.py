"""Test helpers: node configs and node runtime processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from janitoo_protocol import Envelope, Subscription

DATA = Path(__file__).parent / "data" / "original"


def wait_for(
    sub: Subscription,
    accept: Callable[[Envelope], bool],
    timeout: float,
    what: str = "the expected message",
    seen: list[Envelope] | None = None,
) -> Envelope:
    """Read `sub` until a message is accepted and return it; AssertionError naming `what` after `timeout`
    seconds. Every message read is appended to `seen` when given (for the failure message, or checks)."""
    deadline = time.monotonic() + timeout
    while True:
        env = sub.get(max(0.0, deadline - time.monotonic()))
        if env is None:
            tail = [e.topic for e in (seen or [])[-5:]]
            raise AssertionError(f"{what}: nothing matching within {timeout:g} s (last seen: {tail})")
        if seen is not None:
            seen.append(env)
        if accept(env):
            return env


def fake_conf(path: Path, port: int, *, controller: int = 1118, heartbeat: float = 15, prefix: str = "",
              extra: str = "") -> Path:  # fmt: skip
    """The original fake-node config, pointed at our broker (logging to stderr, no /opt paths)."""
    path.write_text(
        f"[system]\nservice = jnt_fake\nbroker_ip = 127.0.0.1\nbroker_port = {port}\n"
        f"topic_prefix = {prefix}\nslow_start = 0\n\n"
        f"[fake]\nauto_start = True\nhadd = {controller:04d}/0000\ncomponents.component1 = fake.component\n"
        f"components.component2 = fake.component\nname = Fake controller\nlocation = Local\nheartbeat = {heartbeat}\n\n"
        f"[fake__component1]\nheartbeat = {heartbeat}\nname = Fake component 1\nlocation = Local\n"
        f"hadd = {controller:04d}/0001\n\n"
        f"[fake__component2]\nheartbeat = {heartbeat}\nname = Fake component 2\nlocation = Local\n"
        f"hadd = {controller:04d}/0002\n{extra}"
    )
    return path


class NodeProcess:
    """`jnt-node run -c CONF` as a child process (stderr kept for the test's failure messages)."""

    def __init__(self, conf: Path, *args: str) -> None:
        self.conf = conf
        self.args = args
        self.proc: subprocess.Popen[str] | None = None
        self.log_path = conf.with_suffix(".log")

    def start(self) -> NodeProcess:
        self._log = open(self.log_path, "w")  # closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "janitoo_node.cli", "run", "-c", str(self.conf), *self.args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def send(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int | None:
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._log.close()
        return proc.returncode

    def output(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def __enter__(self) -> NodeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(signal.SIGKILL if exc[0] else signal.SIGTERM)
