"""Fixtures for the hardware-layer tests: a hand-driven clock and the stand-in Pi libraries."""

from __future__ import annotations

import pytest

from tests.node.hardware.standins.libs_fixture import standin_libs  # noqa: F401 - a fixture


class FakeClock:
    """A monotonic clock that only moves when a test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
