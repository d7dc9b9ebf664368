"""The bridge against a real Home Assistant 2025.4.4: the HelloWorld V3 appliance (sim) as a node process,
`jnt bridge homeassistant` as a process, HA on the same mosquitto; everything checked through HA's REST API.

One HA start for the whole module (about 10 s to its birth message).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from janitoo_node.apps.demo import prepare_config
from janitoo_node.broker import MosquittoBroker
from janitoo_protocol.addressing import Hadd
from janitoo_protocol.codes import Genre
from janitoo_protocol.events import ValuePublication
from janitoo_protocol.model import NodeInfo
from janitoo_protocol.transport import JanitooClient
from tests.helpers import NodeProcess
from tests.homeassistant.hass import HomeAssistant
from tests.protocol.fakenode import FakeController

REPO = Path(__file__).resolve().parents[2]
LED = "0225/0004"
# A node of the original's kind (multi-instance "load", silent on requests it cannot serve) with a hostile name.
FAKE = Hadd(1118, 1)
EVIL_NAME = "{{ states | list }}\x00\u202e Evil"


@dataclass
class Stack:
    ha: HomeAssistant
    node: NodeProcess
    bridge: subprocess.Popen[str]
    client: JanitooClient
    conf: Path
    fake: FakeController


def _bridge(port: int, log: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNT_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-m", "janitoo_cli", "bridge", "homeassistant", "--port", str(port), "--verbose",
         "--refresh-delay", "1"],
        stdout=log.open("w"), stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("ha")
    with MosquittoBroker() as broker:
        ha = HomeAssistant(tmp / "config", broker.port)
        (tmp / "node").mkdir()
        files = prepare_config(tmp / "node", broker.port)
        node = NodeProcess(files.conf).start()
        fake = FakeController("127.0.0.1", broker.port, 1118, 2)
        fake.nodes[FAKE] = NodeInfo(uuid="evil", hadd=FAKE, name=EVIL_NAME, product_name="Fake")
        fake.start()
        bridge = _bridge(broker.port, tmp / "bridge.log")
        client = JanitooClient(port=broker.port, reply_hadd="9999/9980").connect()
        try:
            ha.start()
            print(f"Home Assistant: birth after {ha.birth_after:.1f} s")
            yield Stack(ha, node, bridge, client, files.conf, fake)
        finally:
            fake.close()
            client.close()
            bridge.send_signal(signal.SIGTERM)
            bridge.wait(15)
            node.stop()
            ha.stop()


def attrs(st: dict[str, object]) -> dict[str, object]:
    return st["attributes"]  # type: ignore[return-value]


def test_entities_have_states_units_and_device_classes(stack: Stack) -> None:
    ha = stack.ha
    expected = {
        # entity: (state, unit, device_class)
        "sensor.ambiance_1_temperature": ("21.0", "°C", "temperature"),
        "sensor.ambiance_1_humidity": ("40.0", "%", "humidity"),
        "sensor.cpu_voltage": ("1.2", "V", "voltage"),
        "sensor.cpu_frequency": ("1000.0", "MHz", "frequency"),
    }
    for entity_id, (state, unit, device_class) in expected.items():
        st = ha.wait_state(entity_id, lambda s, want=state: s["state"] == want)
        assert attrs(st)["unit_of_measurement"] == unit
        assert attrs(st)["device_class"] == device_class
        assert attrs(st)["state_class"] == "measurement"
    blink = ha.wait_state("select.led_blink", lambda s: s["state"] == "off")
    assert attrs(blink)["options"] == ["off", "blink", "heartbeat", "info", "notify", "warning", "alert"]
    ha.wait_state("switch.led_switch", lambda s: s["state"] == "off")
    ha.wait_state("binary_sensor.hello_world_tutorial3_overheat", lambda s: s["state"] == "off")
    ha.wait_state("sensor.hello_world_tutorial3_state", lambda s: s["state"] == "sleeping")
    ha.wait_state("number.hello_world_tutorial3_temperature_critical", lambda s: s["state"] == "50")
    ha.wait_state("text.led_location", lambda s: s["state"] == "GPIO")
    ha.wait_state("sensor.led_liveness", lambda s: s["state"] == "ONLINE")
    # The device registry: one device per node, the controller as via_device, the product as model.
    dev = json.loads(ha.template(
        "{% set d = device_id('select.led_blink') %}{% set c = device_id('sensor.hello_world_tutorial3_state') %}"
        "{{ {'model': device_attr(d, 'model'), 'ids': device_attr(d, 'identifiers') | list,"
        " 'via': device_attr(d, 'via_device_id') == c, 'maker': device_attr(d, 'manufacturer'),"
        " 'controller_ids': device_attr(c, 'identifiers') | list} | tojson }}"
    ))  # fmt: skip
    assert dev == {"model": "LED", "ids": [["mqtt", "janitoo_0225_0004"]], "via": True, "maker": "Janitoo",
                   "controller_ids": [["mqtt", "janitoo_0225_0000"]]}  # fmt: skip
    config_entities = json.loads(ha.template(
        "{{ device_entities(device_id('select.led_blink')) | select('is_state', 'unavailable') | list | tojson }}"
    ))  # fmt: skip
    assert config_entities == []
    # HA accepted every discovery payload of the bridge.
    text = ha.log_text()
    assert "Error 'required key" not in text and "Unable to parse JSON" not in text, text[-3000:]


def test_blink_mode_changed_from_home_assistant_changes_the_node(stack: Stack) -> None:
    ha = stack.ha
    ha.wait_state("select.led_blink", lambda s: s["state"] == "off")
    code, _ = ha.api("POST", "/api/services/select/select_option",
                     {"entity_id": "select.led_blink", "option": "warning"})  # fmt: skip
    assert code == 200
    # The node changed: asked directly over the wire, not through the bridge.
    deadline = time.monotonic() + 10
    while stack.client.get_value(LED, "blink", "basic", cmd_class=0x3203).data != "warning":
        assert time.monotonic() < deadline, "the LED never went to warning"
        time.sleep(0.1)
    # And HA shows what the node acknowledged.
    ha.wait_state("select.led_blink", lambda s: s["state"] == "warning")
    code, _ = ha.api("POST", "/api/services/switch/turn_on", {"entity_id": "switch.led_switch"})
    assert code == 200
    ha.wait_state("switch.led_switch", lambda s: s["state"] == "on")
    assert stack.client.get_value(LED, "switch", "basic", cmd_class=0x25).data == "on"


def test_a_refused_command_is_reported_in_home_assistant(stack: Stack) -> None:
    ha = stack.ha
    ha.wait_state("sensor.hello_world_tutorial3_state", lambda s: s["state"] == "sleeping")
    code, _ = ha.api("POST", "/api/services/select/select_option",
                     {"entity_id": "select.hello_world_tutorial3_transition", "option": "ring"})  # fmt: skip
    assert code == 200
    st = ha.wait_state("sensor.janitoo_bridge_last_refusal", lambda s: "ring" in s["state"])
    assert st["state"] == "ring is not allowed from sleeping (only from reporting)"
    assert attrs(st)["hadd"] == "0225/0000" and attrs(st)["uuid"] == "tutorial3_transition"
    # The machine did not move, and HA still shows the node's state, not the refused one.
    assert ha.state("sensor.hello_world_tutorial3_state")["state"] == "sleeping"  # type: ignore[index]
    assert ha.state("select.hello_world_tutorial3_transition")["state"] != "ring"  # type: ignore[index]


def test_killed_node_goes_unavailable_and_comes_back(stack: Stack) -> None:
    ha = stack.ha
    watched = ["sensor.ambiance_1_temperature", "select.led_blink", "number.led_pin"]
    for entity_id in watched:
        ha.wait_state(entity_id, lambda s: s["state"] != "unavailable")
    stack.node.stop(signal.SIGKILL)  # no OFFLINE heartbeat: only the broker's last will tells
    for entity_id in watched:
        ha.wait_state(entity_id, lambda s: s["state"] == "unavailable")
    ha.wait_state("sensor.led_liveness", lambda s: s["state"] == "OFFLINE")
    stack.node.start()
    ha.wait_state("sensor.led_liveness", lambda s: s["state"] == "ONLINE")
    ha.wait_state("sensor.ambiance_1_temperature", lambda s: s["state"] == "21.0")
    ha.wait_state("select.led_blink", lambda s: s["state"] not in ("unavailable", "unknown"))
    ha.wait_state("number.led_pin", lambda s: s["state"] == "19")


def test_indexed_values_and_hostile_names_from_an_original_style_node(stack: Stack) -> None:
    ha = stack.ha
    # The hostile name is shown as text, never run as a template; the entity ids come from it, slugified.
    ours = [
        s
        for s in ha.states()
        if str(attrs(s).get("friendly_name", "")).startswith("{{ states | list }} Evil Load")
    ]
    by_name = {str(attrs(s)["friendly_name"]): s["entity_id"] for s in ours}
    assert sorted(by_name) == ["{{ states | list }} Evil Load", "{{ states | list }} Evil Load 1",
                               "{{ states | list }} Evil Load 2"]  # fmt: skip
    load1 = by_name["{{ states | list }} Evil Load 1"]
    # Each index is refreshed by its own GET (answered with a single dict carrying the index).
    ha.wait_state(load1, lambda s: s["state"] == "0.25")
    # An indexed publication: one dict per index, each entity takes its own.
    values = [stack.fake.value(FAKE, "load", i) for i in range(3)]
    pub = ValuePublication(Genre.BASIC, FAKE, "load", tuple(v.with_data(1.5 + i) for i, v in enumerate(values)),
                           indexed=True)  # fmt: skip
    stack.fake.client.publish(pub)
    ha.wait_state(load1, lambda s: s["state"] == "2.5")
    ha.wait_state(by_name["{{ states | list }} Evil Load 2"], lambda s: s["state"] == "3.5")
    ha.wait_state(by_name["{{ states | list }} Evil Load"], lambda s: s["state"] == "1.5")
