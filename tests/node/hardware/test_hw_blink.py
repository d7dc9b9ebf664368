"""Tests for the sans-IO LED blinker under a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from janitoo_node.hardware.blink import BLINK_DELAYS, BLINK_MODES, Blinker, normalize_mode
from janitoo_node.hardware.gpio import SimGpio

LED = 19


def _run(blinker: Blinker, clock: Any, until: float) -> None:
    """Play the scheduler: jump from wake-up to wake-up until ``until``."""
    wake = blinker.next_wakeup
    while wake is not None and wake <= until:
        clock.now = wake
        wake = blinker.step(clock.now)
    clock.now = until


def test_modes_and_delays_tables() -> None:
    assert BLINK_MODES == ["off", "blink", "heartbeat", "info", "notify", "warning", "alert"]
    assert BLINK_DELAYS["heartbeat"] == (0.5, 300.0)
    assert BLINK_DELAYS["warning"] == (0.6, 5.0)
    assert BLINK_DELAYS["on"] == (0.5, 300.0)  # the published table keeps the original's row


def test_heartbeat_is_a_short_flash_every_300_s(clock: Any) -> None:
    gpio = SimGpio(clock)
    blinker = Blinker(gpio, LED)
    t = clock.now
    assert blinker.set_mode("heartbeat", t) == t + 0.5
    _run(blinker, clock, t + 301.0)
    gpio.assert_states_and_times(
        LED, [(t, False), (t, True), (t + 0.5, False), (t + 300.5, True), (t + 301.0, False)]
    )


def test_warning_timing(clock: Any) -> None:
    gpio = SimGpio(clock)
    blinker = Blinker(gpio, LED)
    t = clock.now
    blinker.set_mode("warning", t)
    _run(blinker, clock, t + 12.0)
    highs = [when - t for when, level in gpio.history_for(LED) if level]
    lows = [when - t for when, level in gpio.history_for(LED)[1:] if not level]
    assert highs == pytest.approx([0.0, 5.6, 11.2])
    assert lows == pytest.approx([0.6, 6.2, 11.8])


def test_step_before_due_changes_nothing(clock: Any) -> None:
    gpio = SimGpio(clock)
    blinker = Blinker(gpio, LED)
    due = blinker.set_mode("alert", clock.now)
    assert blinker.step(clock.now + 0.1) == due
    assert len(gpio.history_for(LED)) == 2


def test_off_drives_low_at_once(clock: Any) -> None:
    gpio = SimGpio(clock)
    blinker = Blinker(gpio, LED)
    blinker.set_mode("blink", clock.now)
    clock.advance(0.3)
    assert blinker.set_mode("off", clock.now) is None
    assert gpio.read(LED) is False
    assert gpio.history_for(LED)[-1] == (clock.now, False)
    assert blinker.step(clock.now + 100) is None


def test_on_is_steady(clock: Any) -> None:
    gpio = SimGpio(clock)
    blinker = Blinker(gpio, LED)
    assert blinker.set_mode(1, clock.now) is None
    assert blinker.mode == "on" and gpio.read(LED) is True
    assert blinker.set_mode(0, clock.now) is None
    assert blinker.mode == "off" and gpio.read(LED) is False


def test_mode_change_mid_cycle_restarts_with_a_flash(clock: Any) -> None:
    gpio = SimGpio(clock)
    blinker = Blinker(gpio, LED)
    t = clock.now
    blinker.set_mode("heartbeat", t)
    _run(blinker, clock, t + 10.0)  # lit 0.5 s, now dark until t + 300.5
    assert blinker.set_mode("warning", clock.now) == pytest.approx(t + 10.6)
    assert gpio.read(LED) is True
    _run(blinker, clock, t + 16.0)
    assert gpio.history_for(LED)[-2:] == [(pytest.approx(t + 10.6), False), (pytest.approx(t + 15.6), True)]


def test_same_mode_again_keeps_the_cycle(clock: Any) -> None:
    gpio = SimGpio(clock)
    blinker = Blinker(gpio, LED)
    t = clock.now
    blinker.set_mode("notify", t)
    clock.advance(0.2)
    assert blinker.set_mode("notify", clock.now) == t + 0.6
    assert len(gpio.history_for(LED)) == 2


def test_late_step_does_not_burst(clock: Any) -> None:
    gpio = SimGpio(clock)
    blinker = Blinker(gpio, LED)
    t = clock.now
    blinker.set_mode("alert", t)
    wake = blinker.step(t + 100.0)  # the scheduler stalled for 100 s
    assert wake is not None and wake > t + 100.0
    assert len(gpio.history_for(LED)) == 3


@pytest.mark.parametrize(
    ("data", "mode"), [(0, "off"), (1, "on"), ("1", "on"), (" Warning ", "warning"), ("info2", "info2")]
)
def test_normalize(data: object, mode: str) -> None:
    assert normalize_mode(data) == mode


def test_unknown_mode_lists_the_accepted_ones(clock: Any) -> None:
    blinker = Blinker(SimGpio(clock), LED)
    with pytest.raises(ValueError, match="unknown blink mode 'disco': expected one of off, blink, heartbeat"):
        blinker.set_mode("disco", clock.now)
    with pytest.raises(ValueError):
        normalize_mode(2)
