"""Ceilings on what a node process takes in and sends out: request and publish rates, a bounded backlog."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .config import ConfigError, JanitooConfig

log = logging.getLogger("janitoo.guard")

# Seconds between two log lines about dropped messages: a flood never becomes a flood of log lines.
REPORT_EVERY = 10.0


class TokenBucket:
    """`rate` events a second on average, `burst` at once; the clock is passed in (sans-IO)."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


@dataclass(frozen=True)
class Limits:
    """The `[system]` ceilings of a node process (see docs/security.md)."""

    max_payload: int = 65536  # bytes of one request; longer ones are dropped undecoded
    request_rate: float = 50.0  # requests a second a bus answers, on average
    request_burst: int = 100
    max_pending: int = 32  # requests waiting for the bus worker; heartbeats queue behind at most these
    publish_rate: float = 100.0  # messages a second a bus publishes, heartbeats excepted
    publish_burst: int = 200


class Gate:
    """Admits events under a rate and, for requests, a bound on those admitted but not yet done.

    Thread-safe: paho's network thread admits, the bus worker marks done.
    """

    def __init__(self, what: str, rate: float, burst: int, clock: Callable[[], float], max_pending: int = 0):
        self.what = what
        self.max_pending = max_pending
        self.pending = 0
        self.admitted = 0
        self.dropped = 0
        self._clock = clock
        self._bucket = TokenBucket(rate, burst, clock())
        self._lock = threading.Lock()
        self._reported_at = -REPORT_EVERY
        self._dropped_reported = 0

    def admit(self) -> bool:
        with self._lock:
            now = self._clock()
            if (self.max_pending and self.pending >= self.max_pending) or not self._bucket.take(now):
                self.dropped += 1
                self._report(now)
                return False
            self.admitted += 1
            if self.max_pending:
                self.pending += 1
            return True

    def done(self) -> None:
        with self._lock:
            self.pending -= 1

    def _report(self, now: float) -> None:
        if now - self._reported_at < REPORT_EVERY:
            return
        log.warning("%s: over the ceiling, dropped %d (%d in all)", self.what,
                    self.dropped - self._dropped_reported, self.dropped)  # fmt: skip
        self._reported_at = now
        self._dropped_reported = self.dropped


def limits_from_config(cfg: JanitooConfig) -> Limits:
    """The ceilings from `[system]` (`max_payload`, `max_request_rate`, ...), each a positive number."""
    d = Limits()
    keys: dict[str, tuple[str, float]] = {
        "max_payload": ("max_payload", d.max_payload),
        "request_rate": ("max_request_rate", d.request_rate),
        "request_burst": ("max_request_burst", d.request_burst),
        "max_pending": ("max_pending_requests", d.max_pending),
        "publish_rate": ("max_publish_rate", d.publish_rate),
        "publish_burst": ("max_publish_burst", d.publish_burst),
    }
    values: dict[str, float] = {}
    for field, (key, default) in keys.items():
        number = cfg.get_float("system", key, default)
        if not number >= 1 or number > 1e9:  # also refuses NaN
            raise ConfigError(cfg.path, f"must be a number from 1 to 1e9, got {number}", "system", key)
        values[field] = number
    return Limits(
        max_payload=int(values["max_payload"]),
        request_rate=values["request_rate"],
        request_burst=int(values["request_burst"]),
        max_pending=int(values["max_pending"]),
        publish_rate=values["publish_rate"],
        publish_burst=int(values["publish_burst"]),
    )
