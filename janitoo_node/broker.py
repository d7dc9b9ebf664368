"""A local MQTT broker for tests and the demo: mosquitto on a free loopback port, or amqtt embedded."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

LOOPBACK = "127.0.0.1"


class BrokerError(RuntimeError):
    """The broker could not be started."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free on `host` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def mosquitto_path() -> str | None:
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class MosquittoBroker:
    """A private mosquitto on 127.0.0.1; `restart()` keeps the port so clients can reconnect to it."""

    def __init__(
        self, port: int | None = None, extra_config: str = "", startup_timeout: float = 10.0
    ) -> None:
        exe = mosquitto_path()
        if exe is None:
            raise BrokerError("mosquitto is not installed (apt-get install mosquitto)")
        self.exe = exe
        self.host = LOOPBACK
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self._dir = tempfile.TemporaryDirectory(prefix="jnt-mosquitto-")
        self.conf = Path(self._dir.name) / "mosquitto.conf"
        # Loopback only, anonymous, no persistence: a test broker leaves nothing behind.
        self.conf.write_text(
            f"listener {self.port} {LOOPBACK}\nallow_anonymous true\npersistence false\n"
            f"log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            f"{extra_config}\n"
        )
        self.proc: subprocess.Popen[str] | None = None
        self.log: list[str] = []

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> MosquittoBroker:
        if self.proc is not None and self.proc.poll() is None:
            return self
        proc = subprocess.Popen(
            [self.exe, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            # Its own session: a Ctrl+C in the terminal reaches our process, which says OFFLINE for its
            # nodes and then stops the broker, instead of killing the broker under them.
            start_new_session=True,
        )
        self.proc = proc
        ready = threading.Event()

        def pump() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                self.log.append(line.rstrip())
                # mosquitto logs "... running" once its listeners are open.
                if " running" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=pump, name="mosquitto-log", daemon=True).start()
        if not ready.wait(self.startup_timeout) or proc.poll() is not None:
            self.stop()
            raise BrokerError(
                f"mosquitto did not start on {self.host}:{self.port}: {' | '.join(self.log[-3:])}"
            )
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def kill(self) -> None:
        """Die like a crashed broker (SIGKILL)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            self._dir.cleanup()

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class EmbeddedBroker:
    """amqtt running in a thread of this process: the demo's fallback when mosquitto is missing."""

    def __init__(self, port: int | None = None) -> None:
        self.host = LOOPBACK
        self.port = port or free_port()
        self._thread: threading.Thread | None = None
        self._loop: object | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> EmbeddedBroker:
        import asyncio

        try:
            from amqtt.broker import Broker
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise BrokerError("neither mosquitto nor amqtt is installed: apt-get install mosquitto") from exc

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "sys_interval": 0,
            "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
            "topic-check": {"enabled": False},
        }

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            broker = Broker(config, loop=loop)
            try:
                loop.run_until_complete(broker.start())
            except BaseException as exc:  # reported to the starting thread
                self._error = exc
                self._started.set()
                return
            self._started.set()
            self._broker = broker
            loop.run_forever()
            loop.run_until_complete(broker.shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name="amqtt", daemon=True)
        self._thread.start()
        if not self._started.wait(15) or self._error is not None:
            raise BrokerError(f"embedded broker did not start on {self.host}:{self.port}: {self._error}")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and self._thread is not None:
            loop.call_soon_threadsafe(loop.stop)  # type: ignore[attr-defined]
            self._thread.join(10)
        self._thread = None

    close = stop


def start_local_broker(port: int | None = None) -> MosquittoBroker | EmbeddedBroker:
    """mosquitto if installed, else the embedded amqtt broker."""
    if mosquitto_path() is not None:
        return MosquittoBroker(port).start()
    return EmbeddedBroker(port).start()
