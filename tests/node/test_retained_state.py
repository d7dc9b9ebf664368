"""The retained state of a bus, sans threads: published at start, changes coalesced, refreshed, held back
over the publication ceiling or the size limit, cleared at a stop (a ManualScheduler for time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from janitoo_node.retainedstate import COALESCE, EVENT_GAP, REFRESH, RetainedState, TextBudget
from janitoo_protocol import Genre, Hadd, ValueRequest
from janitoo_protocol.retained import RetainedController, RetainedTopics, controller_payload, parse_retained
from tests.node.test_runtime_nodeman import DATA, ME, Rig

C1 = Hadd(1118, 1)
TOPIC = RetainedTopics("").controller(1118)


class Retained:
    """A publish function that records, and refuses while `full` (the publication ceiling)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bool]] = []
        self.full = False

    def __call__(self, topic: str, payload: bytes, force: bool) -> bool:
        if self.full and not force:
            return False
        self.sent.append((topic, payload, force))
        return True

    def last(self) -> RetainedController:
        topic, payload, _ = self.sent[-1]
        item = parse_retained(RetainedTopics(""), topic, payload)
        assert isinstance(item, RetainedController)
        return item


@pytest.fixture
def rig(tmp_path: Path) -> tuple[Rig, Retained]:
    conf = tmp_path / "fake.conf"
    conf.write_text((DATA / "original-fake-node.conf").read_text())
    r = Rig(conf)
    pub = Retained()
    r.manager.retained = RetainedState(pub, "", status=1118)
    r.manager.start()
    r.scheduler.advance(0)  # the first publication follows what the start scheduled at once
    return r, pub


def _set_location(r: Rig, text: str) -> None:
    r.manager.handle(ValueRequest(hadd=C1, uuid="location", genre=int(Genre.CONFIG), cmd_class=112, data=text,
                                  is_writeonly=True, is_readonly=False, reply_hadd=ME, target=C1))  # fmt: skip


def test_published_at_start_whole_and_readable(rig: tuple[Rig, Retained]) -> None:
    r, pub = rig
    assert [(t, f) for t, _, f in pub.sent] == [(TOPIC, False)]
    item = pub.last()
    assert {n.hadd for n in item.nodes} == set(r.manager.nodes)
    assert {n.state for n in item.nodes} == {"ONLINE"} and item.status == 1118
    assert {(v.hadd, v.uuid) for v in item.values} >= {(C1, "location"), (C1, "heartbeat")}


def test_a_lone_change_goes_at_once_and_a_burst_is_coalesced(rig: tuple[Rig, Retained]) -> None:
    r, pub = rig
    r.scheduler.advance(COALESCE * 2)
    pub.sent.clear()
    _set_location(r, "Rack 0")  # an event after a quiet moment: at once
    r.scheduler.advance(0)
    assert len(pub.sent) == 1
    pub.sent.clear()
    _set_location(r, "Rack 1")  # events right after: one publication EVENT_GAP after the last
    _set_location(r, "Rack 2")
    r.scheduler.advance(EVENT_GAP * 0.9)
    assert pub.sent == []
    r.scheduler.advance(EVENT_GAP * 0.2)
    assert len(pub.sent) == 1
    assert next(v.data for v in pub.last().values if v.hadd == C1 and v.uuid == "location") == "Rack 2"
    # Periodic readings (polls) right after: coalesced over COALESCE seconds.
    pub.sent.clear()
    retained = r.manager.retained
    assert retained is not None
    node = r.manager.nodes[C1]
    retained.changed(node)
    retained.changed(node)
    r.scheduler.advance(COALESCE * 0.9)
    assert pub.sent == []
    r.scheduler.advance(COALESCE * 0.2)
    assert len(pub.sent) == 1


def test_refreshed_with_no_change_and_a_change_comes_first(rig: tuple[Rig, Retained]) -> None:
    r, pub = rig
    for node in r.manager.nodes.values():  # no polls: nothing changes on its own
        for value in node.values.values():
            value.poll_delay = 0
            r.manager._poll_changed(value)
    r.scheduler.advance(COALESCE * 2)
    pub.sent.clear()
    r.scheduler.advance(REFRESH / 2)
    assert pub.sent == []
    _set_location(r, "Rack 3")
    r.scheduler.advance(COALESCE + 0.01)
    assert len(pub.sent) == 1  # the change did not wait for the refresh
    r.scheduler.advance(REFRESH - 2)
    assert len(pub.sent) == 1
    r.scheduler.advance(2)
    assert len(pub.sent) == 2  # the refresh, a period after the last publication


def test_over_the_ceiling_it_is_tried_again(rig: tuple[Rig, Retained]) -> None:
    r, pub = rig
    pub.sent.clear()
    pub.full = True
    _set_location(r, "Rack 4")
    r.scheduler.advance(COALESCE * 3)
    assert pub.sent == []
    pub.full = False
    r.scheduler.advance(COALESCE + 0.01)
    assert len(pub.sent) == 1
    assert next(v.data for v in pub.last().values if v.hadd == C1 and v.uuid == "location") == "Rack 4"


def test_a_state_change_is_republished(rig: tuple[Rig, Retained]) -> None:
    r, pub = rig
    node = r.manager.nodes[C1]
    node.failure = "its device cannot be read"
    pub.sent.clear()
    r.scheduler.advance(node.heartbeat + COALESCE + 0.01)
    states = {str(n.hadd): n.state for n in pub.last().nodes}
    assert states["1118/0001"] == "FAILED" and states["1118/0000"] == "ONLINE"


def test_too_large_a_state_is_not_published(rig: tuple[Rig, Retained], monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    r, pub = rig
    monkeypatch.setattr("janitoo_node.retainedstate.MAX_RETAINED_PAYLOAD", 100)
    pub.sent.clear()
    _set_location(r, "Rack 5")
    r.scheduler.advance(COALESCE + 0.01)
    assert pub.sent == []
    assert "retained state of" in caplog.text and "not published" in caplog.text


def test_a_clean_stop_clears_forced(rig: tuple[Rig, Retained]) -> None:
    r, pub = rig
    pub.sent.clear()
    pub.full = True  # a clear is never held back by the ceiling
    r.manager.stop()
    assert pub.sent == [(TOPIC, b"", True)]
    r.scheduler.advance(REFRESH * 2)
    assert len(pub.sent) == 1


def _whole(r: Rig) -> bytes:
    """The bus's payload written whole from the nodes as they are now (the reference)."""
    m = r.manager
    nodes = [n.info(state=n.heartbeat_state()) for n in m.nodes.values()]
    values = [info for n in m.nodes.values() for v in n.values.values() for info in v.infos()]
    return controller_payload(nodes, values, 1118)


def test_only_the_changed_node_is_written_again_and_the_payload_is_the_whole_one(
    rig: tuple[Rig, Retained],
) -> None:
    r, pub = rig
    retained = r.manager.retained
    assert retained is not None
    before = dict(retained._parts)
    assert set(before) == set(r.manager.nodes)
    _set_location(r, "Rack 6")
    r.scheduler.advance(COALESCE + 0.01)
    after = retained._parts
    assert after[C1] is not before[C1]  # C1 written again
    assert all(after[h] is before[h] for h in before if h != C1)  # the others kept as they were
    assert pub.sent[-1][1] == _whole(r)
    # A state change, a poll, a SET, in a row: each publication is still the whole payload, byte for byte.
    r.manager.nodes[C1].failure = "its device cannot be read"
    r.scheduler.advance(r.manager.nodes[C1].heartbeat + 0.01)
    _set_location(r, 'Rack "7"\n\u00e9')
    r.scheduler.advance(REFRESH / 3)
    assert pub.sent[-1][1] == _whole(r)
    r.scheduler.advance(REFRESH * 2)  # past the refresh too, which writes every node anew
    assert pub.sent[-1][1] == _whole(r)


def test_a_full_budget_keeps_nothing_and_publishes_the_same(tmp_path: Path) -> None:
    conf = tmp_path / "fake.conf"
    conf.write_text((DATA / "original-fake-node.conf").read_text())
    r = Rig(conf)
    pub = Retained()
    budget = TextBudget(100)  # less than one node's part
    r.manager.retained = RetainedState(pub, "", status=1118, budget=budget)
    r.manager.start()
    r.scheduler.advance(0)
    _set_location(r, "Rack 8")
    r.scheduler.advance(COALESCE + 0.01)
    assert r.manager.retained._parts == {} and budget.used == 0
    assert pub.sent[-1][1] == _whole(r)


def test_the_budget_is_shared_and_given_back_at_a_stop(tmp_path: Path) -> None:
    conf = tmp_path / "fake.conf"
    conf.write_text((DATA / "original-fake-node.conf").read_text())
    budget = TextBudget(10**6)
    rigs = []
    for _ in range(2):
        r = Rig(conf)
        r.manager.retained = RetainedState(Retained(), "", status=1118, budget=budget)
        r.manager.start()
        r.scheduler.advance(0)
        rigs.append(r)
    one = rigs[0].manager.retained._kept  # type: ignore[union-attr]
    assert one > 1000 and budget.used == 2 * one
    rigs[0].manager.stop()
    assert budget.used == one
    budget.limit = one  # the next bus to publish finds it full: it keeps nothing and gives back its share
    r3 = Rig(conf)
    r3.manager.retained = RetainedState(Retained(), "", status=1118, budget=budget)
    r3.manager.start()
    r3.scheduler.advance(0)
    assert r3.manager.retained._parts == {} and budget.used == one  # type: ignore[union-attr]
