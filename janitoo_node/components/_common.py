"""Pieces shared by the hardware components: backend choice, scripted sim readings, shared reads, heartbeats."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from ..config import ConfigError
from ..hardware.platform import resolve_backend
from ..hardware.sim import SimSource
from ..values import Value

if TYPE_CHECKING:
    from ..bus import Bus, Component

T = TypeVar("T")
Kind = Literal["real", "sim"]

FAILED = "FAILED"


def backend_kind(bus: Bus) -> Kind:
    """The bus section's `backend = auto|real|sim` as real or sim (auto: real on a Raspberry Pi)."""
    try:
        return resolve_backend(bus.ctx.backend, bus.ctx.root)
    except ValueError as exc:
        raise ConfigError(bus.config.path, str(exc), bus.ctx.section, "backend") from None


def sim_source(component: Component, key: str, default: str, device: str) -> SimSource:
    """A scripted reading from the component section's `key` (e.g. `sim_temperature = 20,21,fail`).

    `file:<path>` reads the tokens from a file (relative to the config file), re-read when it changes,
    so a running demo can be driven by editing it. A bad spec is a config error, found at load time.
    """
    config = component.bus.config
    spec = component.option(key, default)
    spec = default if spec is None or not spec.strip() else spec.strip()
    if spec.startswith("file:"):
        path = Path(spec[len("file:") :].strip())
        if not path.is_absolute():
            path = config.path.parent / path
        return SimSource.from_file(path, device=device)
    try:
        return SimSource(spec, device=device)
    except ValueError as exc:
        raise ConfigError(config.path, str(exc), component.section, key) from None


class SharedReading(Generic[T]):
    """One hardware transaction feeding several values (temperature and pressure of one chip).

    The outcome, reading or error, is kept for `hold` seconds of the runtime's clock, so the values
    polled together share one read and report the same failure.
    """

    def __init__(self, read: Callable[[], T], clock: Callable[[], float], hold: float = 1.0) -> None:
        self._read = read
        self._clock = clock
        self.hold = hold
        self._lock = threading.Lock()
        self._at: float | None = None
        self._result: T | None = None
        self._error: Exception | None = None

    def get(self) -> T:
        with self._lock:
            now = self._clock()
            if self._at is None or now - self._at >= self.hold:
                self._at = now
                try:
                    self._result, self._error = self._read(), None
                except Exception as exc:  # noqa: BLE001 - re-raised to every value sharing this read
                    self._result, self._error = None, exc
            if self._error is not None:
                raise self._error
            return self._result  # type: ignore[return-value]

    @property
    def failure(self) -> Exception | None:
        """The last read's error (None after a good read or before any)."""
        return self._error

    def invalidate(self) -> None:
        with self._lock:
            self._at = None


def failed_if_any(values: Iterable[Value]) -> str | None:
    """FAILED when the last read of one of `values` failed (a sensor that still heartbeats), else None."""
    return FAILED if any(v.last_error is not None for v in values) else None


def store_then(action: Callable[[], None]) -> Callable[[Value, int, Any], None]:
    """A setter that stores the new data first, then runs `action` (which reads the component's values)."""

    def setter(value: Value, index: int, data: Any) -> None:
        old = value.cached(index)
        value.store(data, index)
        try:
            action()
        except BaseException:
            value.store(old, index)
            raise

    return setter
