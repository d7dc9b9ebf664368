"""Tests for the scripted simulation sources and the simulated 1-wire tree."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from janitoo_node.hardware.errors import HardwareError
from janitoo_node.hardware.onewire import list_ds18b20, read_ds18b20
from janitoo_node.hardware.sim import SimI2cDevice, SimOneWireTree, SimSource, parse_sim_spec


def test_constant() -> None:
    source = SimSource("21.5")
    assert [source.read() for _ in range(3)] == [21.5, 21.5, 21.5]
    assert SimSource(19).read() == 19.0


def test_sequence_then_last_value_repeats() -> None:
    source = SimSource("20, 21,55,56")
    assert [source.read() for _ in range(6)] == [20, 21, 55, 56, 56, 56]


def test_fail_and_missing() -> None:
    with pytest.raises(HardwareError, match="simulated read failure"):
        SimSource("fail", device="DHT22 (sim)").read()
    with pytest.raises(HardwareError) as caught:
        SimSource("missing", device="DS18B20 28-x").read()
    assert str(caught.value) == "DS18B20 28-x: device not found"


def test_mixed_sequence() -> None:
    source = SimSource("20,fail,22")
    assert source.read() == 20
    with pytest.raises(HardwareError):
        source.read()
    assert source.read() == 22
    assert source.read() == 22


def test_next_token_exposes_special_words() -> None:
    source = SimSource("corrupt,1")
    assert source.next_token() == "corrupt"
    assert source.next_token() == 1.0


@pytest.mark.parametrize("spec", ["", " , ", "hot", "20,warm", True])
def test_invalid_specs(spec: object) -> None:
    with pytest.raises(ValueError, match="simulation"):
        parse_sim_spec(spec)  # type: ignore[arg-type]


def test_set_changes_readings_at_run_time() -> None:
    source = SimSource("20")
    assert source.read() == 20
    source.set("55,56")
    assert [source.read() for _ in range(3)] == [55, 56, 56]
    with pytest.raises(ValueError):
        source.set("nonsense")
    assert source.read() == 56  # a bad spec leaves the readings alone


def _rewrite(path: Path, text: str, bump: int) -> None:
    path.write_text(text)
    # Make the change visible even on filesystems with a coarse mtime.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump * 1_000_000_000))


def test_file_driven_source(tmp_path: Path) -> None:
    path = tmp_path / "ds18b20.sim"
    path.write_text("# scenario\n19.5\n20\n")
    source = SimSource.from_file(path, device="DS18B20 sim")
    assert [source.read() for _ in range(3)] == [19.5, 20, 20]
    _rewrite(path, "51\nfail\n", 1)
    assert source.read() == 51
    with pytest.raises(HardwareError, match="simulated read failure"):
        source.read()
    _rewrite(path, "oops\n", 2)
    with pytest.raises(HardwareError, match="bad simulation file"):
        source.read()
    _rewrite(path, "22\n", 3)
    assert source.read() == 22


def test_file_driven_source_missing_file(tmp_path: Path) -> None:
    source = SimSource.from_file(tmp_path / "nope", device="CPU (sim)")
    with pytest.raises(HardwareError, match="simulation file .* not found"):
        source.read()


def test_concurrent_reads_do_not_skip_or_repeat() -> None:
    source = SimSource(",".join(str(n) for n in range(400)))
    seen: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(100):
            value = source.read()
            with lock:
                seen.append(value)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == [float(n) for n in range(400)]


def test_onewire_tree_is_read_by_the_real_reader(tmp_path: Path) -> None:
    tree = SimOneWireTree(tmp_path)
    tree.add("28-00000463b745", "19.5,-1.25")
    tree.add("28-000005e2fdc3", 21)
    assert list_ds18b20(tmp_path) == ["28-00000463b745", "28-000005e2fdc3"]
    assert read_ds18b20(tmp_path, "28-00000463b745") == 19.5
    assert tree.read("28-00000463b745") == -1.25
    assert tree.read("28-000005e2fdc3") == 21.0


def test_onewire_tree_failure_tokens(tmp_path: Path) -> None:
    tree = SimOneWireTree(tmp_path, "/sys/bus/w1/devices/")
    tree.add("28-00000463b745", "20,fail,corrupt,85,missing,22")
    assert read_ds18b20(tmp_path, "28-00000463b745") == 20
    # fail: the empty file of a failed conversion (kernel 5.9+); corrupt: a CRC the kernel refused.
    with pytest.raises(HardwareError, match=r"conversion failed \(empty w1_slave\)"):
        tree.read("28-00000463b745")
    with pytest.raises(HardwareError, match="CRC check failed"):
        tree.read("28-00000463b745")
    # 85 is a genuine reading: the scratchpad's byte 6 says a conversion happened.
    assert tree.read("28-00000463b745") == 85.0
    with pytest.raises(HardwareError, match="device not found"):
        tree.read("28-00000463b745")
    assert tree.read("28-00000463b745") == 22


@pytest.mark.parametrize("sensors_dir", ["/sys/../../outside", "../../outside", "/tmp/w1"])
def test_the_sim_tree_refuses_a_sensors_dir_outside_its_root(tmp_path: Path, sensors_dir: str) -> None:
    root = tmp_path / "root"
    with pytest.raises(HardwareError, match="is outside"):
        SimOneWireTree(root, sensors_dir)
    assert not (tmp_path / "outside").exists() and not (root / "tmp").exists()


@pytest.mark.parametrize("hexadd", ["../../../../escaped", "28-1/../../escaped", "..", "/abs"])
def test_the_sim_tree_never_writes_outside_its_sensors_dir(tmp_path: Path, hexadd: str) -> None:
    root = tmp_path / "root"
    tree = SimOneWireTree(root)
    with pytest.raises(HardwareError, match="invalid 1-wire address"):
        tree.add(hexadd, "20")
    assert not (tmp_path / "escaped").exists()
    assert sorted(p.name for p in tree.directory.iterdir()) == ["w1_bus_master1"]


def test_i2c_register_map() -> None:
    device = SimI2cDevice({0xD0: 0x58})
    device.load(0xFE, [1, 2, 3])  # wraps around at 0xFF
    assert device.read_block(0xFE, 3) == [1, 2, 3]
    device.write_block(0x10, [0xAA, 0x1BB])
    assert device.writes == [(0x10, 0xAA), (0x11, 0xBB)]
    device.present = False
    with pytest.raises(OSError):
        device.read_register(0xD0)
