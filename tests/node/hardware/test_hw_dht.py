"""Tests for the DHT frame codec, the edge decoder, the IIO reader and the DHT backends."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from janitoo_node.hardware.dht import (
    IioDht,
    PigpioDht,
    SimDht,
    bits_from_edges,
    decode_frame,
    edges_from_frame,
    encode_frame,
    find_iio_dht,
    iio_dht_devices,
    read_iio,
)
from janitoo_node.hardware.errors import HardwareError
from janitoo_node.hardware.gpio.pigpio_backend import shared_pigpio_users
from tests.node.hardware.standins.boards import add_dht11, build_board
from tests.node.hardware.standins.libs_fixture import StandinLibs


def _frame(*first_four: int) -> bytes:
    return bytes([*first_four, sum(first_four) & 0xFF])


def test_dht11_frame() -> None:
    assert decode_frame(_frame(40, 0, 21, 0), 11) == (21.0, 40.0)


def test_dht22_frame() -> None:
    # 0x028C = 652 -> 65.2 %, 0x015F = 351 -> 35.1 °C
    assert decode_frame(_frame(0x02, 0x8C, 0x01, 0x5F), 22) == (35.1, 65.2)


@pytest.mark.parametrize("model", [22, 2302])
def test_dht22_negative_temperature(model: int) -> None:
    # bit 7 of byte 2 is the sign: 0x8065 -> -10.1 °C
    assert decode_frame(_frame(0x01, 0x90, 0x80, 0x65), model) == (-10.1, 40.0)


def test_bad_checksum() -> None:
    frame = bytearray(_frame(0x02, 0x8C, 0x01, 0x5F))
    frame[4] ^= 0x10
    with pytest.raises(HardwareError, match="checksum error") as caught:
        decode_frame(bytes(frame), 22)
    assert caught.value.device == "DHT22"


def test_wrong_length_and_implausible_values() -> None:
    with pytest.raises(HardwareError, match="5 bytes"):
        decode_frame(b"\x00\x00\x00", 22)
    with pytest.raises(HardwareError, match="implausible humidity"):
        decode_frame(_frame(0x03, 0xE9, 0x00, 0xC8), 22)  # 100.1 %


def test_unknown_model_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="expected one of 11, 22, 2302"):
        decode_frame(_frame(1, 2, 3, 4), 12)


def test_encode_matches_decode_examples() -> None:
    assert encode_frame(-10.1, 40.0, 22) == _frame(0x01, 0x90, 0x80, 0x65)
    assert encode_frame(21.4, 40.0, 11) == _frame(40, 0, 21, 0)
    with pytest.raises(ValueError, match="out of range"):
        encode_frame(-5, 40, 11)


def test_bits_from_edges_round_trip_with_tick_wrap() -> None:
    frame = encode_frame(-3.5, 55.2, 22)
    edges = edges_from_frame(frame, start_tick=2**32 - 300)  # pigpio ticks wrap at 2**32
    assert bits_from_edges(edges) == frame
    assert decode_frame(bits_from_edges(edges), 22) == (-3.5, 55.2)


def test_bits_from_edges_ignores_watchdog_reports_and_leading_noise() -> None:
    frame = encode_frame(21.0, 40.0, 22)
    edges = [(1, 0), (0, 5), (2, 6)] + edges_from_frame(frame, 100)
    assert bits_from_edges(edges) == frame


def test_bits_from_edges_incomplete() -> None:
    edges = edges_from_frame(encode_frame(21.0, 40.0, 22))[:40]
    with pytest.raises(HardwareError, match="incomplete frame"):
        bits_from_edges(edges, device="DHT22 GPIO6")


@given(
    st.integers(min_value=-400, max_value=800),
    st.integers(min_value=0, max_value=1000),
    st.sampled_from([22, 2302]),
)
def test_dht22_codec_round_trip(tenths_t: int, tenths_h: int, model: int) -> None:
    frame = encode_frame(tenths_t / 10, tenths_h / 10, model)
    assert bits_from_edges(edges_from_frame(frame)) == frame
    assert decode_frame(frame, model) == (tenths_t / 10 or 0.0, tenths_h / 10)


# --- IIO -------------------------------------------------------------------------------------


def _iio(root: Path, temp: str, humidity: str, index: int = 0, name: str = "dht11") -> Path:
    device = root / "sys/bus/iio/devices" / f"iio:device{index}"
    device.mkdir(parents=True)
    (device / "in_temp_input").write_text(temp)
    (device / "in_humidityrelative_input").write_text(humidity)
    (device / "name").write_text(name + "\n")
    return device


def test_iio_values(tmp_path: Path) -> None:
    _iio(tmp_path, "21000\n", "40500\n")
    assert read_iio(tmp_path) == (21.0, 40.5)


def test_iio_negative_and_discovery(tmp_path: Path) -> None:
    _iio(tmp_path, "1", "1", index=0, name="mcp3008")
    add_dht11(tmp_path, 1, 6, "-2300", "81000")
    assert find_iio_dht(tmp_path) == 1
    assert find_iio_dht(tmp_path, 6) == 1
    assert IioDht(tmp_path, pin=6).read() == (-2.3, 81.0)


def test_the_kernel_names_the_device_after_its_pin_in_hex(tmp_path: Path) -> None:
    # dht11.c: iio->name = pdev->name, "dht11@<reg>" with reg = gpiopin, printed in hex.
    add_dht11(tmp_path, 0, 4, "20000", "30000")
    add_dht11(tmp_path, 1, 17, "25000", "60000")
    assert (tmp_path / "sys/bus/iio/devices/iio:device1/name").read_text() == "dht11@11\n"
    assert iio_dht_devices(tmp_path) == [(0, "dht11@4", 4), (1, "dht11@11", 17)]
    assert find_iio_dht(tmp_path, 4) == 0
    assert find_iio_dht(tmp_path, 17) == 1
    assert find_iio_dht(tmp_path, 6) is None
    # Two sensors, two readings: each reader reads the device of its own pin.
    assert IioDht(tmp_path, pin=4).read() == (20.0, 30.0)
    assert IioDht(tmp_path, pin=17).read() == (25.0, 60.0)
    with pytest.raises(HardwareError) as caught:
        IioDht(tmp_path, pin=6).read()
    assert str(caught.value) == (
        "DHT GPIO6: no dht11 IIO device for GPIO6 (found: dht11@4, dht11@11): add dtoverlay=dht11,gpiopin=6"
    )


def test_a_bare_dht11_name_is_taken_only_when_alone(tmp_path: Path) -> None:
    _iio(tmp_path, "21000", "40000", index=0, name="dht11")
    assert find_iio_dht(tmp_path, 6) == 0
    add_dht11(tmp_path, 1, 4)
    assert find_iio_dht(tmp_path, 6) is None


def test_iio_missing_device_says_how_to_enable_it(tmp_path: Path) -> None:
    with pytest.raises(HardwareError, match="dtoverlay=dht11"):
        read_iio(tmp_path)


def _failing_reader(clock: Any, errors: list[int], step_s: float) -> Callable[[Path], str]:
    """A reader that raises the given errnos in turn (each costing ``step_s``), then reads the file."""

    def reader(path: Path) -> str:
        clock.advance(step_s)
        if errors:
            code = errors.pop(0)
            raise OSError(code, os.strerror(code))
        return path.read_text()

    return reader


def test_iio_retries_then_succeeds(tmp_path: Path, clock: Any) -> None:
    _iio(tmp_path, "21000", "40000")
    reader = _failing_reader(clock, [errno.EIO, errno.ETIMEDOUT], 0.1)
    assert read_iio(tmp_path, clock=clock, sleep=clock.advance, retries=3, max_block_s=10, reader=reader) == (
        21.0,
        40.0,
    )


def test_iio_retries_are_bounded_in_number(tmp_path: Path, clock: Any) -> None:
    _iio(tmp_path, "21000", "40000")
    errors = [errno.EIO] * 10
    reader = _failing_reader(clock, errors, 0.01)
    with pytest.raises(HardwareError, match="read failed after 3 attempts"):
        read_iio(tmp_path, clock=clock, sleep=clock.advance, retries=2, max_block_s=60, reader=reader)
    assert len(errors) == 7


def test_iio_retries_are_bounded_in_time(tmp_path: Path, clock: Any) -> None:
    _iio(tmp_path, "21000", "40000")
    errors = [errno.ETIMEDOUT] * 10
    start = clock.now
    reader = _failing_reader(clock, errors, 0.8)  # each kernel read blocks 0.8 s before failing
    with pytest.raises(HardwareError, match="read failed after 2 attempts: Connection timed out"):
        read_iio(tmp_path, clock=clock, sleep=clock.advance, retries=9, max_block_s=5.0, reader=reader)
    assert clock.now - start <= 5.0


class KernelDht11:
    """The dht11 IIO driver and its sensor, for the read path (drivers/iio/humidity/dht11.c).

    A read returns the cached values while a *good* reading is less than 2 s old (only a successful
    decode sets the timestamp); otherwise it sends a start pulse. A sensor pulsed again less than
    2 s after the previous pulse is still busy and answers garbage: EIO. ``noise`` scripts whether a
    rested sensor's answer is garbled anyway (True = garbled), as happens on a real line.
    """

    def __init__(self, clock: Any, noise: list[bool], temp: str = "21000", humidity: str = "40000") -> None:
        self.clock = clock
        self.noise = noise
        self.values = {"in_temp_input": temp, "in_humidityrelative_input": humidity}
        self.starts: list[float] = []
        self.good_at: float | None = None

    def reader(self, path: Path) -> str:
        now = self.clock()
        if self.good_at is not None and now - self.good_at < 2.0:
            return self.values[path.name]
        busy = bool(self.starts) and now - self.starts[-1] < 2.0
        self.starts.append(now)
        self.clock.advance(0.02)  # the transaction itself
        garbled = self.noise.pop(0) if self.noise else False
        if busy or garbled:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        self.good_at = now
        return self.values[path.name]


def test_a_retry_after_eio_lets_the_sensor_rest(tmp_path: Path, clock: Any) -> None:
    # The kernel caches only good reads: retrying straight after EIO pulses a busy sensor again.
    _iio(tmp_path, "21000", "40000")
    kernel = KernelDht11(clock, noise=[True, False])
    dht = IioDht(tmp_path, 0, clock=clock, sleep=clock.advance, retries=2, reader=kernel.reader)
    assert dht.read() == (21.0, 40.0)
    assert len(kernel.starts) == 2
    assert all(
        later - earlier >= 2.0 for earlier, later in zip(kernel.starts, kernel.starts[1:], strict=False)
    )


def test_a_failed_read_is_not_retried_by_the_next_getter_of_the_same_poll(tmp_path: Path, clock: Any) -> None:
    _iio(tmp_path, "21000", "40000")
    kernel = KernelDht11(clock, noise=[True, True, False])
    dht = IioDht(tmp_path, 0, clock=clock, sleep=clock.advance, retries=1, reader=kernel.reader)
    with pytest.raises(HardwareError, match="read failed after 2 attempts"):
        dht.read()  # the temperature getter
    with pytest.raises(HardwareError, match="read failed after 2 attempts"):
        dht.read()  # the humidity getter, right after: the cached error, no new start pulse
    assert len(kernel.starts) == 2
    clock.advance(2.0)
    assert dht.read() == (21.0, 40.0)
    assert all(
        later - earlier >= 2.0 for earlier, later in zip(kernel.starts, kernel.starts[1:], strict=False)
    )


def test_iio_other_errors_are_not_retried(tmp_path: Path, clock: Any) -> None:
    _iio(tmp_path, "21000", "40000")
    errors = [errno.EACCES, errno.EACCES]
    with pytest.raises(HardwareError, match="Permission denied"):
        read_iio(tmp_path, clock=clock, reader=_failing_reader(clock, errors, 0.0))
    assert len(errors) == 1


def test_backend_caches_a_reading_for_two_seconds(tmp_path: Path, clock: Any) -> None:
    device = _iio(tmp_path, "21000", "40000")
    dht = IioDht(tmp_path, 0, clock=clock)
    assert dht.read() == (21.0, 40.0)
    (device / "in_temp_input").write_text("22000")
    clock.advance(1.9)
    assert dht.read() == (21.0, 40.0)  # the humidity getter of the same poll shares the reading
    clock.advance(0.2)
    assert dht.read() == (22.0, 40.0)


# --- Sim ---------------------------------------------------------------------------------------


def test_sim_dht_goes_through_the_codec(clock: Any) -> None:
    dht = SimDht("21.26,-5", "40", model=22, clock=clock, cache_s=0)
    assert dht.read() == (21.3, 40.0)  # rounded to the sensor's 0.1 resolution
    assert dht.read() == (-5.0, 40.0)
    dht11 = SimDht("21.6", "40.4", model=11, clock=clock, cache_s=0)
    assert dht11.read() == (22.0, 40.0)


def test_sim_dht_failures(clock: Any) -> None:
    dht = SimDht("fail,corrupt,missing,20", "40", clock=clock, cache_s=0)
    with pytest.raises(HardwareError, match="no response"):
        dht.read()
    with pytest.raises(HardwareError, match="checksum error"):
        dht.read()
    with pytest.raises(HardwareError, match="device not found"):
        dht.read()
    assert dht.read() == (20.0, 40.0)


def test_sim_dht_caches_errors_too(clock: Any) -> None:
    dht = SimDht("fail,20", "40", clock=clock)
    for _ in range(2):
        with pytest.raises(HardwareError, match="no response"):
            dht.read()
    clock.advance(2.0)
    assert dht.read() == (20.0, 40.0)


# --- pigpio, with a stand-in for the daemon connection --------------------------------------------


class FakePi:
    """Plays a DHT22 on the pin when the host releases the line after its start pulse."""

    def __init__(self, frame: bytes | None) -> None:
        self.frame = frame
        self.modes: list[tuple[int, int]] = []
        self.callbacks: list[Any] = []

    def callback(self, pin: int, edge: int, func: Callable[[int, int, int], None]) -> Any:
        pi = self

        class Handle:
            cancelled = False

            def cancel(self) -> None:
                self.cancelled = True
                pi.callbacks.remove(self)

        handle = Handle()
        handle.func = func  # type: ignore[attr-defined]
        self.callbacks.append(handle)
        return handle

    def set_pull_up_down(self, pin: int, pud: int) -> None:
        pass

    def write(self, pin: int, level: int) -> None:
        pass

    def set_mode(self, pin: int, mode: int) -> None:
        self.modes.append((pin, mode))
        if mode == 0 and self.frame is not None:  # input again: the sensor answers
            for level, tick in edges_from_frame(self.frame, 5000):
                for handle in list(self.callbacks):
                    handle.func(pin, level, tick)


def test_pigpio_dht_reads_a_frame() -> None:
    pi = FakePi(encode_frame(23.4, 51.0, 22))
    sleeps: list[float] = []
    dht = PigpioDht(6, 22, pi=pi, sleep=sleeps.append, cache_s=0)
    assert dht.read() == (23.4, 51.0)
    assert pi.modes == [(6, 1), (6, 0)]
    assert sleeps == [0.002]
    assert pi.callbacks == []  # the edge callback is always cancelled


def test_pigpio_dht_borrows_the_shared_connection_and_gives_it_back(
    tmp_path: Path, standin_libs: StandinLibs, capsys: pytest.CaptureFixture[str]
) -> None:
    root = standin_libs.board(build_board(tmp_path / "board", "pi4"))
    with pytest.raises(HardwareError, match="pigpio daemon not reachable"):
        PigpioDht(6, 22)
    assert capsys.readouterr().out == ""  # no banner per failed connect
    (root / "run").mkdir()
    (root / "run/pigpio.pid").write_text("321\n")
    first, second = PigpioDht(6, 22), PigpioDht(13, 11)
    pigpio = standin_libs.module("pigpio")
    assert len(pigpio.connections) == 1 and first.pi is second.pi
    first.close()
    first.close()  # twice is harmless
    assert shared_pigpio_users() == 1
    second.close()
    assert pigpio.connections == [] and shared_pigpio_users() == 0
    with pytest.raises(HardwareError, match="reader closed"):
        second._read_sensor()


def test_pigpio_dht_no_answer_is_bounded() -> None:
    dht = PigpioDht(6, 11, pi=FakePi(None), sleep=lambda s: None, timeout_s=0.01, cache_s=0)
    with pytest.raises(HardwareError, match="DHT11 GPIO6: no response"):
        dht.read()
