"""Topics: building every Janitoo topic, parsing it back, prefixes, and rejecting foreign topics."""

from __future__ import annotations

import pytest

from janitoo_protocol import Genre, Hadd, ProtocolError
from janitoo_protocol.topics import DEFAULT_TOPICS, TopicInfo, TopicKind, Topics

NODE = Hadd(225, 3)
REPLY = Hadd(9999, 9990)


def _built(t: Topics) -> list[tuple[str, TopicInfo]]:
    """Every kind of topic, built with `t`, and what parsing it must give."""
    return [
        (t.heartbeat(NODE), TopicInfo(TopicKind.HEARTBEAT, hadd=NODE)),
        (t.heartbeat_dispatch(), TopicInfo(TopicKind.HEARTBEAT_DISPATCH)),
        (t.broadcast_request(), TopicInfo(TopicKind.BROADCAST_REQUEST)),
        (t.broadcast_reply(REPLY), TopicInfo(TopicKind.BROADCAST_REPLY, hadd=REPLY)),
        (t.node_request(NODE), TopicInfo(TopicKind.NODE_REQUEST, hadd=NODE)),
        (t.node_reply(REPLY), TopicInfo(TopicKind.NODE_REPLY, hadd=REPLY)),
        *(
            (t.values(genre, NODE, "temperature"), TopicInfo(TopicKind.VALUES, NODE, genre, "temperature"))
            for genre in Genre
        ),
        (t.resolv_heartbeat(), TopicInfo(TopicKind.RESOLV_HEARTBEAT)),
        (t.resolv_request(), TopicInfo(TopicKind.RESOLV_REQUEST)),
        (t.resolv_reply(REPLY), TopicInfo(TopicKind.RESOLV_REPLY, hadd=REPLY)),
        (t.resolv_broadcast(), TopicInfo(TopicKind.RESOLV_BROADCAST)),
        *((t.lease(a), TopicInfo(TopicKind.LEASE, action=a)) for a in ("new", "repair", "lock", "release", "remove")),
        (t.rpc_reply("4f0e6e2a-1c6b-11ee-be56-0242ac120002"), TopicInfo(TopicKind.RPC_REPLY, uuid="4f0e6e2a-1c6b-11ee-be56-0242ac120002")),
    ]  # fmt: skip


# The original's topics, character for character.
ORIGINAL = {
    DEFAULT_TOPICS.heartbeat(NODE): "/dhcp/heartbeat/0225/0003",
    DEFAULT_TOPICS.heartbeat_dispatch(): "/dhcp/heartbeat/",
    DEFAULT_TOPICS.broadcast_request(): "/broadcast/request",
    DEFAULT_TOPICS.broadcast_reply(REPLY): "/broadcast/reply/9999/9990",
    DEFAULT_TOPICS.node_request(NODE): "/nodes/0225/0003/request",
    DEFAULT_TOPICS.node_reply(REPLY): "/nodes/9999/9990/reply",
    DEFAULT_TOPICS.values(Genre.BASIC, NODE, "load"): "/values/basic/0225/0003/load",
    DEFAULT_TOPICS.values(Genre.USER, NODE, "temperature"): "/values/user/0225/0003/temperature",
    DEFAULT_TOPICS.values(Genre.CONFIG, NODE, "location"): "/values/config/0225/0003/location",
    DEFAULT_TOPICS.values(Genre.SYSTEM, NODE, "heartbeat"): "/values/system/0225/0003/heartbeat",
    DEFAULT_TOPICS.values(Genre.COMMAND, NODE, "switch"): "/values/command/0225/0003/switch",
    DEFAULT_TOPICS.values(2, NODE, "temperature"): "/values/user/0225/0003/temperature",
    DEFAULT_TOPICS.resolv_heartbeat(): "/dhcp/resolv/heartbeat",
    DEFAULT_TOPICS.resolv_request(): "/dhcp/resolv/request/",
    DEFAULT_TOPICS.resolv_reply(Hadd(1, 0)): "/dhcp/resolv/reply/0001/0000",
    DEFAULT_TOPICS.resolv_broadcast(): "/dhcp/resolv/broadcast/",
    DEFAULT_TOPICS.lease("new"): "/dhcp/lease/new",
    DEFAULT_TOPICS.lease("release"): "/dhcp/lease/release",
    DEFAULT_TOPICS.rpc_reply("abc-123"): "/reply/abc-123",
    DEFAULT_TOPICS.heartbeat_all(): "/dhcp/heartbeat/#",
    DEFAULT_TOPICS.controller_nodes(121): "/nodes/0121/#",
    DEFAULT_TOPICS.values_all(): "/values/#",
    DEFAULT_TOPICS.resolv_all(): "/dhcp/resolv/#",
    DEFAULT_TOPICS.everything(): "/#",
}


@pytest.mark.parametrize(("built", "expected"), list(ORIGINAL.items()), ids=list(ORIGINAL.values()))
def test_default_prefix_builds_the_original_topics(built: str, expected: str) -> None:
    assert built == expected
    assert built.startswith("/")


def test_default_topics_have_an_empty_prefix() -> None:
    assert Topics().prefix == ""
    assert DEFAULT_TOPICS.prefix == ""


@pytest.mark.parametrize(("topic", "info"), _built(DEFAULT_TOPICS), ids=lambda v: str(v)[:60])
def test_every_kind_parses_back(topic: str, info: TopicInfo) -> None:
    assert DEFAULT_TOPICS.parse(topic) == info


@pytest.mark.parametrize(
    ("original", "prefixed"),
    list(zip(_built(DEFAULT_TOPICS), _built(Topics("site1")), strict=True)),
    ids=lambda v: v[0][:60],
)
def test_custom_prefix_round_trip(original: tuple[str, TopicInfo], prefixed: tuple[str, TopicInfo]) -> None:
    (original_topic, info), (topic, _) = original, prefixed
    # The prefix goes in front of the original topic, leading slash and all.
    assert topic == "site1" + original_topic
    assert Topics("site1").parse(topic) == info


def test_prefix_trailing_slash_is_ignored() -> None:
    assert Topics("site1/").heartbeat(NODE) == "site1/dhcp/heartbeat/0225/0003"
    assert Topics("site1/").everything() == "site1/#"
    assert Topics("a/b").node_request(NODE) == "a/b/nodes/0225/0003/request"
    assert Topics("a/b").parse("a/b/nodes/0225/0003/request") == TopicInfo(TopicKind.NODE_REQUEST, hadd=NODE)


@pytest.mark.parametrize(
    ("topic", "action"),
    [
        ("/dhcp/resolv/hadd", "resolv/hadd"),
        ("/dhcp/resolv/name", "resolv/name"),
        ("/dhcp/resolv/cmd_classes", "resolv/cmd_classes"),
    ],
)
def test_resolv_rpc_topics_are_lease_topics(topic: str, action: str) -> None:
    assert DEFAULT_TOPICS.parse(topic) == TopicInfo(TopicKind.LEASE, action=action)


@pytest.mark.parametrize("word", ["user", "USER", "User"])
def test_values_genre_word_in_any_case(word: str) -> None:
    info = DEFAULT_TOPICS.parse(f"/values/{word}/0222/0001/temperature")
    assert info.genre is Genre.USER
    assert info.hadd == Hadd(222, 1)
    assert info.uuid == "temperature"


def test_parsed_hadds_widen_over_9999() -> None:
    assert DEFAULT_TOPICS.parse("/dhcp/heartbeat/12345/0001").hadd == Hadd(12345, 1)


FOREIGN = [
    "",
    "/",
    "nodes/0225/0003/request",  # no leading slash
    "/foo/bar/baz",
    "/nodes/0225/0003/other",
    "/nodes/0225/request",
    "/nodes/abc/0003/request",
    "/values/weird/0225/0003/x",
    "/values/user/0225/0003/",
    "/values/user/0225/0003",
    "/values/user/0225/0003/x/y",
    "/broadcast/reply/abc/def",
    "/broadcast/reply",
    "/broadcast/other",
    "/dhcp/heartbeat",
    "/dhcp/heartbeat/0225",
    "/dhcp/heartbeat/0225/0003/extra",
    "/dhcp/heartbeat/a/b",
    "/dhcp/lease/unknown",
    "/dhcp/lease/new/extra",
    "/dhcp/resolv/reply/0001",
    "/dhcp/resolv/heartbeat/extra",
    "/dhcp/unknown/x",
    "/reply/",
    "/request/nodes/0225/0003",  # documented in the original's manual, never implemented
]


@pytest.mark.parametrize("topic", FOREIGN)
def test_foreign_topics_are_rejected_naming_the_topic(topic: str) -> None:
    with pytest.raises(ProtocolError) as info:
        DEFAULT_TOPICS.parse(topic)
    assert info.value.topic == topic
    assert topic in str(info.value)


@pytest.mark.parametrize(
    "topic", ["/nodes/0225/0003/request", "site2/nodes/0225/0003/request", "site1nodes/x/y"]
)
def test_prefixed_topics_reject_topics_outside_the_prefix(topic: str) -> None:
    with pytest.raises(ProtocolError) as info:
        Topics("site1").parse(topic)
    assert info.value.topic == topic
    assert topic in str(info.value)


def test_default_topics_reject_a_prefixed_topic() -> None:
    topic = Topics("site1").heartbeat(NODE)
    with pytest.raises(ProtocolError, match="site1/dhcp/heartbeat/0225/0003"):
        DEFAULT_TOPICS.parse(topic)
