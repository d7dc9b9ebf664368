"""The election's decision table: each row alone, every act allowed by the role machine's edges, and no
change of role decided anywhere else in the controller."""

from __future__ import annotations

import ast
import inspect
from dataclasses import replace

import pytest

from janitoo_protocol import Hadd, Role
from janitoo_protocol import roles as roles_module
from janitoo_protocol.election import DECISIONS, TRANSITIONS, Act, Event, Facts, decide, election_turn, rank

ME, OTHER, THIRD = Hadd(20, 0), Hadd(10, 0), Hadd(30, 0)
BASE = Facts(me=ME, priority=5, configured_primary=False, take_back=False, synced=True, epoch=3, primary=OTHER,
             primary_rank=rank(0, OTHER), lost=None, lost_epoch=0, holding=False)  # fmt: skip


def heard(f: Facts, sender: Hadd, epoch: int, priority: int = 0) -> Facts:
    return replace(f, sender=sender, sender_epoch=epoch, sender_priority=priority)


def act(role: Role, event: Event, f: Facts) -> Act | None:
    rule = decide(role, event, f)
    return None if rule is None else rule.act


def test_listening() -> None:
    assert act(Role.LISTENING, Event.LISTEN_TIMEOUT, replace(BASE, configured_primary=True)) is Act.PROMOTE
    assert act(Role.LISTENING, Event.LISTEN_TIMEOUT, BASE) is Act.LOSE_PRIMARY
    assert act(Role.LISTENING, Event.PRIMARY_HEARD, heard(BASE, THIRD, 1)) is Act.FOLLOW


def test_secondary() -> None:
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, heard(BASE, OTHER, 3)) is Act.KEEP
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, heard(BASE, THIRD, 4)) is Act.FOLLOW  # newer epoch
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, heard(BASE, THIRD, 3, priority=9)) is Act.FOLLOW  # rank
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, heard(BASE, THIRD, 3)) is None  # worse: ignored
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, heard(BASE, THIRD, 2, priority=9)) is None  # older epoch
    assert act(Role.SECONDARY, Event.PRIMARY_GONE, heard(BASE, OTHER, 3)) is Act.LOSE_PRIMARY
    assert act(Role.SECONDARY, Event.PRIMARY_GONE, heard(BASE, THIRD, 3)) is None  # not ours
    assert act(Role.SECONDARY, Event.WATCHDOG_TIMEOUT, BASE) is Act.LOSE_PRIMARY


def test_take_back_only_for_a_synced_configured_primary_that_outranks() -> None:
    mine = replace(BASE, configured_primary=True, take_back=True)
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, heard(mine, OTHER, 3)) is Act.PROMOTE
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, heard(replace(mine, synced=False), OTHER, 3)) is Act.KEEP
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, heard(mine, OTHER, 3, priority=9)) is Act.KEEP
    assert (
        act(Role.SECONDARY, Event.PRIMARY_HEARD, heard(replace(mine, take_back=False), OTHER, 3)) is Act.KEEP
    )


def test_electing() -> None:
    lost = replace(BASE, lost=OTHER, lost_epoch=3)
    assert act(Role.ELECTING, Event.PRIMARY_HEARD, heard(lost, OTHER, 3)) is Act.FOLLOW  # it is back
    assert act(Role.ELECTING, Event.PRIMARY_HEARD, heard(lost, THIRD, 4)) is Act.FOLLOW  # a new one
    assert act(Role.ELECTING, Event.PRIMARY_HEARD, heard(lost, THIRD, 3)) is None  # a stale one
    assert act(Role.ELECTING, Event.PRIMARY_GONE, heard(lost, THIRD, 0)) is Act.ELECT
    assert act(Role.ELECTING, Event.ELECTION_DUE, lost) is Act.PROMOTE
    assert act(Role.ELECTING, Event.THAWED, lost) is Act.FOLLOW_LOST
    assert act(Role.ELECTING, Event.THAWED, BASE) is None


def test_primary() -> None:
    me = replace(BASE, primary=ME, primary_rank=rank(5, ME))
    assert act(Role.PRIMARY, Event.PRIMARY_HEARD, heard(me, THIRD, 4)) is Act.FOLLOW  # newer epoch: step down
    assert (
        act(Role.PRIMARY, Event.PRIMARY_HEARD, heard(me, THIRD, 3, priority=9)) is Act.FOLLOW
    )  # better rank
    assert act(Role.PRIMARY, Event.PRIMARY_HEARD, heard(me, THIRD, 3)) is Act.ASSERT  # it must hear us
    assert act(Role.PRIMARY, Event.PRIMARY_HEARD, heard(replace(me, holding=True), THIRD, 3)) is None
    back = replace(me, configured_primary=True, take_back=True)
    assert act(Role.PRIMARY, Event.PRIMARY_HEARD, heard(back, THIRD, 4)) is Act.PROMOTE  # re-assert


def test_the_election_turn_counts_the_better_candidates() -> None:
    assert election_turn(10.0, 0.2, 0, 2.0) == 10.2
    assert election_turn(10.0, 0.0, 2, 2.0) == 14.0
    assert rank(5, ME) < rank(0, OTHER) and rank(0, OTHER) < rank(0, THIRD)


def test_every_act_is_an_edge_of_the_role_machine() -> None:
    edges = {(t["trigger"], s) for t in TRANSITIONS for s in (t["source"] if isinstance(t["source"], list) else [t["source"]])}  # fmt: skip
    trigger_of = {Act.FOLLOW: "follow", Act.FOLLOW_LOST: "follow", Act.PROMOTE: "promote",
                  Act.LOSE_PRIMARY: "lose_primary"}  # fmt: skip
    for rule in DECISIONS:
        trigger = trigger_of.get(rule.act)
        if trigger is not None:
            assert (trigger, rule.role) in edges, rule
    # Every (role, event) pair's rows end with a catch-all or leave nothing silently half-decided.
    assert {r.event for r in DECISIONS} == set(Event)


@pytest.mark.parametrize("change", ["_promote", "_follow", "_lose_primary"])
def test_no_change_of_role_is_decided_outside_the_table(change: str) -> None:
    tree = ast.parse(inspect.getsource(roles_module))
    callers = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == change
                ):
                    callers.add(fn.name)
    assert callers == {"_on_event"}


def test_an_original_primary_outranks_every_epoch_and_is_never_taken_back() -> None:
    original = Hadd(1, 0)

    def orig(f: Facts) -> Facts:
        return replace(heard(f, original, 0), sender_original=True)

    assert act(Role.LISTENING, Event.PRIMARY_HEARD, orig(BASE)) is Act.FOLLOW
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, orig(BASE)) is Act.FOLLOW  # beats our epoch 3
    following = replace(
        BASE, primary=original, primary_rank=rank(0, original), epoch=0, primary_original=True
    )
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, orig(following)) is Act.KEEP
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, heard(following, THIRD, 7, priority=9)) is None
    # A second original while we follow one: keep the first (no flapping between two).
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, replace(orig(following), sender=THIRD)) is None
    mine = replace(following, configured_primary=True, take_back=True, priority=99)
    assert act(Role.SECONDARY, Event.PRIMARY_HEARD, orig(mine)) is Act.KEEP  # never takes back
    lost = replace(BASE, lost=OTHER, lost_epoch=3)
    assert act(Role.ELECTING, Event.PRIMARY_HEARD, orig(lost)) is Act.FOLLOW
    me = replace(BASE, primary=ME, primary_rank=rank(5, ME), configured_primary=True, take_back=True)
    assert act(Role.PRIMARY, Event.PRIMARY_HEARD, orig(me)) is Act.FOLLOW  # steps down, even with take_back


def test_a_configured_primary_claims_early_only_among_starting_peers() -> None:
    starting = replace(BASE, configured_primary=True, peers_all_starting=True, primary=None, epoch=0)
    assert act(Role.LISTENING, Event.PEERS_QUIET, starting) is Act.PROMOTE
    assert act(Role.LISTENING, Event.PEERS_QUIET, replace(starting, peers_all_starting=False)) is None
    assert act(Role.LISTENING, Event.PEERS_QUIET, replace(starting, configured_primary=False)) is None
