"""`jnt-node hardware-check`: what this machine offers the node runtime, each line OK or what to do.

Everything is read under ``root`` (a fixture tree in the tests, ``/`` on the Pi): the board and
kernel, which GPIO libraries load and can do edges, the header gpiochip, 1-wire sensors and their
readings, IIO devices (the DHT driver), I2C buses and the addresses answering on them, and the
groups the service user needs. Nothing is driven: no pin is set up, no register written.

A check is ``ok``, ``warn`` (worth knowing, nothing needed is missing) or ``fail`` (something the
node needs is missing: the command exits non-zero). ``needs`` names what the node's config uses
(``gpio``, ``1-wire``, ``i2c``, ``dht:<pin>``); GPIO and the service user's groups are needed on
any Pi.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .dht import iio_dht_devices, read_iio
from .errors import HardwareError
from .gpio import (
    INSTALL_HINT,
    BackendUnusable,
    LgpioBackend,
    acquire_pigpio,
    header_gpiochip,
    import_rpigpio,
    release_pigpio,
)
from .i2c import CHIP_NAMES, REG_CHIP_ID, SmbusLike
from .onewire import DEFAULT_SENSORS_DIR, list_ds18b20, read_ds18b20
from .platform import Board, board, kernel_version

Status = Literal["ok", "warn", "fail"]
# The addresses i2cdetect probes by default (0x03-0x77: the rest are reserved by the I2C spec).
I2C_ADDRESSES = range(0x03, 0x78)
DEFAULT_USER = "janitoo"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was looked at, what was found or what to do."""

    area: str
    item: str
    status: Status
    detail: str


@dataclass
class Report:
    board: Board
    checks: list[Check] = field(default_factory=list)

    def add(self, area: str, item: str, status: Status, detail: str) -> None:
        self.checks.append(Check(area, item, status, detail))

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "board": {"model": self.board.model, "soc": self.board.soc, "kernel": self.board.kernel},
            "ok": self.ok,
            "checks": [asdict(check) for check in self.checks],
        }

    def table(self) -> str:
        width = max((len(c.area) for c in self.checks), default=4)
        item_width = min(max((len(c.item) for c in self.checks), default=4), 24)
        lines = [
            f"{c.status.upper():<4}  {c.area:<{width}}  {c.item:<{item_width}}  {c.detail}"
            for c in self.checks
        ]
        verdict = "everything the node needs is here" if self.ok else "something the node needs is missing"
        return "\n".join([*lines, f"-> {verdict}"]) + "\n"


def _needed(needed: bool) -> Status:
    return "fail" if needed else "warn"


# --- board and kernel ---------------------------------------------------------------------------


def _check_board(report: Report) -> None:
    info = report.board
    if info.is_pi:
        family = " (BCM2712 family: lgpio only)" if info.is_bcm2712 else ""
        report.add("board", "model", "ok", f"{info.model} [{info.soc or 'unknown SoC'}]{family}")
    else:
        report.add("board", "model", "warn", "not a Raspberry Pi: backend = auto runs the simulated hardware")
    version = kernel_version(info.kernel)
    if info.kernel is None:
        report.add("board", "kernel", "warn", "kernel release unknown")
    elif info.is_pi and version is not None and version >= (6, 6, 0):
        report.add(
            "board", "kernel", "ok", f"{info.kernel}: sysfs GPIO numbers start at 512 (no RPi.GPIO edges)"
        )
    else:
        report.add("board", "kernel", "ok", info.kernel)


# --- GPIO -----------------------------------------------------------------------------------------


def _check_gpio(report: Report, root: Path, needed: bool) -> None:
    info = report.board
    chip = header_gpiochip(root)
    if chip is None:
        if info.is_pi:
            report.add("gpio", "gpiochip", "fail" if needed else "warn",
                       "no gpiochip with a header compatible in /sys/bus/gpio: set gpiochip = <n> in the "
                       "rpigpio section")  # fmt: skip
    else:
        device = root / "dev" / f"gpiochip{chip.number}"
        where = f"{', '.join(chip.compatible)}, {chip.ngpio} lines, sysfs base {chip.sysfs_base}"
        if device.exists():
            report.add("gpio", f"gpiochip{chip.number}", "ok", f"the header ({where})")
        else:
            report.add("gpio", f"gpiochip{chip.number}", _needed(needed), f"{device} missing ({where})")
    if not info.is_pi and chip is None:
        report.add("gpio", "libraries", "ok", "not a Pi: no GPIO library needed (backend = sim)")
        return
    usable: list[str] = []
    # lgpio: loads when installed and its FIFO can be created in the working directory.
    try:
        backend = LgpioBackend(root=root)
    except HardwareError as exc:
        report.add("gpio", "lgpio", "warn", exc.reason)
    else:
        backend.close()
        usable.append("lgpio")
        report.add("gpio", "lgpio", "ok", f"loads on /dev/gpiochip{backend.chip}; outputs, inputs and edges")
    # RPi.GPIO: not on a BCM2712; edges only while the sysfs numbers start at 0 (kernels before 6.6).
    try:
        import_rpigpio()
    except BackendUnusable as exc:
        report.add("gpio", "RPi.GPIO", "warn", exc.reason)
    else:
        if info.is_bcm2712:
            report.add("gpio", "RPi.GPIO", "warn", "imports but cannot drive a BCM2712 header (setup fails)")
        elif chip is not None and chip.sysfs_base not in (0, None):
            report.add("gpio", "RPi.GPIO", "warn",
                       f"loads; outputs and inputs only: no edges (sysfs base {chip.sysfs_base}, kernel 6.6+)")  # fmt: skip
        else:
            usable.append("RPi.GPIO")
            report.add("gpio", "RPi.GPIO", "ok", "loads; outputs, inputs and edges")
    # pigpio: through its daemon, which does not run on a BCM2712.
    if info.is_bcm2712:
        report.add("gpio", "pigpio", "warn", "the pigpio daemon does not support the BCM2712")
    else:
        try:
            pi = acquire_pigpio()
        except HardwareError as exc:
            report.add("gpio", "pigpio", "warn", exc.reason)
        else:
            release_pigpio(pi)
            usable.append("pigpio")
            report.add("gpio", "pigpio", "ok", "daemon reachable; outputs, inputs and edges")
    if usable:
        report.add("gpio", "backend", "ok", f"backend = auto uses {usable[0]}")
    else:
        hint = "sudo apt install python3-lgpio" if info.is_pi else INSTALL_HINT
        report.add("gpio", "backend", _needed(needed), f"no GPIO library can do edges here: {hint}")


# --- 1-wire, IIO, I2C -----------------------------------------------------------------------------


def _check_onewire(report: Report, root: Path, needed: bool) -> None:
    directory = root / DEFAULT_SENSORS_DIR
    if not directory.is_dir():
        report.add("1-wire", "bus", _needed(needed),
                   "no 1-wire bus: add dtoverlay=w1-gpio,gpiopin=4 to /boot/firmware/config.txt")  # fmt: skip
        return
    sensors = list_ds18b20(root)
    report.add("1-wire", "bus", "ok" if sensors or not needed else "fail",
               f"{len(sensors)} DS18B20 sensor(s)" if sensors else "bus up, no DS18B20 found (wiring, pull-up?)")  # fmt: skip
    for hexadd in sensors:
        try:
            report.add("1-wire", hexadd, "ok", f"{read_ds18b20(root, hexadd):.3f} °C")
        except HardwareError as exc:
            report.add("1-wire", hexadd, _needed(needed), exc.reason)


def _check_iio(report: Report, root: Path, dht_pins: Iterable[int]) -> None:
    base = root / "sys/bus/iio/devices"
    names: dict[int, str] = {}
    for device in sorted(base.glob("iio:device*")) if base.is_dir() else []:
        with contextlib.suppress(OSError, ValueError):
            names[int(device.name[len("iio:device") :])] = (
                (device / "name").read_text(encoding="ascii").strip()
            )
    dht = {index: pin for index, _name, pin in iio_dht_devices(root)}
    for index, name in sorted(names.items()):
        if index in dht:
            try:
                temperature, humidity = read_iio(root, index, retries=0)
                reading = f"{temperature:.1f} °C, {humidity:.1f} %"
            except HardwareError as exc:
                reading = f"no reading now ({exc.reason}; the sensor often misses one)"
            pin = dht[index]
            report.add("iio", f"iio:device{index}", "ok", f"{name} (DHT on GPIO{pin}): {reading}")
        else:
            report.add("iio", f"iio:device{index}", "ok", name)
    wanted = sorted(set(dht_pins))
    present = {pin for pin in dht.values() if pin is not None}
    for pin in wanted:
        if pin not in present:
            report.add("iio", f"dht GPIO{pin}", "fail",
                       f"no dht11@{pin:x} device: add dtoverlay=dht11,gpiopin={pin} and reboot")  # fmt: skip
    if not names and not wanted:
        report.add("iio", "devices", "ok", "none (a DHT needs dtoverlay=dht11,gpiopin=<pin>)")


def scan_i2c(bus: SmbusLike) -> dict[int, str]:
    """The addresses answering on ``bus`` (a register-0 read, as ``i2cdetect -r``), with a name when known."""
    found: dict[int, str] = {}
    for address in I2C_ADDRESSES:
        try:
            bus.read_byte_data(address, 0)
        except OSError:
            continue
        name = ""
        if address in (0x76, 0x77):
            with contextlib.suppress(OSError):
                name = CHIP_NAMES.get(bus.read_byte_data(address, REG_CHIP_ID), "")
        found[address] = name
    return found


def _open_smbus(busnum: int) -> SmbusLike:
    from smbus2 import SMBus

    bus: SmbusLike = SMBus(busnum)
    return bus


def _check_i2c(report: Report, root: Path, needed: bool, open_bus: Callable[[int], SmbusLike] | None) -> None:
    buses = sorted(int(p.name[4:]) for p in (root / "dev").glob("i2c-*") if p.name[4:].isdigit())
    if not buses:
        report.add(
            "i2c",
            "buses",
            _needed(needed),
            "no /dev/i2c-*: add dtparam=i2c_arm=on to /boot/firmware/config.txt",
        )
        return
    if open_bus is None and root.resolve() != Path("/"):
        for busnum in buses:
            report.add("i2c", f"/dev/i2c-{busnum}", "ok", "present (not scanned: a fixture root)")
        return
    opener = open_bus or _open_smbus
    for busnum in buses:
        try:
            bus = opener(busnum)
        except ImportError:
            report.add(
                "i2c", f"/dev/i2c-{busnum}", "warn", "present; smbus2 missing to scan it: pip install smbus2"
            )
            continue
        except OSError as exc:
            report.add(
                "i2c",
                f"/dev/i2c-{busnum}",
                _needed(needed),
                f"cannot open: {exc.strerror or exc} (i2c group?)",
            )
            continue
        try:
            found = scan_i2c(bus)
        finally:
            with contextlib.suppress(OSError):
                bus.close()
        shown = ", ".join(
            f"{address:#04x}" + (f" ({name})" if name else "") for address, name in found.items()
        )
        report.add("i2c", f"/dev/i2c-{busnum}", "ok", f"answering: {shown}" if shown else "no device answers")


# --- the service user's groups and the device permissions -------------------------------------


def _read_groups(root: Path) -> dict[str, tuple[int, set[str]]]:
    groups: dict[str, tuple[int, set[str]]] = {}
    try:
        lines = (root / "etc/group").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return groups
    for line in lines:
        parts = line.split(":")
        if len(parts) >= 4 and parts[2].isdigit():
            groups[parts[0]] = (int(parts[2]), {m for m in parts[3].split(",") if m})
    return groups


def _primary_gid(root: Path, user: str) -> int | None:
    try:
        lines = (root / "etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":")
        if len(parts) >= 4 and parts[0] == user and parts[3].isdigit():
            return int(parts[3])
    return None


def device_groups(root: Path) -> dict[str, list[Path]]:
    """The groups a service needs for the device nodes present under ``root``/dev, with those nodes."""
    dev = root / "dev"
    wanted = {
        "gpio": [*dev.glob("gpiochip*"), *dev.glob("gpiomem")],
        "i2c": list(dev.glob("i2c-*")),
        "spi": list(dev.glob("spidev*")),
        # vcgencmd talks to the firmware through /dev/vchiq (or /dev/vcio), owned by the video group.
        "video": [*dev.glob("vchiq"), *dev.glob("vcio")],
    }
    return {group: sorted(nodes) for group, nodes in wanted.items() if nodes}


def _check_groups(report: Report, root: Path, user: str) -> None:
    needed = report.board.is_pi
    groups = _read_groups(root)
    primary = _primary_gid(root, user)
    if primary is None:
        report.add("groups", user, _needed(needed),
                   f"no user {user}: sudo useradd --system --home-dir /var/lib/{user} --shell /usr/sbin/nologin {user}")  # fmt: skip
        return
    member_of = {name for name, (gid, members) in groups.items() if user in members or gid == primary}
    missing: list[str] = []
    for group, nodes in device_groups(root).items():
        shown = ", ".join(str(Path("/") / node.relative_to(root)) for node in nodes[:3])
        if group not in groups:
            report.add("groups", group, "warn",
                       f"no {group} group on this system ({shown}): left out of the unit's SupplementaryGroups")  # fmt: skip
            continue
        if group in member_of:
            report.add("groups", group, "ok", f"{user} is a member ({shown})")
        else:
            missing.append(group)
            report.add("groups", group, _needed(needed), f"{user} is not a member ({shown})")
        _check_modes(report, root, group, groups[group][0], nodes, needed)
    if missing:
        report.add("groups", "fix", _needed(needed), f"sudo usermod -aG {','.join(missing)} {user}")


def _check_modes(report: Report, root: Path, group: str, gid: int, nodes: list[Path], needed: bool) -> None:
    real_root = root.resolve() == Path("/")
    for node in nodes:
        try:
            info = node.stat()
        except OSError:
            continue
        shown = Path("/") / node.relative_to(root)
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o006 == 0o006:
            continue  # anyone may read and write it
        # Group ownership is only meaningful on the real system (a fixture's files belong to the tester).
        wrong_group = real_root and info.st_gid != gid
        if mode & 0o060 != 0o060 or wrong_group:
            owner = f"gid {info.st_gid}" if wrong_group else f"mode {mode:04o}"
            report.add("groups", str(shown), _needed(needed),
                       f"{owner}: the {group} group cannot use it (udev rules of raspberrypi-sys-mods missing?)")  # fmt: skip


# --- the whole report -----------------------------------------------------------------------------


def run_checks(
    root: Path = Path("/"),
    user: str = DEFAULT_USER,
    *,
    needs: Iterable[str] = (),
    open_i2c: Callable[[int], SmbusLike] | None = None,
) -> Report:
    """Look at everything under ``root`` and return the report (nothing is driven or written)."""
    wanted = set(needs)
    report = Report(board(root))
    _check_board(report)
    _check_gpio(report, root, report.board.is_pi or "gpio" in wanted)
    _check_onewire(report, root, "1-wire" in wanted)
    dht_pins = [int(need.split(":", 1)[1]) for need in wanted if need.startswith("dht:")]
    _check_iio(report, root, dht_pins)
    _check_i2c(report, root, "i2c" in wanted, open_i2c)
    _check_groups(report, root, user)
    if root.resolve() == Path("/") and os.geteuid() == 0:
        report.add(
            "user", "root", "warn", f"run as root: what loads here may not for the service user {user}"
        )
    return report
