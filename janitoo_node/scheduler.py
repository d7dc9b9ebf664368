"""Timers from one heap: a thread-driven scheduler for the process and a manual one for tests."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("janitoo.scheduler")

Clock = Callable[[], float]

# Cancelled timers stay in the heap until their time comes (a heap cannot drop one from its middle). A
# timer put off again and again (a retained state's refresh, ten minutes away, cancelled by every burst of
# polls) would pile up: once they are a quarter of the heap (and this many), the heap is rebuilt without them.
COMPACT_AT = 64


@dataclass(order=True, slots=True)
class Timer:
    """A scheduled call of `fn(*args)`; `cancel()` it to drop it.

    Every node has a heartbeat and a poll pending at all times: slots, and the arguments beside the
    function rather than a closure per call, keep the thousands of a simulated network small.
    """

    when: float
    seq: int
    fn: Callable[..., None] = field(compare=False)
    args: tuple[Any, ...] = field(default=(), compare=False)
    cancelled: bool = field(default=False, compare=False)
    # The scheduler whose heap holds it, until it leaves the heap (run or dropped).
    owner: BaseScheduler | None = field(default=None, compare=False, repr=False)

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            owner = self.owner
            if owner is not None:
                owner._cancelled(self)


class BaseScheduler:
    """The heap and the bookkeeping; subclasses decide how time passes."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._cancelled_in_heap = 0

    def call_at(self, when: float, fn: Callable[..., None], *args: Any) -> Timer:
        timer = Timer(when, next(self._seq), fn, args, owner=self)
        with self._lock:
            heapq.heappush(self._heap, timer)
            first = self._heap[0] is timer
        # The loop sleeps until the first deadline: only a new first one changes that. Waking it for every
        # timer (every poll and heartbeat rescheduling itself) cost a thread switch each, thousands a minute.
        if first:
            self._wake()
        return timer

    def call_later(self, delay: float, fn: Callable[..., None], *args: Any) -> Timer:
        return self.call_at(self.clock() + max(0.0, delay), fn, *args)

    def _wake(self) -> None:
        pass

    def _cancelled(self, timer: Timer) -> None:
        with self._lock:
            if timer.owner is not self:
                return  # it left the heap meanwhile
            self._cancelled_in_heap += 1
            if self._cancelled_in_heap >= COMPACT_AT and self._cancelled_in_heap * 4 > len(self._heap):
                kept = []
                for t in self._heap:
                    if t.cancelled:
                        t.owner = None
                    else:
                        kept.append(t)
                heapq.heapify(kept)
                self._heap = kept
                self._cancelled_in_heap = 0

    def _pop(self) -> Timer:
        # Under the lock.
        timer = heapq.heappop(self._heap)
        timer.owner = None
        if timer.cancelled:
            self._cancelled_in_heap -= 1
        return timer

    def _pop_due(self, now: float) -> Timer | None:
        with self._lock:
            while self._heap and self._heap[0].cancelled:
                self._pop()
            if self._heap and self._heap[0].when <= now:
                return self._pop()
        return None

    def _next_when(self) -> float | None:
        with self._lock:
            while self._heap and self._heap[0].cancelled:
                self._pop()
            return self._heap[0].when if self._heap else None

    def _run(self, timer: Timer) -> None:
        try:
            timer.fn(*timer.args)
        except Exception:  # one failing timer must not stop the others
            log.exception("scheduled call %r failed", timer.fn)

    def pending(self) -> int:
        with self._lock:
            return sum(1 for t in self._heap if not t.cancelled)


class Scheduler(BaseScheduler):
    """Runs due calls on one thread, sleeping on a condition until the next deadline (no polling)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        super().__init__(clock)
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._loop, name="jnt-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stop:
                    return
                nxt = self._next_when()
                now = self.clock()
                if nxt is None or nxt > now:
                    self._cond.wait(None if nxt is None else nxt - now)
                    continue
            timer = self._pop_due(self.clock())
            if timer is not None:
                self._run(timer)


class ManualScheduler(BaseScheduler):
    """Time moves only when a test says so: `advance(seconds)` runs everything due, in order."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        super().__init__(lambda: self.now)

    def advance(self, seconds: float) -> None:
        target = self.now + seconds
        while True:
            nxt = self._next_when()
            if nxt is None or nxt > target:
                break
            self.now = max(self.now, nxt)
            timer = self._pop_due(self.now)
            if timer is not None:
                self._run(timer)
        self.now = target
