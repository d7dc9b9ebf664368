"""Network controller roles, sans-IO: election, failover, map replication and liveness dispatch under a
fake clock. Every message goes through the real codec (encode then decode), as on the wire."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from transitions import MachineError

from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Genre,
    Hadd,
    Heartbeat,
    HeartbeatDispatch,
    Message,
    NodeInfo,
    ResolvHeartbeat,
    ValueInfo,
    ValuePublication,
    decode,
    encode,
)
from janitoo_protocol.codes import NETWORK_REQUESTS
from janitoo_protocol.events import ReplyRoute
from janitoo_protocol.network import CHUNKS_KEY
from janitoo_protocol.roles import (
    ELECTING,
    LISTENING,
    PRIMARY,
    SECONDARY,
    STOPPED,
    TRANSITIONS,
    Actions,
    NetworkController,
    RoleConfig,
    RoleConfigError,
)
from tests.original_dhcp import OriginalDhcpPrimary

DATA = Path(__file__).resolve().parents[1] / "data" / "original"

P = Hadd(10, 0)  # the configured primary
S1 = Hadd(20, 0)  # secondary, priority 5
S2 = Hadd(30, 0)  # secondary, priority 1
HB = 1.0  # resolv_heartbeat
TIMEOUT = 3.0  # resolv_timeout
GRACE = RoleConfig(is_primary=True).will_grace  # after a will, before promoting
ORIGINAL_PERIOD = 15.0  # the original primary's resolv heartbeat period (its shipped resolv_timeout)


def cfg(primary: bool = False, **kw: Any) -> RoleConfig:
    kw.setdefault("resolv_heartbeat", HB)
    kw.setdefault("resolv_timeout", TIMEOUT)
    return RoleConfig(is_primary=primary, is_secondary=not primary, **kw)


# ------------------------------------------------------------------------------------------ simulation


class FakeNodes:
    """A node process (sans-IO): one controller and its components; heartbeats and discovery answers."""

    def __init__(self, controller: int, components: int = 2, period: float = 5.0, start: float = 0.0):
        self.controller = controller
        self.period = period
        self.hadds = [Hadd(controller, i) for i in range(components + 1)]
        self.next_beat = start
        self.alive = True
        self.frozen = False

    def node(self, h: Hadd) -> NodeInfo:
        return NodeInfo(uuid=f"fake{h.controller}_{h.node}", hadd=h, heartbeat=self.period, state="ONLINE")

    def values(self, genre: Genre) -> list[ValueInfo]:
        out = []
        for h in self.hadds:
            uuid = {Genre.BASIC: "counter", Genre.USER: "switch", Genre.CONFIG: "location",
                    Genre.SYSTEM: "heartbeat", Genre.COMMAND: "blink"}[genre]  # fmt: skip
            indexes = 3 if genre == Genre.BASIC and h.node else 1
            for i in range(indexes):
                out.append(ValueInfo(uuid=uuid, hadd=h, genre=int(genre), index=i, data=self.period))
        return out

    def beat(self, now: float) -> list[Message]:
        self.next_beat = now + self.period
        return [Heartbeat(h, "ONLINE") for h in self.hadds]

    def handle(self, m: Message) -> list[Message]:
        if not isinstance(m, DiscoveryRequest) or m.resolv or m.reply_hadd is None:
            return []
        if m.target is not None and m.target.controller != self.controller:
            return []
        route = ReplyRoute.BROADCAST if m.target is None else ReplyRoute.NODE
        if m.kind == "request_info_nodes":
            return [DiscoveryReply(m.kind, m.reply_hadd, route, nodes=tuple(self.node(h) for h in self.hadds),
                                   extra=m.extra)]  # fmt: skip
        genre = m.genre
        assert genre is not None
        return [DiscoveryReply(m.kind, m.reply_hadd, route, values=tuple(self.values(genre)), extra=m.extra)]


class Net:
    """An in-memory broker with a fake clock: controllers and node processes, time moving by events.

    Hosts behave like netctl: they call `tick` at `wake_at`, and feed every message to every live
    controller (their own included, as MQTT does). A frozen controller buffers what it is sent (its
    socket) and gets it after its overdue tick when thawed.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.ctrls: dict[Hadd, NetworkController] = {}
        self.wake: dict[Hadd, float | None] = {}
        self.frozen: dict[Hadd, list[tuple[str, bytes]]] = {}
        self.procs: dict[int, FakeNodes] = {}
        self.wire: list[tuple[float, str, str]] = []
        self.queue: deque[tuple[str, bytes]] = deque()
        self.up = True
        self.drop: set[tuple[Hadd, str]] = set()  # (receiver, topic prefix) not delivered

    # -- setup
    def add(self, hadd: Hadd, config: RoleConfig) -> NetworkController:
        c = NetworkController(hadd, config)
        self.ctrls[hadd] = c
        self._apply(hadd, c.start(self.now))
        self.flush()
        return c

    def nodes(self, controller: int, **kw: Any) -> FakeNodes:
        f = FakeNodes(controller, start=self.now, **kw)
        self.procs[controller] = f
        return f

    # -- wire
    def send(self, messages: Iterable[Message]) -> None:
        for m in messages:
            topic, payload = encode(m)
            self.wire.append((self.now, topic, payload.decode()))
            if self.up:
                self.queue.append((topic, payload))

    def _apply(self, hadd: Hadd, actions: Actions) -> None:
        self.send(actions.publish)
        if actions.wake_at is not None:
            assert actions.wake_at > self.now, f"{hadd}: wake_at {actions.wake_at} is not after {self.now}"
        self.wake[hadd] = actions.wake_at

    def flush(self) -> None:
        while self.queue:
            topic, payload = self.queue.popleft()
            msg = decode(topic, payload)
            for hadd, c in list(self.ctrls.items()):
                if any(hadd == r and topic.startswith(t) for r, t in self.drop):
                    continue
                if hadd in self.frozen:
                    self.frozen[hadd].append((topic, payload))
                    continue
                self._apply(hadd, c.receive(msg, self.now))
            for f in self.procs.values():
                if f.alive and not f.frozen:
                    self.send(f.handle(msg))

    def run(self, seconds: float) -> None:
        self.run_until(self.now + seconds)

    def run_until(self, end: float) -> None:
        while True:
            times: list[tuple[float, int, Hadd | int]] = [
                (w, 0, h) for h, w in self.wake.items() if w is not None and h not in self.frozen
            ]
            times += [(f.next_beat, 1, f.controller) for f in self.procs.values() if f.alive and not f.frozen]
            if not times:
                self.now = end
                return
            t, kind, who = min(times, key=lambda x: (x[0], x[1]))
            if t > end:
                self.now = end
                return
            self.now = max(self.now, t)
            if kind == 0:
                assert isinstance(who, Hadd)
                self._apply(who, self.ctrls[who].tick(self.now))
            else:
                assert isinstance(who, int)
                self.send(self.procs[who].beat(self.now))
            self.flush()

    # -- faults
    def kill(self, hadd: Hadd) -> None:
        """SIGKILL of a netctl process: the broker publishes its will at once."""
        c = self.ctrls.pop(hadd)
        self.wake.pop(hadd, None)
        self.frozen.pop(hadd, None)
        self.send([c.will()])
        self.flush()

    def kill_nodes(self, controller: int) -> None:
        self.procs[controller].alive = False
        self.send([HeartbeatDispatch(controller, -1, "OFFLINE")])
        self.flush()

    def freeze(self, hadd: Hadd) -> None:
        self.frozen[hadd] = []

    def thaw(self, hadd: Hadd) -> None:
        buffered = self.frozen.pop(hadd)
        c = self.ctrls[hadd]
        self._apply(hadd, c.tick(self.now))  # its overdue timer first: the worst case
        self.flush()
        for topic, payload in buffered:
            self._apply(hadd, c.receive(decode(topic, payload), self.now))
            self.flush()

    def broker(self, up: bool) -> None:
        self.up = up
        if not up:
            self.queue.clear()
        for hadd, c in self.ctrls.items():
            self._apply(hadd, c.connection_changed(up, self.now))
        self.flush()

    # -- observations
    def topics(self, prefix: str, since: float = 0.0) -> list[tuple[float, dict[str, Any] | str]]:
        out: list[tuple[float, dict[str, Any] | str]] = []
        for t, topic, payload in self.wire:
            if t >= since and topic.startswith(prefix):
                try:
                    out.append((t, json.loads(payload)))
                except ValueError:
                    out.append((t, payload))
        return out

    def primary_beats(self, since: float = 0.0) -> list[tuple[float, Hadd, int]]:
        out = []
        for t, body in self.topics("/dhcp/resolv/heartbeat", since):
            assert isinstance(body, dict)
            if body["state"] == "ONLINE":
                out.append((t, Hadd(int(body["add_ctrl"]), int(body["add_node"])), int(body.get("epoch", 0))))
        return out

    def primaries(self) -> list[Hadd]:
        return sorted(h for h, c in self.ctrls.items() if c.role == PRIMARY)


def network(*secondaries: tuple[Hadd, int], primary_priority: int = 10, **kw: Any) -> Net:
    """A primary P with two node processes, then secondaries; everyone settled."""
    net = Net()
    net.nodes(100)
    net.nodes(200, components=3)
    net.run(0.5)
    net.add(P, cfg(True, priority=primary_priority, **kw))
    net.run(TIMEOUT + 0.5)
    assert net.ctrls[P].role == PRIMARY
    for hadd, prio in secondaries:
        net.add(hadd, cfg(priority=prio, **kw))
    net.run(2.0)
    for hadd, _ in secondaries:
        assert net.ctrls[hadd].role == SECONDARY
        assert net.ctrls[hadd].synced
    return net


# ------------------------------------------------------------------------------------------ config


def test_config_defaults_and_errors() -> None:
    c = RoleConfig(is_primary=True)
    assert (c.resolv_heartbeat, c.resolv_timeout, c.priority, c.take_back, c.do_heartbeat_dispatch) == (
        1.0, 5.0, 0, False, True,
    )  # fmt: skip
    assert c.listen == c.resolv_timeout and c.step == 2.0
    assert RoleConfig(is_secondary=True).listen == 10.0
    with pytest.raises(RoleConfigError, match="cannot both be true"):
        RoleConfig(is_primary=True, is_secondary=True)
    with pytest.raises(RoleConfigError, match="needs is_primary or is_secondary"):
        RoleConfig()
    with pytest.raises(RoleConfigError, match="at least twice"):
        RoleConfig(is_primary=True, resolv_heartbeat=2.0, resolv_timeout=3.0)
    with pytest.raises(RoleConfigError, match="heartbeat_count"):
        RoleConfig(is_primary=True, heartbeat_count=0)


def test_transition_table_allows_exactly_the_documented_changes() -> None:
    c = NetworkController(S1, cfg())
    machine = c._machine
    allowed = {
        (t["trigger"], s)
        for t in TRANSITIONS
        for s in (t["source"] if isinstance(t["source"], list) else [t["source"]])
    }
    for trigger in ("begin", "follow", "lose_primary", "promote"):
        for state in (STOPPED, LISTENING, SECONDARY, ELECTING, PRIMARY):
            machine.set_state(state)
            if (trigger, state) in allowed:
                c._fire(trigger, 0.0)
            else:
                with pytest.raises(MachineError):
                    c._fire(trigger, 0.0)
    machine.set_state(PRIMARY)
    c._fire("halt", 0.0)
    assert c.role == STOPPED


# ------------------------------------------------------------------------------------------ primary


def test_primary_listens_builds_by_broadcast_at_once_then_claims() -> None:
    net = Net()
    net.nodes(100)
    net.nodes(200, components=3)
    net.run(0.1)
    p = net.add(P, cfg(True, priority=10))
    assert p.role == LISTENING
    requests = net.topics("/broadcast/request")
    # All six at once, not one every 3 s.
    assert sorted(b["uuid"] for _, b in requests) == sorted(NETWORK_REQUESTS)  # type: ignore[index]
    assert {t for t, _ in requests} == {0.1}
    net.run(1.0)
    assert p.built and len(p.map) == 7
    assert p.role == LISTENING  # nobody claims before having listened for resolv_timeout
    assert net.primary_beats() == []
    net.run(TIMEOUT)
    assert p.role == PRIMARY and p.epoch == 1 and p.primary == P
    beats = net.primary_beats()
    assert beats[0][0] == pytest.approx(0.1 + TIMEOUT)
    # One resolv heartbeat per period, with the original's payload plus our extension keys.
    assert [round(t - beats[0][0], 6) for t, _, _ in beats] == [0.0, 1.0]
    _, body = net.topics("/dhcp/resolv/heartbeat")[0]
    assert isinstance(body, dict)
    assert (body["add_ctrl"], body["add_node"], body["state"]) == ("0010", "0000", "ONLINE")
    assert (body["epoch"], body["priority"], body["role"]) == (1, 10, "primary")
    assert p.history[-1].new == PRIMARY


def test_primary_serves_resolv_for_every_genre_in_chunks() -> None:
    net = Net()
    for ctrl in range(100, 125):  # 25 controllers, 75 nodes
        net.nodes(ctrl)
    net.run(0.1)
    p = net.add(P, cfg(True))
    net.run(TIMEOUT + 0.5)
    assert len(p.map) == 75
    for kind in NETWORK_REQUESTS:
        start = net.now
        net.send([DiscoveryRequest(kind, Hadd(9999, 9990), resolv=True, extra={"jnt_cid": "x1"})])
        net.flush()
        replies = [b for _, b in net.topics("/dhcp/resolv/reply/9999/9990", start) if b["uuid"] == kind]  # type: ignore[index]
        # 75 hadds (76 for systems: the primary's own network_controller value) in chunks of 10.
        expected = 76 if kind == "request_info_systems" else 75
        assert len(replies) == 8, kind
        hadds: set[str] = set()
        for body in replies:
            assert isinstance(body, dict)
            assert body["uuid"] == kind and body["jnt_cid"] == "x1" and body[CHUNKS_KEY] == 8
            assert len(body["data"]) <= 10
            hadds.update(body["data"])
        assert len(hadds) == expected
    # An empty reply_hadd: the answer goes to /dhcp/resolv/broadcast/.
    start = net.now
    net.send([DiscoveryRequest("request_info_systems", None, resolv=True)])
    net.flush()
    assert len(net.topics("/dhcp/resolv/broadcast/", start)) == 8


def test_empty_category_silent_for_original_secondaries_marked_for_ours() -> None:
    net = Net()
    p = net.add(P, cfg(True))
    net.run(TIMEOUT + 2)
    assert p.role == PRIMARY and len(p.map) == 0
    start = net.now
    net.send([DiscoveryRequest("request_info_users", Hadd(2, 0), resolv=True)])  # an original secondary
    net.flush()
    assert net.topics("/dhcp/resolv/reply/", start) == []
    net.send([DiscoveryRequest("request_info_users", Hadd(2, 0), resolv=True, extra={"jnt_cid": "c"})])
    net.flush()
    [(_, body)] = net.topics("/dhcp/resolv/reply/0002/0000", start)
    assert isinstance(body, dict) and body["data"] == {} and body[CHUNKS_KEY] == 1


def test_resolv_requests_wait_for_the_build() -> None:
    net = Net()
    net.nodes(100)
    p = net.add(P, cfg(True, listen_timeout=0.0))
    # A listen window of 0: promoted at once, but the broadcast answers have not been collected yet.
    assert p.role == PRIMARY and not p.built
    net.send([DiscoveryRequest("request_info_nodes", S1, resolv=True, extra={"jnt_cid": "c"})])
    net.flush()
    assert net.topics("/dhcp/resolv/reply/") == []
    net.run(1.5)
    assert p.built
    [(_, body)] = net.topics("/dhcp/resolv/reply/0020/0000")
    assert isinstance(body, dict) and len(body["data"]) == 3


# ------------------------------------------------------------------------------------------ secondary


def test_secondary_follows_and_replicates_every_genre_at_once() -> None:
    net = network()
    p = net.ctrls[P]
    start = net.now
    s = net.add(S1, cfg(priority=5))
    assert s.role == LISTENING
    net.run(HB)
    assert s.role == SECONDARY and s.primary == P and s.epoch == 1
    requests = net.topics("/dhcp/resolv/request/", start)
    assert sorted(b["uuid"] for _, b in requests) == sorted(NETWORK_REQUESTS)  # type: ignore[index]
    assert len({t for t, _ in requests}) == 1
    assert s.synced
    assert s.map.nodes == p.map.nodes
    for genre in Genre:
        # (network_controller announcements keep coming: compare the nodes' own values)
        mine = [v for v in s.map.value_list(genre) if v.uuid != "network_controller"]
        assert mine == [v for v in p.map.value_list(genre) if v.uuid != "network_controller"], genre
        assert len(mine) > 0
    # Both know each other; the primary announces the secondary in its heartbeat.
    net.run(HB)
    assert p.secondaries == [S1] and s.status()["primary"] == "0010/0000"
    body = net.topics("/dhcp/resolv/heartbeat")[-1][1]
    assert isinstance(body, dict) and body["secondaries"] == ["0020/0000"]


def test_secondary_without_primary_claims_after_its_longer_listen() -> None:
    net = Net()
    s = net.add(S1, cfg())
    net.run(2 * TIMEOUT - 0.01)
    assert s.role == LISTENING
    net.run(0.02)
    assert s.role == PRIMARY and s.epoch == 1
    assert [h.new for h in s.history] == [LISTENING, ELECTING, PRIMARY]


# ------------------------------------------------------------------------------------------ failover


def test_crash_exactly_one_secondary_promotes_at_once_with_a_complete_map() -> None:
    net = network((S1, 5), (S2, 1))
    nodes_before = dict(net.ctrls[P].map.nodes)
    killed = net.now
    net.kill(P)
    # The will is seen at once; the best-ranked secondary promotes after the will grace.
    s1, s2 = net.ctrls[S1], net.ctrls[S2]
    assert s1.role == s2.role == ELECTING
    net.run(GRACE)
    assert s1.role == PRIMARY and s1.epoch == 2
    assert s2.role == SECONDARY and s2.primary == S1 and s2.epoch == 2
    beats = net.primary_beats(killed)
    assert beats[0] == (killed + GRACE, S1, 2)
    net.run(10 * HB)
    assert {h for _, h, _ in net.primary_beats(killed)} == {S1}
    assert net.primaries() == [S1]
    # Its map is complete, and it did not rebuild it.
    assert s1.map.nodes.keys() == nodes_before.keys()
    assert net.topics("/broadcast/request", killed) == []
    assert [h.new for h in s2.history] == [LISTENING, SECONDARY, ELECTING, SECONDARY]


def test_crash_liveness_dispatch_continues_on_the_new_primary() -> None:
    net = network((S1, 5), (S2, 1))
    net.kill(P)
    silent = net.now
    net.procs[200].frozen = True  # hung: no will, no heartbeats
    period = net.procs[200].period
    net.run(3 * period * 1.1 + period + 0.5)
    dispatches = net.topics("/dhcp/heartbeat/", silent)
    dispatches = [(t, b) for t, b in dispatches if isinstance(b, dict)]
    assert sorted((b["add_ctrl"], b["add_node"], b["state"]) for _, b in dispatches) == [  # type: ignore[index]
        (200, i, "PENDING") for i in range(4)
    ]
    assert list(net.ctrls[S1].dispatched) and not list(net.ctrls[S2].dispatched)


def test_will_of_the_second_best_does_not_delay_the_best() -> None:
    net = network((S1, 5), (S2, 1))
    net.kill(S2)
    net.kill(P)
    net.run(GRACE)
    assert net.ctrls[S1].role == PRIMARY


def test_lower_ranked_secondary_promotes_when_the_best_is_dead_too() -> None:
    net = network((S1, 5), (S2, 1))
    net.freeze(S1)  # hung together with the primary: no will from it
    t0 = net.now
    net.kill(P)
    s2 = net.ctrls[S2]
    assert s2.role == ELECTING
    net.run(GRACE + 2 * HB - 0.01)
    assert s2.role == ELECTING  # waits its turn: one step per better-ranked live candidate
    net.run(0.02)
    assert s2.role == PRIMARY and s2.epoch == 2
    assert net.primary_beats(t0)[0][1] == S2


def test_hang_promotion_after_timeout_then_old_primary_steps_down() -> None:
    net = network((S1, 5), (S2, 1))
    last_beat = net.primary_beats()[-1][0]
    net.freeze(P)
    stopped = net.now
    net.run(TIMEOUT + 1)
    s1 = net.ctrls[S1]
    assert s1.role == PRIMARY and s1.epoch == 2
    promoted = next(t for t, h, _ in net.primary_beats(stopped) if h == S1)
    assert promoted == pytest.approx(last_beat + TIMEOUT)
    net.run(5.0)
    thawed = net.now
    net.thaw(P)
    p = net.ctrls[P]
    assert p.role == SECONDARY and p.primary == S1 and p.epoch == 2
    net.run(20 * HB)
    assert net.primaries() == [S1]
    assert {h for _, h, _ in net.primary_beats(thawed + 0.5)} == {S1}
    # The old primary held its heartbeat after thawing: nothing stale reached the wire.
    assert [h for _, h, _ in net.primary_beats(thawed)].count(P) == 0
    # No flapping: one change each.
    assert [h.new for h in p.history] == [LISTENING, PRIMARY, SECONDARY]
    assert [h.new for h in s1.history] == [LISTENING, SECONDARY, ELECTING, PRIMARY]


def test_thawed_primary_fed_messages_first_steps_down_too() -> None:
    net = network((S1, 5))
    net.freeze(P)
    net.run(TIMEOUT + 3)
    buffered = net.frozen.pop(P)
    p = net.ctrls[P]
    for topic, payload in buffered:
        net._apply(P, p.receive(decode(topic, payload), net.now))
    net.flush()
    assert p.role == SECONDARY
    net.run(10)
    assert net.primaries() == [S1]


def test_slow_but_alive_primary_is_not_replaced() -> None:
    net = network((S1, 5), (S2, 1))
    p = net.ctrls[P]
    # The primary's host is slow: every heartbeat comes 1.9 periods late (below the timeout).
    for _ in range(20):
        net.freeze(P)
        net.run(1.9 * HB)
        net.thaw(P)
        net.run(0.01)
    assert net.primaries() == [P]
    assert [h.new for h in net.ctrls[S1].history] == [LISTENING, SECONDARY]
    assert p.epoch == 1


def test_two_promote_race_the_lower_ranked_steps_down() -> None:
    net = Net()
    net.nodes(100)
    # Neither hears the other's announcements: both claim with the same epoch.
    net.drop = {
        (S1, "/values/"),
        (S2, "/values/"),
        (S1, "/dhcp/resolv/heartbeat"),
        (S2, "/dhcp/resolv/heartbeat"),
    }
    s1 = net.add(S1, cfg(priority=5))
    s2 = net.add(S2, cfg(priority=1))
    net.run(2 * TIMEOUT + 0.5)
    assert s1.role == s2.role == PRIMARY and s1.epoch == s2.epoch == 1
    net.drop = set()
    net.run(2 * HB)
    assert net.primaries() == [S1]
    assert s2.primary == S1 and s2.epoch == 1
    t = net.now
    net.run(20)
    assert {h for _, h, _ in net.primary_beats(t)} == {S1}
    assert [h.new for h in s2.history] == [LISTENING, ELECTING, PRIMARY, SECONDARY]


def test_equal_priority_lowest_hadd_wins() -> None:
    net = network((S2, 3), (S1, 3))
    net.kill(P)
    net.run(GRACE)
    assert net.primaries() == [S1]


def test_old_primary_returning_joins_as_secondary() -> None:
    net = network((S1, 5), (S2, 1))
    net.kill(P)
    net.run(5)
    back = net.now
    p = net.add(P, cfg(True, priority=10))  # a restarted process: its epoch is lost
    net.run(TIMEOUT + 1)
    assert p.role == SECONDARY and p.primary == S1 and p.epoch == 2 and p.synced
    net.run(20)
    assert net.primaries() == [S1]
    assert {h for _, h, _ in net.primary_beats(back)} == {S1}


def test_old_primary_with_take_back_takes_the_role_back_once() -> None:
    net = network((S1, 5), (S2, 1), take_back=False)
    net.kill(P)
    net.run(5)
    back = net.now
    p = net.add(P, cfg(True, priority=10, take_back=True))
    net.run(TIMEOUT + 2)
    assert p.role == PRIMARY and p.epoch == 3
    s1 = net.ctrls[S1]
    assert s1.role == SECONDARY and s1.primary == P
    net.run(30)
    assert net.primaries() == [P]
    assert [h.new for h in p.history] == [LISTENING, SECONDARY, PRIMARY]
    assert [h.new for h in s1.history][-2:] == [PRIMARY, SECONDARY]
    later = [h for t, h, _ in net.primary_beats(back) if t > net.now - 20]
    assert set(later) == {P}


def test_take_back_never_by_a_lower_ranked_controller() -> None:
    net = network((S1, 5), primary_priority=10)
    net.kill(P)
    net.run(2)
    # S2 is configured primary with take_back but ranks below S1: it follows.
    s2 = net.add(S2, cfg(True, priority=1, take_back=True))
    net.run(TIMEOUT + 10)
    assert s2.role == SECONDARY and net.primaries() == [S1]


def test_broker_outage_changes_no_role() -> None:
    net = network((S1, 5), (S2, 1))
    net.broker(False)
    net.run(3 * TIMEOUT)  # far longer than the timeout: nobody could hear anybody
    net.broker(True)
    net.run(10)
    assert net.primaries() == [P]
    assert [h.new for h in net.ctrls[S1].history] == [LISTENING, SECONDARY]
    # The primary held its heartbeat for one period after the outage, then went on.
    assert net.primary_beats(net.now - 5)


def test_own_stale_will_is_contradicted() -> None:
    net = network((S1, 5))
    p = net.ctrls[P]
    t = net.now
    net.send([p.will()])  # the broker gave up on an old connection of a live primary
    net.flush()
    beats = net.primary_beats(t)
    assert beats and beats[0][1] == P  # contradicted at once...
    net.run(10)
    assert net.primaries() == [P]  # ...so no failover happened
    assert [h.new for h in net.ctrls[S1].history] == [LISTENING, SECONDARY, ELECTING, SECONDARY]


# ------------------------------------------------------------------------------------------ liveness


def test_dispatch_pending_then_failed_once_and_no_loopback() -> None:
    net = network((S1, 5))
    p = net.ctrls[P]
    f = net.procs[100]
    f.frozen = True
    silent = f.next_beat - f.period  # its last heartbeat
    window = 3 * f.period * 1.1
    net.run(2 * window + 5)
    sent = [(t, b) for t, b in net.topics("/dhcp/heartbeat/") if isinstance(b, dict)]
    got = [(round(t - silent, 6), b["add_node"], b["state"]) for t, b in sent if b["add_ctrl"] == 100]
    # PENDING after one window, FAILED after two: our own dispatches never refreshed last_seen.
    assert sorted(got) == sorted(
        [(round(window, 6), n, "PENDING") for n in range(3)]
        + [(round(2 * window, 6), n, "FAILED") for n in range(3)]
    )
    assert p.map.nodes[Hadd(100, 1)].state == "FAILED"
    assert net.ctrls[S1].map.nodes[Hadd(100, 1)].state == "FAILED"  # hot, without dispatching
    assert list(net.ctrls[S1].dispatched) == []


def test_node_process_will_sets_offline_without_dispatch() -> None:
    net = network((S1, 5))
    t = net.now
    net.kill_nodes(200)
    for c in net.ctrls.values():
        assert {c.map.nodes[Hadd(200, i)].state for i in range(4)} == {"OFFLINE"}
    net.run(60)
    assert [
        b for _, b in net.topics("/dhcp/heartbeat/", t) if isinstance(b, dict) and b["add_node"] != -1
    ] == []


def test_no_dispatch_when_disabled() -> None:
    net = network(do_heartbeat_dispatch=False)
    net.procs[100].frozen = True
    net.run(60)
    assert list(net.ctrls[P].dispatched) == []
    assert net.ctrls[P].map.nodes[Hadd(100, 0)].state == "FAILED"


# ------------------------------------------------------------------------------------------ late controllers


def test_late_controller_discovered_from_any_heartbeat_and_forwarded() -> None:
    net = network((S1, 5))
    t = net.now
    late = net.nodes(300)
    net.run(0.01)
    direct = net.topics("/nodes/0300/0000/request", t)
    assert len(direct) == 6 and {tt for tt, _ in direct} == {t}  # all at once, at its first heartbeat
    assert all(Hadd(300, i) in net.ctrls[P].map.nodes for i in range(3))
    # Forwarded to secondaries on /dhcp/resolv/broadcast/ (the original used its own reply topic).
    assert len(net.topics("/dhcp/resolv/broadcast/", t)) == 6
    assert all(Hadd(300, i) in net.ctrls[S1].map.nodes for i in range(3))
    assert net.ctrls[S1].map.value_list(Genre.BASIC, 300)
    # Known now: later heartbeats ask nothing more.
    net.run(3 * late.period)
    assert len(net.topics("/nodes/0300/0000/request", t)) == 6


def test_unanswering_controller_is_asked_again_only_after_request_retry() -> None:
    net = network(request_retry=5.0)
    t = net.now
    net.send([Heartbeat(Hadd(400, 0), "ONLINE")])
    net.flush()
    net.run(1)
    net.send([Heartbeat(Hadd(400, 1), "ONLINE")])
    net.flush()
    assert len(net.topics("/nodes/0400/0000/request", t)) == 6
    net.run(5)
    net.send([Heartbeat(Hadd(400, 1), "ONLINE")])
    net.flush()
    assert len(net.topics("/nodes/0400/0000/request", t)) == 12


def test_late_join_capture_direct_requests_at_once_and_forwarded_to_resolv_broadcast() -> None:
    """The original's late-join capture: it asked 0121 at 0.75 s steps and forwarded to its own topic."""
    lines = [json.loads(x) for x in (DATA / "original-primary-late-join.jsonl").read_text().splitlines()]
    own = Hadd(1, 0)
    c = NetworkController(own, cfg(True, listen_timeout=0.0))
    out: list[Message] = list(c.start(0.0).publish)
    out += c.tick(1.5).publish  # the broadcast build found nobody
    assert c.role == PRIMARY and c.built and len(c.map) == 0
    sent: list[tuple[str, bytes]] = []
    replies = [x for x in lines if x["topic"] == "/nodes/0001/0000/reply"]
    for x in lines:
        if x["topic"].startswith("/dhcp/heartbeat/"):
            sent += [encode(m) for m in c.receive(decode(x["topic"], x["payload"]), 2.0).publish]
    requests = [(t, json.loads(p)) for t, p in sent if t.endswith("/request")]
    assert [t for t, _ in requests] == ["/nodes/0121/0000/request"] * 6
    assert sorted(b["uuid"] for _, b in requests) == sorted(NETWORK_REQUESTS)
    forwarded: list[tuple[str, bytes]] = []
    for x in replies:
        forwarded += [
            encode(m)
            for m in c.receive(decode(x["topic"], x["payload"]), 2.5).publish
            if isinstance(m, DiscoveryReply)
        ]
    assert {t for t, _ in forwarded} == {"/dhcp/resolv/broadcast/"}
    assert sorted(json.loads(p)["uuid"] for _, p in forwarded) == sorted(
        ["request_info_nodes", "request_info_systems", "request_info_configs", "request_info_basics"]
    )
    assert sorted(str(h) for h in c.map.nodes) == ["0121/0000", "0121/0001", "0121/0002"]


# ------------------------------------------------------------------------------------------ original peers


def test_follows_an_original_primary_and_replaces_it_when_silent() -> None:
    """An original DHCP primary: string addresses, no epoch, answers only nodes and systems."""
    s = NetworkController(S1, cfg(priority=5))
    s.start(0.0)
    original = ResolvHeartbeat(1, 0, "ONLINE")
    topic, payload = encode(original)
    assert json.loads(payload) == {"add_ctrl": "0001", "add_node": "0000", "state": "ONLINE"}
    a = s.receive(decode(topic, payload), 0.5)
    assert s.role == SECONDARY and s.primary == Hadd(1, 0) and s.epoch == 0
    # Only what it can answer: its handler crashes on the other four kinds.
    asked = sorted(m.kind for m in a.publish if isinstance(m, DiscoveryRequest) and m.resolv)
    assert asked == ["request_info_nodes", "request_info_systems"]
    now, wake = 0.5, a.wake_at

    def until(end: float) -> float:
        nonlocal wake
        t = now
        while wake is not None and wake <= end and s.role == SECONDARY:  # a host ticks at wake_at
            t = wake
            wake = s.tick(t).wake_at
        return t

    for _ in range(4):  # it beats every 15 s; our resolv_timeout is 3 s
        until(now + ORIGINAL_PERIOD)
        now += ORIGINAL_PERIOD
        wake = s.receive(decode(topic, payload), now).wake_at
        assert s.role == SECONDARY
    last = now
    assert s.synced and s.primary_period() == ORIGINAL_PERIOD
    now = until(now + 10 * ORIGINAL_PERIOD)
    # Two of its observed periods of silence, not our own resolv_timeout.
    assert now == pytest.approx(last + 2 * ORIGINAL_PERIOD)
    assert s.role == PRIMARY and s.epoch == 1


def original_network(period: float = ORIGINAL_PERIOD) -> tuple[Net, OriginalDhcpPrimary]:
    """Two node processes and the original's primary (a stand-in built from the spec), its map built."""
    net = Net()
    net.nodes(100)
    net.nodes(200, components=3)
    net.run(0.1)
    dhcp = OriginalDhcpPrimary(1, period, start=net.now + 0.5)
    net.procs[1] = dhcp  # type: ignore[assignment]  # driven like a node process: beat() and handle()
    net.send(dhcp.start())
    net.flush()
    assert len(dhcp.map) == 7
    return net, dhcp


def our_primaries_beating(net: Net, since: float, until: float) -> set[Hadd]:
    return {h for t, h, _ in net.primary_beats(since) if t <= until and h != Hadd(1, 0)}


def test_secondary_never_replaces_a_live_original_primary() -> None:
    net, dhcp = original_network()
    s1 = net.add(S1, cfg(priority=5))  # listening before its first heartbeat
    s2 = net.add(S2, cfg(priority=1))
    net.run(1.0)
    assert s1.role == s2.role == SECONDARY and s1.primary == s2.primary == dhcp.hadd
    net.run(10 * ORIGINAL_PERIOD)
    assert s1.role == s2.role == SECONDARY
    assert [h.new for h in s1.history] == [LISTENING, SECONDARY]
    assert our_primaries_beating(net, 0, net.now) == set()
    assert s1.primary_period() == ORIGINAL_PERIOD
    # What it answered (nodes and systems) is replicated; the four others were never asked.
    assert len(s1.map) == 7
    asked = {b["uuid"] for _, b in net.topics("/dhcp/resolv/request/")}  # type: ignore[index]
    assert asked == {"request_info_nodes", "request_info_systems"}


def test_taking_over_from_an_original_rebuilds_every_genre_it_lacks(caplog: pytest.LogCaptureFixture) -> None:
    net, dhcp = original_network()
    s1 = net.add(S1, cfg(priority=5))
    net.run(2 * ORIGINAL_PERIOD)
    users_before = [v for v in s1.map.value_list(Genre.USER)]
    assert users_before == []  # only kept hot from publications: fake nodes publish none
    dhcp.alive = False  # it has no will on its resolv heartbeat: silence
    silent = net.now
    caplog.set_level("WARNING", logger="janitoo.roles")
    net.run(2 * ORIGINAL_PERIOD + 1)
    assert s1.role == PRIMARY and s1.epoch == 1
    lacks = [r.getMessage() for r in caplog.records if "lacks" in r.getMessage()]
    assert lacks == ["0020/0000: the map lacks users, configs, basics, commands: rebuilding by broadcast"]
    kinds = sorted(b["uuid"] for _, b in net.topics("/broadcast/request", silent))  # type: ignore[index]
    # The collector always asks nodes too (its answers count the controllers to wait for).
    assert kinds == sorted(["request_info_nodes", "request_info_configs", "request_info_basics",
                            "request_info_users", "request_info_commands"])  # fmt: skip
    for genre in (Genre.USER, Genre.CONFIG, Genre.BASIC, Genre.COMMAND):
        assert len(s1.map.value_list(genre)) > 0, genre
    # And a resolv request now gets every genre.
    net.send([DiscoveryRequest("request_info_users", Hadd(2, 0), resolv=True)])
    net.flush()
    [(_, body)] = net.topics("/dhcp/resolv/reply/0002/0000")
    assert isinstance(body, dict) and len(body["data"]) == 7


def test_our_primary_steps_down_when_an_original_primary_appears() -> None:
    net = network((S1, 5), take_back=True)  # even take_back never fights an original primary
    p, s1 = net.ctrls[P], net.ctrls[S1]
    nodes = len(p.map)
    dhcp = OriginalDhcpPrimary(1, ORIGINAL_PERIOD, start=net.now + 0.3)
    net.procs[1] = dhcp  # type: ignore[assignment]
    appeared = net.now + 0.3
    net.run(6 * ORIGINAL_PERIOD)
    assert p.role == s1.role == SECONDARY and p.primary == s1.primary == dhcp.hadd
    # At its first heartbeat: our primary's last beat is the one before it.
    assert max(t for t, h, _ in net.primary_beats() if h == P) < appeared
    assert our_primaries_beating(net, appeared, net.now) == set()
    assert [h.new for h in p.history][-2:] == [PRIMARY, SECONDARY]
    # It keeps serving as a secondary: its map stays, it announces itself, it is a candidate.
    assert len(p.map) == nodes
    assert net.topics("/values/system/0010/0000/network_controller", net.now - 2 * HB)


def test_original_primary_returning_after_we_took_over() -> None:
    net, dhcp = original_network()
    s1 = net.add(S1, cfg(priority=5))
    net.run(2 * ORIGINAL_PERIOD)
    dhcp.alive = False
    net.run(2 * ORIGINAL_PERIOD + 2)
    assert s1.role == PRIMARY
    dhcp.alive = True
    dhcp.next_beat = net.now + 0.5
    back = net.now + 0.5
    net.run(3 * ORIGINAL_PERIOD)
    assert s1.role == SECONDARY and s1.primary == dhcp.hadd
    # (ours may beat in the same instant as its first heartbeat, never after)
    assert our_primaries_beating(net, back + 1e-9, net.now) == set()


def test_started_in_an_original_primarys_gap_two_primaries_for_less_than_its_period() -> None:
    net, dhcp = original_network()
    net.run(1.0)  # its first heartbeat went out at 0.6; the next comes at 15.6
    s1 = net.add(S1, cfg(priority=5))  # listens 2 * TIMEOUT = 6 s, hears nothing, promotes
    net.run(4 * ORIGINAL_PERIOD)
    ours = [t for t, h, _ in net.primary_beats() if h == S1]
    theirs = [t for t, h, _ in net.primary_beats() if h == dhcp.hadd]
    assert ours, "the gap is longer than the listen: we did promote"
    overlap = max(ours) - min(ours)
    assert overlap < ORIGINAL_PERIOD and max(ours) < min(t for t in theirs if t > min(ours)) + 1e-9
    assert s1.role == SECONDARY and s1.primary == dhcp.hadd


def test_watchdog_sized_from_our_primarys_observed_period() -> None:
    net = Net()
    net.nodes(100)
    net.add(P, cfg(True, priority=10, resolv_heartbeat=2.5, resolv_timeout=6.0))
    net.run(7.0)
    s1 = net.add(S1, cfg(priority=5))  # resolv_timeout 3 s: shorter than two of P's periods
    net.run(20.0)
    assert s1.primary_period() == pytest.approx(2.5)
    assert s1.watchdog_span() == pytest.approx(5.0)
    assert [h.new for h in s1.history] == [LISTENING, SECONDARY]


def test_promotion_rebuilds_only_what_an_interrupted_sync_lacks(caplog: pytest.LogCaptureFixture) -> None:
    net = network()
    s1 = net.add(S1, cfg(priority=5))
    net.drop = {(S1, "/dhcp/resolv/reply/0020/0000")}
    net.run(HB)  # S1 follows P, asks; nothing arrives
    net.drop = set()
    assert s1.role == SECONDARY and not s1.synced
    caplog.set_level("WARNING", logger="janitoo.roles")
    killed = net.now
    net.kill(P)
    net.run(GRACE + 2)
    assert s1.role == PRIMARY
    lacks = [r.getMessage() for r in caplog.records if "lacks" in r.getMessage()]
    assert lacks == ["0020/0000: the map lacks nodes, users, configs, systems, basics, commands: "
                     "rebuilding by broadcast"]  # fmt: skip
    assert len(net.topics("/broadcast/request", killed)) == 6
    assert len(s1.map) == 7


def test_listening_primary_asks_a_controller_that_subscribed_after_its_broadcast() -> None:
    net = Net()
    net.nodes(100)
    p = net.add(P, cfg(True, priority=10))  # its broadcast goes out now
    net.run(0.5)
    late = net.nodes(300)  # subscribes after the broadcast; heartbeats at once
    net.run(0.01)
    asked = [b for _, b in net.topics("/nodes/0300/0000/request")]
    assert len(asked) == 6 and p.role == LISTENING
    net.run(0.1)
    assert {h.controller for h in p.map.nodes} == {100, 300}
    # Its first resolv answer, right after it claims, lists every node.
    net.run_until(TIMEOUT + 0.01)
    assert p.role == PRIMARY
    net.send([DiscoveryRequest("request_info_nodes", Hadd(2, 0), resolv=True)])
    net.flush()
    [(_, body)] = net.topics("/dhcp/resolv/reply/0002/0000")
    assert isinstance(body, dict) and len(body["data"]) == 6
    assert late.alive


def test_resolv_request_waits_for_a_controller_asked_directly() -> None:
    net = network()
    p = net.ctrls[P]
    late = net.nodes(300)
    late.alive = False
    net.send(late.beat(net.now))  # heard, asked directly, but it answers a little later
    net.flush()
    net.send([DiscoveryRequest("request_info_nodes", Hadd(2, 0), resolv=True)])
    net.flush()
    assert net.topics("/dhcp/resolv/reply/0002/0000") == []  # held: an answer now would miss it
    late.alive = True
    net.send(late.handle(DiscoveryRequest("request_info_nodes", P, Hadd(300, 0))))
    net.flush()
    net.run(0.01)
    [(_, body)] = net.topics("/dhcp/resolv/reply/0002/0000")
    assert isinstance(body, dict) and len(body["data"]) == 10
    assert p.role == PRIMARY


def test_status_and_wake_up_never_in_the_past() -> None:
    net = network((S1, 5), (S2, 1))
    st = net.ctrls[P].status()
    assert st["role"] == "primary" and st["epoch"] == 1 and st["primary"] == "0010/0000"
    assert st["secondaries"] == ["0020/0000", "0030/0000"] and st["nodes"] == 7 + 0
    assert net.ctrls[S1].status()["synced"] is True
    # Net._apply asserts wake_at > now for every call of the whole run.


def test_stop_says_goodbye_and_the_next_takes_over_at_once() -> None:
    net = network((S1, 5))
    p = net.ctrls.pop(P)
    a = p.stop(net.now)
    assert p.role == STOPPED and a.wake_at is None
    [bye] = a.publish
    assert isinstance(bye, ResolvHeartbeat) and bye.state == "OFFLINE" and bye.extra["epoch"] == 1
    assert bye.extra["role"] == "stopped"
    net.send(a.publish)
    net.flush()
    # A goodbye is deliberate: no will grace.
    assert net.ctrls[S1].role == PRIMARY and net.ctrls[S1].epoch == 2


def test_broker_shutdown_wills_change_no_role() -> None:
    """mosquitto publishes every client's will when it shuts down, then drops everyone."""
    net = network((S1, 5), (S2, 1))
    net.drop = {(P, "/dhcp/resolv/heartbeat")}  # P is being disconnected: it does not hear its own will
    net.send([net.ctrls[P].will()])
    net.flush()
    net.drop = set()
    assert net.ctrls[S1].role == net.ctrls[S2].role == ELECTING
    net.run(GRACE / 4)
    net.broker(False)  # our own connection drops within the grace
    net.run(5)
    net.broker(True)
    net.run(10)
    assert net.primaries() == [P]
    assert net.ctrls[S1].primary == P and net.ctrls[S2].primary == P
    assert net.ctrls[P].epoch == net.ctrls[S1].epoch == 1


def test_announcement_is_the_network_controller_system_value() -> None:
    net = network((S1, 5))
    anns = [b for _, b in net.topics("/values/system/0020/0000/network_controller")]
    body = anns[-1]
    assert isinstance(body, dict)
    assert (body["genre"], body["type"], body["cmd_class"], body["data"]) == (4, 5, 0x1051, "secondary")
    assert (body["role"], body["epoch"], body["priority"], body["primary"]) == (
        "secondary",
        1,
        5,
        "0010/0000",
    )
    pub = decode("/values/system/0020/0000/network_controller", json.dumps(body))
    assert isinstance(pub, ValuePublication) and pub.value.extra["epoch"] == 1


def test_a_network_started_as_a_whole_has_its_primary_after_two_heartbeat_periods() -> None:
    net = Net()
    net.nodes(100)
    p = net.add(P, cfg(True, priority=10))
    s1 = net.add(S1, cfg(priority=5))
    s2 = net.add(S2, cfg(priority=1))
    net.run(TIMEOUT + 1)
    # Every controller heard was listening too, none following a primary: no need to wait resolv_timeout.
    assert p.role == PRIMARY and net.primary_beats()[0][0] == pytest.approx(2 * HB)
    assert s1.primary == s2.primary == P and s1.role == s2.role == SECONDARY
    assert [h.new for h in p.history] == [LISTENING, PRIMARY]


def test_a_restarted_primary_never_claims_early_beside_a_network_with_history() -> None:
    net = network((S1, 5), (S2, 1))
    net.kill(P)
    net.run(GRACE + 1)
    assert net.ctrls[S1].role == PRIMARY
    back = net.add(P, cfg(True, priority=10))
    net.run(2 * HB + 0.01)
    assert back.role == SECONDARY and back.primary == S1  # it heard S1's heartbeat, and S2 names S1
    alone = Net()
    lone = alone.add(P, cfg(True, priority=10))
    alone.run(2 * HB + 0.01)
    assert lone.role == LISTENING  # nobody heard at all: the full listen


def test_made_up_controllers_heartbeating_never_starve_the_resolv_server() -> None:
    """Hostile: a stream of heartbeats from unknown controllers that never answer keeps the primary asking;
    a resolv request still gets its answer within discovery_idle, and what was timed is pruned."""
    net = network()
    p = net.ctrls[P]
    asked = net.now
    net.send([DiscoveryRequest("request_info_nodes", Hadd(2, 0), resolv=True)])
    for i in range(8):
        net.send([Heartbeat(Hadd(5000 + i, 0), "ONLINE")])
        net.flush()
        net.run(0.2)
    replies = net.topics("/dhcp/resolv/reply/0002/0000")
    assert len(replies) == 1 and replies[0][0] <= asked + p.config.discovery_idle + 1e-9
    for i in range(50):
        net.send([ResolvHeartbeat(6000 + i, 0, "ONLINE")])  # made-up original primaries, once each
    net.flush()
    net.run(4 * TIMEOUT)
    # (An epoch-less heartbeat outranks us by design: P follows the first one; the broker's ACL is what
    # keeps /dhcp/resolv/heartbeat to the network controllers, docs/security.md.)
    timed = {h.controller for h in p._beats if h.controller >= 6000}
    assert p.primary is not None and timed <= {p.primary.controller}
