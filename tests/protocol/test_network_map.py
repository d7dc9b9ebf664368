"""The network map: merging (the API the client's discovery uses), resolv serving in chunks for every
genre, and replication by resolv (`ResolvSync`), checked against the original's primary-start capture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Genre,
    Hadd,
    NodeInfo,
    ValueInfo,
    ValuePublication,
    decode,
    encode,
)
from janitoo_protocol.codes import NETWORK_REQUESTS
from janitoo_protocol.events import CORRELATION_KEY, REQUEST_GENRES, ReplyRoute
from janitoo_protocol.network import CHUNK_KEY, CHUNKS_KEY, NetworkMap, ResolvSync, chunk_marker

DATA = Path(__file__).resolve().parents[1] / "data" / "original"
OWN = Hadd(20, 0)


def captured_map() -> NetworkMap:
    """The map an original primary built at start (6 nodes of 0121 and 1118), from its broadcast replies."""
    net = NetworkMap()
    for line in (DATA / "original-primary-start.jsonl").read_text().splitlines():
        x = json.loads(line)
        if x["topic"].startswith("/broadcast/reply/"):
            m = decode(x["topic"], x["payload"])
            assert isinstance(m, DiscoveryReply)
            net.merge_reply(m)
    return net


def roundtrip(replies: list[DiscoveryReply]) -> list[DiscoveryReply]:
    out = []
    for r in replies:
        topic, payload = encode(r)
        m = decode(topic, payload)
        assert isinstance(m, DiscoveryReply)
        out.append(m)
    return out


# ------------------------------------------------------------------------------------------ merging


def test_capture_merges_into_the_six_nodes_and_their_values() -> None:
    net = captured_map()
    assert [str(n.hadd) for n in net.node_list()] == [
        "0121/0000", "0121/0001", "0121/0002", "1118/0000", "1118/0001", "1118/0002",
    ]  # fmt: skip
    assert [n.uuid for n in net.node_list(1118)] == ["fake", "fake__component1", "fake__component2"]
    loads = [v for v in net.value_list(Genre.BASIC, 121) if v.uuid == "load"]
    assert [v.index for v in loads] == [0, 1, 2]
    assert net.get_value(Hadd(1118, 1), "test_user") is not None
    assert net.knows_controller(121) and not net.knows_controller(122)
    assert net.value_count() == sum(len(net.value_list(g)) for g in Genre)
    assert net.controllers() == [Hadd(121, 0), Hadd(1118, 0)]


def test_publication_keeps_discovery_fields_and_takes_data() -> None:
    net = captured_map()
    old = net.get_value(Hadd(121, 0), "location")
    assert old is not None
    echo = decode(
        "/values/config/0121/0000/location",
        json.dumps({"cmd_class": 112, "uuid": "location", "data": "Rack 9", "reply_hadd": "9999/9990",
                    "genre": 3, "is_writeonly": False, "is_readonly": True, "hadd": "0121/0000",
                    "label": "location", "help": "The location of the node"}),
    )  # fmt: skip
    assert isinstance(echo, ValuePublication)
    net.merge_publication(echo)
    new = net.get_value(Hadd(121, 0), "location")
    assert new is not None and new.data == "Rack 9" and new.type == old.type


def test_set_state_and_forget_controller() -> None:
    net = captured_map()
    net.set_state(Hadd(121, 1), "PENDING")
    assert net.nodes[Hadd(121, 1)].state == "PENDING"
    net.set_state(Hadd(999, 1), "PENDING")  # unknown: ignored
    net.forget_controller(121)
    assert not net.knows_controller(121) and len(net) == 3


# ------------------------------------------------------------------------------------------ serving


@pytest.mark.parametrize("kind", NETWORK_REQUESTS)
def test_resolv_answers_every_genre_and_round_trips(kind: str) -> None:
    """The original's resolv server crashed on users, configs, basics and commands; every genre works here."""
    net = captured_map()
    replies = net.resolv_replies(kind, OWN, {CORRELATION_KEY: "c1"})
    assert replies, kind
    got = NetworkMap()
    for r in roundtrip(replies):
        assert r.route is ReplyRoute.RESOLV and r.topic_hadd == OWN and r.correlation == "c1"
        got.merge_reply(r)
    genre = REQUEST_GENRES[kind]
    if genre is None:
        assert got.nodes == net.nodes
    else:
        assert got.value_list(genre) == net.value_list(genre)


def test_resolv_wire_shapes_are_the_originals() -> None:
    net = captured_map()
    topic, payload = encode(net.resolv_replies("request_info_nodes", OWN)[0])
    body = json.loads(payload)
    assert topic == "/dhcp/resolv/reply/0020/0000"
    assert body["cmd_class"] == 20480 and body["genre"] == 4 and body["reply_hadd"] == "0020/0000"
    assert sorted(body["data"]) == [str(h) for h in sorted(net.nodes)]  # keyed by hadd
    _, payload = encode(net.resolv_replies("request_info_basics", OWN)[0])
    load = json.loads(payload)["data"]["0121/0001"]["load"]
    assert sorted(load) == ["0", "1", "2"]  # 3-level: hadd -> uuid -> index
    _, payload = encode(net.resolv_replies("request_info_systems", OWN)[0])
    assert json.loads(payload)["data"]["0121/0000"]["heartbeat"]["uuid"] == "heartbeat"  # 2-level


def test_resolv_chunks_of_ten_hadds() -> None:
    net = NetworkMap()
    for i in range(23):
        h = Hadd(100 + i, 0)
        net.nodes[h] = NodeInfo(uuid=f"n{i}", hadd=h)
        net.merge_value(ValueInfo(uuid="heartbeat", hadd=h, genre=4, data=30))
    replies = net.resolv_replies("request_info_nodes", OWN)
    assert [len(r.nodes) for r in replies] == [10, 10, 3]
    assert [chunk_marker(r) for r in replies] == [(1, 3), (2, 3), (3, 3)]
    assert [len(r.values) for r in net.resolv_replies("request_info_systems", OWN, chunk_size=5)] == [
        5
    ] * 4 + [3]
    with pytest.raises(ValueError):
        net.resolv_replies("request_info_nodes", OWN, chunk_size=0)


def test_resolv_to_broadcast_when_no_reply_hadd_and_empty_categories() -> None:
    net = captured_map()
    [r] = net.resolv_replies("request_info_nodes", None)
    assert r.route is ReplyRoute.RESOLV_BROADCAST
    assert encode(r)[0] == "/dhcp/resolv/broadcast/"
    empty = NetworkMap()
    assert empty.resolv_replies("request_info_users", OWN) == []  # the original's silence
    [marked] = empty.resolv_replies("request_info_users", OWN, when_empty=True)
    assert marked.values == () and chunk_marker(marked) == (1, 1)
    assert json.loads(encode(marked)[1])["data"] == {}
    with pytest.raises(ValueError, match="unknown discovery request"):
        net.resolv_replies("request_info_everything", OWN)


def test_chunk_marker_tolerates_peers() -> None:
    def reply(extra: dict[str, object]) -> DiscoveryReply:
        return DiscoveryReply("request_info_nodes", OWN, ReplyRoute.RESOLV, extra=extra)

    assert chunk_marker(reply({})) is None
    assert chunk_marker(reply({CHUNK_KEY: 2, CHUNKS_KEY: 3})) == (2, 3)
    assert chunk_marker(reply({CHUNK_KEY: 4, CHUNKS_KEY: 3})) is None
    assert chunk_marker(reply({CHUNK_KEY: True, CHUNKS_KEY: 3})) is None
    assert chunk_marker(reply({CHUNK_KEY: "1", CHUNKS_KEY: 3})) is None


# ------------------------------------------------------------------------------------------ replication


def test_resolv_sync_asks_all_six_at_once_and_completes_by_markers() -> None:
    primary = captured_map()
    sync = ResolvSync(OWN, "cid-1", started=100.0, timeout=5.0)
    reqs = sync.requests()
    assert sorted(r.kind for r in reqs) == sorted(NETWORK_REQUESTS)
    for r in reqs:
        topic, payload = encode(r)
        assert topic == "/dhcp/resolv/request/"
        assert json.loads(payload) == {"cmd_class": 20480, "genre": 4, "uuid": r.kind, "reply_hadd": "0020/0000",
                                       "jnt_cid": "cid-1"}  # fmt: skip
    for kind in NETWORK_REQUESTS:
        assert not sync.complete
        replies = roundtrip(primary.resolv_replies(kind, OWN, {CORRELATION_KEY: "cid-1"}, 2, when_empty=True))
        for reply in reversed(replies):  # order does not matter
            assert sync.feed(reply)
    assert sync.complete and sync.missing() == [] and sync.done(100.0)
    assert sync.map.nodes == primary.nodes
    for g in Genre:
        assert sync.map.value_list(g) == primary.value_list(g)


def test_resolv_sync_rejects_others_and_times_out_for_an_original_primary() -> None:
    primary = captured_map()
    sync = ResolvSync(OWN, "cid-1", started=0.0, timeout=5.0)
    [r] = primary.resolv_replies("request_info_nodes", OWN, {CORRELATION_KEY: "someone-else"}, 100)
    assert not sync.feed(r)
    [r] = primary.resolv_replies("request_info_nodes", Hadd(30, 0), {CORRELATION_KEY: "cid-1"}, 100)
    assert not sync.feed(r)  # another secondary's answer
    [r] = primary.resolv_replies("request_info_nodes", None, {}, 100)
    assert not sync.feed(r)  # a broadcast (a forwarded update): not part of the sync
    # An original primary echoes our request (so our key) but marks no chunk, and answers only two kinds.
    for kind in ("request_info_nodes", "request_info_systems"):
        [r] = primary.resolv_replies(kind, OWN, {CORRELATION_KEY: "cid-1"}, 100)
        plain = DiscoveryReply(r.kind, r.reply_hadd, r.route, r.nodes, r.values, r.topic_hadd,
                               {CORRELATION_KEY: "cid-1"})  # fmt: skip
        assert sync.feed(roundtrip([plain])[0])
    assert not sync.complete and not sync.done(4.9) and sync.done(5.0) and sync.next_wake() == 5.0
    assert len(sync.map) == 6 and sync.replies == 2
    # What it answered is held (unmarked: all it has); exactly the four others are missing.
    assert sync.received() == ["request_info_nodes", "request_info_systems"]
    assert sync.missing() == ["request_info_users", "request_info_configs", "request_info_basics",
                              "request_info_commands"]  # fmt: skip
    only = ResolvSync(
        OWN, "cid-2", started=0.0, timeout=5.0, kinds=["request_info_systems", "request_info_nodes"]
    )
    assert [r.kind for r in only.requests()] == ["request_info_nodes", "request_info_systems"]


def test_resolv_request_decodes_as_resolv() -> None:
    req = DiscoveryRequest("request_info_configs", OWN, resolv=True)
    m = decode(*encode(req))
    assert isinstance(m, DiscoveryRequest) and m.resolv and m.reply_hadd == OWN


def test_one_uuid_in_two_genres_is_found_in_each() -> None:
    """The tutorial's tutorial3_state is basic and user: a lookup by genre finds each."""
    m = NetworkMap()
    h = Hadd(225, 0)
    m.merge_value(ValueInfo(uuid="tutorial3_state", hadd=h, genre=1, data="booting"))
    m.merge_value(ValueInfo(uuid="tutorial3_state", hadd=h, genre=2, data="sleeping"))
    basic = m.get_value(h, "tutorial3_state", 0, Genre.BASIC)
    user = m.get_value(h, "tutorial3_state", 0, Genre.USER)
    assert basic is not None and user is not None and (basic.data, user.data) == ("booting", "sleeping")
    assert m.get_value(h, "tutorial3_state") is not None  # whatever its genre, as before
    assert m.get_value(h, "tutorial3_state", 0, Genre.CONFIG) is None
