"""The HelloWorld V3 appliance on its sim backends through a real mosquitto: the tutorial's transcript,
the overheat scenario, refused triggers, and `jnt-node demo` as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from janitoo_cli.main import cli as jnt_cli
from janitoo_node.apps import demo as demo_module
from janitoo_node.apps.demo import DemoFiles, prepare_config, write_sim
from janitoo_node.apps.tutorial3 import Tutorial3Bus
from janitoo_node.broker import MosquittoBroker, free_port
from janitoo_node.hardware.gpio import SimGpio
from janitoo_node.server import Server
from janitoo_protocol import RequestRefused, ValuePublication
from janitoo_protocol.transport import Envelope, JanitooClient, Subscription
from tests.helpers import wait_for

PREFIX = "tutorial3-e2e"
CONTROLLER = "0225/0000"
LED = "0225/0004"
REPO = Path(__file__).resolve().parents[2]

# `jnt query network`: hadd uuid name location product_type.
NODE_ROWS = [
    "0225/0000 tutorial3 Hello world Rapsberry Default product type",
    "0225/0001 tutorial3__ambiance Ambiance 1 DHT Temperature/humidity sensor",
    "0225/0002 tutorial3__temperature Temperature Onewire Temperature sensor",
    "0225/0003 tutorial3__cpu CPU Hostsensor Software component",
    "0225/0004 tutorial3__led Led GPIO Software",
]
# `jnt query node --hadd 0225/0000 --vuuid ...`: (hadd, uuid, idx, units, type, genre, cmdclass, help).
POLL = "The poll delay of the value"
USER_ROWS = [
    ("0225/0000", "tutorial3_change", 0, None, 8, 2, 0, "Change the state of the machine."),
    ("0225/0000", "tutorial3_overheat", 0, None, 1, 2, 48, "Temperature overheat."),
    ("0225/0000", "tutorial3_state", 0, None, 8, 2, 49, "The state of the machine."),
    ("0225/0000", "tutorial3_temperature", 0, "°C", 3, 2, 49, "The average temperature of tutorial."),
    ("0225/0001", "humidity", 0, "%", 3, 2, 49, "The humidity"),
    ("0225/0001", "temperature", 0, "°C", 3, 2, 49, "The temperature"),
    ("0225/0002", "temperature", 0, "°C", 3, 2, 49, "The temperature"),
    ("0225/0003", "cpu_governor", 0, None, 8, 2, 1, "Change the cpu governor"),
    ("0225/0003", "frequency", 0, "MHz", 3, 2, 49, "The frequency of the CPU"),
    ("0225/0003", "temperature", 0, "°C", 3, 2, 49, "The temperature of the CPU"),
    ("0225/0003", "voltage", 0, "V", 3, 2, 49, "The voltage of the CPU"),
]
CONFIG_ROWS = [
    ("0225/0000", "location", 0, None, 8, 3, 112, "The location of the node"),
    ("0225/0000", "name", 0, None, 8, 3, 112, "The name of the node"),
    ("0225/0000", "rpi1wire_sensors_dir", 0, None, 8, 3, 112, "The sensor directory"),
    ("0225/0000", "rpigpio_boardmode", 0, None, 5, 3, 112, "The board mode to use"),
    ("0225/0000", "tutorial3_change_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0000", "tutorial3_overheat_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0000", "tutorial3_state_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0000", "tutorial3_temperature_critical", 0, None, 4, 3, 112,
     "The critical temperature. If 2 of the 3 temperature sensors are up to this value, a security "
     "notification is sent."),
    ("0225/0000", "tutorial3_temperature_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0000", "tutorial3_timer_delay", 0, None, 4, 3, 112, "The delay between 2 checks"),
    ("0225/0000", "tutorial3_transition_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0001", "humidity_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0001", "location", 0, None, 8, 3, 112, "The location of the node"),
    ("0225/0001", "name", 0, None, 8, 3, 112, "The name of the node"),
    ("0225/0001", "pin", 0, None, 4, 3, 112, "The pin number on the board"),
    ("0225/0001", "sensor", 0, None, 4, 3, 112, "The sensor type : 11,22,2302"),
    ("0225/0001", "temperature_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0002", "hexadd", 0, None, 8, 3, 112, "The hexadecimal address of the DS18B20"),
    ("0225/0002", "location", 0, None, 8, 3, 112, "The location of the node"),
    ("0225/0002", "name", 0, None, 8, 3, 112, "The name of the node"),
    ("0225/0002", "temperature_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0003", "cpu_governor_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0003", "frequency_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0003", "location", 0, None, 8, 3, 112, "The location of the node"),
    ("0225/0003", "name", 0, None, 8, 3, 112, "The name of the node"),
    ("0225/0003", "temperature_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0003", "voltage_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0004", "blink_poll", 0, "seconds", 4, 3, 112, POLL),
    ("0225/0004", "location", 0, None, 8, 3, 112, "The location of the node"),
    ("0225/0004", "name", 0, None, 8, 3, 112, "The name of the node"),
    ("0225/0004", "pin", 0, None, 4, 3, 112, "The pin number on the board"),
    ("0225/0004", "switch_poll", 0, "seconds", 4, 3, 112, POLL),
]  # fmt: skip


class Seen:
    """The latest publication of each value, read from one subscription as the tests wait on it."""

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        self.latest: dict[tuple[str, str], ValuePublication] = {}

    def wait(self, hadd: str, uuid: str, data: Any, timeout: float = 10.0) -> ValuePublication:

        def published(env: Envelope | None) -> bool:
            m = None if env is None else env.message
            if isinstance(m, ValuePublication):
                self.latest[(str(m.hadd), m.uuid)] = m
            pub = self.latest.get((hadd, uuid))
            return pub is not None and pub.values[0].data == data

        if not published(None):
            wait_for(self.sub, published, timeout, f"{hadd} {uuid} published as {data!r} "
                     f"(last: {self.latest.get((hadd, uuid))})")  # fmt: skip
        return self.latest[(hadd, uuid)]


@dataclass
class Appliance:
    server: Server
    files: DemoFiles
    client: JanitooClient
    seen: Seen
    port: int

    def gpio(self) -> SimGpio:
        bus = next(rt.bus for rt in self.server.runtimes if isinstance(rt.bus, Tutorial3Bus))
        assert isinstance(bus.gpio, SimGpio)
        return bus.gpio

    def trigger(self, word: str) -> None:
        ack = self.client.set_value(CONTROLLER, "tutorial3_transition", "basic", word, cmd_class=4272)
        assert ack.data == word


@pytest.fixture(scope="module")
def appliance(broker: MosquittoBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """The example config (copied: backend sim, this broker, a check every second), served in-process."""
    files = prepare_config(tmp_path_factory.mktemp("tutorial3"), broker.port, prefix=PREFIX, timer_delay=1)
    with JanitooClient(port=broker.port, prefix=PREFIX) as client:
        seen = Seen(client.watch("values"))
        server = Server(files.conf)
        try:
            server.start()
            # Booted: every sensor read once, then asleep.
            seen.wait(CONTROLLER, "tutorial3_state", "sleeping")
            yield Appliance(server, files, client, seen, broker.port)
        finally:
            server.stop()


@pytest.fixture
def jnt(appliance: Appliance, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    """`jnt <args> --port P --prefix X` in-process, with no setting of the developer's leaking in."""
    for name in list(os.environ):
        if name.startswith("JNT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(jnt_cli, [*args, "--port", str(appliance.port), "--prefix", PREFIX])

    return run


def _rows(result: Result) -> list[str]:
    """The table's rows with their columns joined by one space (the transcript's shape)."""
    assert result.exit_code == 0, result.stderr
    return [" ".join(line.split()) for line in result.stdout.splitlines()[1:]]


def _records(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _described(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("hadd", "uuid", "idx", "units", "type", "genre", "cmdclass", "help")
    return [tuple(r[k] for k in keys) for r in records]


def test_query_network_lists_the_five_nodes(jnt: Callable[..., Result]) -> None:
    assert _rows(jnt("query", "network")) == NODE_ROWS
    nodes = _records(jnt("query", "network", "--format", "json"))
    assert {n["hadd"]: n["state"] for n in nodes} == {row[:9]: "ONLINE" for row in NODE_ROWS}
    assert nodes[0]["product_name"] == "Raspberry tutorial controller"


def test_query_node_users(jnt: Callable[..., Result]) -> None:
    records = _records(
        jnt("query", "node", "--hadd", CONTROLLER, "--vuuid", "request_info_users", "--format", "json")
    )
    assert _described(records) == USER_ROWS
    rows = _rows(jnt("query", "node", "--hadd", CONTROLLER, "--vuuid", "request_info_users"))
    assert "0225/0002 tutorial3__temperature temperature 0 19.5 °C 3 2 49 The temperature" in rows
    # The seed's row, exactly (the state is a basic value too: test_query_node_basics).
    assert "0225/0000 tutorial3 tutorial3_state 0 sleeping None 8 2 49 The state of the machine." in rows


def test_query_node_configs(jnt: Callable[..., Result]) -> None:
    records = _records(
        jnt("query", "node", "--hadd", CONTROLLER, "--vuuid", "request_info_configs", "--format", "json")
    )
    assert _described(records) == CONFIG_ROWS
    rows = _rows(jnt("query", "node", "--hadd", CONTROLLER, "--vuuid", "request_info_configs"))
    # The seed's rows: the CPU polls every 30 s, from examples/helloworldv3.conf as shipped.
    for uuid in ("frequency_poll", "temperature_poll", "voltage_poll"):
        assert f"0225/0003 tutorial3__cpu {uuid} 0 30 seconds 4 3 112 The poll delay of the value" in rows
    critical = next(r for r in rows if " tutorial3_temperature_critical " in r)
    assert critical.startswith("0225/0000 tutorial3 tutorial3_temperature_critical 0 50 None 4 3 112 "
                               "The critical temperature. If 2 of the 3 ")  # fmt: skip


def test_query_node_basics(jnt: Callable[..., Result]) -> None:
    records = _records(
        jnt("query", "node", "--hadd", CONTROLLER, "--vuuid", "request_info_basics", "--format", "json")
    )
    keys = ("hadd", "uuid", "type", "genre", "cmdclass", "help")
    assert [tuple(r[k] for k in keys) for r in records] == [
        ("0225/0000", "tutorial3_state", 8, 1, 49, "The state of the fsm."),
        ("0225/0000", "tutorial3_transition", 5, 1, 4272, "Trigger a transition on the fsm or get the last triggered"),
        ("0225/0004", "blink", 5, 1, 12803, "Blink"),
        ("0225/0004", "switch", 5, 1, 37, "A switch. Valid values are : ['on', 'off']"),
    ]  # fmt: skip


def test_overheat_rings_and_comes_back(appliance: Appliance) -> None:
    seen, files = appliance.seen, appliance.files
    appliance.trigger("sleep")
    seen.wait(CONTROLLER, "tutorial3_state", "sleeping")
    appliance.trigger("wakeup")
    seen.wait(CONTROLLER, "tutorial3_state", "reporting")
    seen.wait(LED, "blink", "heartbeat")
    heated = time.monotonic()
    write_sim(files.ds18b20, 55)
    write_sim(files.cpu, 55)
    seen.wait(CONTROLLER, "tutorial3_state", "ringing")
    seen.wait(CONTROLLER, "tutorial3_overheat", True)
    seen.wait(LED, "blink", "warning")
    # The LED pin itself flashes: lit when warning began.
    assert any(level and when >= heated for when, level in appliance.gpio().history_for(19))
    write_sim(files.ds18b20, 19.5)
    write_sim(files.cpu, 45)
    seen.wait(CONTROLLER, "tutorial3_state", "reporting")
    seen.wait(CONTROLLER, "tutorial3_overheat", False)
    seen.wait(LED, "blink", "heartbeat")
    average = appliance.client.get_value(CONTROLLER, "tutorial3_temperature", "user", cmd_class=49)
    # 28.5 once both are cool; 31.83 when the check that reported ran between the two writes.
    assert average.data in (28.5, 31.83) and average.units == "°C"


def test_a_refused_trigger_is_answered_with_the_reason(
    appliance: Appliance, jnt: Callable[..., Result]
) -> None:
    appliance.trigger("sleep")
    with pytest.raises(RequestRefused, match="ring is not allowed from sleeping"):
        appliance.client.set_value(CONTROLLER, "tutorial3_transition", "basic", "ring", cmd_class=4272)
    with pytest.raises(RequestRefused, match="'dance' is not a trigger"):
        appliance.client.set_value(CONTROLLER, "tutorial3_change", "user", "dance", cmd_class=0)
    result = jnt("query", "value", "--hadd", CONTROLLER, "--uuid", "tutorial3_transition", "--genre", "basic",
                 "--cmdclass", "4272", "--set", "wakeup")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    result = jnt("query", "value", "--hadd", CONTROLLER, "--uuid", "tutorial3_transition", "--genre", "basic",
                 "--cmdclass", "4272", "--set", "wakeup")  # fmt: skip
    assert result.exit_code == 5
    assert result.stderr.strip().splitlines() == [
        "jnt: error: node 0225/0000 refused SET of 'tutorial3_transition': "
        "wakeup is not allowed from reporting (only from sleeping)"
    ]
    state = appliance.client.get_value(CONTROLLER, "tutorial3_state", "basic", cmd_class=49)
    assert state.data == "reporting"
    # The seed's user twin answers a GET in its own genre, with its own help.
    state = appliance.client.get_value(CONTROLLER, "tutorial3_state", "user", cmd_class=49)
    assert (state.data, state.genre, state.help) == ("reporting", 2, "The state of the machine.")


def test_the_demo_runs_and_stops(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNT_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "janitoo_node.cli", "demo", "--duration", "3", "--port", str(port)],
        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"broker     mosquitto on 127.0.0.1:{port}" in proc.stdout
    assert proc.stdout.splitlines()[1] == (
        f"  web        JNT_PORT={port} jnt web, then open http://127.0.0.1:8080/ (the web manager)"
    )
    assert f"  export JNT_PORT={port}\n  jnt web\n  jnt query network\n" in proc.stdout
    assert "state booting -> sleeping (sleep)" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_the_demo_overheat_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    # The scenario's pauses shortened; the appliance and the broker are the demo's own.
    for name, value in (
        ("WAKEUP_AFTER", 0.1),
        ("HEAT_AFTER", 0.1),
        ("HOT_FOR", 0.5),
        ("SCENARIO_TIMER_DELAY", 1),
    ):
        monkeypatch.setattr(demo_module, name, value)
    lines: list[str] = []
    over = threading.Event()

    def echo(line: str) -> None:
        lines.append(line)
        if "scenario is over" in line:
            over.set()

    show = demo_module.Demo(free_port(), "overheat", echo=echo)
    try:
        show.prepare()
        show.start()
        assert over.wait(30), "\n".join(lines)
    finally:
        show.close()
    changes = [line.split("] ", 1)[1] for line in lines if "] state " in line]
    assert [c.split(";")[0] for c in changes] == [
        "state booting -> sleeping (sleep)",
        "state sleeping -> reporting (wakeup)",
        "state reporting -> ringing (ring)",
        "state ringing -> reporting (report)",
    ]
    assert "LED warning, overheat True" in changes[2]
    assert "LED heartbeat, overheat False" in changes[3]


def test_every_query_value_help_example_answers_on_the_appliance(
    appliance: Appliance, jnt: Callable[..., Result]
) -> None:
    import shlex

    from janitoo_cli.query import query_value

    examples = [line.strip() for line in (query_value.help or "").splitlines()
                if line.strip().startswith("jnt query value")]  # fmt: skip
    assert len(examples) >= 4
    state = appliance.client.get_value(CONTROLLER, "tutorial3_state", "basic", cmd_class=49).data
    if state != "sleeping":  # the examples are written for the demo, which starts asleep
        appliance.trigger("sleep")
    location = appliance.client.get_value("0225/0001", "location", "config").data
    try:
        for example in examples:
            result = jnt(*shlex.split(example)[1:])
            assert result.exit_code == 0, (example, result.stderr)
    finally:
        appliance.client.set_value("0225/0001", "location", "config", location)
        appliance.trigger("sleep")


def test_every_query_the_demo_suggests_answers(appliance: Appliance, jnt: Callable[..., Result]) -> None:
    import shlex

    from janitoo_node.apps.demo import try_commands

    queries = [c for c in try_commands(appliance.port) if c.startswith("jnt query")]
    assert len(queries) >= 6
    state = appliance.client.get_value(CONTROLLER, "tutorial3_state", "basic", cmd_class=49).data
    if state != "sleeping":  # the demo starts asleep; its suggestions wake it up, then put it to sleep
        appliance.trigger("sleep")
    for command in queries:  # the fixture adds this broker's --port and --prefix, as JNT_PORT would
        result = jnt(*shlex.split(command)[1:])
        assert result.exit_code == 0, (command, result.stderr)
