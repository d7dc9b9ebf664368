"""The tutorial3 state machine: its states, its table (given to `transitions`, which decides what is
allowed), and the LED mode of each state."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transitions import Machine, MachineError

log = logging.getLogger("janitoo.apps.tutorial3")

BOOTING, SLEEPING, REPORTING, RINGING = "booting", "sleeping", "reporting", "ringing"
STATES: tuple[str, ...] = (BOOTING, SLEEPING, REPORTING, RINGING)
TRIGGERS: tuple[str, ...] = ("wakeup", "report", "sleep", "ring")


@dataclass(frozen=True)
class TransitionRule:
    """One row of the machine's table; `sources` None means from any state. The table is handed to
    `transitions`, which alone decides what is allowed."""

    trigger: str
    sources: tuple[str, ...] | None
    dest: str
    needs_nodes: bool

    @property
    def source_text(self) -> str:
        """The sources as the tutorial's table writes them (`*` for any)."""
        return "*" if self.sources is None else ", ".join(self.sources)


TRANSITIONS: tuple[TransitionRule, ...] = (
    TransitionRule("wakeup", (SLEEPING,), REPORTING, True),
    TransitionRule("report", None, REPORTING, True),
    TransitionRule("sleep", None, SLEEPING, False),
    TransitionRule("ring", (REPORTING,), RINGING, True),
)
CONDITION = "nodes_ready"

# The LED's blink mode in each state (booting: the blink value's default).
LED_MODES: dict[str, str] = {BOOTING: "off", SLEEPING: "off", REPORTING: "heartbeat", RINGING: "warning"}
SLEEPING_STATE_POLL = 900.0


class TriggerRefused(Exception):
    """A trigger the machine does not take now (unknown, not allowed from this state, or nodes missing)."""


@dataclass(frozen=True)
class Change:
    """One applied transition."""

    source: str
    trigger: str
    dest: str


def machine_kwargs() -> dict[str, Any]:
    """The `transitions` description of the machine (also used to draw it)."""
    return {
        "states": list(STATES),
        "transitions": [
            {
                "trigger": t.trigger,
                "source": "*" if t.sources is None else list(t.sources),
                "dest": t.dest,
                **({"conditions": CONDITION} if t.needs_nodes else {}),
            }
            for t in TRANSITIONS
        ],
        "initial": BOOTING,
        "auto_transitions": False,
    }


class Tutorial3Machine:
    """The state machine alone: `fire(trigger)` applies a trigger or raises TriggerRefused with the reason.

    `ready()` is the condition of wakeup/report/ring; `on_change(change)` runs after every transition.
    """

    state: str  # set by transitions

    def __init__(self, ready: Callable[[], bool] = lambda: True,
                 on_change: Callable[[Change], None] | None = None) -> None:  # fmt: skip
        self._ready = ready
        self._on_change = on_change
        self.last_trigger: str | None = None
        self._machine = Machine(
            model=self, send_event=True, after_state_change="_changed", **machine_kwargs()
        )

    def nodes_ready(self, event: Any = None) -> bool:
        return bool(self._ready())

    def _changed(self, event: Any) -> None:
        change = Change(event.transition.source, event.event.name, event.transition.dest)
        self.last_trigger = change.trigger
        if self._on_change is not None:
            try:
                self._on_change(change)
            except Exception:  # the state has changed; a failing callback must not undo that
                log.exception("tutorial3: after %s (%s -> %s)", change.trigger, change.source, change.dest)

    def fire(self, trigger: str) -> str:
        """Apply `trigger`; returns the new state. TriggerRefused says why when it cannot be applied."""
        event = self._machine.events.get(trigger)
        if event is None:
            raise TriggerRefused(
                f"{trigger!r} is not a trigger: expected one of {', '.join(self._machine.events)}"
            )
        source = self.state
        try:
            applied = event.trigger(self)
        except MachineError:
            # transitions knows the table: the sources it accepts this trigger from.
            only = ", ".join(s for s in STATES if s in event.transitions)
            raise TriggerRefused(f"{trigger} is not allowed from {source} (only from {only})") from None
        if not applied:
            raise TriggerRefused(f"{trigger} refused in {source}: the nodes are not all created yet")
        return self.state
