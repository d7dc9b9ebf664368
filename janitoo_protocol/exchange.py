"""Request/reply, sans-IO: building value requests, the topics their answers come on, telling an answer
from other traffic, and reading it. Shared by the threaded client (`transport`) and the asyncio one (`aio`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from .addressing import Hadd
from .codes import CommandClass, Genre, RequestKind
from .discovery import DiscoveryCollector
from .errors import ProtocolError, RequestRefused, RequestTimeout, UsageError
from .events import (
    CORRELATION_KEY,
    DiscoveryReply,
    DiscoveryRequest,
    Message,
    ValuePublication,
    ValueReply,
    ValueRequest,
)
from .model import ValueInfo
from .network import NetworkMap
from .topics import Topics

Answer = DiscoveryReply | ValueReply | ValuePublication


def genre_of(genre: Genre | int | str) -> Genre:
    """A genre from its member, number or word (any case); UsageError otherwise."""
    if isinstance(genre, str):
        return Genre.from_word(genre)
    try:
        return Genre(genre)
    except ValueError:
        raise UsageError(f"unknown genre {genre!r}: expected one of 1-5 or a word like user") from None


def address_of(value: ValueInfo) -> tuple[Hadd, int]:
    """The hadd and index of a value to GET or SET; UsageError when it has no hadd."""
    if value.hadd is None:
        raise UsageError(f"value {value.uuid!r} has no hadd: take it from a discovered network map")
    return value.hadd, value.index


def value_request(
    hadd: Hadd | str,
    uuid: str,
    genre: Genre | int | str,
    cmd_class: int | None,
    index: int | None,
    data: Any,
    is_set: bool,
    reply_hadd: Hadd,
) -> ValueRequest:
    """A GET (`is_set` False) or SET of one value; checks the arguments before anything is sent."""
    h = Hadd.parse(hadd)
    g = genre_of(genre)
    if cmd_class is None:
        if g not in (Genre.CONFIG, Genre.SYSTEM):
            raise UsageError(f"a {g.topic_word} value needs its cmd_class (the node checks it)")
        cmd_class = CommandClass.CONFIGURATION
    return ValueRequest(
        hadd=h, uuid=uuid, genre=int(g), cmd_class=int(cmd_class), reply_hadd=reply_hadd, data=data,
        is_writeonly=is_set, is_readonly=not is_set, index=index, target=h,
    )  # fmt: skip


def correlated(
    request: DiscoveryRequest | ValueRequest, reply_hadd: Hadd, cid: str
) -> DiscoveryRequest | ValueRequest:
    """The request as sent: answered to `reply_hadd`, carrying our correlation id `cid`."""
    return dataclasses.replace(request, reply_hadd=reply_hadd, extra={**request.extra, CORRELATION_KEY: cid})


def reply_filters(req: DiscoveryRequest | ValueRequest, topics: Topics, reply_hadd: Hadd) -> list[str]:
    """The topics the answer to `req` may come on. ProtocolError for a value request of an unknown genre."""
    filters = [topics.node_reply(reply_hadd)]
    if isinstance(req, ValueRequest):
        try:
            genre = Genre(req.genre)
        except ValueError:
            raise ProtocolError(f"unknown genre {req.genre}") from None
        # config/system values answer only on /values/...; basic/user/command on both routes.
        filters.append(topics.values(genre, req.hadd, req.uuid))
    elif req.target is None:
        filters.append(topics.broadcast_reply(reply_hadd))
    return filters


def matches(req: DiscoveryRequest | ValueRequest, m: Message | None, cid: str) -> bool:
    """Is `m` the answer to `req`? By correlation, or by the original's uuid (+ hadd) for peers that
    drop our key."""
    if isinstance(req, DiscoveryRequest):
        if not isinstance(m, DiscoveryReply) or m.kind != req.kind:
            return False
        return m.correlation in (cid, None)
    if not isinstance(m, ValueReply | ValuePublication):
        return False
    value = m.value
    if value.uuid != req.uuid or (value.hadd is not None and value.hadd != req.hadd):
        return False
    got = m.correlation
    if got is not None:
        return got == cid
    # No correlation: a plain poll publication must not pass for the acknowledgement. Echoes carry our
    # reply_hadd; polls carry null.
    return value.reply_hadd == req.reply_hadd


def no_answer(req: DiscoveryRequest | ValueRequest, timeout: float) -> RequestTimeout:
    """The error for a request nobody answered within `timeout` seconds."""
    if isinstance(req, ValueRequest):
        verb = "acknowledged the SET of" if req.is_set else "answered the GET of"
        word = genre_of(req.genre).topic_word
        return RequestTimeout(
            f"node {req.hadd} never {verb} {word} value {req.uuid!r} within {timeout:g} s "
            "(unknown node or value, or wrong cmd_class)"
        )
    return RequestTimeout(f"no answer from {req.target or 'the network'} to {req.kind} within {timeout:g} s")


def value_answer(req: ValueRequest, answer: Answer) -> ValueInfo:
    """The value a node answered a GET or SET with; RequestRefused when it refused."""
    value = answer.value if isinstance(answer, ValueReply | ValuePublication) else None
    if value is None:  # pragma: no cover - matches() only lets value answers through
        raise RequestTimeout(f"node {req.hadd} answered {req.uuid!r} with a discovery reply")
    err = value.extra.get("error")
    if err:
        raise RequestRefused(
            f"node {req.hadd} refused {'SET' if req.is_set else 'GET'} of {req.uuid!r}: {err}"
        )
    return value


def discovery_filters(topics: Topics, reply_hadd: Hadd, target: Hadd | None) -> list[str]:
    """The topics a discovery listens to: direct answers; for the whole network also broadcast answers,
    the primary's resolv answers and heartbeats (both name controllers known to exist)."""
    filters = [topics.node_reply(reply_hadd)]
    if target is None:
        filters += [
            topics.broadcast_reply(reply_hadd),
            topics.resolv_reply(reply_hadd),
            topics.heartbeat_all(),
        ]
    return filters


def discovery_requests(
    collector: DiscoveryCollector, reply_hadd: Hadd, target: Hadd | None, cid: str
) -> list[DiscoveryRequest]:
    """Every request of a discovery, sent at once; for the whole network also the primary's node list."""
    extra = {CORRELATION_KEY: cid}
    requests = [DiscoveryRequest(k, reply_hadd, target, extra=extra) for k in collector.kinds]
    if target is None:
        requests.append(DiscoveryRequest(RequestKind.NODES, reply_hadd, resolv=True, extra=extra))
    return requests


DISCOVERY_SOURCES = ("requests", "retained", "auto")


def check_source(source: str) -> str:
    """A discovery source (`requests`, `retained` or `auto`); UsageError otherwise."""
    if source not in DISCOVERY_SOURCES:
        raise UsageError(f"unknown discovery source {source!r}; expected {', '.join(DISCOVERY_SOURCES)}")
    return source


def from_retained(kept: NetworkMap, source: str, target: Hadd | None) -> NetworkMap | None:
    """What a discovery returns from the retained state `kept`, or None when it must ask the nodes:
    `retained` never asks, `auto` asks when the retained state holds nothing (of `target`)."""
    if target is not None:
        only = NetworkMap()
        only.nodes = {h: n for h, n in kept.nodes.items() if h.controller == target.controller}
        only.values = {h: v for h, v in kept.values.items() if h.controller == target.controller}
        kept = only
    if source == "retained" or len(kept):
        return kept
    return None


def unpublished(kept: NetworkMap, heard: Iterable[int]) -> list[int]:
    """Controllers heard alive (heartbeats) that the retained state does not hold: the original's, or ours
    with `retained_state = false`. A discovery asks them directly, and them only."""
    return sorted({c for c in heard if not kept.knows_controller(c)})
