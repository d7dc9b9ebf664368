"""rpi1wire: DS18B20 readings through the real parser, from a simulated or hand-written sysfs tree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from janitoo_node.components.onewire import OneWireBus, OneWireMaster
from janitoo_node.hardware.onewire import format_w1_slave

from .conftest import Rig

HEXADD = "28-00000463b745"
SENSOR = "0221/0001"


def conf(backend: str = "sim", extra: str = "") -> str:
    return f"""
[rpi1wire]
auto_start = True
backend = {backend}
hadd = 0221/0000
components.temperature = rpi1wire.ds18b20

[rpi1wire__temperature]
hadd = 0221/0001
hexadd_0 = {HEXADD}
{extra}
"""


def poll(rig: Rig) -> object:
    rig.scheduler.advance(300)
    return rig.last_data(SENSOR, "temperature")


def test_values_and_node_keep_the_original_names(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf())
    node = rig.component("rpi1wire", "temperature").node
    assert node is not None
    assert (node.name, node.product_name, node.product_type) == (
        "Onewire DS18B20 sensor", "DS18B20 sensor", "Temperature sensor")  # fmt: skip
    temp, hexadd = node.values["temperature"].info(), node.values["hexadd"].info()
    assert (temp.genre, temp.type, temp.cmd_class, temp.units, temp.label, temp.help, temp.poll_delay) == (
        2, 3, 49, "°C", "Temp", "The temperature", 300)  # fmt: skip
    assert (hexadd.genre, hexadd.type, hexadd.default, hexadd.data, hexadd.label) == (
        3, 8, "28-000005e2fdc3", HEXADD, "Addr")  # fmt: skip
    assert "temperature_poll" in node.values
    ctrl = rig.bus("rpi1wire").node
    assert ctrl is not None and ctrl.product_name == "Raspberry 1Wire bus"
    sdir = ctrl.values["rpi1wire_sensors_dir"].info()
    assert (sdir.data, sdir.help, sdir.label, sdir.type) == (
        "/sys/bus/w1/devices/",
        "The sensor directory",
        "dir.",
        8,
    )


def test_default_sim_reading_is_published_at_start(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf())
    assert rig.last_data(SENSOR, "temperature") == 21.5
    assert rig.state(SENSOR) == "ONLINE" and rig.state("0221/0000") == "ONLINE"


def test_a_scripted_sequence_with_fail_and_missing(rig_for: Callable[..., Rig], tmp_path: Path) -> None:
    rig = rig_for(conf(extra="sim_temperature = 19.5, fail, -1.25, missing, 85, 22"))
    # The tree sits under the runtime's root, so the real parser reads real files.
    w1_slave = tmp_path / "root/sys/bus/w1/devices" / HEXADD / "w1_slave"
    assert rig.last_data(SENSOR, "temperature") == 19.5
    assert w1_slave.read_text().endswith("t=19500\n")
    assert rig.state(SENSOR) == "ONLINE"
    assert poll(rig) is None  # an empty w1_slave twice: the conversion failed
    assert rig.state(SENSOR) == "FAILED"
    assert poll(rig) == -1.25
    assert rig.state(SENSOR) == "ONLINE"
    assert poll(rig) is None  # the sensor left the bus
    assert not w1_slave.exists()
    assert rig.state(SENSOR) == "FAILED"
    assert rig.state("0221/0000") == "ONLINE"  # the bus itself is fine
    assert poll(rig) == 85.0  # a genuine 85.000 (byte 6 of the scratchpad says it converted)
    assert poll(rig) == 22.0
    assert rig.state(SENSOR) == "ONLINE"


def test_a_failed_sensor_still_heartbeats_failed(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf(extra="sim_temperature = missing"))
    assert rig.heartbeats(SENSOR) == ["FAILED"]
    rig.scheduler.advance(30)
    assert rig.heartbeats(SENSOR) == ["FAILED", "FAILED"]
    assert rig.last_data(SENSOR, "temperature") is None


def test_a_get_reads_the_sensor_again(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf(extra="sim_temperature = 20, 20.5"))
    assert rig.reply(SENSOR, "temperature", 2, 49, is_set=False).value.data == 20.5


def test_the_real_backend_reads_the_root_s_sysfs(rig_for: Callable[..., Rig], tmp_path: Path) -> None:
    root = tmp_path / "pi"
    device = root / "sys/bus/w1/devices" / HEXADD
    device.mkdir(parents=True)
    (device / "w1_slave").write_text(
        "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
    )
    rig = rig_for(conf("real"), root=root)
    assert isinstance(rig.bus("rpi1wire"), OneWireBus)
    assert rig.last_data(SENSOR, "temperature") == 23.125
    (device / "w1_slave").write_text(format_w1_slave(0, power_on=True))
    assert poll(rig) is None
    assert rig.state(SENSOR) == "FAILED"
    (device / "w1_slave").write_text("")  # what kernel 5.9+ shows after a failed conversion
    rig.take()
    assert poll(rig) is None
    assert rig.state(SENSOR) == "FAILED"


def test_a_hexadd_that_is_a_path_is_refused_and_writes_nothing(
    rig_for: Callable[..., Rig], tmp_path: Path
) -> None:
    rig = rig_for(conf())
    for evil in ("../../../../escaped", "28-00/../../../escaped", ".."):
        reply = rig.reply(SENSOR, "hexadd", 3, 112, evil)
        assert "invalid 1-wire address" in reply.value.extra["error"]
        assert rig.component("rpi1wire", "temperature").value("hexadd").cached() == HEXADD
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "root/escaped").exists()
    assert poll(rig) == 21.5


def test_a_hexadd_in_the_config_that_is_a_path_writes_nothing(
    rig_for: Callable[..., Rig], tmp_path: Path
) -> None:
    rig = rig_for(conf().replace(f"hexadd_0 = {HEXADD}", "hexadd_0 = ../../../../escaped"))
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "root/escaped").exists()
    assert rig.state(SENSOR) == "FAILED"
    assert rig.last_data(SENSOR, "temperature") is None


def test_a_sensors_dir_outside_sys_is_refused_on_set_and_at_start(
    rig_for: Callable[..., Rig], tmp_path: Path
) -> None:
    rig = rig_for(conf())
    reply = rig.reply("0221/0000", "rpi1wire_sensors_dir", 3, 112, "/sys/../../../../tmp/evil")
    assert "is outside" in reply.value.extra["error"]
    configured = rig_for(
        conf().replace("backend = sim", "backend = sim\nrpi1wire_sensors_dir_0 = ../../../evil")
    )
    assert configured.state("0221/0000") == "FAILED"
    assert configured.state(SENSOR) == "FAILED"
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil").exists()


def test_without_the_w1_folder_the_bus_and_sensor_are_failed(
    rig_for: Callable[..., Rig], tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    rig = rig_for(conf("real"), root=empty)
    assert rig.state("0221/0000") == "FAILED"
    assert rig.state(SENSOR) == "FAILED"
    assert rig.last_data(SENSOR, "temperature") is None


def test_a_new_address_is_read_at_once(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf(extra="sim_temperature = 30"))
    rig.request(SENSOR, "hexadd", 3, 112, "28-000000000001")
    assert rig.config.get("rpi1wire__temperature", "hexadd_0") == "28-000000000001"
    assert rig.reply(SENSOR, "temperature", 2, 49, is_set=False).value.data == 30.0
    assert rig.state(SENSOR) == "ONLINE"


def test_sim_tree_goes_to_a_temporary_folder_when_the_root_is_the_real_one() -> None:
    master = OneWireMaster(Path("/"), "sim")
    try:
        assert master.root != Path("/") and master.bus_present()
    finally:
        master.close()
    assert not master.root.exists()
