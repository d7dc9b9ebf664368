"""A pytest fixture putting the stand-in libraries (lgpio, RPi.GPIO, pigpio) on sys.path over a fixture board."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

LIBS = Path(__file__).parent / "libs"
NAMES = ("lgpio", "pigpio", "RPi", "RPi.GPIO", "_standin_root")


class StandinLibs:
    """Import the stand-ins as the backends would; ``board`` switches the fixture root they see."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def board(self, root: Path) -> Path:
        self._monkeypatch.setenv("JANITOO_STANDIN_ROOT", str(root))
        return root

    def module(self, name: str) -> ModuleType:
        __import__(name)
        return sys.modules[name]


def _forget() -> None:
    for name in NAMES:
        sys.modules.pop(name, None)


@pytest.fixture
def standin_libs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[StandinLibs]:
    """The stand-in libraries importable as ``lgpio``, ``RPi.GPIO`` and ``pigpio``, run from a writable cwd."""
    _forget()
    monkeypatch.syspath_prepend(str(LIBS))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # lgpio's FIFO lands here, as in a unit's WorkingDirectory
    yield StandinLibs(monkeypatch)
    _forget()
