"""The host's CPU: temperature, frequency, core voltage and governor, from sysfs, vcgencmd or psutil.

Sources, in order: sysfs under ``root`` (``thermal_zone0/temp`` in millidegrees, ``cpu0``'s
``scaling_cur_freq`` in kHz), then ``vcgencmd`` on a Raspberry Pi, then psutil (only when
``root`` is ``/``: a fake root in a test must never pick up the real machine's values). The core
voltage has no portable source: ``vcgencmd`` on a Pi, None anywhere else.

``vcgencmd`` runs from an argument list with a timeout, never through a shell, and the governor is
written to sysfs after checking it against ``scaling_available_governors``, which closes the
original's shell-injection hole (``cpufreq-set -g <data>`` through a shell).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from .errors import HardwareError
from .platform import is_raspberry_pi
from .sim import SimSource

Clock = Callable[[], float]
Runner = Callable[..., "subprocess.CompletedProcess[str]"]

THERMAL_ZONE = "sys/class/thermal/thermal_zone0/temp"
CPU_DIR = "sys/devices/system/cpu"
CUR_FREQ = f"{CPU_DIR}/cpu0/cpufreq/scaling_cur_freq"
SIM_GOVERNORS: tuple[str, ...] = ("conservative", "ondemand", "userspace", "powersave", "performance")
# psutil sensor names that measure the CPU package itself, best first.
_PSUTIL_CPU_SENSORS = (
    "cpu_thermal",
    "cpu-thermal",
    "coretemp",
    "k10temp",
    "zenpower",
    "soc_thermal",
    "acpitz",
)

# The key is part of the match: on failure vcgencmd prints e.g. 'error=1 error_msg="..."', whose
# "1" must not pass for a reading.
_TEMP = re.compile(r"temp=([-+]?\d+(?:\.\d+)?)\s*(?:'C|°C|C)?")
_CLOCK = re.compile(r"frequency\(\d+\)=(\d+)")
_VOLTS = re.compile(r"volt=(\d+(?:\.\d+)?)\s*V?")


def _match(pattern: re.Pattern[str], text: str, what: str) -> str:
    match = pattern.fullmatch(text.strip())
    if match is None:
        raise HardwareError("vcgencmd", f"unexpected {what} output {text.strip()!r}")
    return match.group(1)


def parse_vcgencmd_temp(text: str) -> float:
    """``temp=40.1'C`` (or ``temp=38.7°C``) -> 40.1."""
    return float(_match(_TEMP, text, "measure_temp"))


def parse_vcgencmd_clock(text: str) -> float:
    """``frequency(48)=1500398464`` -> 1500.398464 MHz, whatever the clock id in parentheses."""
    return int(_match(_CLOCK, text, "measure_clock")) / 1_000_000


def parse_vcgencmd_volts(text: str) -> float:
    """``volt=1.3500V`` -> 1.35."""
    return float(_match(_VOLTS, text, "measure_volts"))


def run_vcgencmd(
    args: Sequence[str],
    runner: Runner = subprocess.run,
    *,
    timeout: float = 5.0,
    executable: str = "vcgencmd",
) -> str:
    """Run ``vcgencmd <args>`` and return its stripped stdout; any failure is a HardwareError."""
    command = [executable, *args]
    shown = " ".join(args)
    try:
        result = runner(command, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise HardwareError(
            "vcgencmd", "command not found: install raspi-utils (or libraspberrypi-bin)"
        ) from None
    except subprocess.TimeoutExpired:
        raise HardwareError("vcgencmd", f"{shown} timed out after {timeout} s") from None
    except OSError as exc:
        raise HardwareError("vcgencmd", f"{shown} could not run: {exc.strerror or exc}") from None
    stderr = (result.stderr or "").strip()
    if result.returncode != 0 or stderr:
        detail = stderr.splitlines()[0] if stderr else f"exit status {result.returncode}"
        if "vchiq" in detail.lower():
            # "failed to open vchiq instance": /dev/vchiq is root:video 0660.
            detail += " (the service user needs the video group: sudo usermod -aG video <user>)"
        raise HardwareError("vcgencmd", f"{shown} failed: {detail}")
    return (result.stdout or "").strip()


def _read_int(path: Path) -> int | None:
    """The integer in a sysfs file, or None when the file is absent or unreadable."""
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


class HostCpu:
    """CPU readings for the ``picpu`` component; ``backend="sim"`` reads scripted sources instead.

    Sim defaults (spec 5.5): 45 °C, 1000 MHz, 1.2 V.
    """

    def __init__(
        self,
        root: Path = Path("/"),
        backend: Literal["real", "sim"] = "real",
        clock: Clock = time.monotonic,
        *,
        runner: Runner = subprocess.run,
        sim_temperature: SimSource | str | float = "45",
        sim_frequency: SimSource | str | float = "1000",
        sim_voltage: SimSource | str | float = "1.2",
        vcgencmd_timeout: float = 5.0,
    ) -> None:
        if backend not in ("real", "sim"):
            raise ValueError(f"unknown CPU backend {backend!r}: expected real or sim")
        self.root = root
        self.backend = backend
        # Kept for the runtime's sake (same constructor shape as the other backends); reads are instant.
        self.clock = clock
        self._runner = runner
        self._timeout = vcgencmd_timeout
        self._is_pi: bool | None = None
        self.sim_temperature = SimSource.coerce(sim_temperature, device="CPU temperature (sim)")
        self.sim_frequency = SimSource.coerce(sim_frequency, device="CPU frequency (sim)")
        self.sim_voltage = SimSource.coerce(sim_voltage, device="CPU voltage (sim)")
        self._sim_governor = "conservative"

    @property
    def is_pi(self) -> bool:
        if self._is_pi is None:
            self._is_pi = is_raspberry_pi(self.root)
        return self._is_pi

    @property
    def _is_host_root(self) -> bool:
        return self.root.resolve() == Path("/")

    def _vcgencmd(self, *args: str) -> str:
        return run_vcgencmd(args, self._runner, timeout=self._timeout)

    def temperature(self) -> float:
        """CPU temperature in °C."""
        if self.backend == "sim":
            return self.sim_temperature.read()
        millidegrees = _read_int(self.root / THERMAL_ZONE)
        if millidegrees is not None:
            return millidegrees / 1000
        if self.is_pi:
            return parse_vcgencmd_temp(self._vcgencmd("measure_temp"))
        if self._is_host_root:
            value = _psutil_cpu_temperature()
            if value is not None:
                return value
        raise HardwareError("CPU", "no temperature sensor found")

    def frequency(self) -> float:
        """Current ARM/CPU frequency in MHz."""
        if self.backend == "sim":
            return self.sim_frequency.read()
        khz = _read_int(self.root / CUR_FREQ)
        if khz is not None:
            return khz / 1000
        if self.is_pi:
            return parse_vcgencmd_clock(self._vcgencmd("measure_clock", "arm"))
        if self._is_host_root:
            value = _psutil_cpu_frequency()
            if value is not None:
                return value
        raise HardwareError("CPU", "no frequency source found")

    def voltage(self) -> float | None:
        """Core voltage in V on a Pi (vcgencmd); None on other machines, which expose no such value."""
        if self.backend == "sim":
            return self.sim_voltage.read()
        if not self.is_pi:
            return None
        return parse_vcgencmd_volts(self._vcgencmd("measure_volts", "core"))

    def _cpufreq_dirs(self) -> list[Path]:
        base = self.root / CPU_DIR
        dirs = [p / "cpufreq" for p in base.glob("cpu[0-9]*") if (p / "cpufreq").is_dir()]
        return sorted(dirs, key=lambda p: int(p.parent.name[3:]))

    def available_governors(self) -> list[str]:
        """The governors the kernel offers (``scaling_available_governors`` of the first CPU)."""
        if self.backend == "sim":
            return list(SIM_GOVERNORS)
        dirs = self._cpufreq_dirs()
        if not dirs:
            raise HardwareError("CPU", "cpufreq not available on this machine")
        try:
            return (dirs[0] / "scaling_available_governors").read_text(encoding="ascii").split()
        except OSError as exc:
            raise HardwareError(
                "CPU", f"cannot read the available governors: {exc.strerror or exc}"
            ) from None

    def governor(self) -> str:
        """The governor of the first CPU."""
        if self.backend == "sim":
            return self._sim_governor
        dirs = self._cpufreq_dirs()
        if not dirs:
            raise HardwareError("CPU", "cpufreq not available on this machine")
        try:
            return (dirs[0] / "scaling_governor").read_text(encoding="ascii").strip()
        except OSError as exc:
            raise HardwareError("CPU", f"cannot read the governor: {exc.strerror or exc}") from None

    def set_governor(self, name: str) -> None:
        """Set every CPU's governor; ValueError (listing the allowed ones) for a name the kernel lacks."""
        allowed = self.available_governors()
        if name not in allowed:
            raise ValueError(f"unknown CPU governor {name!r}: expected one of {', '.join(allowed)}")
        if self.backend == "sim":
            self._sim_governor = name
            return
        for directory in self._cpufreq_dirs():
            target = directory / "scaling_governor"
            try:
                target.write_text(name + "\n", encoding="ascii")
            except PermissionError:
                raise HardwareError(
                    "CPU", f"cannot write {target}: permission denied (run as root or grant write access)"
                ) from None
            except OSError as exc:
                raise HardwareError("CPU", f"cannot write {target}: {exc.strerror or exc}") from None


def _psutil_cpu_temperature() -> float | None:
    import psutil

    reader: Any = getattr(psutil, "sensors_temperatures", None)
    if reader is None:  # not provided on every OS
        return None
    try:
        sensors = reader()
    except (OSError, RuntimeError):
        return None
    if not sensors:
        return None
    for name in _PSUTIL_CPU_SENSORS:
        if sensors.get(name):
            return float(sensors[name][0].current)
    first = next(iter(sensors.values()))
    return float(first[0].current) if first else None


def _psutil_cpu_frequency() -> float | None:
    import psutil

    try:
        freq = psutil.cpu_freq()
    except (OSError, RuntimeError, NotImplementedError):
        return None
    if freq is None or not freq.current:
        return None
    return float(freq.current)
