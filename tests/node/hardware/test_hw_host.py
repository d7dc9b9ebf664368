"""Tests for the vcgencmd parsers and runner and the HostCpu readings on a fake root."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from janitoo_node.hardware.errors import HardwareError
from janitoo_node.hardware.host import (
    HostCpu,
    parse_vcgencmd_clock,
    parse_vcgencmd_temp,
    parse_vcgencmd_volts,
    run_vcgencmd,
)


class FakeRunner:
    """Stands in for subprocess.run: answers per command and records what was asked."""

    def __init__(self, answers: dict[str, tuple[int, str, str]] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append((command, kwargs))
        code, out, err = self.answers.get(" ".join(command[1:]), (0, "", ""))
        return subprocess.CompletedProcess(command, code, out, err)


PI_ANSWERS = {
    "measure_temp": (0, "temp=40.1'C\n", ""),
    "measure_clock arm": (0, "frequency(48)=1500398464\n", ""),
    "measure_volts core": (0, "volt=1.3500V\n", ""),
}


@pytest.mark.parametrize(
    ("text", "value"), [("temp=40.1'C", 40.1), ("temp=38.7°C", 38.7), ("temp=52.0'C\n", 52.0)]
)
def test_parse_temperature(text: str, value: float) -> None:
    assert parse_vcgencmd_temp(text) == value


@pytest.mark.parametrize(
    ("text", "mhz"),
    [
        ("frequency(45)=1200000000", 1200.0),
        ("frequency(48)=1500398464", 1500.398464),
        ("frequency(0)=70000000", 70.0),
    ],
)
def test_parse_clock_whatever_the_clock_id(text: str, mhz: float) -> None:
    assert parse_vcgencmd_clock(text) == pytest.approx(mhz)


@pytest.mark.parametrize(
    ("text", "volts"), [("volt=1.3500V", 1.35), ("volt=3.3V", 3.3), ("volt=0.8563V", 0.8563)]
)
def test_parse_volts(text: str, volts: float) -> None:
    assert parse_vcgencmd_volts(text) == volts


@pytest.mark.parametrize(
    ("parser", "text"),
    [
        (parse_vcgencmd_temp, "error=1 error_msg=oops"),
        (parse_vcgencmd_temp, "no equals sign"),
        (parse_vcgencmd_clock, "frequency(48)=fast"),
        (parse_vcgencmd_volts, "volt=V"),
    ],
)
def test_parse_errors_are_hardware_errors(parser: Any, text: str) -> None:
    with pytest.raises(HardwareError, match="unexpected"):
        parser(text)


def test_runner_uses_an_argument_list_and_a_timeout() -> None:
    runner = FakeRunner(PI_ANSWERS)
    assert run_vcgencmd(["measure_temp"], runner) == "temp=40.1'C"
    command, kwargs = runner.calls[0]
    assert command == ["vcgencmd", "measure_temp"]
    assert kwargs["timeout"] > 0 and "shell" not in kwargs


def test_runner_non_zero_exit() -> None:
    runner = FakeRunner({"measure_temp": (255, "", "")})
    with pytest.raises(HardwareError, match="measure_temp failed: exit status 255"):
        run_vcgencmd(["measure_temp"], runner)


def test_runner_stderr_is_an_error_even_with_status_zero() -> None:
    runner = FakeRunner({"measure_temp": (0, "", "VCHI initialization failed\n")})
    with pytest.raises(HardwareError, match="VCHI initialization failed"):
        run_vcgencmd(["measure_temp"], runner)


def test_runner_missing_command_and_timeout() -> None:
    def missing(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError("vcgencmd")

    def slow(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    with pytest.raises(HardwareError, match="command not found"):
        run_vcgencmd(["measure_temp"], missing)
    with pytest.raises(HardwareError, match="timed out"):
        run_vcgencmd(["measure_temp"], slow, timeout=0.5)


def _pi_root(root: Path) -> Path:
    model = root / "proc/device-tree/model"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\x00")
    return root


def _cpufreq(root: Path, cpus: int = 4, governor: str = "ondemand") -> None:
    for index in range(cpus):
        directory = root / f"sys/devices/system/cpu/cpu{index}/cpufreq"
        directory.mkdir(parents=True)
        (directory / "scaling_governor").write_text(governor + "\n")
        (directory / "scaling_available_governors").write_text(
            "conservative ondemand userspace powersave performance \n"
        )
        (directory / "scaling_cur_freq").write_text("1500000\n")


def test_sysfs_first(tmp_path: Path) -> None:
    zone = tmp_path / "sys/class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "temp").write_text("48312\n")
    _cpufreq(tmp_path)
    runner = FakeRunner(PI_ANSWERS)
    cpu = HostCpu(_pi_root(tmp_path), "real", runner=runner)
    assert cpu.temperature() == 48.312
    assert cpu.frequency() == 1500.0
    assert cpu.voltage() == 1.35  # no sysfs for the core voltage: vcgencmd
    assert [call[0][1:] for call in runner.calls] == [["measure_volts", "core"]]


def test_vcgencmd_on_a_pi_without_sysfs(tmp_path: Path) -> None:
    cpu = HostCpu(_pi_root(tmp_path), "real", runner=FakeRunner(PI_ANSWERS))
    assert cpu.temperature() == 40.1
    assert cpu.frequency() == pytest.approx(1500.398464)


def test_vcgencmd_error_on_a_pi(tmp_path: Path) -> None:
    cpu = HostCpu(_pi_root(tmp_path), "real", runner=FakeRunner({"measure_temp": (1, "", "boom\n")}))
    with pytest.raises(HardwareError, match="boom"):
        cpu.temperature()


def test_vcgencmd_without_the_video_group_says_so(tmp_path: Path) -> None:
    # What vcgencmd prints when /dev/vchiq (root:video 0660) cannot be opened.
    runner = FakeRunner({"measure_volts core": (255, "", "failed to open vchiq instance\n")})
    cpu = HostCpu(_pi_root(tmp_path), "real", runner=runner)
    with pytest.raises(HardwareError) as caught:
        cpu.voltage()
    assert str(caught.value) == (
        "vcgencmd: measure_volts core failed: failed to open vchiq instance "
        "(the service user needs the video group: sudo usermod -aG video <user>)"
    )


def test_fake_root_on_a_pc_never_reads_the_real_machine(tmp_path: Path) -> None:
    runner = FakeRunner(PI_ANSWERS)
    cpu = HostCpu(tmp_path, "real", runner=runner)
    with pytest.raises(HardwareError, match="no temperature sensor"):
        cpu.temperature()
    with pytest.raises(HardwareError, match="no frequency source"):
        cpu.frequency()
    assert cpu.voltage() is None  # documented: no core voltage off a Pi
    assert runner.calls == []  # vcgencmd is only tried on a Pi


def test_real_machine_values_or_a_clean_error() -> None:
    # Whatever this machine offers: a float, or one HardwareError line, never a crash.
    cpu = HostCpu()
    for reading in (cpu.temperature, cpu.frequency):
        try:
            assert isinstance(reading(), float)
        except HardwareError as error:
            assert "\n" not in str(error)


def test_set_governor_writes_every_cpu(tmp_path: Path) -> None:
    _cpufreq(tmp_path, cpus=2)
    cpu = HostCpu(tmp_path, "real")
    cpu.set_governor("performance")
    for index in range(2):
        path = tmp_path / f"sys/devices/system/cpu/cpu{index}/cpufreq/scaling_governor"
        assert path.read_text().strip() == "performance"
    assert cpu.governor() == "performance"


def test_set_governor_rejects_unknown_names(tmp_path: Path) -> None:
    _cpufreq(tmp_path, cpus=1)
    cpu = HostCpu(tmp_path, "real")
    with pytest.raises(
        ValueError, match="expected one of conservative, ondemand, userspace, powersave, performance"
    ):
        cpu.set_governor("performance; rm -rf /")
    assert cpu.governor() == "ondemand"


def test_set_governor_without_cpufreq(tmp_path: Path) -> None:
    with pytest.raises(HardwareError, match="cpufreq not available"):
        HostCpu(tmp_path, "real").set_governor("performance")


def test_sim_backend_reads_scripted_values(tmp_path: Path) -> None:
    cpu = HostCpu(tmp_path, "sim", sim_temperature="45,55,fail")
    assert cpu.temperature() == 45.0
    assert cpu.temperature() == 55.0
    with pytest.raises(HardwareError, match="simulated read failure"):
        cpu.temperature()
    assert cpu.frequency() == 1000.0
    assert cpu.voltage() == 1.2
    cpu.set_governor("powersave")
    assert cpu.governor() == "powersave"


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="expected real or sim"):
        HostCpu(Path("/"), "auto")  # type: ignore[arg-type]
