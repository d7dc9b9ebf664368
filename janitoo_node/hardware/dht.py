"""DHT11, DHT22 and AM2302 temperature/humidity sensors: frame codec, edge decoder and read backends.

A DHT answers a start pulse with 40 bits: humidity high and low byte, temperature high and low
byte, checksum (the low 8 bits of the sum of the four). Each bit is a ~50 µs low followed by a
high pulse of ~27 µs for a 0 or ~70 µs for a 1.

Backends, all with the same ``read() -> (temperature °C, humidity %)``:

* ``IioDht``: the kernel's dht11 IIO driver (``dtoverlay=dht11,gpiopin=6``, DHT11 and DHT22 alike),
  the recommended way on a modern Pi (Pi 5 included). drivers/iio/humidity/dht11.c names the IIO
  device after its platform device, which the overlay names after its node: ``dht11@<pin in hex>``
  (``dht11@6``, ``dht11@11`` for GPIO17), so each component finds the device of its own pin;
* ``PigpioDht``: bit-banged through the pigpio daemon (Pi 4 and earlier);
* ``SimDht``: scripted readings that go through the same frame codec as the real sensor.

A sensor can be read about once every 2 s, so each backend caches its last outcome (reading or
error) for ``cache_s``: the temperature and humidity getters of one poll share one read.
"""

from __future__ import annotations

import errno
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import HardwareError
from .gpio import acquire_pigpio, release_pigpio
from .sim import SimSource, special_error

Clock = Callable[[], float]
DHT_MODELS: tuple[int, ...] = (11, 22, 2302)
FRAME_BITS = 40
ONE_THRESHOLD_US = 50  # a high pulse longer than this is a 1 (0 ≈ 27 µs, 1 ≈ 70 µs)
_RETRIED_ERRNOS = {errno.EIO, errno.ETIMEDOUT, errno.EAGAIN}
# The sensor needs this long between two start pulses; the kernel keeps a *good* reading this long
# (DHT11_DATA_VALID_TIME) but sends a new start pulse at once after a failed one.
SENSOR_REST_S = 2.0
IIO_NAME = "dht11"
_TICK_MASK = 0xFFFFFFFF  # pigpio ticks are unsigned 32-bit microseconds and wrap every ~72 min


def check_model(model: int) -> int:
    """Return ``model`` if it is a known sensor type, else raise ValueError (a config error)."""
    if model not in DHT_MODELS:
        raise ValueError(f"unknown DHT sensor type {model!r}: expected one of 11, 22, 2302")
    return model


def _checksum(data: bytes | bytearray) -> int:
    return sum(data[:4]) & 0xFF


def decode_frame(data: bytes, model: int, *, device: str | None = None) -> tuple[float, float]:
    """Decode a 5-byte frame into (temperature °C, humidity %).

    DHT11: humidity = byte 0, temperature = byte 2 (integers). DHT22/AM2302: tenths, with bit 7 of
    byte 2 as the temperature's sign. A checksum mismatch or a reading the sensor cannot produce
    raises HardwareError.
    """
    check_model(model)
    label = device or f"DHT{model}"
    if len(data) != 5:
        raise HardwareError(label, f"frame must be 5 bytes, got {len(data)}")
    if _checksum(data) != data[4]:
        raise HardwareError(label, f"checksum error (got {data[4]:#04x}, expected {_checksum(data):#04x})")
    if model == 11:
        humidity = float(data[0])
        temperature = float(data[2])
    else:
        humidity = ((data[0] << 8) | data[1]) / 10
        temperature = (((data[2] & 0x7F) << 8) | data[3]) / 10
        if data[2] & 0x80:
            temperature = -temperature
    # A bit error can slip past an 8-bit checksum; these values are outside what the sensor measures.
    if humidity > 100:
        raise HardwareError(label, f"implausible humidity {humidity} %")
    if not -40 <= temperature <= 125:
        raise HardwareError(label, f"implausible temperature {temperature} °C")
    return temperature, humidity


def encode_frame(temperature: float, humidity: float, model: int) -> bytes:
    """Build the 5-byte frame a sensor would send (rounded to its resolution); used by the simulator."""
    check_model(model)
    if not 0 <= humidity <= 100:
        raise ValueError(f"humidity {humidity} % out of range 0..100")
    if model == 11:
        if not 0 <= temperature <= 50:
            raise ValueError(f"DHT11 temperature {temperature} °C out of range 0..50")
        frame = bytearray((round(humidity), 0, round(temperature), 0))
    else:
        if not -40 <= temperature <= 80:
            raise ValueError(f"DHT{model} temperature {temperature} °C out of range -40..80")
        tenths_h = round(humidity * 10)
        tenths_t = round(abs(temperature) * 10)
        high_t = (tenths_t >> 8) | (0x80 if temperature < 0 and tenths_t else 0)
        frame = bytearray((tenths_h >> 8, tenths_h & 0xFF, high_t, tenths_t & 0xFF))
    frame.append(_checksum(frame))
    return bytes(frame)


def edges_from_frame(data: bytes, start_tick: int = 0) -> list[tuple[int, int]]:
    """The (level, tick µs) edges a pigpio callback sees for one transaction carrying ``data``.

    Host start pulse, sensor response (80 µs low, 80 µs high), 40 bits, release. The inverse of
    ``bits_from_edges``; used by the simulator and the tests.
    """
    tick = start_tick
    edges: list[tuple[int, int]] = []

    def edge(level: int, after_us: int) -> None:
        nonlocal tick
        tick = (tick + after_us) & _TICK_MASK
        edges.append((level, tick))

    edge(0, 0)  # host pulls the line low
    edge(1, 1000)  # host releases it
    edge(0, 30)  # sensor response: low ...
    edge(1, 80)  # ... then high
    high_us = 80  # how long the line has been high when the next falling edge comes
    for byte in data:
        for bit in range(7, -1, -1):
            edge(0, high_us)  # each bit starts with a ~50 µs low
            edge(1, 50)
            high_us = 70 if byte >> bit & 1 else 27
    edge(0, high_us)  # end of the last bit
    edge(1, 50)  # sensor releases the line
    return edges


def bits_from_edges(edges: Sequence[tuple[int, int]], *, device: str = "DHT") -> bytes:
    """Turn pigpio-style (level, tick µs) edges into the 5 frame bytes.

    Measures every high pulse (a rising edge followed by a falling one) and keeps the last 40,
    which skips the host's release and the sensor's response pulse whatever was captured before
    them. A pulse longer than ~50 µs is a 1. Level 2 (a pigpio watchdog report) is ignored.
    """
    widths: list[int] = []
    rose_at: int | None = None
    for level, tick in edges:
        if level == 1:
            rose_at = tick
        elif level == 0 and rose_at is not None:
            widths.append((tick - rose_at) & _TICK_MASK)
            rose_at = None
    if len(widths) < FRAME_BITS:
        raise HardwareError(device, f"incomplete frame: {len(widths)} of {FRAME_BITS} bits received")
    value = 0
    for width in widths[-FRAME_BITS:]:
        value = value << 1 | (width > ONE_THRESHOLD_US)
    return value.to_bytes(5, "big")


def iio_device_dir(root: Path, device_index: int) -> Path:
    return root / "sys/bus/iio/devices" / f"iio:device{device_index}"


def iio_dht_devices(root: Path = Path("/")) -> list[tuple[int, str, int | None]]:
    """The dht11 IIO devices as (index, name, BCM pin or None), by index.

    The pin comes from the name's unit address (``dht11@11`` is GPIO17); a bare ``dht11`` (a
    hand-written overlay without ``reg``) has none.
    """
    base = root / "sys/bus/iio/devices"
    found: list[tuple[int, str, int | None]] = []
    try:
        candidates = list(base.glob("iio:device*"))
    except OSError:
        return []
    for candidate in candidates:
        try:
            index = int(candidate.name[len("iio:device") :])
            name = (candidate / "name").read_text(encoding="ascii").strip()
        except (OSError, ValueError):
            continue
        device, _, unit = name.partition("@")
        if device != IIO_NAME:
            continue
        try:
            pin = int(unit, 16) if unit else None
        except ValueError:
            pin = None
        found.append((index, name, pin))
    return sorted(found)


def find_iio_dht(root: Path = Path("/"), pin: int | None = None) -> int | None:
    """The index of the dht11 IIO device on BCM ``pin`` (any dht11 device when ``pin`` is None), or None.

    A device without a pin in its name is taken only when it is the only dht11 device: with two
    sensors, guessing would make both components read the same one.
    """
    devices = iio_dht_devices(root)
    if pin is None:
        return devices[0][0] if devices else None
    for index, _name, device_pin in devices:
        if device_pin == pin:
            return index
    if len(devices) == 1 and devices[0][2] is None:
        return devices[0][0]
    return None


def _read_text(path: Path) -> str:
    return path.read_text(encoding="ascii")


def read_iio(
    root: Path = Path("/"),
    device_index: int = 0,
    *,
    clock: Clock = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    retries: int = 1,
    max_block_s: float = 5.0,
    rest_s: float = SENSOR_REST_S,
    reader: Callable[[Path], str] = _read_text,
) -> tuple[float, float]:
    """Read (temperature °C, humidity %) from the kernel dht11 IIO driver (milli-units in sysfs).

    The driver answers EIO or ETIMEDOUT when the sensor's reply was garbled, which is frequent. Each
    failed read was a start pulse, and the kernel sends the next one at once, so a retry first lets
    the sensor rest ``rest_s`` (a sensor pulsed too early answers garbage again). At most
    ``retries`` retries, and none that would end past ``max_block_s`` on ``clock``.
    ``reader`` replaces the file read and ``sleep`` the wait (tests).
    """
    label = f"DHT iio:device{device_index}"
    directory = iio_device_dir(root, device_index)
    start = clock()
    attempts = 0
    while True:
        attempts += 1
        attempt_start = clock()
        try:
            raw_t = reader(directory / "in_temp_input").strip()
            raw_h = reader(directory / "in_humidityrelative_input").strip()
        except FileNotFoundError:
            raise HardwareError(
                label, "device not found: enable it with dtoverlay=dht11,gpiopin=<pin>"
            ) from None
        except OSError as exc:
            if exc.errno not in _RETRIED_ERRNOS:
                raise HardwareError(label, f"read failed: {exc.strerror or exc}") from None
            now = clock()
            # Another try rests, then blocks about as long as this one did: only start it if it fits.
            if attempts > retries or (now - start) + rest_s + (now - attempt_start) > max_block_s:
                raise HardwareError(
                    label, f"read failed after {attempts} attempts: {exc.strerror or exc}"
                ) from None
            sleep(rest_s)
            continue
        try:
            return int(raw_t) / 1000, int(raw_h) / 1000
        except ValueError:
            raise HardwareError(label, f"malformed values {raw_t!r} / {raw_h!r}") from None


class DhtReader(ABC):
    """Common caching for the DHT backends: one sensor transaction per ``cache_s`` at most."""

    def __init__(self, clock: Clock = time.monotonic, cache_s: float = 2.0) -> None:
        self.clock = clock
        self.cache_s = cache_s
        self._lock = threading.Lock()
        self._at: float | None = None
        self._reading: tuple[float, float] | None = None
        self._error: HardwareError | None = None

    @abstractmethod
    def _read_sensor(self) -> tuple[float, float]:
        """One real transaction with the sensor."""

    def close(self) -> None:  # noqa: B027 - most readers hold nothing
        """Release what the reader holds (a daemon connection); reading again afterwards is an error."""

    def read(self) -> tuple[float, float]:
        """(temperature °C, humidity %); raises HardwareError when the sensor gave no valid reading."""
        with self._lock:
            now = self.clock()
            if self._at is None or now - self._at >= self.cache_s:
                try:
                    self._reading, self._error = self._read_sensor(), None
                except HardwareError as exc:
                    self._reading, self._error = None, exc
                # From the end of the transaction (retries included): the sensor rests from its last pulse.
                self._at = self.clock()
            if self._error is not None:
                raise HardwareError(self._error.device, self._error.reason)
            assert self._reading is not None
            return self._reading


class IioDht(DhtReader):
    """The kernel dht11 IIO driver: the device of ``pin`` (``dht11@<hex pin>``), or ``device_index`` when given.

    The device index can change from one boot to the next, so it is looked up at every read.
    """

    def __init__(
        self,
        root: Path = Path("/"),
        device_index: int | None = None,
        *,
        pin: int | None = None,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        retries: int = 1,
        max_block_s: float = 5.0,
        cache_s: float = 2.0,
        reader: Callable[[Path], str] = _read_text,
    ) -> None:
        super().__init__(clock, cache_s)
        self.root = root
        self.device_index = device_index
        self.pin = pin
        self.retries = retries
        self.max_block_s = max_block_s
        self._sleep = sleep
        self._reader = reader

    def _read_sensor(self) -> tuple[float, float]:
        index = self.device_index
        if index is None:
            index = find_iio_dht(self.root, self.pin)
            if index is None:
                where = f"GPIO{self.pin}" if self.pin is not None else "any pin"
                others = ", ".join(name for _i, name, _p in iio_dht_devices(self.root)) or "none"
                raise HardwareError(
                    f"DHT {where}",
                    f"no dht11 IIO device for {where} (found: {others}): "
                    f"add dtoverlay=dht11,gpiopin={self.pin if self.pin is not None else '<pin>'}",
                )
        return read_iio(
            self.root,
            index,
            clock=self.clock,
            sleep=self._sleep,
            retries=self.retries,
            max_block_s=self.max_block_s,
            reader=self._reader,
        )


# pigpio constants, so that an injected stand-in needs only the methods.
_PI_INPUT, _PI_OUTPUT, _PI_PUD_UP, _PI_EITHER_EDGE = 0, 1, 2, 2
_PULSES_PER_TRANSACTION = FRAME_BITS + 2  # the host's release and the sensor's response pulse


class PigpioDht(DhtReader):
    """Bit-bangs a DHT through the pigpio daemon: start pulse, then edges collected by a callback.

    The wait for the edges is bounded by ``timeout_s`` (the whole transaction takes ~5 ms).
    ``sleep`` times the host's start pulse; ``pi`` replaces the daemon connection (tests). Without
    it the reader borrows the process's shared connection, given back by ``close``.
    """

    def __init__(
        self,
        pin: int,
        model: int = 22,
        *,
        pi: Any = None,
        host: str | None = None,
        port: int = 8888,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float = 0.1,
        cache_s: float = 2.0,
    ) -> None:
        super().__init__(clock, cache_s)
        self.pin = pin
        self.model = check_model(model)
        self.label = f"DHT{model} GPIO{pin}"
        self._owns_pi = pi is None
        self.pi = acquire_pigpio(host, port or 8888) if pi is None else pi
        self._closed = False
        self._sleep = sleep
        self.timeout_s = timeout_s
        # DHT11 needs at least 18 ms of start pulse; DHT22/AM2302 want about 1 ms.
        self._start_low_s = 0.018 if model == 11 else 0.002

    def close(self) -> None:
        if self._owns_pi and not self._closed:
            release_pigpio(self.pi)
        self._closed = True

    def _read_sensor(self) -> tuple[float, float]:
        if self._closed:
            raise HardwareError(self.label, "reader closed")
        edges: list[tuple[int, int]] = []
        pulses = 0
        done = threading.Event()

        def on_edge(gpio: int, level: int, tick: int) -> None:
            nonlocal pulses
            if level not in (0, 1):
                return
            if level == 0 and edges and edges[-1][0] == 1:
                pulses += 1
            edges.append((level, tick))
            if pulses >= _PULSES_PER_TRANSACTION:
                done.set()

        try:
            callback = self.pi.callback(self.pin, _PI_EITHER_EDGE, on_edge)
        except Exception as exc:  # pigpio.error derives from Exception only
            raise HardwareError(self.label, f"cannot watch the pin: {exc}") from None
        try:
            self.pi.set_pull_up_down(self.pin, _PI_PUD_UP)
            self.pi.set_mode(self.pin, _PI_OUTPUT)
            self.pi.write(self.pin, 0)
            self._sleep(self._start_low_s)
            self.pi.set_mode(self.pin, _PI_INPUT)
            done.wait(self.timeout_s)
        except Exception as exc:
            raise HardwareError(self.label, f"start pulse failed: {exc}") from None
        finally:
            callback.cancel()
        if not edges:
            raise HardwareError(self.label, "no response from the sensor (check wiring and pull-up)")
        return decode_frame(bits_from_edges(list(edges), device=self.label), self.model, device=self.label)


class SimDht(DhtReader):
    """Scripted DHT readings sent through encode_frame, the edge decoder and decode_frame.

    Tokens: numbers are readings (rounded to the sensor's resolution), ``fail`` a sensor that does
    not answer, ``missing`` an absent one, ``corrupt`` a frame with a bad checksum.
    """

    def __init__(
        self,
        temperature: SimSource | str | float = "21",
        humidity: SimSource | str | float = "40",
        *,
        model: int = 22,
        clock: Clock = time.monotonic,
        cache_s: float = 2.0,
        device: str | None = None,
    ) -> None:
        super().__init__(clock, cache_s)
        self.model = check_model(model)
        self.label = device or f"DHT{model} (sim)"
        self.temperature = SimSource.coerce(temperature, device=self.label)
        self.humidity = SimSource.coerce(humidity, device=self.label)
        self._tick = 0

    def _read_sensor(self) -> tuple[float, float]:
        temperature = self.temperature.next_token()
        humidity = self.humidity.next_token()
        for token in (temperature, humidity):
            if token == "fail":
                raise HardwareError(self.label, "no response from the sensor (simulated read failure)")
            if token == "missing":
                raise special_error("missing", self.label)
        corrupt = "corrupt" in (temperature, humidity)
        try:
            frame = bytearray(
                encode_frame(
                    temperature if isinstance(temperature, float) else 20.0,
                    humidity if isinstance(humidity, float) else 40.0,
                    self.model,
                )
            )
        except ValueError as exc:
            raise HardwareError(self.label, f"simulated value rejected: {exc}") from None
        if corrupt:
            frame[4] ^= 0x01
        edges = edges_from_frame(bytes(frame), self._tick)
        self._tick = edges[-1][1]
        return decode_frame(bits_from_edges(edges, device=self.label), self.model, device=self.label)
