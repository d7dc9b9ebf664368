"""Tests for HardwareError and the Raspberry Pi / backend detection."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from janitoo_node.hardware.errors import HardwareError
from janitoo_node.hardware.platform import is_raspberry_pi, is_raspberry_pi_5, pi_model, resolve_backend


def _fake_model(root: Path, model: str) -> Path:
    path = root / "proc/device-tree/model"
    path.parent.mkdir(parents=True)
    path.write_bytes(model.encode() + b"\x00")
    return root


def test_error_str_is_one_line_with_device_and_reason() -> None:
    error = HardwareError("DS18B20 28-00000463b745", "CRC check failed")
    assert str(error) == "DS18B20 28-00000463b745: CRC check failed"
    assert error.device == "DS18B20 28-00000463b745"
    assert error.reason == "CRC check failed"


def test_error_survives_pickling() -> None:
    # The runtime may hand errors across a queue or a process boundary.
    copy = pickle.loads(pickle.dumps(HardwareError("GPIO19", "not set up")))
    assert (copy.device, copy.reason) == ("GPIO19", "not set up")


def test_pi_detected_from_device_tree(tmp_path: Path) -> None:
    root = _fake_model(tmp_path, "Raspberry Pi 4 Model B Rev 1.4")
    assert pi_model(root) == "Raspberry Pi 4 Model B Rev 1.4"
    assert is_raspberry_pi(root)
    assert not is_raspberry_pi_5(root)
    assert resolve_backend("auto", root) == "real"


def test_pi5_detected(tmp_path: Path) -> None:
    root = _fake_model(tmp_path, "Raspberry Pi 5 Model B Rev 1.0")
    assert is_raspberry_pi(root) and is_raspberry_pi_5(root)


def test_other_board_or_no_device_tree_is_not_a_pi(tmp_path: Path) -> None:
    assert not is_raspberry_pi(tmp_path)
    assert resolve_backend("auto", tmp_path) == "sim"
    other = _fake_model(tmp_path / "other", "Pine64 RockPro64")
    assert not is_raspberry_pi(other)


@pytest.mark.parametrize(("choice", "expected"), [("real", "real"), ("sim", "sim"), (" SIM ", "sim")])
def test_explicit_backend_choice_wins(tmp_path: Path, choice: str, expected: str) -> None:
    assert resolve_backend(choice, tmp_path) == expected


def test_unknown_backend_is_a_one_line_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown hardware backend 'fake': expected one of auto, real, sim"):
        resolve_backend("fake", tmp_path)
