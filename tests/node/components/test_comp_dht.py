"""rpibasic.dht: one sensor transaction per poll feeds temperature and humidity; sim, IIO and failures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from janitoo_node.components.dht import BasicBus, DhtComponent
from janitoo_node.hardware.dht import IioDht, SimDht

from .conftest import Rig

SENSOR = "0220/0001"


def conf(backend: str = "sim", extra: str = "") -> str:
    return f"""
[rpibasic]
auto_start = True
backend = {backend}
hadd = 0220/0000
components.ambiance = rpibasic.dht

[rpibasic__ambiance]
hadd = 0220/0001
pin_0 = 6
{extra}
"""


def dht(rig: Rig) -> DhtComponent:
    component = rig.component("rpibasic", "ambiance")
    assert isinstance(component, DhtComponent)
    return component


def readings(rig: Rig) -> tuple[object, object]:
    return rig.last_data(SENSOR, "temperature"), rig.last_data(SENSOR, "humidity")


def test_values_keep_the_original_names(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf())
    assert isinstance(rig.bus("rpibasic"), BasicBus)
    node = dht(rig).node
    assert node is not None
    assert (node.name, node.product_name, node.product_type) == (
        "Input",
        "DHT",
        "Temperature/humidity sensor",
    )
    v = node.values
    assert (v["pin"].info().data, v["sensor"].info().data, v["sensor"].help) == (
        6,
        11,
        "The sensor type : 11,22,2302",
    )
    temp, hum = v["temperature"].info(), v["humidity"].info()
    assert (temp.label, temp.units, temp.poll_delay, temp.help) == ("Temp", "°C", 300, "The temperature")
    assert (hum.label, hum.units, hum.poll_delay, hum.help, hum.cmd_class) == (
        "Hum",
        "%",
        300,
        "The humidity",
        49,
    )
    assert {"temperature_poll", "humidity_poll"} <= set(v)


def test_one_read_feeds_both_values(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(
        conf(extra="sensor_0 = 22\nsim_temperature = 21.5, 22.5\nsim_humidity = 40, 41"), start=False
    )
    component = dht(rig)
    reads = 0
    real_make = component.make_reader

    def counting_reader() -> SimDht:
        reader = real_make()
        assert isinstance(reader, SimDht)
        original = reader._read_sensor

        def read_sensor() -> tuple[float, float]:
            nonlocal reads
            reads += 1
            return original()

        reader._read_sensor = read_sensor  # type: ignore[method-assign]
        return reader

    component.make_reader = counting_reader  # type: ignore[method-assign]
    rig.start()
    # Two reads would have paired the first temperature with the second humidity.
    assert readings(rig) == (21.5, 40.0) and reads == 1
    rig.scheduler.advance(300)
    assert readings(rig) == (22.5, 41.0) and reads == 2
    assert rig.state(SENSOR) == "ONLINE"


def test_dht11_readings_are_whole_numbers(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf(extra="sim_temperature = 21.4\nsim_humidity = 39.6"))
    assert readings(rig) == (21.0, 40.0)


def test_a_failing_sensor_gives_none_for_both_and_failed(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf(extra="sensor_0 = 2302\nsim_temperature = fail, corrupt, -3.5\nsim_humidity = 40"))
    assert readings(rig) == (None, None)
    assert rig.state(SENSOR) == "FAILED"
    rig.scheduler.advance(300)
    assert readings(rig) == (None, None)  # bad checksum
    rig.scheduler.advance(300)
    assert readings(rig) == (-3.5, 40.0)
    assert rig.state(SENSOR) == "ONLINE"


def test_an_unknown_sensor_type_is_a_failed_read_not_a_crash(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(conf(extra="sensor_0 = 33"))
    assert readings(rig) == (None, None)
    assert rig.state(SENSOR) == "FAILED"
    rig.request(SENSOR, "sensor", 3, 112, 22)
    assert rig.reply(SENSOR, "temperature", 2, 49, is_set=False).value.data == 21.0
    assert rig.state(SENSOR) == "ONLINE"


def test_the_real_backend_reads_the_kernel_iio_driver(rig_for: Callable[..., Rig], tmp_path: Path) -> None:
    root = tmp_path / "pi"
    device = root / "sys/bus/iio/devices/iio:device0"
    device.mkdir(parents=True)
    (device / "name").write_text("dht11\n")
    (device / "in_temp_input").write_text("23500\n")
    (device / "in_humidityrelative_input").write_text("45200\n")
    rig = rig_for(conf("real"), root=root)
    assert isinstance(dht(rig)._reader, IioDht)
    assert readings(rig) == (23.5, 45.2)


def test_real_off_a_pi_without_iio_is_failed(rig_for: Callable[..., Rig], tmp_path: Path) -> None:
    root = tmp_path / "pc"
    root.mkdir()
    rig = rig_for(conf("real"), root=root)
    assert readings(rig) == (None, None)
    assert rig.state(SENSOR) == "FAILED"
    assert rig.state("0220/0000") == "ONLINE"
