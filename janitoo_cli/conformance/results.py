"""Check outcomes: one result per assertion, the report they make, and its exit code."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .assertions import ASSERTIONS, BY_ID, MUST, Assertion

# Longest message kept per result: a hostile node must not make the report huge.
MAX_MESSAGE = 300


class Outcome(enum.Enum):
    """What the checker concluded about one assertion."""

    PASS = "pass"
    FAIL = "fail"  # a MUST broken
    WARN = "warn"  # a SHOULD or MAY broken
    NA = "n/a"  # not applicable, skipped (--read-only) or not observable in the time given


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one assertion and the message that explains it."""

    assertion: Assertion
    outcome: Outcome
    message: str = ""


@dataclass
class Report:
    """Every checked assertion of one run, in table order."""

    hadd: str
    broker: str
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. a SET that could not be restored
    restore_failed: bool = False

    def by_id(self, assertion_id: str) -> Result:
        for r in self.results:
            if r.assertion.id == assertion_id:
                return r
        raise KeyError(assertion_id)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def ok(self) -> bool:
        """Every MUST passed (or did not apply), and nothing was left changed."""
        return self.count(Outcome.FAIL) == 0 and not self.restore_failed

    def summary(self) -> str:
        parts = [f"{self.count(o)} {o.value}" for o in Outcome]
        failed = [r.assertion.id for r in self.results if r.outcome is Outcome.FAIL]
        verdict = "conforms" if self.ok else "does not conform"
        line = f"node {self.hadd} {verdict}: " + ", ".join(parts)
        if failed:
            line += " (failed: " + " ".join(failed[:12]) + (" ..." if len(failed) > 12 else "") + ")"
        if self.restore_failed:
            line += "; a value could not be restored, see the notes"
        return line


class Recorder:
    """Collects results as the checks run; each assertion is decided once (the first verdict wins)."""

    def __init__(self) -> None:
        self._results: dict[str, Result] = {}

    def record(
        self, assertion_id: str, ok: bool | None, message: str = "", passed: str | None = None
    ) -> None:
        """ok True: pass; False: fail (MUST) or warn (SHOULD/MAY); None: not applicable.

        `message` says why; for a pass, `passed` (when given) says what was seen instead.

        A failure replaces a pass or an n/a (one broken reply is enough) but not an earlier failure,
        whose message is kept; a pass or an n/a never replaces anything.
        """
        a = BY_ID[assertion_id]
        old = self._results.get(assertion_id)
        if ok is False:
            if old is not None and old.outcome in (Outcome.FAIL, Outcome.WARN):
                return
            outcome = Outcome.FAIL if a.level == MUST else Outcome.WARN
        elif old is not None:
            return
        else:
            outcome = Outcome.PASS if ok else Outcome.NA
            if ok and passed is not None:
                message = passed
        self._results[assertion_id] = Result(a, outcome, clip(message))

    def decided(self, assertion_id: str) -> bool:
        return assertion_id in self._results

    def results(self) -> list[Result]:
        """In table order; every checkable node assertion appears (undecided ones as n/a)."""
        out = []
        for a in ASSERTIONS:
            if not a.checked:
                continue
            r = self._results.get(a.id)
            if r is None:
                r = Result(a, Outcome.NA, "not observed")
            out.append(r)
        return out


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """One line, printable, at most `limit` characters: messages quote hostile data."""
    text = text[: limit + 1]  # escaping only lengthens: the rest would be cut anyway
    safe = "".join(
        c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}" for c in text
    )
    return safe if len(safe) <= limit else safe[: limit - 3] + "..."
