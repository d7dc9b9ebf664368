"""Tests for the DS18B20 w1_slave parser, reader, lister and the simulator's file writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from janitoo_node.hardware.errors import HardwareError
from janitoo_node.hardware.onewire import (
    format_w1_slave,
    list_ds18b20,
    onewire_bus_present,
    parse_w1_slave,
    read_ds18b20,
    w1_crc8,
)

HEXADD = "28-00000463b745"
GOOD = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"


def _write_sensor(root: Path, text: str, hexadd: str = HEXADD) -> Path:
    device = root / "sys/bus/w1/devices" / hexadd
    device.mkdir(parents=True, exist_ok=True)
    (device / "w1_slave").write_text(text)
    return device / "w1_slave"


def test_good_file() -> None:
    assert parse_w1_slave(GOOD, HEXADD) == 23.125


def test_crc_of_the_spec_example_is_0x57() -> None:
    assert w1_crc8(bytes.fromhex("72014b467fff0e10")) == 0x57


def test_bad_crc() -> None:
    text = GOOD.replace("YES", "NO")
    with pytest.raises(HardwareError) as caught:
        parse_w1_slave(text, HEXADD)
    assert str(caught.value) == "DS18B20 28-00000463b745: CRC check failed"


def test_negative_temperature() -> None:
    text = "ec ff 4b 46 7f ff 0c 10 1c : crc=1c YES\nec ff 4b 46 7f ff 0c 10 1c t=-1250\n"
    assert parse_w1_slave(text, HEXADD) == -1.25


def test_explicit_plus_sign_accepted() -> None:
    assert parse_w1_slave(GOOD.replace("t=23125", "t=+19500"), HEXADD) == 19.5


def test_power_on_value_85000_is_suspect() -> None:
    text = "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n"
    with pytest.raises(HardwareError, match="suspect power-on value"):
        parse_w1_slave(text, HEXADD)


def test_all_zero_scratchpad_is_suspect_but_a_real_zero_is_not() -> None:
    zeros = "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n"
    with pytest.raises(HardwareError, match="suspect power-on value"):
        parse_w1_slave(zeros, HEXADD)
    assert parse_w1_slave(format_w1_slave(0.0), HEXADD) == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n",
        "garbage\n72 01 4b 46 7f ff 0e 10 57 t=23125\n",
        "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=\n",
        "72 01 4b : crc=57 YES\n72 01 4b t=23125\n",
    ],
)
def test_malformed_text(text: str) -> None:
    with pytest.raises(HardwareError, match="malformed"):
        parse_w1_slave(text, HEXADD)


def test_read_from_fake_sysfs(tmp_path: Path) -> None:
    _write_sensor(tmp_path, GOOD)
    assert read_ds18b20(tmp_path, HEXADD) == 23.125
    # The original config value is an absolute path with a trailing slash: it is re-anchored under root.
    assert read_ds18b20(tmp_path, HEXADD, "/sys/bus/w1/devices/") == 23.125


def test_missing_device(tmp_path: Path) -> None:
    (tmp_path / "sys/bus/w1/devices").mkdir(parents=True)
    with pytest.raises(HardwareError) as caught:
        read_ds18b20(tmp_path, HEXADD)
    assert caught.value.device == f"DS18B20 {HEXADD}"
    assert caught.value.reason.startswith("device not found")


def test_address_cannot_escape_the_sensors_dir(tmp_path: Path) -> None:
    with pytest.raises(HardwareError, match="invalid 1-wire address"):
        read_ds18b20(tmp_path, "../../etc")


def test_plain_temperature_file_used_when_w1_slave_is_absent(tmp_path: Path) -> None:
    device = tmp_path / "sys/bus/w1/devices" / HEXADD
    device.mkdir(parents=True)
    (device / "temperature").write_text("19500\n")
    assert read_ds18b20(tmp_path, HEXADD) == 19.5


class _FlakyText:
    """Stands in for Path.read_text: a power-on value first, then a good reading."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.calls = 0

    def __call__(self, *args: object, **kwargs: object) -> str:
        self.calls += 1
        return self.texts[min(self.calls - 1, len(self.texts) - 1)]


def test_suspect_value_is_retried_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_sensor(tmp_path, GOOD)
    flaky = _FlakyText([format_w1_slave(0, power_on=True), GOOD])
    monkeypatch.setattr(Path, "read_text", flaky)
    assert read_ds18b20(tmp_path, HEXADD) == 23.125
    assert flaky.calls == 2


def test_suspect_value_repeated_raises(tmp_path: Path) -> None:
    _write_sensor(tmp_path, format_w1_slave(0, power_on=True))
    with pytest.raises(HardwareError, match="suspect power-on value 85.000"):
        read_ds18b20(tmp_path, HEXADD)


# Real files, as drivers/w1/slaves/w1_therm.c prints them: the power-on scratchpad has byte 6 = 0x0c;
# a conversion leaves 0x10 minus the reading's low nibble there (0x10 for a genuine 85.000).
POWER_ON = "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n"


def test_power_on_scratchpad_is_what_the_formatter_writes() -> None:
    assert format_w1_slave(0, power_on=True) == POWER_ON
    assert format_w1_slave(23.125).split()[6] == "0e"  # the sample above: 0x10 - 0x2


def test_a_genuine_85_degrees_is_kept(tmp_path: Path) -> None:
    genuine = format_w1_slave(85.0)
    assert genuine.split()[6] == "10"
    _write_sensor(tmp_path, genuine)
    assert read_ds18b20(tmp_path, HEXADD) == 85.0
    with pytest.raises(HardwareError, match="suspect power-on value 85.000"):
        parse_w1_slave(POWER_ON, HEXADD)


def test_an_empty_w1_slave_is_a_failed_conversion_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Since kernel 5.9 w1_slave_show returns 0 bytes when the conversion failed.
    with pytest.raises(HardwareError) as caught:
        parse_w1_slave("", HEXADD)
    assert caught.value.reason == "conversion failed (empty w1_slave): check the wiring, pull-up and power"
    _write_sensor(tmp_path, GOOD)
    flaky = _FlakyText(["", GOOD])
    monkeypatch.setattr(Path, "read_text", flaky)
    assert read_ds18b20(tmp_path, HEXADD) == 23.125
    assert flaky.calls == 2


def test_an_empty_w1_slave_twice_is_reported_as_such(tmp_path: Path) -> None:
    _write_sensor(tmp_path, "")
    with pytest.raises(HardwareError, match=r"conversion failed \(empty w1_slave\)"):
        read_ds18b20(tmp_path, HEXADD)


@pytest.mark.parametrize(
    "sensors_dir",
    ["/sys/bus/w1/devices/../../../../etc", "../../etc", "/etc", "/sys/../tmp", "/"],
)
def test_a_sensors_dir_outside_sys_is_refused(tmp_path: Path, sensors_dir: str) -> None:
    root = tmp_path / "root"
    _write_sensor(root, GOOD)
    with pytest.raises(HardwareError) as caught:
        read_ds18b20(root, HEXADD, sensors_dir)
    assert "is outside" in str(caught.value) and "\n" not in str(caught.value)
    assert not onewire_bus_present(root, sensors_dir)


@pytest.mark.parametrize("hexadd", ["../../../../etc", "28-abc/../../x", "..", "28-", "28-0000\n"])
def test_an_address_that_is_a_path_is_refused(tmp_path: Path, hexadd: str) -> None:
    _write_sensor(tmp_path, GOOD)
    with pytest.raises(HardwareError, match="invalid 1-wire address"):
        read_ds18b20(tmp_path, hexadd)


def test_list_skips_the_bus_master(tmp_path: Path) -> None:
    _write_sensor(tmp_path, GOOD)
    _write_sensor(tmp_path, GOOD, "28-000005e2fdc3")
    (tmp_path / "sys/bus/w1/devices/w1_bus_master1").mkdir()
    (tmp_path / "sys/bus/w1/devices/10-000802824e58").mkdir()  # a DS18S20, another family
    assert list_ds18b20(tmp_path) == ["28-00000463b745", "28-000005e2fdc3"]
    assert onewire_bus_present(tmp_path)


def test_list_without_the_bus_says_how_to_enable_it(tmp_path: Path) -> None:
    assert not onewire_bus_present(tmp_path)
    with pytest.raises(HardwareError, match="dtoverlay=w1-gpio"):
        list_ds18b20(tmp_path)


def test_format_matches_the_kernel_layout() -> None:
    text = format_w1_slave(23.125)
    first, second = text.splitlines()
    assert first.startswith("72 01 4b 46 7f ff") and first.endswith("YES")
    assert second.endswith("t=23125")
    scratchpad = bytes.fromhex(first.split(":")[0])
    assert w1_crc8(scratchpad[:8]) == scratchpad[8]
    assert w1_crc8(scratchpad) == 0  # a CRC-8 over data plus its CRC is zero


def test_format_bad_crc_is_refused_by_the_parser() -> None:
    with pytest.raises(HardwareError, match="CRC check failed"):
        parse_w1_slave(format_w1_slave(20.0, crc_ok=False), HEXADD)


def test_format_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        format_w1_slave(130.0)


@given(st.integers(min_value=-55 * 16, max_value=125 * 16).filter(lambda raw: raw != 85 * 16 and raw != 0))
def test_format_then_parse_round_trip(raw: int) -> None:
    celsius = raw / 16
    # The kernel truncates millidegrees toward zero, so the parsed value is within 1 m°C.
    assert abs(parse_w1_slave(format_w1_slave(celsius), HEXADD) - celsius) <= 0.001
