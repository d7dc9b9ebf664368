"""Scriptable simulated readings shared by the sim backends: sources, a fake 1-wire tree, I2C register maps.

A ``SimSource`` is built from a short spec, typically a config value::

    "21.5"          a constant
    "20,21,55,56"   a sequence, one value per read, the last one repeats
    "fail"          every read fails ("simulated read failure")
    "missing"       the device is absent ("device not found")
    "corrupt"       the device answers garbage (a bad CRC or checksum where the format has one)
    "20,fail,22"    any mix of the above

``SimSource.from_file(path)`` takes one token per line (commas work too, ``#`` starts a comment)
and re-reads the file whenever it changes, so a running demo can be driven by editing a file.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal, TypeAlias

from .errors import HardwareError
from .onewire import DEFAULT_SENSORS_DIR, check_hexadd, format_w1_slave, read_ds18b20, sensors_path

SpecialToken: TypeAlias = Literal["fail", "missing", "corrupt"]
SimToken: TypeAlias = float | SpecialToken
SPECIAL_TOKENS: tuple[SpecialToken, ...] = ("fail", "missing", "corrupt")


def parse_sim_spec(spec: str | float) -> list[SimToken]:
    """Split a spec into tokens; raise ValueError with a one-line message on anything unknown."""
    if isinstance(spec, bool):
        raise ValueError(f"invalid simulation spec {spec!r}: expected numbers, fail, missing or corrupt")
    if isinstance(spec, int | float):
        return [float(spec)]
    tokens: list[SimToken] = []
    for line in spec.splitlines():
        line = line.split("#", 1)[0]
        for word in line.split(","):
            word = word.strip().lower()
            if not word:
                continue
            if word in SPECIAL_TOKENS:
                tokens.append(word)
                continue
            try:
                tokens.append(float(word))
            except ValueError:
                raise ValueError(
                    f"invalid simulation token {word!r} in {spec!r}: expected a number, fail, missing or corrupt"
                ) from None
    if not tokens:
        raise ValueError(
            f"empty simulation spec {spec!r}: give at least one number, fail, missing or corrupt"
        )
    return tokens


def special_error(token: SpecialToken, device: str) -> HardwareError:
    """The error a plain reader raises for a special token."""
    reasons = {
        "fail": "simulated read failure",
        "missing": "device not found",
        "corrupt": "simulated corrupt reading",
    }
    return HardwareError(device, reasons[token])


class SimSource:
    """A scripted sequence of readings; safe to read from a bus worker while a scenario calls ``set``."""

    def __init__(self, spec: str | float = "0", *, device: str = "sim") -> None:
        self.device = device
        self._lock = threading.Lock()
        self._tokens = parse_sim_spec(spec)
        self._spec = str(spec)
        self._index = 0
        self._path: Path | None = None
        self._stamp: tuple[int, int, int] | None = None

    @classmethod
    def from_file(cls, path: Path | str, *, device: str = "sim") -> SimSource:
        """A source whose tokens come from ``path``; the file is re-read each time it changes."""
        source = cls("0", device=device)
        source._path = Path(path)
        source._tokens = []
        source._spec = f"file:{path}"
        return source

    @classmethod
    def coerce(cls, value: SimSource | str | float, *, device: str = "sim") -> SimSource:
        """Accept a ready source, a spec string or a number (the form config values arrive in)."""
        if isinstance(value, SimSource):
            return value
        return cls(value, device=device)

    @property
    def spec(self) -> str:
        return self._spec

    @property
    def path(self) -> Path | None:
        return self._path

    def set(self, spec: str | float) -> None:
        """Replace the readings and start again from the first one.

        A file-driven source keeps watching its file: the next change to the file wins again.
        """
        tokens = parse_sim_spec(spec)
        with self._lock:
            self._tokens = tokens
            self._spec = str(spec)
            self._index = 0

    def _reload_if_changed(self) -> None:
        assert self._path is not None
        try:
            status = self._path.stat()
        except FileNotFoundError:
            if self._tokens and self._stamp is not None:
                return  # the editor is replacing the file: keep the last readings meanwhile
            raise HardwareError(self.device, f"simulation file {self._path} not found") from None
        stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
        if stamp == self._stamp:
            return
        try:
            tokens = parse_sim_spec(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            # Leave the stamp alone so the next read tries the (hopefully fixed) file again.
            raise HardwareError(self.device, f"bad simulation file {self._path}: {exc}") from None
        self._tokens = tokens
        self._index = 0
        self._stamp = stamp

    def next_token(self) -> SimToken:
        """The next scripted token (a float or one of fail/missing/corrupt); the last one repeats."""
        with self._lock:
            if self._path is not None:
                self._reload_if_changed()
            token = self._tokens[min(self._index, len(self._tokens) - 1)]
            if self._index < len(self._tokens):
                self._index += 1
            return token

    def read(self) -> float:
        """The next reading as a float; special tokens raise the matching HardwareError."""
        token = self.next_token()
        if isinstance(token, str):
            raise special_error(token, self.device)
        return token


class SimOneWireTree:
    """A fake ``/sys/bus/w1/devices`` under ``root`` whose ``w1_slave`` files follow SimSources.

    ``refresh`` writes each sensor's next reading with ``format_w1_slave``, so ``read_ds18b20`` is
    exercised unchanged. Token mapping, after what drivers/w1/slaves/w1_therm.c prints: a number
    gives a good file, ``fail`` an empty file (a failed conversion since kernel 5.9), ``corrupt`` a
    file whose CRC the kernel refused (``NO``), ``missing`` removes the sensor's directory.
    Like the real reader, it never writes outside ``<root>/sys``: a sensors dir or an address that
    would lead elsewhere is refused with a HardwareError.
    """

    def __init__(self, root: Path, sensors_dir: str = DEFAULT_SENSORS_DIR) -> None:
        self.root = root
        self.sensors_dir = sensors_dir
        self.directory = sensors_path(root, sensors_dir)
        self.directory.mkdir(parents=True, exist_ok=True)
        # The real tree always has the bus master next to the sensors; listing must skip it.
        (self.directory / "w1_bus_master1").mkdir(exist_ok=True)
        self._sources: dict[str, SimSource] = {}
        self._last: dict[str, float] = {}

    @property
    def devices(self) -> list[str]:
        return sorted(self._sources)

    def add(self, hexadd: str, source: SimSource | str | float = "19.5") -> SimSource:
        """Register a sensor and write its first reading."""
        check_hexadd(hexadd)
        sim = SimSource.coerce(source, device=f"DS18B20 {hexadd}")
        self._sources[hexadd] = sim
        self.refresh(hexadd)
        return sim

    def source(self, hexadd: str) -> SimSource:
        return self._sources[hexadd]

    def remove(self, hexadd: str) -> None:
        check_hexadd(hexadd)
        self._sources.pop(hexadd, None)
        shutil.rmtree(self.directory / hexadd, ignore_errors=True)

    def refresh(self, hexadd: str | None = None) -> None:
        """Write the next reading of one sensor, or of every sensor when ``hexadd`` is None."""
        for name in [hexadd] if hexadd is not None else self.devices:
            self._write(name, self._sources[name].next_token())

    def read(self, hexadd: str) -> float:
        """Advance the sensor's source, then read it back through the real reader."""
        if hexadd in self._sources:
            self.refresh(hexadd)
        return read_ds18b20(self.root, hexadd, self.sensors_dir)

    def _write(self, hexadd: str, token: SimToken) -> None:
        device_dir = self.directory / check_hexadd(hexadd)
        if token == "missing":
            shutil.rmtree(device_dir, ignore_errors=True)
            return
        if isinstance(token, float):
            try:
                text = format_w1_slave(token)
            except ValueError as exc:
                raise HardwareError(f"DS18B20 {hexadd}", f"simulated value rejected: {exc}") from None
            self._last[hexadd] = token
        elif token == "fail":
            text = ""
        else:
            text = format_w1_slave(self._last.get(hexadd, 19.5), crc_ok=False)
        device_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(device_dir / "w1_slave", text)


def _atomic_write(path: Path, text: str) -> None:
    # A reader on the bus worker must never see a half-written file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SimI2cDevice:
    """A simulated I2C device: 256 byte registers with auto-increment block access.

    Subclasses model a chip by overriding ``on_write`` (and ``on_read`` for side effects of reads).
    Setting ``present`` to False makes every access fail as an absent device does (EREMOTEIO).
    """

    def __init__(self, registers: Mapping[int, int] | None = None) -> None:
        self.registers = bytearray(256)
        self.present = True
        self.writes: list[tuple[int, int]] = []
        for register, value in (registers or {}).items():
            self.registers[register] = value & 0xFF

    def load(self, start: int, data: Iterable[int]) -> None:
        """Preset consecutive registers without triggering ``on_write``."""
        for offset, value in enumerate(data):
            self.registers[(start + offset) & 0xFF] = value & 0xFF

    def check_present(self) -> None:
        if not self.present:
            raise OSError(errno.EREMOTEIO, os.strerror(errno.EREMOTEIO))

    def read_register(self, register: int) -> int:
        self.check_present()
        self.on_read(register & 0xFF)
        return self.registers[register & 0xFF]

    def write_register(self, register: int, value: int) -> None:
        self.check_present()
        self.registers[register & 0xFF] = value & 0xFF
        self.writes.append((register & 0xFF, value & 0xFF))
        self.on_write(register & 0xFF, value & 0xFF)

    def read_block(self, register: int, length: int) -> list[int]:
        return [self.read_register((register + offset) & 0xFF) for offset in range(length)]

    def write_block(self, register: int, values: Iterable[int]) -> None:
        for offset, value in enumerate(values):
            self.write_register((register + offset) & 0xFF, value)

    def on_read(self, register: int) -> None:
        """Hook: called before a register is read."""

    def on_write(self, register: int, value: int) -> None:
        """Hook: called after a register is written."""
