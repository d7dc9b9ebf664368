"""A real Home Assistant core for tests: started from its own venv with a written config, driven over REST."""

from __future__ import annotations

import json
import queue
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from janitoo_node.broker import free_port
from tests.homeassistant.haconfig import ha_venv, write_config

State = dict[str, Any]


def install_ha_venv(hass: Path) -> None:
    """Install Home Assistant where the tests look for it (once per machine, about 2 minutes), as the
    test suite starts mosquitto itself: the README's test command works on a fresh machine."""
    script = Path(__file__).resolve().parents[2] / ".ci" / "install-ha-venv"
    venv = hass.parent.parent
    result = subprocess.run([str(script), str(venv.parent)], capture_output=True, text=True, timeout=1800)
    if result.returncode != 0 or not hass.exists():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"no Home Assistant at {hass} and .ci/install-ha-venv failed: {last}")


class HomeAssistant:
    """`hass -c DIR --skip-pip` (offline) on a free loopback port, with an owner's token for REST."""

    def __init__(self, config_dir: Path, mqtt_port: int) -> None:
        self.config_dir = config_dir
        self.mqtt_port = mqtt_port
        self.http_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.token = write_config(config_dir, self.http_port, mqtt_port)
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.birth_after = 0.0

    def start(self, timeout: float = 120.0) -> HomeAssistant:
        """Start and wait for HA's birth message: MQTT discovery is live from then on."""
        hass = ha_venv() / "bin" / "hass"
        if not hass.exists():
            install_ha_venv(hass)
        births: queue.Queue[bytes] = queue.Queue()
        watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        watcher.on_message = lambda c, u, m: births.put(m.payload)
        watcher.connect("127.0.0.1", self.mqtt_port)
        watcher.subscribe("homeassistant/status", qos=1)  # not retained: subscribe before HA starts
        watcher.loop_start()
        try:
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(
                [str(hass), "-c", str(self.config_dir), "--skip-pip", "--log-no-color"],
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            )  # fmt: skip
            deadline = self.started_at + timeout
            while True:
                try:
                    payload = births.get(timeout=0.5)
                except queue.Empty:
                    payload = None
                if payload == b"online":
                    break
                if self.proc.poll() is not None:
                    raise RuntimeError(f"hass exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no birth message from Home Assistant within {timeout} s")
            self.birth_after = time.monotonic() - self.started_at
        finally:
            watcher.disconnect()
            watcher.loop_stop()
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    # ------------------------------------------------------------------------------ REST

    def api(self, method: str, path: str, body: Any = None, raw: bool = False) -> tuple[int, Any]:
        req = urllib.request.Request(
            self.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                text = r.read()
                return r.status, text.decode() if raw else json.loads(text or b"null")
        except urllib.error.HTTPError as e:
            return e.code, None

    def state(self, entity_id: str) -> State | None:
        code, body = self.api("GET", f"/api/states/{entity_id}")
        return body if code == 200 else None

    def states(self) -> list[State]:
        code, body = self.api("GET", "/api/states")
        assert code == 200
        return body  # type: ignore[no-any-return]

    def wait_state(self, entity_id: str, pred: Callable[[State], bool], timeout: float = 15.0) -> State:
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.state(entity_id)
            if st is not None and pred(st):
                return st
            time.sleep(0.05)
        raise AssertionError(f"{entity_id}: condition not met within {timeout} s; last: {st}")

    def template(self, tpl: str) -> str:
        code, body = self.api("POST", "/api/template", {"template": tpl}, raw=True)  # answers text/plain
        assert code == 200, body
        return str(body)

    def log_text(self) -> str:
        path = self.config_dir / "home-assistant.log"
        return path.read_text(errors="replace") if path.exists() else ""
