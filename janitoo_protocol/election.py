"""The election rules of network controllers, sans-IO: the roles' edges, the ranking, and the whole table
of decisions that say when a controller changes role. `roles.NetworkController` does the duties.

Theory of operation
===================

A network controller is a controller node (`NNNN/0000`) that holds the network map. Its role is one of
five states of a `transitions` machine whose edges are `TRANSITIONS`:

    STOPPED ──begin──► LISTENING ──follow──► SECONDARY ──lose_primary──► ELECTING ──promote──► PRIMARY
                           │  └─────lose_primary (nobody heard)──────────────┘  ▲                │
                           └──promote (configured primary, nobody heard)─────────┘   follow ◄─────┘

When an edge is taken is decided by `DECISIONS`, one row per (role, event, condition), read top to bottom:
the first row whose condition holds gives the act. No other code decides a change of role.

* LISTENING: just started. Nobody claims anything before having listened for a primary for `listen`
  seconds (`resolv_timeout` for a configured primary, twice that for a secondary): a restarted
  controller has lost its epoch and must not usurp a running primary. One exception, for a network that
  starts as a whole: a configured primary that, two heartbeat periods after its start, has heard other
  controllers, all of them listening too, following no primary, and no epoch at all, claims then (a
  running primary would have beaten twice, and its secondaries would name it).
* SECONDARY: follows the primary it hears on `/dhcp/resolv/heartbeat`. It is lost by its last will (a
  resolv heartbeat with state OFFLINE: at once for a crash), its goodbye, or nothing for `resolv_timeout`
  (a hang or a partition; at least two heartbeat periods, so a slow but alive primary is not replaced).
* ELECTING: the candidates are the network controllers heard recently (each announces itself every
  period). Ranked by configured `priority` (higher first) then lowest hadd, the best one promotes at
  once; the k-th waits k * `election_step` for a new primary's heartbeat before it promotes in turn (a
  candidate's will drops it from the ranking at once, and the ranking is made again).
* PRIMARY: beats, dispatches liveness, serves the map (see roles.py).

Epochs and ranks decide every conflict deterministically. A promotion takes `epoch = highest epoch ever
heard + 1`. A controller follows a primary whose (epoch, rank) beats what it follows or is: higher epoch
first, then better rank at equal epoch. So when two promote at once, the lower-ranked one steps down on
the other's first heartbeat; an old primary that comes back (a hang ended, a partition healed) sees the
higher epoch and steps down too. Only `take_back = true` lets a configured primary that outranks the
current one take the role back, with yet a higher epoch, once it is synced; a lower-ranked controller
never takes back, so two of them cannot fight.

The original's primary (`janitoo_dhcp`) sends its resolv heartbeat every `resolv_timeout` (15 s in its
shipped config) with no epoch, and never steps down (it does not listen as a primary). A heartbeat with no
epoch is therefore the original's and outranks every epoch and rank: everyone follows it, a primary of
ours steps down for it (and keeps serving as a secondary), nobody takes the role back from it. The
watchdog that replaces a silent primary is sized from the period observed (see roles.py), not fixed.

A controller that was frozen (SIGSTOP) or cut from the broker heard nothing meanwhile: an ELECTING one
that lost its primary follows it again (the loss may have been its own deafness).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .addressing import Hadd
from .codes import Role

STOPPED, LISTENING, SECONDARY, ELECTING, PRIMARY = (
    Role.STOPPED, Role.LISTENING, Role.SECONDARY, Role.ELECTING, Role.PRIMARY,
)  # fmt: skip
ROLES: tuple[Role, ...] = tuple(Role)

# The edges of the role machine (trigger, from, to). Anything else raises transitions.MachineError.
TRANSITIONS: list[dict[str, Any]] = [
    # start(): listen for a running primary before claiming anything.
    {"trigger": "begin", "source": STOPPED, "dest": LISTENING},
    # A primary heard (or a better one: a primary steps down, a secondary switches).
    {"trigger": "follow", "source": [LISTENING, SECONDARY, ELECTING, PRIMARY], "dest": SECONDARY},
    # The primary's will, its silence for resolv_timeout, or nobody heard at start (secondary).
    {"trigger": "lose_primary", "source": [LISTENING, SECONDARY], "dest": ELECTING},
    # Our turn: configured primary after listening, election won, take_back, or a take_back re-assert.
    {"trigger": "promote", "source": [LISTENING, SECONDARY, ELECTING, PRIMARY], "dest": PRIMARY},
    {"trigger": "halt", "source": "*", "dest": STOPPED},
]


def rank(priority: int, hadd: Hadd) -> tuple[int, Hadd]:
    """Election order: higher priority first, then the lowest hadd. Lower tuples win."""
    return (-priority, hadd)


def election_turn(lost_at: float, grace: float, better: int, step: float) -> float:
    """When a candidate promotes: after the grace (a will may be a broker shutting down), one `step` per
    better-ranked live candidate, each of which would have promoted (and been heard) before."""
    return lost_at + grace + better * step


class Event(enum.StrEnum):
    """What may change a role."""

    LISTEN_TIMEOUT = "listen_timeout"  # nobody heard within `listen` seconds after start
    WATCHDOG_TIMEOUT = "watchdog_timeout"  # no resolv heartbeat from our primary for resolv_timeout
    ELECTION_DUE = "election_due"  # our turn in the election came
    PRIMARY_HEARD = "primary_heard"  # another controller's resolv heartbeat, ONLINE
    PRIMARY_GONE = "primary_gone"  # another controller's resolv heartbeat, not ONLINE (its will, or goodbye)
    THAWED = "thawed"  # we were frozen or cut from the broker, and are back
    PEERS_QUIET = "peers_quiet"  # two heartbeat periods after start: no primary heard so far


class Act(enum.StrEnum):
    """What the controller does about an event (roles.NetworkController carries it out)."""

    FOLLOW = "follow"  # follow the sender as primary: SECONDARY, and replicate its map
    FOLLOW_LOST = "follow_lost"  # follow the primary we had lost again
    PROMOTE = "promote"  # PRIMARY with epoch = highest heard + 1
    LOSE_PRIMARY = "lose_primary"  # ELECTING, then rank the candidates (ELECT)
    ELECT = "elect"  # rank the candidates again: our turn is due now (ELECTION_DUE) or later
    KEEP = "keep"  # our primary is alive: restart the watchdog
    ASSERT = "assert"  # a stale or lower-ranked primary: beat at once, so it hears us and steps down


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a decision looks at, as plain values (built by the controller for each event)."""

    me: Hadd
    priority: int
    configured_primary: bool
    take_back: bool
    synced: bool  # our map is replicated (or built)
    epoch: int  # the epoch of the primary we follow, or ours when primary
    primary: Hadd | None  # who we follow (ourselves when primary)
    primary_rank: tuple[int, Hadd] | None  # our primary's rank as last heard (None: never heard)
    lost: Hadd | None  # the primary we lost (ELECTING)
    lost_epoch: int
    holding: bool  # primary back from a freeze, listening before it beats again
    primary_original: bool = False  # the primary we follow is an original one (no epoch: cannot step down)
    sender: Hadd | None = None  # the controller whose resolv heartbeat this is
    sender_epoch: int = 0
    sender_priority: int = 0
    sender_original: bool = False  # its heartbeat carries no epoch: the original's primary (janitoo_dhcp)
    # Controllers were heard, all of them starting (listening) with no primary and no epoch ever heard.
    peers_all_starting: bool = False

    @property
    def my_rank(self) -> tuple[int, Hadd]:
        """Our place in the election order."""
        return rank(self.priority, self.me)

    @property
    def sender_rank(self) -> tuple[int, Hadd]:
        """The sender's place in the election order."""
        assert self.sender is not None
        return rank(self.sender_priority, self.sender)


# -- conditions: one question each, about the facts only


def always(f: Facts) -> bool:
    return True


def configured_primary(f: Facts) -> bool:
    return f.configured_primary


def configured_primary_among_starting_peers(f: Facts) -> bool:
    """A configured primary whose peers are all starting too: no primary to usurp, nobody to wait for."""
    return f.configured_primary and f.peers_all_starting


def from_our_primary(f: Facts) -> bool:
    return f.sender is not None and f.sender == f.primary


def from_an_original(f: Facts) -> bool:
    """An original primary (no epoch): it never steps down, so it outranks every epoch and rank."""
    return f.sender is not None and f.sender_original


def a_new_original(f: Facts) -> bool:
    """An original primary we do not follow yet, while we follow none (two originals: keep the first)."""
    return from_an_original(f) and not from_our_primary(f) and not f.primary_original


def we_take_back_from_our_primary(f: Facts) -> bool:
    """take_back: a configured primary that outranks the primary it follows takes the role, once synced
    (never from an original primary: it cannot step down, so two primaries would stay)."""
    return (
        from_our_primary(f)
        and not f.sender_original
        and f.take_back
        and f.configured_primary
        and f.my_rank < f.sender_rank
        and f.synced
    )


def better_than_our_primary(f: Facts) -> bool:
    """Higher epoch, or better rank at equal epoch, than the primary we follow (an original one is never
    beaten: it would not step down)."""
    assert f.primary is not None
    if f.primary_original:
        return False
    ours = f.primary_rank if f.primary_rank is not None else rank(0, f.primary)
    return (-f.sender_epoch, f.sender_rank) < (-f.epoch, ours)


def lost_primary_back_or_newer(f: Facts) -> bool:
    """The primary we lost is back (a heartbeat after its will comes from a new connection: the broker
    routes a will after everything its connection sent), or a newer primary was elected."""
    return f.sender_epoch > f.lost_epoch or (f.sender_epoch == f.lost_epoch and f.sender == f.lost)


def beats_us(f: Facts) -> bool:
    """Higher epoch, or better rank at equal epoch, than we have as primary."""
    return (-f.sender_epoch, f.sender_rank) < (-f.epoch, f.my_rank)


def beats_us_but_we_take_back(f: Facts) -> bool:
    """It claims a newer epoch, but we are a configured primary with take_back that outranks it."""
    return beats_us(f) and f.take_back and f.configured_primary and f.my_rank < f.sender_rank


def not_holding(f: Facts) -> bool:
    return not f.holding


def lost_known(f: Facts) -> bool:
    return f.lost is not None


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the decision table."""

    role: Role
    event: Event
    when: Callable[[Facts], bool]
    act: Act
    why: str


# The whole decision table. Rows of one (role, event) are tried in order; no row: nothing changes.
DECISIONS: tuple[Rule, ...] = (
    Rule(LISTENING, Event.LISTEN_TIMEOUT, configured_primary, Act.PROMOTE, "configured primary, none heard"),
    Rule(LISTENING, Event.LISTEN_TIMEOUT, always, Act.LOSE_PRIMARY, "none heard"),
    Rule(LISTENING, Event.PEERS_QUIET, configured_primary_among_starting_peers, Act.PROMOTE,
         "configured primary: every controller heard is starting too"),
    Rule(LISTENING, Event.PRIMARY_HEARD, always, Act.FOLLOW, "a primary is running"),
    Rule(SECONDARY, Event.PRIMARY_HEARD, we_take_back_from_our_primary, Act.PROMOTE,
         "take_back: outranking our primary, taking the role back"),
    Rule(SECONDARY, Event.PRIMARY_HEARD, from_our_primary, Act.KEEP, "our primary is alive"),
    Rule(SECONDARY, Event.PRIMARY_HEARD, a_new_original, Act.FOLLOW, "an original primary: it never steps down"),
    Rule(SECONDARY, Event.PRIMARY_HEARD, better_than_our_primary, Act.FOLLOW, "a primary with a newer epoch or better rank"),
    Rule(SECONDARY, Event.PRIMARY_GONE, from_our_primary, Act.LOSE_PRIMARY, "its will or its goodbye"),
    Rule(SECONDARY, Event.WATCHDOG_TIMEOUT, always, Act.LOSE_PRIMARY, "no resolv heartbeat"),
    Rule(ELECTING, Event.PRIMARY_HEARD, from_an_original, Act.FOLLOW, "an original primary: it never steps down"),
    Rule(ELECTING, Event.PRIMARY_HEARD, lost_primary_back_or_newer, Act.FOLLOW, "the lost primary is back, or a new one"),
    Rule(ELECTING, Event.PRIMARY_GONE, always, Act.ELECT, "a better-ranked candidate may just have died"),
    Rule(ELECTING, Event.ELECTION_DUE, always, Act.PROMOTE, "our turn in the election"),
    Rule(ELECTING, Event.THAWED, lost_known, Act.FOLLOW_LOST, "the loss may have been our own deafness"),
    Rule(PRIMARY, Event.PRIMARY_HEARD, from_an_original, Act.FOLLOW,
         "an original primary never steps down: stepping down, serving as a secondary"),
    Rule(PRIMARY, Event.PRIMARY_HEARD, beats_us_but_we_take_back, Act.PROMOTE,
         "take_back: it claims a newer epoch, we outrank it: taking the role back"),
    Rule(PRIMARY, Event.PRIMARY_HEARD, beats_us, Act.FOLLOW, "stepping down for a newer epoch or better rank"),
    Rule(PRIMARY, Event.PRIMARY_HEARD, not_holding, Act.ASSERT, "a stale or lower-ranked primary: it must hear us"),
)  # fmt: skip

_BY_ROLE_EVENT: dict[tuple[Role, Event], tuple[Rule, ...]] = {}
for _rule in DECISIONS:
    _BY_ROLE_EVENT[(_rule.role, _rule.event)] = (*_BY_ROLE_EVENT.get((_rule.role, _rule.event), ()), _rule)


def decide(role: Role, event: Event, facts: Facts) -> Rule | None:
    """The first row of the table for (role, event) whose condition holds; None: nothing to do."""
    for rule in _BY_ROLE_EVENT.get((role, event), ()):
        if rule.when(facts):
            return rule
    return None
