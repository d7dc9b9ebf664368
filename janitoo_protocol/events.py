"""Protocol messages as small typed objects (heartbeats, requests, replies, value publications), and the
extension keys they may carry. `decoding.decode` builds them from the wire, `encoding.encode` writes them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .addressing import Hadd
from .codes import Genre, NodeState, RequestKind
from .model import NodeInfo, ValueInfo

# Our request/reply correlation key. The original echoes unknown request keys back, so it works with
# original nodes too, and they ignore it.
CORRELATION_KEY = "jnt_cid"
# Where our nodes say why a request was refused (the original was silent).
ERROR_KEY = "error"

# Which genre each discovery request asks for (None: the nodes themselves). Keyed by RequestKind, a str
# enum, so a look-up with the bare request word from the wire finds it.
REQUEST_GENRES: Mapping[str, Genre | None] = {kind: kind.genre for kind in RequestKind}
GENRE_REQUESTS: Mapping[Genre, RequestKind] = {g: k for k in RequestKind if (g := k.genre) is not None}


def _text_of(extra: Mapping[str, Any], key: str) -> str | None:
    """An extension key (correlation, error) as text, None when absent."""
    v = extra.get(key)
    return None if v is None else str(v)


class ReplyShape(enum.StrEnum):
    """The layouts of discovery `data` seen on the wire (the original nests values two or three deep)."""

    BY_UUID = "by_uuid"  # nodes keyed by node uuid (node managers)
    BY_HADD = "by_hadd"  # nodes keyed by hadd (the resolv server)
    BARE = "bare"  # a single node dict (controller managers)
    INDEXED = "indexed"  # values: hadd -> uuid -> index -> value
    FLAT = "flat"  # values: hadd -> uuid -> value


class ReplyRoute(enum.Enum):
    """Which topic a discovery reply travelled on."""

    BROADCAST = "broadcast"  # /broadcast/reply/<reply_hadd>
    NODE = "node"  # /nodes/<reply_hadd>/reply
    RESOLV = "resolv"  # /dhcp/resolv/reply/<reply_hadd>
    RESOLV_BROADCAST = "resolv_broadcast"  # /dhcp/resolv/broadcast/


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A node's own heartbeat: `/dhcp/heartbeat/<hadd>` with a bare state word.

    `state` is a `NodeState` member for the known words (it compares equal to the bare word), else the
    word itself as it came, upper-cased.
    """

    hadd: Hadd
    state: str


@dataclass(frozen=True, slots=True)
class HeartbeatDispatch:
    """A liveness state published by a primary on `/dhcp/heartbeat/` (add_node -1: whole controller)."""

    add_ctrl: int
    add_node: int
    state: str

    @property
    def hadd(self) -> Hadd:
        """The node it is about (the controller node for a whole-controller state)."""
        return Hadd(self.add_ctrl, max(self.add_node, 0))

    @property
    def whole_controller(self) -> bool:
        """The state applies to every node of the controller (a node process's last will)."""
        return self.add_node == -1


@dataclass(frozen=True, slots=True)
class ResolvHeartbeat:
    """The primary's liveness on `/dhcp/resolv/heartbeat`; `extra` carries our epoch and priority."""

    add_ctrl: int
    add_node: int
    state: str = NodeState.ONLINE
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def hadd(self) -> Hadd:
        """The primary's address."""
        return Hadd(self.add_ctrl, self.add_node)


@dataclass(frozen=True, slots=True)
class DiscoveryRequest:
    """A `request_info_*` request: broadcast (target None), to one node, or a resolv request."""

    kind: str
    reply_hadd: Hadd | None
    target: Hadd | None = None
    resolv: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def genre(self) -> Genre | None:
        """The genre of values the request kind is about; None for nodes (or an unknown kind)."""
        return REQUEST_GENRES.get(self.kind)


@dataclass(frozen=True, slots=True)
class ValueRequest:
    """A GET or SET of one value, sent to `/nodes/<target>/request` (or, wastefully, broadcast)."""

    hadd: Hadd
    uuid: str
    genre: int
    cmd_class: int
    reply_hadd: Hadd | None
    data: Any = None
    is_writeonly: bool = False
    is_readonly: bool = True
    index: int | None = None
    target: Hadd | None = None  # the topic's hadd; None when sent on /broadcast/request
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_set(self) -> bool:
        """A SET (the original marks it `is_writeonly`), not a GET."""
        return self.is_writeonly

    @property
    def correlation(self) -> str | None:
        """Our correlation id, echoed by the answering node; None from peers that drop it."""
        return _text_of(self.extra, CORRELATION_KEY)


@dataclass(frozen=True, slots=True)
class DiscoveryReply:
    """An answer to a `request_info_*` request, its data normalised to nodes or flat values."""

    kind: str
    reply_hadd: Hadd | None
    route: ReplyRoute
    nodes: tuple[NodeInfo, ...] = ()
    values: tuple[ValueInfo, ...] = ()
    topic_hadd: Hadd | None = None  # the hadd in the topic (normally reply_hadd)
    extra: Mapping[str, Any] = field(default_factory=dict)
    # How `data` was laid out on the wire; None: the usual shape for the kind and route.
    shape: ReplyShape | None = field(default=None, compare=False)

    @property
    def genre(self) -> Genre | None:
        """The genre of values the request kind is about; None for nodes (or an unknown kind)."""
        return REQUEST_GENRES.get(self.kind)

    @property
    def correlation(self) -> str | None:
        """Our correlation id, echoed by the answering node; None from peers that drop it."""
        return _text_of(self.extra, CORRELATION_KEY)

    @property
    def controllers(self) -> set[int]:
        """The controllers this reply speaks for."""
        return {h.controller for h in self.hadds()}

    def hadds(self) -> set[Hadd]:
        """Every node address the reply carries."""
        out = {n.hadd for n in self.nodes if n.hadd is not None}
        out.update(v.hadd for v in self.values if v.hadd is not None)
        return out


@dataclass(frozen=True, slots=True)
class ValueReply:
    """A node's answer to a value GET/SET on `/nodes/<reply_hadd>/reply` (basic, user, command)."""

    reply_hadd: Hadd
    value: ValueInfo

    @property
    def correlation(self) -> str | None:
        """Our correlation id, echoed by the answering node; None from peers that drop it."""
        return _text_of(self.value.extra, CORRELATION_KEY)

    @property
    def error(self) -> str | None:
        """Why the node refused the request (our nodes say it; the original was silent)."""
        return _text_of(self.value.extra, ERROR_KEY)


@dataclass(frozen=True, slots=True)
class ValuePublication:
    """A value on `/values/<genre>/<hadd>/<uuid>`: one dict, or one per index (`indexed`)."""

    genre: Genre
    hadd: Hadd
    uuid: str
    values: tuple[ValueInfo, ...]
    indexed: bool = False

    @property
    def value(self) -> ValueInfo:
        """The index-0 value (or the first one)."""
        for v in self.values:
            if v.index == 0:
                return v
        return self.values[0]

    @property
    def correlation(self) -> str | None:
        """Our correlation id, echoed by the answering node; None from peers that drop it."""
        return _text_of(self.value.extra, CORRELATION_KEY)

    @property
    def error(self) -> str | None:
        """Why the node refused the request (our nodes say it; the original was silent)."""
        return _text_of(self.value.extra, ERROR_KEY)


# ValuePublication is frozen: its __init__ sets each field through object.__setattr__. A node builds one
# per publication; this sets the same slots to the same values directly, at about half the cost.
_new_object = object.__new__
_set_genre, _set_hadd, _set_uuid, _set_values, _set_indexed = (
    getattr(ValuePublication, f).__set__ for f in ("genre", "hadd", "uuid", "values", "indexed")
)


def value_publication(
    genre: Genre, hadd: Hadd, uuid: str, values: tuple[ValueInfo, ...], indexed: bool = False
) -> ValuePublication:
    """`ValuePublication(genre, hadd, uuid, values, indexed)`, built faster (no checks to skip: it has none)."""
    m: ValuePublication = _new_object(ValuePublication)
    _set_genre(m, genre)
    _set_hadd(m, hadd)
    _set_uuid(m, uuid)
    _set_values(m, values)
    _set_indexed(m, indexed)
    return m


@dataclass(frozen=True, slots=True)
class LeaseMessage:
    """The DHCP lease RPC (`/dhcp/lease/*`, `/dhcp/resolv/hadd`...) and its `/reply/<rep_uuid>` answers."""

    action: str  # new, repair, lock, release, remove, resolv/hadd, ... or "reply"
    payload: Mapping[str, Any]
    rep_uuid: str | None = None


#: Every decoded message is one of these.
Message = (
    Heartbeat
    | HeartbeatDispatch
    | ResolvHeartbeat
    | DiscoveryRequest
    | ValueRequest
    | DiscoveryReply
    | ValueReply
    | ValuePublication
    | LeaseMessage
)
