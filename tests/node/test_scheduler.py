"""The timer heap: calls with their arguments, in time order, and cancelled timers that do not pile up."""

from __future__ import annotations

import threading

from janitoo_node.bus import Worker
from janitoo_node.scheduler import COMPACT_AT, ManualScheduler, Scheduler


def test_calls_run_in_time_order_with_their_arguments() -> None:
    sched = ManualScheduler()
    ran: list[tuple[str, int]] = []
    sched.call_later(2, lambda name, n: ran.append((name, n)), "late", 2)
    sched.call_later(1, ran.append, ("early", 1))
    cancelled = sched.call_later(1.5, ran.append, ("never", 0))
    cancelled.cancel()
    sched.advance(3)
    assert ran == [("early", 1), ("late", 2)]
    assert sched.pending() == 0


def test_a_timer_put_off_again_and_again_leaves_no_pile_of_cancelled_timers() -> None:
    # A retained state's refresh, ten minutes away, is cancelled and scheduled again by every burst of polls.
    sched = ManualScheduler()
    live = [sched.call_later(30 + i, lambda: None) for i in range(100)]
    ran: list[int] = []
    refresh = sched.call_later(600, ran.append, -1)
    for i in range(10 * COMPACT_AT):
        refresh.cancel()
        refresh = sched.call_later(600, ran.append, i)
    assert len(sched._heap) < len(live) + 2 * COMPACT_AT  # the cancelled ones were dropped as they piled up
    assert sched.pending() == len(live) + 1
    sched.advance(700)
    assert ran == [10 * COMPACT_AT - 1]  # only the last refresh ran
    assert sched.pending() == 0 and sched._heap == []


def test_cancelling_a_timer_that_ran_or_twice_changes_nothing() -> None:
    sched = ManualScheduler()
    ran: list[int] = []
    first = sched.call_later(1, ran.append, 1)
    sched.advance(1)
    first.cancel()
    second = sched.call_later(1, ran.append, 2)
    second.cancel()
    second.cancel()
    third = sched.call_later(1, ran.append, 3)
    sched.advance(2)
    assert ran == [1, 3] and third.owner is None and sched._cancelled_in_heap == 0


def test_the_threaded_scheduler_hands_a_call_and_its_arguments_to_a_worker() -> None:
    sched = Scheduler().start()
    worker = Worker("test")
    done = threading.Event()
    got: list[object] = []

    def job(a: int, b: str) -> None:
        got.extend((a, b))
        done.set()

    try:
        sched.call_later(0.01, worker.submit, job, 7, "seven")
        assert done.wait(5)
        assert got == [7, "seven"]
    finally:
        worker.stop()
        sched.stop()


class CountingScheduler(Scheduler):
    """The threaded scheduler, counting the times its loop is woken up."""

    wakes = 0

    def _wake(self) -> None:
        self.wakes += 1
        super()._wake()


def test_the_loop_is_woken_only_by_a_new_first_deadline() -> None:
    # Every poll and heartbeat reschedules itself: waking the loop for each one was a thread switch each.
    sched = CountingScheduler().start()
    done = threading.Event()
    try:
        sched.call_later(3600, done.set)
        assert sched.wakes == 1
        for i in range(100):
            sched.call_later(3601 + i, done.set)  # later than the first: the loop's sleep is still right
        assert sched.wakes == 1
        sched.call_later(0.01, done.set)  # earlier than every other: it must run now, not in an hour
        assert sched.wakes == 2
        assert done.wait(5)
    finally:
        sched.stop()


def test_a_new_first_deadline_behind_a_cancelled_one_still_runs_on_time() -> None:
    sched = Scheduler().start()
    done = threading.Event()
    try:
        sched.call_later(3600, done.set)
        head = sched.call_later(0.05, lambda: None)
        head.cancel()  # it stays first in the heap until the loop drops it: the new timer below is not first
        sched.call_later(0.1, done.set)
        assert done.wait(5)
    finally:
        sched.stop()
