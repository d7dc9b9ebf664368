"""Board detection, the header gpiochip and the GPIO library order, on fixture trees of real boards.

The libraries are the stand-ins of standins/libs, which fail where the real ones fail (see their
docstrings), so each test here fails on a backend choice that would fail on the board it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from janitoo_node.hardware.errors import HardwareError
from janitoo_node.hardware.gpio import (
    BackendUnusable,
    FallbackGpio,
    LgpioBackend,
    acquire_pigpio,
    default_gpiochip,
    header_gpiochip,
    make_gpio,
    release_pigpio,
)
from janitoo_node.hardware.gpio.pigpio_backend import shared_pigpio_users
from janitoo_node.hardware.platform import board, is_raspberry_pi, is_raspberry_pi_5, kernel_version
from tests.node.hardware.standins.boards import build_board
from tests.node.hardware.standins.libs_fixture import StandinLibs


@pytest.mark.parametrize(
    ("name", "pi", "bcm2712"),
    [
        ("pi3", True, False),
        ("pi4", True, False),
        ("pi5", True, True),
        ("pi5-6.6.20", True, True),
        ("cm5", True, True),  # "Compute Module 5": no "Raspberry Pi 5" in its model
        ("pi500", True, True),  # "Raspberry Pi 500"
        ("pc", False, False),
    ],
)
def test_board_and_soc_family_from_the_device_tree(
    tmp_path: Path, name: str, pi: bool, bcm2712: bool
) -> None:
    root = build_board(tmp_path, name)
    assert is_raspberry_pi(root) is pi
    assert is_raspberry_pi_5(root) is bcm2712
    assert board(root).is_bcm2712 is bcm2712


def test_kernel_release_is_read_under_the_root(tmp_path: Path) -> None:
    root = build_board(tmp_path, "pi4")
    assert board(root).kernel == "6.6.51+rpt-rpi-v8"
    assert kernel_version(board(root).kernel) == (6, 6, 51)
    assert kernel_version("garbage") is None


@pytest.mark.parametrize(
    ("name", "chip", "base"),
    [
        ("pi3-6.1", 0, 0),
        ("pi3", 0, 512),
        ("pi4", 0, 512),
        ("pi5-6.6.20", 4, 571),
        ("pi5", 0, 569),
        ("pi5-renumbered", 0, 569),  # gpiochip4 exists and is a SoC chip: the old guess picked it
        ("cm5", 0, 569),
    ],
)
def test_the_header_chip_is_found_by_compatible(tmp_path: Path, name: str, chip: int, base: int) -> None:
    root = build_board(tmp_path, name)
    found = header_gpiochip(root)
    assert found is not None and (found.number, found.sysfs_base, found.ngpio) == (chip, base, found.ngpio)
    assert default_gpiochip(root) == chip


def test_no_header_chip_on_a_pc(tmp_path: Path) -> None:
    assert header_gpiochip(build_board(tmp_path, "pc")) is None


# --- the library order and the fallback ---------------------------------------------------------


def _edges(gpio: Any, pin: int) -> list[tuple[int, bool]]:
    events: list[tuple[int, bool]] = []
    gpio.setup_input(pin, pull="up", edge="both", callback=lambda p, level: events.append((p, level)))
    return events


@pytest.mark.parametrize("name", ["pi3", "pi4", "pi5", "pi5-6.6.20", "pi5-renumbered", "cm5", "pi500"])
def test_lgpio_comes_first_and_claims_the_header_chip(
    tmp_path: Path, standin_libs: StandinLibs, name: str
) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", name))
    gpio = make_gpio("auto", root)
    assert isinstance(gpio, FallbackGpio) and gpio.name == "lgpio"
    lgpio = standin_libs.module("lgpio")
    events = _edges(gpio, 17)
    gpio.setup_output(19, True)
    header = header_gpiochip(root)
    assert header is not None
    assert lgpio.claims == [(header.number, 17, "alert"), (header.number, 19, "output")]
    assert lgpio.standin_edge(header.number, 17, 0)
    assert events == [(17, False)]
    gpio.close()


def test_a_gpiochip_setting_overrides_discovery(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi5-6.6.20"))
    gpio = make_gpio("real", root, chip=0)
    gpio.setup_output(19)
    assert standin_libs.module("lgpio").claims == [(0, 19, "output")]


def test_lgpio_without_a_writable_working_directory_is_one_line(
    tmp_path: Path, standin_libs: StandinLibs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `import lgpio` creates its FIFO in the working directory: under a unit running in / it fails.
    root = standin_libs.board(build_board(tmp_path / "board", "pi5"))
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    with pytest.raises(HardwareError) as caught:
        make_gpio("real", root)
    message = str(caught.value)
    assert message.startswith(
        "gpio: no GPIO library usable (lgpio: lgpio cannot create its notification FIFO"
    )
    assert "working directory" in message and "\n" not in message
    assert "RPi.GPIO" not in message  # never tried on a BCM2712 board
    with pytest.raises(BackendUnusable, match="notification FIFO"):
        LgpioBackend(root=root)


def test_lgpio_cannot_open_a_missing_chip(tmp_path: Path, standin_libs: StandinLibs) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi4"))
    with pytest.raises(BackendUnusable) as caught:
        LgpioBackend(7, root)
    assert "can not open gpiochip" in caught.value.reason and "gpiochip = <n>" in caught.value.reason


def test_lgpio_refused_on_an_existing_chip_names_the_gpio_group(
    tmp_path: Path, standin_libs: StandinLibs
) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi4"))
    lgpio = standin_libs.module("lgpio")

    class Refusing:
        """lgpio as a user outside the gpio group sees it: the chip exists, opening it fails."""

        def __getattr__(self, name: str) -> Any:
            return getattr(lgpio, name)

        def gpiochip_open(self, chip: int) -> int:
            raise lgpio.error("can not open gpiochip")

    with pytest.raises(BackendUnusable) as caught:
        LgpioBackend(root=root, module=Refusing())
    assert caught.value.reason == (
        "lgpio cannot open /dev/gpiochip0: can not open gpiochip; "
        "add the service user to the gpio group (sudo usermod -aG gpio <user>)"
    )


def _without_lgpio(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()


def test_rpigpio_edges_fail_on_a_6_6_kernel_and_pigpio_takes_over(
    tmp_path: Path, standin_libs: StandinLibs, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi4"))
    (root / "run").mkdir()
    (root / "run/pigpio.pid").write_text("321\n")
    _without_lgpio(monkeypatch, tmp_path)
    gpio = make_gpio("real", root)
    assert gpio.name == "RPi.GPIO"  # it loads, and outputs work...
    gpio.setup_output(19, True)
    events = _edges(gpio, 17)  # ...but edge detection fails on sysfs numbers from 512: fall back
    assert gpio.name == "pigpio"
    pigpio = standin_libs.module("pigpio")
    (pi,) = pigpio.connections
    assert pi.levels[19] == 1  # the output was set up again on the new library, at its level
    assert pi.standin_edge(17, 1)
    assert events == [(17, True)]
    rpigpio = standin_libs.module("RPi.GPIO")
    assert rpigpio.cleaned == [17, 19]  # the old library let its pins go
    assert isinstance(gpio, FallbackGpio)
    assert [label for label, _ in gpio.reasons] == ["lgpio", "RPi.GPIO"]
    gpio.close()
    assert pigpio.connections == []


def test_rpigpio_edges_work_on_a_6_1_kernel(
    tmp_path: Path, standin_libs: StandinLibs, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi3-6.1"))
    _without_lgpio(monkeypatch, tmp_path)
    gpio = make_gpio("real", root)
    events = _edges(gpio, 17)
    assert gpio.name == "RPi.GPIO"
    assert standin_libs.module("RPi.GPIO").standin_edge(17, 0)
    assert events == [(17, False)]


def test_no_library_can_do_edges_is_one_line_naming_each(
    tmp_path: Path,
    standin_libs: StandinLibs,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi3"))
    _without_lgpio(monkeypatch, tmp_path)
    gpio = make_gpio("real", root)
    with pytest.raises(HardwareError) as caught:
        _edges(gpio, 17)
    message = str(caught.value)
    assert "\n" not in message
    assert "lgpio: lgpio cannot create" in message
    assert "RPi.GPIO: RPi.GPIO cannot detect edges here (Failed to add edge detection" in message
    assert "pigpio: pigpio daemon not reachable" in message
    assert capsys.readouterr().out == ""  # pigpio's banner is not printed
    assert isinstance(gpio, FallbackGpio) and gpio.failure is not None
    with pytest.raises(HardwareError, match="no GPIO library usable"):
        gpio.setup_output(19)  # the same one line afterwards, no half-closed library behind it
    gpio.close()


def test_the_pigpio_connection_is_shared_and_stopped_by_the_last_user(
    tmp_path: Path, standin_libs: StandinLibs
) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi4"))
    (root / "run").mkdir()
    (root / "run/pigpio.pid").write_text("321\n")
    first = acquire_pigpio()
    second = acquire_pigpio()
    assert first is second and shared_pigpio_users() == 2
    pigpio = standin_libs.module("pigpio")
    release_pigpio(first)
    assert pigpio.connections == [first] and not first.stopped
    release_pigpio(second)
    assert pigpio.connections == [] and first.stopped and shared_pigpio_users() == 0


def test_pigpio_without_its_daemon_is_quiet(
    tmp_path: Path, standin_libs: StandinLibs, capsys: pytest.CaptureFixture[str]
) -> None:
    standin_libs.board(build_board(tmp_path / "board", "pi4"))
    with pytest.raises(BackendUnusable, match="pigpio daemon not reachable at localhost:8888"):
        acquire_pigpio()
    assert capsys.readouterr().out == ""
    assert shared_pigpio_users() == 0


def test_rpigpio_on_a_pi5_fails_at_setup_and_is_not_tried(tmp_path: Path, standin_libs: StandinLibs) -> None:
    from janitoo_node.hardware.gpio import RPiGpioBackend

    root = standin_libs.board(build_board(tmp_path / "board", "cm5"))
    gpio = RPiGpioBackend()  # it imports on a Pi 5...
    with pytest.raises(BackendUnusable, match="Cannot determine SOC peripheral base address"):
        gpio.setup_output(19)  # ...and fails at setup
    assert [label for label, _ in FallbackGpio([("lgpio", lambda: LgpioBackend(root=root))]).reasons] == []


def test_rpigpio_refuses_to_import_on_a_pc(tmp_path: Path, standin_libs: StandinLibs) -> None:
    from janitoo_node.hardware.gpio import RPiGpioBackend

    standin_libs.board(build_board(tmp_path / "board", "pc"))
    with pytest.raises(BackendUnusable, match="RPi.GPIO cannot run here: This module can only be run"):
        RPiGpioBackend()
