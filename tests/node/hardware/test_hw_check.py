"""`jnt-node hardware-check` against fixture trees of a Pi 3, 4, 5 and a PC, with the stand-in libraries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from janitoo_node.cli import main
from janitoo_node.hardware.check import Check, run_checks, scan_i2c
from janitoo_node.hardware.i2c import SimBmp280, SimI2cBus
from janitoo_node.hardware.sim import SimI2cDevice
from tests.node.hardware.standins.boards import GOOD_W1_SLAVE, add_dht11, add_ds18b20, build_board
from tests.node.hardware.standins.libs_fixture import StandinLibs

MEMBER = {"gpio": ["janitoo"], "i2c": ["janitoo"], "spi": ["janitoo"], "video": ["janitoo"]}


def _line(checks: list[Check], area: str, item: str) -> Check:
    found = [c for c in checks if c.area == area and c.item == item]
    assert len(found) == 1, [c for c in checks if c.area == area]
    return found[0]


def _check(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["hardware-check", *args])
    return result.exit_code, result.stdout


def test_a_pi4_with_everything_in_place(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(build_board(tmp_path / "pi4", "pi4", groups=MEMBER, w1=True))
    add_ds18b20(root, "28-00000463b745")
    add_ds18b20(root, "28-000005e2fdc3", "")  # the empty file of a failed conversion
    add_dht11(root, 0, 4, "22500", "41000")
    report = run_checks(root, needs=["gpio", "1-wire", "dht:4"])
    checks = report.checks
    assert _line(checks, "board", "model").detail == "Raspberry Pi 4 Model B Rev 1.4 [brcm,bcm2711]"
    assert "sysfs GPIO numbers start at 512" in _line(checks, "board", "kernel").detail
    assert (
        _line(checks, "gpio", "gpiochip0").detail
        == "the header (brcm,bcm2711-gpio, 58 lines, sysfs base 512)"
    )
    assert _line(checks, "gpio", "lgpio").status == "ok"
    rpigpio = _line(checks, "gpio", "RPi.GPIO")
    assert rpigpio.status == "warn" and "no edges (sysfs base 512, kernel 6.6+)" in rpigpio.detail
    assert _line(checks, "gpio", "pigpio").status == "warn"  # no daemon
    assert _line(checks, "gpio", "backend").detail == "backend = auto uses lgpio"
    assert _line(checks, "1-wire", "28-00000463b745").detail == "23.125 °C"
    failed = _line(checks, "1-wire", "28-000005e2fdc3")
    assert failed.status == "fail" and "empty w1_slave" in failed.detail
    assert _line(checks, "iio", "iio:device0").detail == "dht11@4 (DHT on GPIO4): 22.5 °C, 41.0 %"
    assert (
        _line(checks, "groups", "gpio").detail
        == "janitoo is a member (/dev/gpiochip0, /dev/gpiochip1, /dev/gpiomem)"
    )
    assert not report.ok  # one sensor fails its conversion


def test_a_pi3_on_a_6_1_kernel_can_use_rpigpio_edges(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(build_board(tmp_path / "pi3", "pi3-6.1", groups=MEMBER))
    report = run_checks(root)
    assert _line(report.checks, "gpio", "RPi.GPIO").detail == "loads; outputs, inputs and edges"
    assert _line(report.checks, "board", "kernel").detail == "6.1.21-v8+"
    assert report.ok


def test_a_pi5_says_lgpio_only_and_finds_the_rp1_chip(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(build_board(tmp_path / "pi5", "pi5-6.6.20", groups=MEMBER))
    (root / "run").mkdir()
    (root / "run/pigpio.pid").write_text("1\n")  # even with a pid file, pigpiod cannot serve a Pi 5
    checks = run_checks(root).checks
    assert "(BCM2712 family: lgpio only)" in _line(checks, "board", "model").detail
    assert _line(checks, "gpio", "gpiochip4").detail.startswith("the header (raspberrypi,rp1-gpio, 54 lines")
    assert _line(checks, "gpio", "lgpio").detail.startswith("loads on /dev/gpiochip4")
    assert "cannot drive a BCM2712 header" in _line(checks, "gpio", "RPi.GPIO").detail
    assert "does not support the BCM2712" in _line(checks, "gpio", "pigpio").detail


def test_a_pi5_without_a_writable_working_directory_fails_with_the_reason(
    tmp_path: Path, standin_libs: StandinLibs, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = standin_libs.board(build_board(tmp_path / "pi5", "pi5", groups=MEMBER))
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    code, output = _check(["--root", str(root)])
    assert code == 1
    assert "lgpio cannot create its notification FIFO in the working directory" in output
    assert "FAIL  gpio    backend" in output
    assert output.endswith("-> something the node needs is missing\n")


def test_a_pi_without_libraries_names_the_package(tmp_path: Path) -> None:
    # No stand-ins: this PC has none of the Pi libraries.
    root = build_board(tmp_path / "pi3", "pi3", groups=MEMBER)
    report = run_checks(root)
    assert _line(report.checks, "gpio", "backend").detail == (
        "no GPIO library can do edges here: sudo apt install python3-lgpio"
    )
    assert not report.ok


def test_missing_groups_say_the_usermod_line(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(
        build_board(tmp_path / "pi4", "pi4", groups={"gpio": ["janitoo"], "i2c": [], "video": []})
    )
    report = run_checks(root)
    assert _line(report.checks, "groups", "gpio").status == "ok"
    assert _line(report.checks, "groups", "i2c").detail == "janitoo is not a member (/dev/i2c-1)"
    assert _line(report.checks, "groups", "fix").detail == "sudo usermod -aG i2c,video janitoo"
    assert not report.ok


def test_a_device_the_group_cannot_open_is_reported(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(build_board(tmp_path / "pi4", "pi4", groups=MEMBER))
    (root / "dev/i2c-1").chmod(0o600)  # no udev rule: root only
    report = run_checks(root)
    line = _line(report.checks, "groups", "/dev/i2c-1")
    assert line.status == "fail" and line.detail.startswith("mode 0600: the i2c group cannot use it")


def test_a_missing_user_is_one_line(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(build_board(tmp_path / "pi4", "pi4", groups=MEMBER))
    report = run_checks(root, user="nobody-here")
    assert _line(report.checks, "groups", "nobody-here").detail.startswith(
        "no user nobody-here: sudo useradd"
    )


def test_a_pc_needs_nothing_and_exits_0(tmp_path: Path) -> None:
    root = build_board(tmp_path / "pc", "pc")
    code, output = _check(["--root", str(root)])
    assert code == 0, output
    assert "WARN  board   model      not a Raspberry Pi" in output
    assert "no GPIO library needed" in output
    assert output.endswith("-> everything the node needs is here\n")


def test_json_output(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(build_board(tmp_path / "pi5", "cm5", groups=MEMBER))
    code, output = _check(["--root", str(root), "--format", "json"])
    data: dict[str, Any] = json.loads(output)
    assert code == 0 and data["ok"] is True
    assert data["board"] == {
        "model": "Raspberry Pi Compute Module 5 Rev 1.0",
        "soc": "brcm,bcm2712",
        "kernel": "6.12.25+rpt-rpi-2712",
    }
    assert {"area": "gpio", "item": "backend", "status": "ok", "detail": "backend = auto uses lgpio"} in data[
        "checks"
    ]


def test_a_config_makes_its_buses_required(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(build_board(tmp_path / "pi4", "pi4", groups=MEMBER, i2c_buses=()))
    conf = tmp_path / "node.conf"
    conf.write_text(
        "[system]\nservice = jnt_x\n\n[rpi1wire]\nhadd = 0221/0000\ncomponents.t = rpi1wire.ds18b20\n"
        "[rpi1wire__t]\nhadd = 0221/0001\n\n[rpii2c]\nhadd = 0222/0000\n\n"
        "[rpibasic]\nhadd = 0220/0000\ncomponents.a = rpibasic.dht\n[rpibasic__a]\nhadd = 0220/0001\npin_0 = 17\n"
    )
    code, output = _check(["--root", str(root), "-c", str(conf)])
    assert code == 1
    assert "FAIL  1-wire  bus" in output and "dtoverlay=w1-gpio,gpiopin=4" in output
    assert "FAIL  i2c     buses" in output and "dtparam=i2c_arm=on" in output
    assert "no dht11@11 device: add dtoverlay=dht11,gpiopin=17 and reboot" in output


def test_a_bad_config_or_root_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["hardware-check", "-c", str(tmp_path / "missing.conf")])
    assert result.exit_code == 2 and "jnt-node: error:" in result.output
    result = CliRunner().invoke(main, ["hardware-check", "--root", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_i2c_scan_names_the_bmp280_family() -> None:
    bus = SimI2cBus({0x76: SimBmp280(chip_id=0x60), 0x20: SimI2cDevice()})
    assert scan_i2c(bus) == {0x20: "", 0x76: "BME280"}


def test_i2c_buses_are_scanned_with_an_injected_bus(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(build_board(tmp_path / "pi4", "pi4", groups=MEMBER, i2c_buses=(1, 3)))

    def open_bus(busnum: int) -> SimI2cBus:
        if busnum == 3:
            raise PermissionError(13, "Permission denied")
        return SimI2cBus({0x77: SimBmp280()})

    checks = run_checks(root, open_i2c=open_bus).checks
    assert _line(checks, "i2c", "/dev/i2c-1").detail == "answering: 0x77 (BMP280)"
    assert _line(checks, "i2c", "/dev/i2c-3").detail == "cannot open: Permission denied (i2c group?)"


def test_a_good_w1_sample_is_what_the_kernel_prints() -> None:
    assert GOOD_W1_SLAVE.splitlines()[1].endswith("t=23125")
