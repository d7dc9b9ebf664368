"""Timers from one heap: a thread-driven scheduler for the process and a manual one for tests."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("janitoo.scheduler")

Clock = Callable[[], float]


@dataclass(order=True)
class Timer:
    """A scheduled call; `cancel()` it to drop it."""

    when: float
    seq: int
    fn: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class BaseScheduler:
    """The heap and the bookkeeping; subclasses decide how time passes."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()

    def call_at(self, when: float, fn: Callable[[], None]) -> Timer:
        timer = Timer(when, next(self._seq), fn)
        with self._lock:
            heapq.heappush(self._heap, timer)
        self._wake()
        return timer

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        return self.call_at(self.clock() + max(0.0, delay), fn)

    def _wake(self) -> None:
        pass

    def _pop_due(self, now: float) -> Timer | None:
        with self._lock:
            while self._heap and self._heap[0].cancelled:
                heapq.heappop(self._heap)
            if self._heap and self._heap[0].when <= now:
                return heapq.heappop(self._heap)
        return None

    def _next_when(self) -> float | None:
        with self._lock:
            while self._heap and self._heap[0].cancelled:
                heapq.heappop(self._heap)
            return self._heap[0].when if self._heap else None

    def _run(self, timer: Timer) -> None:
        try:
            timer.fn()
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
