"""`jnt-node demo`: a local broker and the HelloWorld V3 appliance on simulated hardware, in one process."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ..broker import EmbeddedBroker, MosquittoBroker, start_local_broker
from ..config import JanitooConfig
from ..logconfig import setup_logging
from ..server import Server
from .tutorial3 import REPORTING, RINGING, STATES, Change, Tutorial3Bus

CONF_NAME = "helloworldv3.conf"
SCENARIOS = ("normal", "overheat")
# The simulated readings at rest (the tutorial's) and in the overheat scenario (critical: 50 °C).
# The tutorial's DHT is a DHT11, which reads 0..50 °C: the two sensors that can overheat are the
# DS18B20 and the CPU.
DHT_TEMPERATURE = 21.0
DS18B20_TEMPERATURE = 19.5
CPU_TEMPERATURE = 45.0
HOT = 55.0
# Overheat scenario: a check every 4 s (2 s while ringing) instead of 45, so it plays in seconds.
SCENARIO_TIMER_DELAY = 4
WAKEUP_AFTER = 1.0
HEAT_AFTER = 2.0
HOT_FOR = 8.0


def example_config_text() -> str:
    """The HelloWorld V3 config shipped in the package (a copy of examples/helloworldv3.conf)."""
    return files(__package__).joinpath(CONF_NAME).read_text(encoding="utf-8")


def write_sim(path: Path, reading: float) -> None:
    """Set a simulated sensor's reading: its `file:` source re-reads the file when it changes."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(f"{reading}\n", encoding="utf-8")
    os.replace(tmp, path)  # a new inode: the change is seen even within the same mtime tick


@dataclass(frozen=True)
class DemoFiles:
    conf: Path
    ambiance: Path  # the DHT's temperature
    ds18b20: Path
    cpu: Path


def prepare_config(directory: Path, port: int, *, prefix: str = "", timer_delay: int | None = None,
                   log_level: str = "WARNING") -> DemoFiles:  # fmt: skip
    """A copy of the HelloWorld V3 config in `directory`: this broker, simulated hardware whose three
    temperatures (DHT, DS18B20, CPU) follow one file each, logging to stderr at `log_level`."""
    conf = directory / CONF_NAME
    conf.write_text(example_config_text(), encoding="utf-8")
    files_ = DemoFiles(conf, directory / "ambiance-temperature.sim", directory / "ds18b20-temperature.sim",
                       directory / "cpu-temperature.sim")  # fmt: skip
    write_sim(files_.ambiance, DHT_TEMPERATURE)
    write_sim(files_.ds18b20, DS18B20_TEMPERATURE)
    write_sim(files_.cpu, CPU_TEMPERATURE)
    cfg = JanitooConfig(conf)
    settings: list[tuple[str, str, object]] = [
        ("system", "broker_ip", "127.0.0.1"),
        ("system", "broker_port", port),
        ("system", "topic_prefix", prefix),
        ("tutorial3", "backend", "sim"),
        ("tutorial3__ambiance", "sim_temperature", f"file:{files_.ambiance.name}"),
        ("tutorial3__temperature", "sim_temperature", f"file:{files_.ds18b20.name}"),
        ("tutorial3__cpu", "sim_temperature", f"file:{files_.cpu.name}"),
        # The example logs to /opt/janitoo/log; the demo logs to stderr only, through the root logger.
        ("handlers", "keys", "console"),
        ("logger_root", "handlers", "console"),
    ]
    for logger in ("root", "janitoo", "sqlalchemy", "alembic"):
        settings.append((f"logger_{logger}", "level", log_level))
    for logger in ("janitoo", "sqlalchemy", "alembic"):
        settings.append((f"logger_{logger}", "handlers", ""))
    if timer_delay is not None:
        settings.append(("tutorial3", "tutorial3_timer_delay_0", timer_delay))
    for section, key, value in settings:
        cfg.set(section, key, value)
    return files_


def try_commands(port: int) -> list[str]:
    """The `jnt` commands the demo suggests: JNT_PORT first, so none of them needs --port; genres and
    command classes are found by asking the node."""
    return [
        f"export JNT_PORT={port}",
        "jnt web",
        "jnt query network",
        "jnt query node --hadd 0225/0000 --vuuid request_info_users",
        "jnt query node --hadd 0225/0000 --vuuid request_info_configs",
        "jnt spy",
        "jnt query value --hadd 0225/0000 --uuid tutorial3_transition --set wakeup",
        "jnt query value --hadd 0225/0000 --uuid tutorial3_state --genre basic",
        "jnt query value --hadd 0225/0004 --uuid blink",
        "jnt query value --hadd 0225/0000 --uuid tutorial3_transition --set sleep",
    ]


class Demo:
    """The demo's life: broker, appliance, the scenario, then a clean stop (`stop()` from any thread)."""

    def __init__(self, port: int | None = None, scenario: str = "normal", echo: Callable[[str], None] = print,
                 workdir: Path | None = None) -> None:  # fmt: skip
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}: expected one of {', '.join(SCENARIOS)}")
        self.port = port
        self.scenario = scenario
        self.echo = echo
        self.done = threading.Event()
        self.reached = {state: threading.Event() for state in STATES}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.workdir = workdir
        self.broker: MosquittoBroker | EmbeddedBroker | None = None
        self.server: Server | None = None
        self.bus: Tutorial3Bus | None = None
        self.files: DemoFiles | None = None
        self._t0 = time.monotonic()
        self._scenario_thread: threading.Thread | None = None

    def prepare(self) -> None:
        """Start the broker, write the config copy and build the appliance (BrokerError, ConfigError)."""
        broker = start_local_broker(self.port)
        self.broker = broker
        self.port = broker.port
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="jnt-demo-")
            self.workdir = Path(self._tmp.name)
        timer = SCENARIO_TIMER_DELAY if self.scenario == "overheat" else None
        self.files = prepare_config(self.workdir, broker.port, timer_delay=timer)
        setup_logging(JanitooConfig(self.files.conf))
        server = Server(self.files.conf)
        self.server = server
        self.bus = next(rt.bus for rt in server.runtimes if isinstance(rt.bus, Tutorial3Bus))
        self.bus.listeners.append(self._print_change)

    def start(self) -> None:
        """Put the appliance on the network and start the scenario (ConnectError on failure)."""
        assert self.server is not None
        self._t0 = time.monotonic()
        self.server.start()
        if self.scenario == "overheat":
            self._scenario_thread = threading.Thread(target=self._overheat, name="jnt-demo", daemon=True)
            self._scenario_thread.start()

    def banner(self) -> str:
        assert self.files is not None and self.broker is not None
        kind = "mosquitto" if isinstance(self.broker, MosquittoBroker) else "amqtt (embedded)"
        lines = [
            "Janitoo demo: the HelloWorld V3 appliance (tutorial3) on simulated hardware",
            f"  web        JNT_PORT={self.port} jnt web, then open http://127.0.0.1:8080/ (the web manager)",
            f"  broker     {kind} on 127.0.0.1:{self.port}",
            "  nodes      0225/0000 controller, 0001 DHT, 0002 DS18B20, 0003 CPU, 0004 LED",
            f"  config     {self.files.conf}",
            "  sensors    write a temperature (°C) into one of these files to change a reading:",
            f"             {self.files.ds18b20} (DS18B20)",
            f"             {self.files.cpu} (CPU)",
            f"             {self.files.ambiance} (DHT11: 0..50 °C)",
            "             when 2 of the 3 are above 50 °C, the machine rings (once it is awake)",
            "",
            "Try, in another terminal:",
            *(f"  {c}" for c in try_commands(int(self.port or 0))),
            "",
        ]
        if self.scenario == "overheat":
            lines.append("Scenario overheat: wake up, heat the DS18B20 and the CPU to 55 °C, cool them down.")
        else:
            lines.append("The machine boots into sleeping; wake it up with the tutorial3_transition command.")
        lines.append("Ctrl+C to stop.")
        return "\n".join(lines)

    def _say(self, text: str) -> None:
        self.echo(f"[{time.monotonic() - self._t0:6.1f}s] {text}")

    def _print_change(self, change: Change) -> None:
        bus = self.bus
        assert bus is not None
        led = bus.led()
        avg = bus.temperature.cached()
        self._say(f"state {change.source} -> {change.dest} ({change.trigger}); LED {led.mode if led else '-'}, "
                  f"overheat {bus.overheat.cached()}, average {'-' if avg is None else f'{avg} °C'}")  # fmt: skip
        self.reached[change.dest].set()

    def _fire(self, trigger: str) -> None:
        bus, server = self.bus, self.server
        assert bus is not None and server is not None
        worker = next(rt.worker for rt in server.runtimes if rt.bus is bus)

        def job() -> None:
            bus.try_fire(trigger)

        worker.submit(job)

    def _wait_state(self, state: str, timeout: float) -> bool:
        self.reached[state].wait(timeout)
        return not self.done.is_set() and self.reached[state].is_set()

    def _overheat(self) -> None:
        files_ = self.files
        assert files_ is not None
        if self.done.wait(WAKEUP_AFTER):
            return
        self._say("demo: wakeup (as the tutorial3_transition command above does)")
        self._fire("wakeup")
        if not self._wait_state(REPORTING, 30) or self.done.wait(HEAT_AFTER):
            return
        self.reached[REPORTING].clear()
        self._say(f"demo: heating the DS18B20 and the CPU to {HOT} °C (critical: 50 °C)")
        write_sim(files_.ds18b20, HOT)
        write_sim(files_.cpu, HOT)
        if not self._wait_state(RINGING, 30) or self.done.wait(HOT_FOR):
            return
        self._say(f"demo: cooling them down to {DS18B20_TEMPERATURE} and {CPU_TEMPERATURE} °C")
        write_sim(files_.ds18b20, DS18B20_TEMPERATURE)
        write_sim(files_.cpu, CPU_TEMPERATURE)
        if self._wait_state(REPORTING, 30):
            self._say("demo: back to reporting; the scenario is over (Ctrl+C to stop)")

    def wait(self, duration: float | None = None) -> None:
        """Until stop() (a signal) or `duration` seconds."""
        self.done.wait(duration)

    def stop(self) -> None:
        self.done.set()
        for event in self.reached.values():
            event.set()  # releases the scenario's waits

    def close(self) -> None:
        """Stop the appliance (OFFLINE heartbeats), the broker, and remove the temporary files."""
        self.stop()
        if self._scenario_thread is not None:
            self._scenario_thread.join(5)
        if self.server is not None:
            self.server.stop()
        if self.broker is not None:
            self.broker.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
