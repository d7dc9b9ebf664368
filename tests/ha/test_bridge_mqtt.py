"""The bridge on a real mosquitto with the HelloWorld V3 appliance (sim) as a node process: retained discovery,
availability from the last will, commands and refusals, HA's birth, a broker restart, hostile nodes."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner

from janitoo_cli.main import cli as jnt_cli
from janitoo_ha.bridge import Options
from janitoo_ha.mapping import Layout
from janitoo_ha.runtime import BridgeRuntime
from janitoo_ha.wire import JanitooClient, NodeInfo, Topics, ValueInfo, ValueType
from janitoo_node.apps.demo import prepare_config
from janitoo_node.broker import MosquittoBroker
from tests.helpers import NodeProcess
from tests.protocol.fakenode import FakeController

LED = "janitoo_0225_0004"
# The HelloWorld V3 appliance's entities by platform (its 5 nodes, their values, a liveness each) + the bridge's.
PLATFORMS = {"sensor": 29, "number": 19, "text": 13, "select": 4, "switch": 1, "binary_sensor": 1}


class Mqtt:
    """A plain MQTT client of the test: every message it hears, in a queue and as the last per topic."""

    def __init__(self, port: int, topic: str) -> None:
        self.messages: queue.Queue[tuple[str, str, bool]] = queue.Queue()
        self.last: dict[str, str] = {}
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        subscribed = queue.Queue[int]()
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda c, u, mid, rc, p: subscribed.put(mid)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        self.c.subscribe(topic, qos=1)
        subscribed.get(timeout=5)

    def _on_message(self, c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        payload = m.payload.decode("utf-8", "replace")
        self.last[m.topic] = payload
        self.messages.put((m.topic, payload, bool(m.retain)))

    def wait(self, pred: Callable[[str, str, bool], bool], timeout: float = 10.0) -> tuple[str, str, bool]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no such message within the time") from None
            if pred(*msg):
                return msg

    def wait_last(self, topic: str, payload: str, timeout: float = 10.0) -> None:
        if self.last.get(topic) != payload:
            self.wait(lambda t, p, r: t == topic and p == payload, timeout)

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@dataclass
class Rig:
    port: int
    prefix: str
    layout: Layout
    node: NodeProcess
    runtime: BridgeRuntime
    client: JanitooClient

    def configs(self, timeout: float = 10.0) -> dict[str, dict[str, object]]:
        """The retained discovery configs, as a fresh subscriber sees them."""
        watcher = Mqtt(self.port, f"{self.layout.discovery_prefix}/#")
        try:
            # Retained messages come right after SUBACK: wait until the whole appliance is there (or time out).
            deadline = time.monotonic() + timeout
            count = sum(PLATFORMS.values()) + 1
            while len([p for p in watcher.last.values() if p]) < count and time.monotonic() < deadline:
                try:
                    watcher.messages.get(timeout=0.2)
                except queue.Empty:
                    pass
            return {t: json.loads(p) for t, p in watcher.last.items() if p}
        finally:
            watcher.close()


def start_bridge(
    port: int, prefix: str, options: Options | None = None
) -> tuple[BridgeRuntime, JanitooClient]:
    layout = Layout(discovery_prefix=f"{prefix}-ha", bridge_topic=f"{prefix}-bridge", topics=Topics(prefix))
    holder: list[BridgeRuntime] = []
    client = JanitooClient(
        port=port, prefix=prefix, reply_hadd="9999/9980", reconnect_max=0.5,
        will=(layout.bridge_availability, b"offline"),
        on_connection_change=lambda up: holder[0].connection_changed(up) if holder else None,
    )  # fmt: skip
    runtime = BridgeRuntime(client, layout, options or Options(refresh_delay=0.3), discovery_timeout=3.0)
    holder.append(runtime)
    client.connect()
    runtime.start()
    return runtime, client


def start_node(tmp: Path, port: int, prefix: str) -> NodeProcess:
    tmp.mkdir(exist_ok=True)
    files = prepare_config(tmp, port, prefix=prefix)
    return NodeProcess(files.conf).start()


@pytest.fixture
def rig_for(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(broker: MosquittoBroker, prefix: str, options: Options | None = None) -> Rig:
        node = start_node(tmp_path / "node", broker.port, prefix)
        with JanitooClient(port=broker.port, prefix=prefix, reply_hadd="9999/9970") as probe:
            # Up once it answers: the bridge's first discovery then finds it.
            deadline = time.monotonic() + 20
            while not probe.discover(["request_info_nodes"], timeout=1.0).nodes:
                assert time.monotonic() < deadline, node.output()
        runtime, client = start_bridge(broker.port, prefix, options)
        assert runtime.ready.wait(15)
        rig = Rig(broker.port, prefix, runtime.layout, node, runtime, client)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        rig.runtime.stop()
        rig.client.close()
        rig.node.stop()


def test_retained_discovery_describes_the_appliance(
    broker: MosquittoBroker, prefix: str, rig_for: Callable[..., Rig]
) -> None:
    rig = rig_for(broker, prefix)
    configs = rig.configs()
    dp = rig.layout.discovery_prefix
    counts: dict[str, int] = {}
    for topic in configs:
        platform = topic.split("/")[1]
        counts[platform] = counts.get(platform, 0) + 1
    assert counts == {**PLATFORMS, "sensor": PLATFORMS["sensor"] + 1}  # + the bridge's refusal sensor
    blink = configs[f"{dp}/select/{LED}/basic_blink/config"]
    assert blink["state_topic"] == f"{prefix}/values/basic/0225/0004/blink"
    assert blink["command_topic"] == f"{prefix}-bridge/{LED}/basic_blink/set"
    assert blink["options"] == ["off", "blink", "heartbeat", "info", "notify", "warning", "alert"]
    assert blink["device"]["via_device"] == "janitoo_0225_0000"  # type: ignore[index]
    temp = configs[f"{dp}/sensor/janitoo_0225_0001/user_temperature/config"]
    assert (temp["device_class"], temp["unit_of_measurement"], temp["state_class"]) == (
        "temperature",
        "°C",
        "measurement",
    )
    assert (
        configs[f"{dp}/number/janitoo_0225_0000/config_tutorial3_timer_delay/config"]["entity_category"]
        == "config"
    )
    assert (
        configs[f"{dp}/sensor/janitoo_0225_0000/system_heartbeat/config"]["entity_category"] == "diagnostic"
    )
    # Every topic a config names is under the bridge's topic or the network's /values/.
    for cfg in configs.values():
        for key in ("state_topic", "command_topic"):
            if key in cfg:
                assert str(cfg[key]).startswith((f"{prefix}-bridge/", f"{prefix}/values/")), cfg[key]


def test_killed_node_goes_offline_by_its_last_will_and_comes_back(
    broker: MosquittoBroker, prefix: str, rig_for: Callable[..., Rig]
) -> None:
    rig = rig_for(broker, prefix)
    watcher = Mqtt(broker.port, f"{prefix}-bridge/+/+")
    try:
        avail = f"{prefix}-bridge/{LED}/availability"
        watcher.wait_last(avail, "online")
        rig.node.stop(signal.SIGKILL)
        watcher.wait_last(avail, "offline")
        watcher.wait_last(f"{prefix}-bridge/{LED}/state", "OFFLINE")
        rig.node.start()
        watcher.wait_last(avail, "online", timeout=20)
        watcher.wait_last(f"{prefix}-bridge/{LED}/state", "ONLINE")
    finally:
        watcher.close()


def test_a_command_sets_the_node_and_a_refusal_is_reported(
    broker: MosquittoBroker, prefix: str, rig_for: Callable[..., Rig]
) -> None:
    rig_for(broker, prefix)
    values = Mqtt(broker.port, f"{prefix}/values/basic/0225/+/+")
    refusals = Mqtt(broker.port, f"{prefix}-bridge/bridge/refusal")
    try:
        values.publish(f"{prefix}-bridge/{LED}/basic_blink/set", "warning")
        values.wait(lambda t, p, r: t.endswith("/0225/0004/blink") and json.loads(p).get("data") == "warning")
        # Refused by the node, with its reason.
        values.publish(f"{prefix}-bridge/janitoo_0225_0000/basic_tutorial3_transition/set", "ring")
        _, payload, _ = refusals.wait(lambda t, p, r: "ring" in p)
        report = json.loads(payload)
        assert report["error"] == "ring is not allowed from sleeping (only from reporting)"
        assert (report["hadd"], report["uuid"], report["data"]) == (
            "0225/0000",
            "tutorial3_transition",
            "ring",
        )
        # Refused by the bridge before any request: not one of the options.
        values.publish(f"{prefix}-bridge/{LED}/basic_blink/set", "disco")
        _, payload, _ = refusals.wait(lambda t, p, r: "disco" in p)
        assert json.loads(payload)["error"] == "'disco' is not one of the options"
    finally:
        values.close()
        refusals.close()


def test_home_assistant_birth_republishes_the_configs(
    broker: MosquittoBroker, prefix: str, rig_for: Callable[..., Rig]
) -> None:
    rig = rig_for(broker, prefix)
    dp = rig.layout.discovery_prefix
    watcher = Mqtt(broker.port, f"{dp}/+/{LED}/+/config")
    states = Mqtt(broker.port, f"{prefix}/values/basic/0225/0004/blink")
    try:
        # Once: retained, or live when the bridge's first publications reach the broker after our SUBSCRIBE.
        watcher.wait(lambda t, p, r: t.endswith("/basic_blink/config"))
        watcher.publish(f"{dp}/status", "online")
        # Live copies (retain flag off for a subscriber that was already there), then the states asked for.
        watcher.wait(lambda t, p, r: not r and t.endswith("/basic_blink/config"))
        states.wait(lambda t, p, r: json.loads(p).get("uuid") == "blink")
    finally:
        watcher.close()
        states.close()


def test_a_broker_restart_loses_nothing(private_broker: MosquittoBroker, rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(private_broker, "site")
    before = rig.configs()
    private_broker.restart()  # no persistence: every retained config is gone from the broker
    assert rig.client.wait_connected(20)
    after = rig.configs()
    assert after == before
    watcher = Mqtt(private_broker.port, "site-bridge/+/availability")
    try:
        watcher.wait_last(f"site-bridge/{LED}/availability", "online")
        watcher.wait_last("site-bridge/bridge/availability", "online")
    finally:
        watcher.close()


def test_a_bridge_restart_loses_nothing(
    broker: MosquittoBroker, prefix: str, rig_for: Callable[..., Rig]
) -> None:
    rig = rig_for(broker, prefix)
    before = rig.configs()
    watcher = Mqtt(broker.port, f"{prefix}-bridge/bridge/availability")
    try:
        watcher.wait_last(f"{prefix}-bridge/bridge/availability", "online")
        rig.runtime.stop()
        rig.client.close()
        watcher.wait_last(f"{prefix}-bridge/bridge/availability", "offline")  # HA greys everything out
        rig.runtime, rig.client = start_bridge(broker.port, prefix)
        assert rig.runtime.ready.wait(15)
        watcher.wait_last(f"{prefix}-bridge/bridge/availability", "online")
    finally:
        watcher.close()
    assert rig.configs() == before  # the same devices and entities: HA keeps their ids and history


def test_a_node_that_leaves_for_good_is_removed(
    broker: MosquittoBroker, prefix: str, rig_for: Callable[..., Rig]
) -> None:
    rig = rig_for(broker, prefix, Options(refresh_delay=0.3, forget_after=0.5))
    dp = rig.layout.discovery_prefix
    watcher = Mqtt(broker.port, f"{dp}/+/{LED}/+/config")
    try:
        watcher.wait(lambda t, p, r: p != "" and t.endswith("/basic_blink/config"))
        rig.node.stop(signal.SIGTERM)  # a clean stop: OFFLINE heartbeats, then nothing
        watcher.wait(lambda t, p, r: p == "" and t.endswith("/basic_blink/config"))
    finally:
        watcher.close()
    remaining = [t for t, cfg in rig.configs(timeout=1.0).items() if "janitoo_0225_" in t]
    assert remaining == []


# ---------------------------------------------------------------------------------------------- hostile nodes

EVIL = ["a/b", "+", "#", "x/#", "../../up", "{{ 7 * 7 }}", "n\nl", "é" * 300]
TOPIC_LEVEL = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_a_hostile_node_never_makes_a_topic_outside_the_prefixes(
    broker: MosquittoBroker, prefix: str
) -> None:
    fake = FakeController("127.0.0.1", broker.port, 1118, 2, prefix=prefix)
    for hadd in fake.hadds:
        fake.nodes[hadd] = NodeInfo(uuid="evil/+#", hadd=hadd, name="{{ states | list }}\x00\u202e" + "N" * 500,
                                    product_name="#/+", product_manufacturer="\n" * 10)  # fmt: skip
        for i, uuid in enumerate(EVIL):
            fake.values[hadd][uuid] = {0: ValueInfo(uuid=uuid, hadd=hadd, genre=2, type=ValueType.LIST, cmd_class=0,
                                                    is_readonly=False, list_items=[uuid, "{% raw %}", 7, None],
                                                    units=uuid, label=uuid, help=uuid, data=uuid, index=i % 2)}  # fmt: skip
    spy = Mqtt(broker.port, "#")
    # Retained messages of earlier tests come first: everything after this marker is this test's.
    spy.publish(f"{prefix}/marker", "x")
    spy.wait(lambda t, p, r: t == f"{prefix}/marker")
    spy.last.clear()
    fake.start()
    runtime, client = start_bridge(broker.port, prefix)
    try:
        assert runtime.ready.wait(15)
        spy.wait(lambda t, p, r: t.startswith(f"{prefix}-ha/") and "1118_0001" in t and "liveness" in t)
        # Commands with hostile topics and payloads: dropped or refused, never a crash.
        for topic in (f"{prefix}-bridge/janitoo_1118_0001/#/set", f"{prefix}-bridge/+/+/set",
                      f"{prefix}-bridge/janitoo_1118_0001/user_counter/set"):  # fmt: skip
            spy.publish(topic.replace("#", "x").replace("+", "y"), "\xff" * 5000)
        spy.publish(f"{prefix}-ha/status", "online")
        spy.wait(lambda t, p, r: t == f"{prefix}-ha/status")
        runtime.ready.wait(1)
        seen = dict(spy.last)
    finally:
        runtime.stop()
        client.close()
        fake.close()
        spy.close()
    bridge_topics = [t for t in seen if t.startswith((f"{prefix}-ha/", f"{prefix}-bridge/"))]
    assert len(bridge_topics) > 10
    for topic in seen:
        assert topic.startswith((f"{prefix}/", f"{prefix}-ha/", f"{prefix}-bridge/")), topic
    for topic in bridge_topics:
        levels = topic.split("/")
        if topic.startswith(f"{prefix}-ha/") and topic.endswith("/config"):
            assert len(levels) == 5 and TOPIC_LEVEL.match(levels[2]) and TOPIC_LEVEL.match(levels[3]), topic
            cfg = json.loads(seen[topic])
            assert "{{ states" not in json.dumps(cfg.get("value_template", "")), topic
            assert len(cfg["device"]["name"]) <= 64
    # The uuids that cannot be a topic level have no entity at all.
    for uuid in ("a/b", "+", "#", "x/#", "../../up"):
        assert not any(f"/values/user/1118/0001/{uuid}" == json.loads(seen[t]).get("state_topic")
                       for t in bridge_topics if t.endswith("/config"))  # fmt: skip


# ---------------------------------------------------------------------------------------------- the command


def test_install_service_prints_a_unit() -> None:
    result = CliRunner().invoke(jnt_cli, ["bridge", "install-service", "--print", "--user", "jnt"])
    assert result.exit_code == 0, result.output
    assert "bridge homeassistant\n" in result.output and "User=jnt\n" in result.output
    assert "EnvironmentFile=-/etc/janitoo/ha-bridge.env\n" in result.output
    bad = CliRunner().invoke(
        jnt_cli, ["bridge", "install-service", "--print", "--user", "root\nExecStart=/x"]
    )
    assert bad.exit_code == 2 and "invalid user name" in bad.output


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--discovery-prefix", "home/#"], "is not a topic to publish under"),
     (["--bridge-topic", "a//b"], "is not a topic to publish under"),
     (["--bridge-topic", "homeassistant/x"], "must not contain one another"),
     (["--web-url", "javascript:alert(1)"], "is not an http:// or https:// URL")],
)  # fmt: skip
def test_bad_bridge_options_are_one_line_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(jnt_cli, ["bridge", "homeassistant", *args, "--port", "1"])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_the_bridge_process_stops_cleanly_on_sigterm(
    broker: MosquittoBroker, prefix: str, tmp_path: Path
) -> None:
    watcher = Mqtt(broker.port, f"{prefix}-bridge/bridge/availability")
    proc = subprocess.Popen(
        [sys.executable, "-m", "janitoo_cli", "bridge", "homeassistant", "--port", str(broker.port), "--prefix", prefix,
         "--discovery-prefix", f"{prefix}-ha", "--bridge-topic", f"{prefix}-bridge", "--timeout", "1"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        watcher.wait_last(f"{prefix}-bridge/bridge/availability", "online", timeout=20)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        watcher.wait_last(f"{prefix}-bridge/bridge/availability", "offline")
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
        watcher.close()


def test_a_killed_bridge_leaves_a_retained_offline_for_a_home_assistant_started_later(
    broker: MosquittoBroker, prefix: str
) -> None:
    topic = f"{prefix}-bridge/bridge/availability"
    watcher = Mqtt(broker.port, topic)
    proc = subprocess.Popen(
        [sys.executable, "-m", "janitoo_cli", "bridge", "homeassistant", "--port", str(broker.port), "--prefix", prefix,
         "--discovery-prefix", f"{prefix}-ha", "--bridge-topic", f"{prefix}-bridge", "--timeout", "1"],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        watcher.wait_last(topic, "online", timeout=20)
        proc.kill()  # a crash: only the broker can speak for the bridge now
        proc.wait(10)
        watcher.wait_last(topic, "offline")  # the will, delivered live
    finally:
        if proc.poll() is None:
            proc.kill()
        watcher.close()
    late = Mqtt(broker.port, topic)  # a Home Assistant (re)started after the crash
    try:
        assert late.wait(lambda t, p, retained: t == topic and retained) == (topic, "offline", True)
    finally:
        late.close()


def test_unreachable_broker_is_a_one_line_error() -> None:
    result = CliRunner().invoke(jnt_cli, ["bridge", "homeassistant", "--port", "1", "--timeout", "1"])
    assert result.exit_code != 0
    assert "MQTT broker 127.0.0.1:1" in result.output and "Traceback" not in result.output
