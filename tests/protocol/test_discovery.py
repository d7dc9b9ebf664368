"""Unit tests for DiscoveryCollector, the sans-IO completion rule of a discovery (a fake clock, no broker)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from janitoo_protocol import DiscoveryReply
from janitoo_protocol.addressing import Hadd
from janitoo_protocol.codes import NETWORK_REQUESTS, Genre
from janitoo_protocol.discovery import NODES, DiscoveryCollector
from janitoo_protocol.events import CORRELATION_KEY, REQUEST_GENRES, ReplyRoute
from janitoo_protocol.model import NodeInfo, ValueInfo

T0 = 1000.0  # the fake clock's start: any float works, the collector never reads a real clock
CID = "abc-1"
REPLY_HADD = Hadd(9999, 9990)


def reply(kind: str, controller: int, nodes: int = 2, cid: str | None = CID) -> DiscoveryReply:
    """One controller's answer to one request, as the transport would decode it."""
    extra = {} if cid is None else {CORRELATION_KEY: cid}
    genre = REQUEST_GENRES[kind]
    hadds = [Hadd(controller, n) for n in range(nodes)]
    if genre is None:
        infos = tuple(NodeInfo(uuid=f"n{controller}_{h.node}", hadd=h, state="ONLINE") for h in hadds)
        return DiscoveryReply(kind, REPLY_HADD, ReplyRoute.BROADCAST, nodes=infos, extra=extra)
    values = tuple(ValueInfo(uuid=f"v{int(genre)}", hadd=h, genre=int(genre)) for h in hadds)
    return DiscoveryReply(kind, REPLY_HADD, ReplyRoute.BROADCAST, values=values, extra=extra)


def feed_all(c: DiscoveryCollector, controller: int, at: float, kinds: list[str] | None = None) -> None:
    for kind in kinds or c.kinds:
        assert c.feed(reply(kind, controller), at)


# --- requests -------------------------------------------------------------------------------------------


def test_the_nodes_request_is_always_made_first_and_duplicates_are_dropped() -> None:
    c = DiscoveryCollector(["request_info_users", "request_info_users", "request_info_configs"], T0)
    assert c.kinds == [NODES, "request_info_users", "request_info_configs"]


def test_all_network_requests_by_default_order_kept() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0)
    assert c.kinds == list(NETWORK_REQUESTS)
    assert c.kinds[0] == NODES


def test_unknown_request_kind_raises_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="request_info_bogus"):
        DiscoveryCollector(["request_info_bogus"], T0)


# --- an empty network -----------------------------------------------------------------------------------


def test_no_reply_at_all_ends_after_idle_not_before() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, timeout=5.0, quiet=0.3, idle=1.0)
    assert c.next_wake() == T0 + 1.0
    assert not c.done(T0)
    assert not c.done(T0 + 0.999)
    assert c.done(T0 + 1.0)
    assert len(c.map) == 0 and c.map.values == {}


def test_idle_longer_than_timeout_is_capped_by_the_timeout() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, timeout=0.5, idle=2.0)
    assert c.next_wake() == T0 + 0.5
    assert not c.done(T0 + 0.49)
    assert c.done(T0 + 0.5)


# --- completion -----------------------------------------------------------------------------------------


def test_one_controller_complete_ends_after_quiet() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, timeout=5.0, quiet=0.25, idle=1.0)
    feed_all(c, 101, T0 + 0.125)
    assert c.answered()
    assert c.next_wake() == T0 + 0.375
    assert not c.done(T0 + 0.25)
    assert c.done(T0 + 0.375)


def test_not_done_while_a_controller_has_not_answered_every_request() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, timeout=5.0, quiet=0.25, idle=1.0)
    feed_all(c, 101, T0 + 0.125)
    c.feed(reply(NODES, 102), T0 + 0.25)  # a second controller answered the nodes request only
    assert not c.answered()
    assert c.next_wake() == T0 + 5.0  # nothing but a reply (or the timeout) can end it now
    assert not c.done(T0 + 2.0)  # well past quiet and idle
    feed_all(c, 102, T0 + 2.5, kinds=c.kinds[1:])
    assert c.answered()
    assert not c.done(T0 + 2.625)
    assert c.done(T0 + 2.75)


def test_replies_of_other_kinds_before_the_nodes_reply_are_counted() -> None:
    # Replies travel on one topic but nothing orders a controller's answers against another's.
    c = DiscoveryCollector(NETWORK_REQUESTS, T0)
    feed_all(c, 101, T0 + 0.01, kinds=c.kinds[1:])
    assert not c.answered()  # no nodes reply: nobody is known to be there
    c.feed(reply(NODES, 101), T0 + 0.02)
    assert c.answered()


def test_a_late_reply_restarts_the_quiet_period() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, quiet=0.25)
    feed_all(c, 101, T0 + 0.125)
    c.feed(reply("request_info_users", 102), T0 + 0.25)  # a straggler (extra answer) during the quiet time
    assert not c.done(T0 + 0.375)  # quiet after the first batch, not after the straggler
    assert c.next_wake() == T0 + 0.5
    assert c.done(T0 + 0.5)


def test_the_timeout_ends_an_incomplete_discovery() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, timeout=2.0)
    c.feed(reply(NODES, 101), T0 + 0.1)
    assert not c.done(T0 + 1.99)
    assert c.done(T0 + 2.0)
    assert c.next_wake() == T0 + 2.0


def test_the_timeout_wins_over_quiet() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, timeout=1.0, quiet=0.5)
    feed_all(c, 101, T0 + 0.875)
    assert c.next_wake() == T0 + 1.0
    assert c.done(T0 + 1.0)


def test_a_subset_of_requests_completes_on_its_own_kinds() -> None:
    c = DiscoveryCollector(["request_info_users"], T0, quiet=0.25)
    assert c.kinds == [NODES, "request_info_users"]
    c.feed(reply(NODES, 101), T0 + 0.125)
    c.feed(reply("request_info_users", 101), T0 + 0.25)
    assert c.answered()
    assert not c.done(T0 + 0.375)
    assert c.done(T0 + 0.5)


@settings(max_examples=500, deadline=None, database=None)
@given(
    started=st.floats(0, 1e7, allow_nan=False),
    quiet=st.floats(0.001, 10, allow_nan=False),
    idle=st.floats(0.001, 10, allow_nan=False),
    timeout=st.floats(0.001, 60, allow_nan=False),
    steps=st.lists(
        # (delay, kind or None for a whole controller's answers, controller)
        st.tuples(
            st.floats(0, 5, allow_nan=False),
            st.none() | st.sampled_from(NETWORK_REQUESTS),
            st.integers(101, 103),
        ),
        max_size=20,
    ),
)
def test_done_at_the_time_next_wake_names(
    started: float, quiet: float, idle: float, timeout: float, steps: list[tuple[float, str, int]]
) -> None:
    # A driver waits until next_wake() and asks done(): with no reply in between it must be done then, or
    # a driver whose clock only moves to the times it is told (a simulation, this fake clock) never ends.
    c = DiscoveryCollector(NETWORK_REQUESTS, started, timeout=timeout, quiet=quiet, idle=idle)
    now = started
    for delay, kind, controller in steps:
        now += delay
        if c.done(now):
            break
        for k in [kind] if kind else NETWORK_REQUESTS:
            c.feed(reply(k, controller), now)
    assert c.done(max(now, c.next_wake()))


# --- which replies belong to this discovery ---------------------------------------------------------------


def test_a_reply_with_another_correlation_is_refused() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, correlation=CID)
    assert not c.feed(reply(NODES, 101, cid="someone-else-7"), T0 + 0.1)
    assert c.counts[NODES] == 0
    assert c.last_reply is None
    assert len(c.map) == 0
    assert c.done(T0 + 1.0)  # still an empty network: idle applies


def test_a_reply_without_correlation_is_accepted() -> None:
    # Peers that drop unknown request keys answer without our correlation key.
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, correlation=CID)
    assert c.feed(reply(NODES, 101, cid=None), T0 + 0.1)
    assert c.counts[NODES] == 1


def test_without_own_correlation_any_reply_is_accepted() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, correlation=None)
    assert c.feed(reply(NODES, 101, cid="whatever"), T0 + 0.1)


def test_a_reply_to_a_request_not_made_is_refused() -> None:
    c = DiscoveryCollector(["request_info_users"], T0, correlation=CID)
    assert not c.feed(reply("request_info_configs", 101), T0 + 0.1)
    assert c.last_reply is None


# --- the map ------------------------------------------------------------------------------------------------


def test_the_map_holds_every_node_and_value_by_genre() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0)
    feed_all(c, 101, T0 + 0.01)
    feed_all(c, 102, T0 + 0.02)
    hadds = {Hadd(ctrl, n) for ctrl in (101, 102) for n in range(2)}
    assert set(c.map.nodes) == hadds
    assert c.map.controllers() == [Hadd(101, 0), Hadd(102, 0)]
    for hadd in hadds:
        assert set(c.map.values[hadd]) == set(Genre)
        for genre in Genre:
            assert set(c.map.values[hadd][genre]) == {f"v{int(genre)}"}
    assert c.counts == {kind: 2 for kind in NETWORK_REQUESTS}


# --- controllers known to exist are waited for ------------------------------------------------------------


def test_a_known_controller_is_waited_for_past_the_quiet_period() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, timeout=10.0, quiet=0.3, expected=[2])
    feed_all(c, 1, T0 + 0.1)
    assert not c.done(T0 + 5.0) and c.next_wake() == T0 + 10.0 and c.missing() == [2]
    feed_all(c, 2, T0 + 6.0)  # the slow one, six seconds late
    assert c.missing() == [] and not c.done(T0 + 6.2) and c.done(T0 + 6.3)
    assert {h.controller for h in c.map.nodes} == {1, 2}


def test_a_known_controller_that_never_answers_is_reported_at_the_timeout() -> None:
    c = DiscoveryCollector(NETWORK_REQUESTS, T0, timeout=2.0, expected=[2])
    assert not c.done(T0 + 1.5)  # not even the idle rule ends it
    assert c.done(T0 + 2.0) and c.missing() == [2]


def test_heartbeats_and_the_primarys_list_make_controllers_known() -> None:
    from janitoo_protocol import Heartbeat

    c = DiscoveryCollector(NETWORK_REQUESTS, T0, timeout=10.0, correlation=CID)
    c.take(Heartbeat(Hadd(3, 1), "ONLINE"), T0)
    c.take(Heartbeat(Hadd(4, 0), "OFFLINE"), T0)  # a controller saying goodbye is not waited for
    primary = DiscoveryReply(
        NODES,
        REPLY_HADD,
        ReplyRoute.RESOLV,
        extra={CORRELATION_KEY: CID},
        nodes=(
            NodeInfo(uuid="a", hadd=Hadd(5, 0), state="ONLINE"),
            NodeInfo(uuid="b", hadd=Hadd(6, 0), state="DEAD"),
        ),
    )
    c.take(primary, T0)
    assert c.missing() == [3, 5]
    assert c.counts[NODES] == 0  # the primary's list is no controller's answer
