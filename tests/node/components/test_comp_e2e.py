"""Every hardware bus on its sim backend in one Server, through a real mosquitto: publish, discover, GET, SET."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from janitoo_node.broker import MosquittoBroker
from janitoo_node.components.gpio import GpioBus
from janitoo_node.hardware.gpio import SimGpio
from janitoo_node.server import Server
from janitoo_protocol import Genre, RequestRefused, ValueInfo, ValuePublication
from janitoo_protocol.transport import JanitooClient, Subscription

PREFIX = "comp-e2e"
CONF = """
[system]
service = jnt_components
broker_ip = 127.0.0.1
broker_port = {port}
topic_prefix = {prefix}
slow_start = 0

[rpigpio]
auto_start = True
backend = sim
hadd = 0230/0000
name = GPIO
components.led = rpigpio.led
components.button = rpigpio.input

[rpigpio__led]
hadd = 0230/0001
name = Led
pin_0 = 19

[rpigpio__button]
hadd = 0230/0002
pin_0 = 21
bouncetime_0 = 0

[rpi1wire]
auto_start = True
backend = sim
hadd = 0221/0000
components.temperature = rpi1wire.ds18b20

[rpi1wire__temperature]
hadd = 0221/0001
hexadd_0 = 28-00000463b745
sim_temperature = 19.5

[rpibasic]
auto_start = True
backend = sim
hadd = 0220/0000
components.ambiance = rpibasic.dht

[rpibasic__ambiance]
hadd = 0220/0001
pin_0 = 6
sensor_0 = 22
sim_temperature = 21.5
sim_humidity = 40

[hostsensor]
auto_start = True
backend = sim
hadd = 0222/0000
components.picpu = hostsensor.picpu
components.load = hostsensor.load
components.uptime = hostsensor.uptime

[hostsensor__picpu]
hadd = 0222/0001

[hostsensor__load]
hadd = 0222/0002
sim_load = 0.25

[hostsensor__uptime]
hadd = 0222/0003
sim_uptime = 1234.5

[rpii2c]
auto_start = True
backend = sim
hadd = 0240/0000
components.baro = rpii2c.bmp280

[rpii2c__baro]
hadd = 0240/0001
sim_temperature = 22.5
sim_pressure = 99000
"""


class Seen:
    """The latest publication of each value, filled from one subscription as the tests wait on it."""

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        self.latest: dict[tuple[str, str], ValuePublication] = {}

    def wait(self, hadd: str, uuid: str, accept: Callable[[ValuePublication], bool] = lambda p: True,
             timeout: float = 10.0) -> ValuePublication:  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            pub = self.latest.get((hadd, uuid))
            if pub is not None and accept(pub):
                return pub
            env = self.sub.get(max(0.0, deadline - time.monotonic()))
            assert env is not None, (
                f"{hadd} {uuid} not published as expected within {timeout} s (last: {pub})"
            )
            m = env.message
            if isinstance(m, ValuePublication):
                self.latest[(str(m.hadd), m.uuid)] = m

    def data(self, hadd: str, uuid: str, index: int = 0) -> object:
        pub = self.wait(hadd, uuid)
        return next(v.data for v in pub.values if v.index == index)


@dataclass
class Net:
    server: Server
    client: JanitooClient
    seen: Seen

    def gpio(self) -> SimGpio:
        bus = next(rt.bus for rt in self.server.runtimes if rt.bus.oid == "rpigpio")
        assert isinstance(bus, GpioBus) and isinstance(bus.gpio, SimGpio)
        return bus.gpio


@pytest.fixture(scope="module")
def net(broker: MosquittoBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    base = tmp_path_factory.mktemp("components")
    conf = base / "components.conf"
    conf.write_text(CONF.format(port=broker.port, prefix=PREFIX))
    root = base / "root"
    root.mkdir()
    with JanitooClient(port=broker.port, prefix=PREFIX) as client:
        values = client.watch("values")
        server = Server(conf, root=root)
        try:
            server.start()
            yield Net(server, client, Seen(values))
        finally:
            server.stop()


def test_every_sensor_is_published_at_start(net: Net) -> None:
    seen = net.seen
    assert seen.data("0221/0001", "temperature") == 19.5
    assert seen.data("0220/0001", "temperature") == 21.5
    assert seen.data("0220/0001", "humidity") == 40.0
    assert seen.data("0222/0001", "temperature") == 45.0
    assert seen.data("0222/0001", "frequency") == 1000.0
    assert seen.data("0222/0001", "voltage") == 1.2
    assert [seen.data("0222/0002", "load", i) for i in range(3)] == [0.25, 0.25, 0.25]
    assert seen.data("0222/0003", "uptime") == 1234.5
    assert seen.data("0240/0001", "temperature") == pytest.approx(22.5, abs=0.01)
    assert seen.data("0240/0001", "pressure") == pytest.approx(99000, abs=1)
    assert seen.data("0230/0001", "blink") == "off"
    assert seen.data("0230/0002", "state") == 1
    load = seen.wait("0222/0002", "load")
    assert load.indexed and [v.label for v in load.values][0] == "Load (1 minutes)"


def test_discovery_lists_the_nodes_with_the_original_names(net: Net) -> None:
    network = net.client.discover(timeout=5)
    nodes = {str(n.hadd): n for n in network.node_list()}
    expected = {
        "0230/0000": ("rpigpio", "rpigpio", "Raspberry GPIO controller"),
        "0230/0001": ("rpigpio__led", "rpigpio.led", "LED"),
        "0230/0002": ("rpigpio__button", "rpigpio.input", "GPIO input"),
        "0221/0000": ("rpi1wire", "rpi1wire", "Raspberry 1Wire bus"),
        "0221/0001": ("rpi1wire__temperature", "rpi1wire.ds18b20", "DS18B20 sensor"),
        "0220/0000": ("rpibasic", "rpibasic", "Raspberry basic controller"),
        "0220/0001": ("rpibasic__ambiance", "rpibasic.dht", "DHT"),
        "0222/0000": ("hostsensor", "hostsensor", "Host sensor controller"),
        "0222/0001": ("hostsensor__picpu", "hostsensor.picpu", "CPU sensors"),
        "0222/0002": ("hostsensor__load", "hostsensor.load", "Load statistics"),
        "0222/0003": ("hostsensor__uptime", "hostsensor.uptime", "Uptime statistics"),
        "0240/0000": ("rpii2c", "rpii2c", "Raspberry I2C bus"),
        "0240/0001": ("rpii2c__baro", "rpii2c.bmp280", "BMP280 sensor"),
    }
    assert {h: (n.uuid, n.oid, n.product_name) for h, n in nodes.items()} == expected
    assert {n.state for n in nodes.values()} == {"ONLINE"}
    assert nodes["0221/0001"].name == "Onewire DS18B20 sensor"
    assert nodes["0222/0001"].name == "Raspberry pi CPU"
    basics = {(str(v.hadd), v.uuid) for v in network.value_list(Genre.BASIC)}
    assert {
        ("0230/0001", "blink"),
        ("0230/0001", "switch"),
        ("0222/0002", "load"),
        ("0222/0003", "uptime"),
    } <= basics
    configs = {(str(v.hadd), v.uuid): v for v in network.value_list(Genre.CONFIG)}
    assert configs[("0221/0001", "hexadd")].data == "28-00000463b745"
    assert configs[("0221/0000", "rpi1wire_sensors_dir")].data == "/sys/bus/w1/devices/"
    assert configs[("0230/0001", "pin")].data == 19


def test_get_of_a_sensor_value(net: Net) -> None:
    value = net.client.get_value("0221/0001", "temperature", "user", cmd_class=49)
    assert isinstance(value, ValueInfo)
    assert (value.data, value.units, value.label) == (19.5, "°C", "Temp")
    assert net.client.get_value("0220/0001", "humidity", "user", cmd_class=49).data == 40.0


def test_set_of_the_led_blink_mode_is_acknowledged_and_drives_the_pin(net: Net) -> None:
    before = time.monotonic()
    ack = net.client.set_value("0230/0001", "blink", "basic", "warning", cmd_class=12803)
    assert ack.data == "warning"
    assert net.client.get_value("0230/0001", "blink", "basic", cmd_class=12803).data == "warning"
    # Warning starts with the LED lit, at once.
    assert any(level and when >= before for when, level in net.gpio().history_for(19))
    assert net.seen.wait("0230/0001", "blink", lambda p: p.values[0].data == "warning")


def test_a_refused_set_is_answered_with_the_reason(net: Net) -> None:
    net.client.set_value("0230/0001", "blink", "basic", "alert", cmd_class=12803)
    with pytest.raises(RequestRefused, match="disco"):
        net.client.set_value("0230/0001", "blink", "basic", "disco", cmd_class=12803)
    assert net.client.get_value("0230/0001", "blink", "basic", cmd_class=12803).data == "alert"


def test_an_input_edge_reaches_the_network_at_once(net: Net) -> None:
    net.seen.wait("0230/0002", "state")
    assert net.gpio().simulate_input(21, False)
    pub = net.seen.wait("0230/0002", "state", lambda p: p.values[0].data == 0, timeout=5)
    assert pub.values[0].help == "The state of the GPIO"
