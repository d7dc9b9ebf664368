"""The tutorial3 periodic check: the average of the temperatures and the 2-of-3 overheat rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .machine import REPORTING, RINGING


@dataclass(frozen=True)
class Decision:
    """What one periodic check concludes."""

    average: float | None  # None: no reading at all (the average keeps its last data)
    critical_count: int
    overheat: bool
    trigger: str | None  # "ring", "report" or None


def average(readings: Iterable[float | None]) -> float | None:
    """The mean of the available readings (None ones skipped), None when there is none."""
    available = [r for r in readings if r is not None]
    if not available:
        return None
    return round(sum(available) / len(available), 2)


def critical_count(readings: Iterable[float | None], critical: float) -> int:
    """How many available readings are strictly above `critical` (the original's `>`)."""
    return sum(1 for r in readings if r is not None and r > critical)


def decide(readings: Sequence[float | None], critical: float, state: str) -> Decision:
    """The 2-of-3 rule: overheat when at least 2 readings are above `critical`.

    Overheat in reporting rings; fewer than 2 above clears overheat, and a ringing machine reports again.
    """
    count = critical_count(readings, critical)
    overheat = count >= 2
    trigger: str | None = None
    if overheat and state == REPORTING:
        trigger = "ring"
    elif not overheat and state == RINGING:
        trigger = "report"
    return Decision(average(readings), count, overheat, trigger)
