"""DS18B20 temperature sensors on the kernel's 1-wire sysfs tree: parser, reader, lister and file writer.

The kernel ``w1_therm`` driver exposes each sensor as ``<sensors_dir>/<hexadd>/w1_slave``, two lines::

    72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
    72 01 4b 46 7f ff 0e 10 57 t=23125

The first line is the 9-byte scratchpad and the kernel's CRC verdict, the second the same bytes and
the temperature in millidegrees Celsius (drivers/w1/slaves/w1_therm.c, ``w1_slave_show``). Since
kernel 5.9 a failed conversion (no presence pulse, a sensor that stopped answering) reads as an
*empty* file, which is reported as a failed conversion and read again once.

Unlike the original, the power-on value is treated as suspect, told apart the way the kernel's
``W1_THERM_CHECK_RESULT`` check does it: 85.000 °C *with* the power-on scratchpad (byte 6 = 0x0C,
which a conversion overwrites with 0x10 minus the low nibble of the reading) is a sensor that lost
power or never converted; a genuine 85.000 °C reading (byte 6 = 0x10) is kept. An all-zero
scratchpad is suspect too.

Paths stay inside their root: the sensors directory must lie under ``<root>/sys`` once resolved,
and an address is a 1-wire id, never a path.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import HardwareError

DEFAULT_SENSORS_DIR = "sys/bus/w1/devices"
DS18B20_FAMILY = "28-"
POWER_ON_MILLIDEGREES = 85000
POWER_ON_BYTE6 = 0x0C  # scratchpad byte 6 at power-on; a conversion sets it to 0x10 - (raw & 0x0F)

# Nine bytes, each followed by one space; the kernel prints lowercase but nothing is lost by
# accepting uppercase too.
_BYTES = r"((?:[0-9a-fA-F]{2} ){9})"
_CRC_LINE = re.compile(_BYTES + r": crc=([0-9a-fA-F]{2}) (YES|NO)")
_TEMP_LINE = re.compile(_BYTES + r"t=([+-]?\d+)")
# A 1-wire id is "<family>-<serial>"; anything with a path separator would escape the sensors dir.
_HEXADD = re.compile(r"[0-9A-Za-z]{2}-[0-9A-Za-z]{1,16}")


def _label(device: str) -> str:
    return f"DS18B20 {device}"


def w1_crc8(data: bytes) -> int:
    """Maxim/Dallas 1-wire CRC-8 (polynomial x^8 + x^5 + x^4 + 1, reflected, initial value 0)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


class ConversionFailed(HardwareError):
    """A reading worth one more try: an empty file or a suspect power-on value."""


def check_hexadd(hexadd: str) -> str:
    """Return ``hexadd`` if it is a 1-wire id (``28-00000463b745``), else raise HardwareError (one line)."""
    if not isinstance(hexadd, str) or not _HEXADD.fullmatch(hexadd):
        shown = repr(hexadd)[:40]
        raise HardwareError("DS18B20", f"invalid 1-wire address {shown}: expected e.g. 28-00000463b745")
    return hexadd


def _decode(text: str, device: str) -> tuple[int, bytes]:
    """Return the raw millidegrees and the scratchpad bytes, or raise for a bad or refused file."""
    if not text.strip():
        raise ConversionFailed(
            _label(device), "conversion failed (empty w1_slave): check the wiring, pull-up and power"
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise HardwareError(_label(device), "malformed w1_slave: expected two lines")
    crc_match = _CRC_LINE.fullmatch(lines[0])
    if crc_match is None:
        raise HardwareError(_label(device), f"malformed w1_slave first line: {lines[0]!r}")
    if crc_match.group(3) != "YES":
        raise HardwareError(_label(device), "CRC check failed")
    temp_match = _TEMP_LINE.fullmatch(lines[1])
    if temp_match is None:
        raise HardwareError(_label(device), f"malformed w1_slave second line: {lines[1]!r}")
    scratchpad = bytes.fromhex(temp_match.group(1))
    return int(temp_match.group(2)), scratchpad


def _check_plausible(millidegrees: int, scratchpad: bytes | None, device: str) -> float:
    # Without a scratchpad (the plain temperature file) 85.000 cannot be told apart: suspect.
    if millidegrees == POWER_ON_MILLIDEGREES and (scratchpad is None or scratchpad[6] == POWER_ON_BYTE6):
        raise ConversionFailed(_label(device), "suspect power-on value 85.000 °C")
    if millidegrees == 0 and scratchpad is not None and not any(scratchpad):
        raise ConversionFailed(_label(device), "suspect power-on value (all-zero scratchpad)")
    return millidegrees / 1000


def parse_w1_slave(text: str, device: str) -> float:
    """Parse the two-line ``w1_slave`` text into degrees Celsius.

    Raises HardwareError for a ``NO`` CRC, a malformed text, an empty text (a failed conversion),
    85.000 with the power-on scratchpad and a 0 reading with an all-zero scratchpad (both "suspect
    power-on value").
    """
    millidegrees, scratchpad = _decode(text, device)
    return _check_plausible(millidegrees, scratchpad, device)


def sensors_path(root: Path, sensors_dir: str) -> Path:
    """``<root>/<sensors_dir>``, refused (HardwareError, one line) unless it resolves inside ``<root>/sys``.

    The config value is the original's absolute "/sys/bus/w1/devices/": it is re-anchored under root.
    """
    text = str(sensors_dir).strip()
    path = root / text.lstrip("/")
    allowed = (root / "sys").resolve()
    if "\x00" in text or not path.resolve().is_relative_to(allowed):
        raise HardwareError(
            "1-wire",
            f"sensors dir {text[:80]!r} is outside {root / 'sys'}: expected e.g. {DEFAULT_SENSORS_DIR}",
        )
    return path


def _sensors_path(root: Path, sensors_dir: str) -> Path:
    return sensors_path(root, sensors_dir)


def onewire_bus_present(root: Path = Path("/"), sensors_dir: str = DEFAULT_SENSORS_DIR) -> bool:
    """The 1-wire bus heartbeat: the sensors directory exists (the w1-gpio overlay is loaded)."""
    try:
        return _sensors_path(root, sensors_dir).is_dir()
    except HardwareError:
        return False


def list_ds18b20(root: Path = Path("/"), sensors_dir: str = DEFAULT_SENSORS_DIR) -> list[str]:
    """Return the sorted ids of the DS18B20 sensors (entries starting with ``28-``)."""
    directory = _sensors_path(root, sensors_dir)
    try:
        entries = list(directory.iterdir())
    except FileNotFoundError:
        raise HardwareError(
            "1-wire", f"{directory} not found: enable it with dtoverlay=w1-gpio,gpiopin=4"
        ) from None
    except OSError as exc:
        raise HardwareError("1-wire", f"cannot list {directory}: {exc.strerror or exc}") from None
    return sorted(entry.name for entry in entries if entry.name.startswith(DS18B20_FAMILY))


def _read_once(device_dir: Path, hexadd: str) -> float:
    slave = device_dir / "w1_slave"
    try:
        return parse_w1_slave(slave.read_text(encoding="ascii", errors="replace"), hexadd)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise HardwareError(_label(hexadd), f"read failed: {exc.strerror or exc}") from None
    # Newer kernels also expose a plain "temperature" file (millidegrees); use it when w1_slave is gone.
    plain = device_dir / "temperature"
    try:
        text = plain.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        raise HardwareError(_label(hexadd), f"device not found in {device_dir.parent}") from None
    except OSError as exc:
        raise HardwareError(_label(hexadd), f"read failed: {exc.strerror or exc}") from None
    try:
        millidegrees = int(text)
    except ValueError:
        raise HardwareError(_label(hexadd), f"malformed temperature file: {text!r}") from None
    return _check_plausible(millidegrees, None, hexadd)


def read_ds18b20(
    root: Path, hexadd: str, sensors_dir: str = DEFAULT_SENSORS_DIR, *, retries: int = 1
) -> float:
    """Read one DS18B20 in °C from ``<root>/<sensors_dir>/<hexadd>/w1_slave``.

    Each read of ``w1_slave`` makes the kernel start a new conversion, so a failed conversion or a
    suspect power-on value is simply read again (``retries`` times, once by default) and raised if
    it repeats.
    """
    check_hexadd(hexadd)
    device_dir = _sensors_path(root, sensors_dir) / hexadd
    attempt = 0
    while True:
        try:
            return _read_once(device_dir, hexadd)
        except ConversionFailed:
            if attempt >= retries:
                raise
            attempt += 1


def format_w1_slave(celsius: float, *, crc_ok: bool = True, power_on: bool = False) -> str:
    """Build the ``w1_slave`` text the kernel would print for a DS18B20 at ``celsius``.

    The scratchpad holds the temperature in 1/16 °C (12-bit resolution, two's complement, little
    endian), the alarm bytes, the 12-bit config, byte 6 as a DS18B20 leaves it after a conversion
    (0x10 minus the reading's low nibble, e.g. ``72 01 4b 46 7f ff 0e 10 57``), 0x10 and a valid CRC,
    so the simulator goes through the very parser used on real hardware. ``crc_ok=False`` makes the
    kernel's verdict ``NO``; ``power_on=True`` gives the scratchpad of a sensor that never converted
    (``50 05 4b 46 7f ff 0c 10 1c``, 85.000 °C).
    """
    if power_on:
        celsius = POWER_ON_MILLIDEGREES / 1000
    if not -55.0 <= celsius <= 125.0:
        raise ValueError(f"DS18B20 temperature {celsius} °C out of range -55..125")
    raw = round(celsius * 16)
    scratchpad = bytearray(raw.to_bytes(2, "little", signed=True))
    byte6 = POWER_ON_BYTE6 if power_on else 0x10 - (raw & 0x0F)
    # TH and TL alarm registers, configuration (12-bit), two reserved bytes, as a real sensor has them.
    scratchpad += bytes((0x4B, 0x46, 0x7F, 0xFF, byte6, 0x10))
    crc = w1_crc8(bytes(scratchpad))
    # A transmission error shows as a ninth byte that disagrees with the CRC the kernel computes.
    scratchpad.append(crc if crc_ok else crc ^ 0xFF)
    # The kernel computes raw * 1000 / 16 in C, which truncates toward zero.
    millidegrees = abs(raw) * 1000 // 16
    if raw < 0:
        millidegrees = -millidegrees
    hex_bytes = " ".join(f"{byte:02x}" for byte in scratchpad)
    verdict = "YES" if crc_ok else "NO"
    return f"{hex_bytes} : crc={crc:02x} {verdict}\n{hex_bytes} t={millidegrees}\n"
