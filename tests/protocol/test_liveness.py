"""Liveness: node states from heartbeats and silence, under a fake clock (plain floats)."""

from __future__ import annotations

import math

import pytest

from janitoo_protocol import Hadd
from janitoo_protocol.liveness import (
    DEAD,
    FAILED,
    OFFLINE,
    ONLINE,
    PENDING,
    UNKNOWN,
    LivenessTracker,
    StateChange,
)

NODE = Hadd(121, 1)
PERIOD = 30.0
# heartbeat_count (3) missed periods, each with the original's 10 % slack.
WINDOW = 3 * PERIOD * 1.1


def tracker(**kwargs: float) -> LivenessTracker:
    kwargs.setdefault("heartbeat_dead", 1000.0)
    return LivenessTracker(**kwargs)  # type: ignore[arg-type]


def run(t: LivenessTracker, start: float, end: float, step: float = 0.5) -> list[StateChange]:
    """Call tick every `step` seconds from `start` to `end` inclusive, as a naive host would."""
    changes: list[StateChange] = []
    n = 0
    while (now := start + n * step) <= end:
        changes.extend(t.tick(now))
        n += 1
    return changes


def test_unknown_node() -> None:
    t = tracker()
    assert t.state(NODE) == UNKNOWN
    assert NODE not in t
    assert t.last_seen(NODE) is None
    assert t.next_deadline() is None
    assert t.tick(1e9) == []


def test_first_heartbeat_is_a_change_and_repeats_are_not() -> None:
    t = tracker()
    assert t.observe(NODE, "online", 0.0) == [StateChange(NODE, UNKNOWN, ONLINE, 0.0)]
    assert t.state(NODE) == ONLINE
    assert t.observe(NODE, "ONLINE", 30.0) == []
    assert t.last_seen(NODE) == 30.0
    assert NODE in t and len(t) == 1
    assert t.states() == {NODE: ONLINE}


@pytest.mark.parametrize("count", [1, 3, 5])
def test_silent_node_goes_pending_then_failed_then_dead(count: int) -> None:
    t = tracker(heartbeat_count=count, heartbeat_dead=2000.0)
    t.observe(NODE, ONLINE, 100.0)
    pending_at = 100.0 + count * PERIOD * 1.1
    failed_at = 100.0 + 2 * count * PERIOD * 1.1
    dead_at = 100.0 + 2000.0

    assert t.tick(pending_at - 0.01) == []
    assert t.state(NODE) == ONLINE
    assert t.tick(pending_at) == [StateChange(NODE, ONLINE, PENDING, pending_at)]
    assert t.tick(failed_at - 0.01) == []
    assert t.tick(failed_at) == [StateChange(NODE, PENDING, FAILED, failed_at)]
    assert t.tick(dead_at - 0.01) == []
    assert t.tick(dead_at) == [StateChange(NODE, FAILED, DEAD, dead_at)]
    # DEAD is final until the node speaks again.
    assert t.next_deadline() is None
    assert t.tick(1e9) == []
    assert t.state(NODE) == DEAD


def test_default_is_three_missed_periods_with_ten_percent_slack() -> None:
    t = LivenessTracker()
    t.observe(NODE, ONLINE, 0.0)
    assert t.next_deadline() == pytest.approx(99.0)  # 3 × 30 s × 1.1
    assert t.tick(98.9) == []
    assert [c.new for c in t.tick(99.0 + 1e-9)] == [PENDING]
    assert t.next_deadline() == pytest.approx(198.0)
    assert [c.new for c in t.tick(198.0 + 1e-9)] == [FAILED]
    assert t.next_deadline() == pytest.approx(604800.0)  # seven days
    assert [c.new for c in t.tick(604800.0)] == [DEAD]


def test_dead_never_comes_before_failed() -> None:
    t = tracker(heartbeat_dead=10.0)
    t.observe(NODE, ONLINE, 0.0)
    assert [c.new for c in run(t, 0.0, 500.0)] == [PENDING, DEAD]


def test_a_late_tick_jumps_straight_to_the_state_due() -> None:
    t = tracker()
    t.observe(NODE, ONLINE, 0.0)
    assert t.tick(2 * WINDOW + 1) == [StateChange(NODE, ONLINE, FAILED, 2 * WINDOW + 1)]


def test_recovering_node_goes_back_online_with_one_change() -> None:
    t = tracker()
    t.observe(NODE, ONLINE, 0.0)
    assert [c.new for c in t.tick(WINDOW)] == [PENDING]
    assert t.observe(NODE, ONLINE, WINDOW + 5) == [StateChange(NODE, PENDING, ONLINE, WINDOW + 5)]
    # Its clock restarted at the heartbeat: nothing more until three periods after it.
    assert run(t, WINDOW + 5, 2 * WINDOW + 4.9) == []
    assert t.state(NODE) == ONLINE
    assert t.next_deadline() == pytest.approx(2 * WINDOW + 5)


def test_recovering_from_failed_and_dead() -> None:
    t = tracker()
    t.observe(NODE, ONLINE, 0.0)
    t.tick(2 * WINDOW)
    assert t.state(NODE) == FAILED
    assert t.observe(NODE, ONLINE, 200.0) == [StateChange(NODE, FAILED, ONLINE, 200.0)]
    t.tick(2000.0)
    assert t.state(NODE) == DEAD
    assert t.observe(NODE, ONLINE, 2001.0) == [StateChange(NODE, DEAD, ONLINE, 2001.0)]


def test_explicit_offline_is_taken_at_once_and_never_aged() -> None:
    t = tracker()
    t.observe(NODE, ONLINE, 0.0)
    assert t.observe(NODE, "OFFLINE", 10.0) == [StateChange(NODE, ONLINE, OFFLINE, 10.0)]
    assert t.state(NODE) == OFFLINE
    assert t.next_deadline() is None
    assert run(t, 10.0, 3000.0) == []
    assert t.state(NODE) == OFFLINE
    # Coming back is one change, and it ages again from then.
    assert t.observe(NODE, ONLINE, 3000.0) == [StateChange(NODE, OFFLINE, ONLINE, 3000.0)]
    assert t.next_deadline() == pytest.approx(3000.0 + WINDOW)


def test_observe_controller_applies_to_every_known_node_of_it() -> None:
    t = tracker()
    nodes = [Hadd(121, 0), Hadd(121, 1), Hadd(121, 2)]
    other = Hadd(1118, 1)
    for h in [*nodes, other]:
        t.observe(h, ONLINE, 0.0)
    changes = t.observe_controller(121, OFFLINE, 5.0)
    assert sorted(changes, key=lambda c: c.hadd) == [StateChange(h, ONLINE, OFFLINE, 5.0) for h in nodes]
    assert t.state(other) == ONLINE
    assert t.observe_controller(121, OFFLINE, 6.0) == []  # unchanged: no report
    assert t.observe_controller(999, OFFLINE, 6.0) == []  # unknown controller: nothing to do
    assert Hadd(999, 0) not in t
    # Back online as a whole: each node ages from that heartbeat.
    assert len(t.observe_controller(121, ONLINE, 50.0)) == 3
    t.observe(other, ONLINE, 60.0)
    changes = t.tick(50.0 + WINDOW)
    assert {c.hadd for c in changes} == set(nodes)
    assert all(c.new == PENDING for c in changes)


def test_set_period_changes_when_a_node_is_late() -> None:
    t = tracker()
    t.observe(NODE, ONLINE, 0.0)
    t.set_period(NODE, 15.0)
    assert t.next_deadline() == pytest.approx(3 * 15.0 * 1.1)
    assert t.tick(3 * 15.0 * 1.1 - 0.01) == []
    assert [c.new for c in t.tick(3 * 15.0 * 1.1)] == [PENDING]
    # Longer again: the pending node only fails after two longer windows.
    t.set_period(NODE, 60.0)
    assert t.next_deadline() == pytest.approx(2 * 3 * 60.0 * 1.1)
    assert t.state(NODE) == PENDING
    t.set_period(NODE, 0)  # ignored
    t.set_period(Hadd(5, 5), 10.0)  # unknown: ignored
    assert Hadd(5, 5) not in t
    assert t.next_deadline() == pytest.approx(2 * 3 * 60.0 * 1.1)


def test_period_given_with_a_heartbeat() -> None:
    t = tracker()
    t.observe(NODE, ONLINE, 0.0, period=15.0)
    assert t.next_deadline() == pytest.approx(3 * 15.0 * 1.1)
    t.observe(NODE, ONLINE, 10.0, period=60.0)
    assert t.next_deadline() == pytest.approx(10.0 + 3 * 60.0 * 1.1)


def test_track_before_the_first_heartbeat() -> None:
    t = tracker()
    t.track(NODE)  # known from discovery, never heard: no timer
    assert NODE in t
    assert t.state(NODE) == UNKNOWN
    assert t.next_deadline() is None
    t.track(Hadd(121, 2), period=10.0, now=0.0)  # known and alive at 0: it ages
    assert t.state(Hadd(121, 2)) == ONLINE
    assert t.next_deadline() == pytest.approx(3 * 10.0 * 1.1)
    t.track(Hadd(121, 2), period=20.0)  # known already: only the period changes
    assert t.next_deadline() == pytest.approx(3 * 20.0 * 1.1)


def test_forget() -> None:
    t = tracker()
    t.observe(NODE, ONLINE, 0.0)
    t.forget(NODE)
    assert NODE not in t
    assert t.next_deadline() is None
    assert t.tick(1e6) == []
    t.forget(NODE)  # twice is fine


def test_forgotten_then_heard_again_ages_from_the_new_heartbeat() -> None:
    t = tracker()
    t.observe(NODE, ONLINE, 0.0)
    t.forget(NODE)
    t.observe(NODE, ONLINE, 50.0)
    # The forgotten node's old deadline (at 99) must not come back.
    assert t.next_deadline() == pytest.approx(50.0 + WINDOW)
    assert t.tick(99.5) == []
    assert [c.new for c in t.tick(50.0 + WINDOW)] == [PENDING]


def test_tick_never_reports_an_unchanged_state_twice() -> None:
    t = tracker(heartbeat_dead=600.0)
    silent, flaky, steady, offline = Hadd(1, 1), Hadd(1, 2), Hadd(1, 3), Hadd(1, 4)
    for h in (silent, flaky, steady, offline):
        t.observe(h, ONLINE, 0.0)
    t.observe(offline, OFFLINE, 1.0)
    changes: list[StateChange] = []
    n = 0
    while (now := n * 0.5) <= 1000.0:
        if now % PERIOD == 0:
            changes.extend(t.observe(steady, ONLINE, now))
        if now in (150.0, 400.0):  # flaky comes back twice, once from PENDING, once from FAILED
            changes.extend(t.observe(flaky, ONLINE, now))
        changes.extend(t.tick(now))
        n += 1
    by_node = {h: [c.new for c in changes if c.hadd == h] for h in (silent, flaky, steady, offline)}
    assert by_node[silent] == [PENDING, FAILED, DEAD]
    assert by_node[flaky] == [PENDING, ONLINE, PENDING, FAILED, ONLINE, PENDING, FAILED, DEAD]
    assert by_node[steady] == []
    assert by_node[offline] == []
    assert all(c.old != c.new for c in changes)
    # Each change is reported by the first tick at or after its deadline.
    due = [WINDOW, 2 * WINDOW, 600.0, WINDOW, 150.0, 150.0 + WINDOW, 150.0 + 2 * WINDOW, 400.0]
    due += [400.0 + WINDOW, 400.0 + 2 * WINDOW, 1000.0]
    at = [c.at for c in changes if c.hadd == silent] + [c.at for c in changes if c.hadd == flaky]
    assert at == [math.ceil(d * 2) / 2 for d in due]


def test_next_deadline_tells_exactly_when_the_next_change_happens() -> None:
    t = tracker(heartbeat_dead=700.0)
    t.observe(Hadd(1, 1), ONLINE, 0.0, period=10.0)
    t.observe(Hadd(1, 2), ONLINE, 7.0, period=30.0)
    t.observe(Hadd(1, 3), ONLINE, 3.0, period=20.0)
    seen: list[StateChange] = []
    while (deadline := t.next_deadline()) is not None:
        # Nothing happens a hair before the deadline, and something happens at it.
        assert t.tick(deadline - 1e-6) == []
        assert t.next_deadline() == deadline
        changes = t.tick(deadline)
        assert changes, deadline
        assert all(c.at == deadline for c in changes)
        seen.extend(changes)
    assert [(c.hadd.node, c.new) for c in seen] == [
        (1, PENDING), (1, FAILED), (3, PENDING), (2, PENDING), (3, FAILED), (2, FAILED),
        (1, DEAD), (3, DEAD), (2, DEAD),
    ]  # fmt: skip


def test_thousand_nodes_with_staggered_heartbeats() -> None:
    t = LivenessTracker(heartbeat_dead=10_000.0)
    nodes = [Hadd(100 + i // 100, i % 100) for i in range(1000)]
    offset = {h: i * 0.03 for i, h in enumerate(nodes)}  # spread over one 30 s period
    # Ten periods of everybody heartbeating on time: no change but the first ONLINE of each.
    first = []
    for k in range(10):
        for h in nodes:
            first.extend(t.observe(h, ONLINE, k * PERIOD + offset[h]))
        assert t.tick(k * PERIOD + PERIOD - 0.01) == []
    assert len(first) == 1000
    last = {h: 9 * PERIOD + offset[h] for h in nodes}
    # Then every other node goes silent; the others go on.
    talking = nodes[::2]
    changes: list[StateChange] = []
    now = 10 * PERIOD
    while now <= 700.0:
        for h in talking:
            changes.extend(t.observe(h, ONLINE, now + offset[h]))
            last[h] = now + offset[h]
        # Drive tick from next_deadline, as a host would.
        while (d := t.next_deadline()) is not None and d <= now + PERIOD:
            changes.extend(t.tick(d))
        now += PERIOD
    silent = set(nodes[1::2])
    assert {c.hadd for c in changes} == silent
    assert len(changes) == 2 * len(silent)
    for c in changes:
        window = 3 * PERIOD * 1.1
        expected = last[c.hadd] + (window if c.new == PENDING else 2 * window)
        assert c.at == pytest.approx(expected), c
    assert all(t.state(h) == FAILED for h in silent)
    assert all(t.state(h) == ONLINE for h in talking)
