"""The network map: nodes and their values by genre, merged from discovery replies and publications,
served to secondaries by resolv in chunks, and replicated from a primary (`ResolvSync`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .addressing import Hadd
from .codes import NETWORK_REQUESTS, Genre
from .errors import NotFound, UsageError
from .events import (
    CORRELATION_KEY,
    REQUEST_GENRES,
    DiscoveryReply,
    DiscoveryRequest,
    ReplyRoute,
    ValuePublication,
)
from .model import NodeInfo, ValueInfo

# The original's resolv server sent at most 10 top-level entries (hadds) per message.
RESOLV_CHUNK = 10
# Extension keys of our resolv answers (the original ignores unknown envelope keys): which chunk this is
# and how many there are, so a replicating secondary knows when a category is complete.
CHUNK_KEY = "jnt_chunk"
CHUNKS_KEY = "jnt_chunks"


@dataclass
class NetworkMap:
    """What is known of a network: `nodes[hadd]` and `values[hadd][genre][uuid][index]`.

    Pure data with merge rules; no I/O and no clock. The client's discovery returns one, primaries and
    secondaries keep one current.
    """

    nodes: dict[Hadd, NodeInfo] = field(default_factory=dict)
    values: dict[Hadd, dict[Genre, dict[str, dict[int, ValueInfo]]]] = field(default_factory=dict)
    # Controllers known to exist (heard in heartbeats, listed by the primary) that did not answer the
    # discovery that made this map: a partial answer says so.
    unanswered: list[int] = field(default_factory=list)

    # -- merging

    def merge_reply(self, reply: DiscoveryReply) -> set[Hadd]:
        """Merge a discovery reply; returns the hadds it touched."""
        touched: set[Hadd] = set()
        for node in reply.nodes:
            if node.hadd is not None:
                self.nodes[node.hadd] = node
                touched.add(node.hadd)
        for value in reply.values:
            if self.merge_value(value, reply.genre):
                assert value.hadd is not None
                touched.add(value.hadd)
        return touched

    def merge_publication(self, pub: ValuePublication) -> None:
        """Merge a value publication (a poll, or a node's answer to a GET/SET)."""
        for value in pub.values:
            self.merge_value(value if value.hadd is not None else replace(value, hadd=pub.hadd), pub.genre)

    def merge_value(self, value: ValueInfo, genre: Genre | int | None = None) -> bool:
        """Merge one value (under `genre`, else its own); False when it has no hadd or genre to file it."""
        if value.hadd is None:
            return False
        try:
            g = Genre(genre if genre is not None else value.genre)
        except ValueError:
            return False
        per_uuid = self.values.setdefault(value.hadd, {}).setdefault(g, {}).setdefault(value.uuid, {})
        old = per_uuid.get(value.index)
        if old is not None and value.wire_keys is not None and not {"genre", "type"} <= set(value.wire_keys):
            # A config/system echo (the node's answer to a GET/SET) omits type, units...: keep what
            # discovery told us, take the data.
            value = replace(old, data=value.data)
        per_uuid[value.index] = value
        return True

    def set_state(self, hadd: Hadd | str, state: str) -> None:
        """Record a node's liveness state (a heartbeat, a primary's dispatch)."""
        hadd = Hadd.parse(hadd)
        node = self.nodes.get(hadd)
        if node is not None and node.state != state:
            self.nodes[hadd] = replace(node, state=state)

    def forget_controller(self, controller: int) -> None:
        """Drop every node and value of one controller."""
        for hadd in [h for h in self.nodes if h.controller == controller]:
            del self.nodes[hadd]
        for hadd in [h for h in self.values if h.controller == controller]:
            del self.values[hadd]

    def update(self, other: NetworkMap) -> None:
        """Merge another map into this one."""
        self.nodes.update(other.nodes)
        for _hadd, genres in other.values.items():
            for genre, uuids in genres.items():
                for by_index in uuids.values():
                    for v in by_index.values():
                        self.merge_value(v, genre)

    # -- queries

    def node_list(self, controller: int | None = None) -> list[NodeInfo]:
        """Nodes sorted by hadd (optionally one controller's)."""
        return [self.nodes[h] for h in sorted(self.nodes) if controller is None or h.controller == controller]

    def value_list(self, genre: Genre | int, controller: int | None = None) -> list[ValueInfo]:
        """Values of one genre sorted by hadd, uuid, index."""
        try:
            g = Genre(genre)
        except ValueError:
            raise UsageError(f"unknown genre {genre!r}: expected one of 1-5") from None
        out: list[ValueInfo] = []
        for hadd in sorted(self.values):
            if controller is not None and hadd.controller != controller:
                continue
            uuids = self.values[hadd].get(g, {})
            for uuid in sorted(uuids):
                by_index = uuids[uuid]
                out.extend(by_index[i] for i in sorted(by_index))
        return out

    def get_value(
        self, hadd: Hadd | str, uuid: str, index: int = 0, genre: Genre | int | None = None
    ) -> ValueInfo | None:
        """The value `uuid` (one index of it) of node `hadd`, in `genre` or whatever its genre (a node may
        hold one uuid in two genres: the tutorial's state is basic and user); None when unknown."""
        for g, uuids in self.values.get(Hadd.parse(hadd), {}).items():
            if uuid in uuids and (genre is None or g == genre):
                return uuids[uuid].get(index)
        return None

    def value(self, hadd: Hadd | str, uuid: str, index: int = 0) -> ValueInfo:
        """The value `uuid` (one index of it) of node `hadd`; raises NotFound when the map lacks it."""
        found = self.get_value(hadd, uuid, index)
        if found is None:
            raise NotFound(f"no value {uuid!r} (index {index}) on node {Hadd.parse(hadd)} in the network map")
        return found

    def get_node(self, hadd: Hadd | str) -> NodeInfo | None:
        """The node at `hadd`; None when unknown."""
        return self.nodes.get(Hadd.parse(hadd))

    def node(self, hadd: Hadd | str) -> NodeInfo:
        """The node at `hadd`; raises NotFound when the map lacks it."""
        found = self.get_node(hadd)
        if found is None:
            raise NotFound(f"no node {Hadd.parse(hadd)} in the network map")
        return found

    def values_of(self, hadd: Hadd | str, genre: Genre | int | None = None) -> list[ValueInfo]:
        """The values of one node (of one genre, or all), sorted by genre, uuid and index."""
        genres = self.values.get(Hadd.parse(hadd), {})
        out: list[ValueInfo] = []
        for g in sorted(genres):
            if genre is not None and g != genre:
                continue
            uuids = genres[g]
            for uuid in sorted(uuids):
                by_index = uuids[uuid]
                out.extend(by_index[i] for i in sorted(by_index))
        return out

    def controllers(self) -> list[Hadd]:
        """The controller nodes (`NNNN/0000`) of every known node, sorted."""
        return sorted({h.controller_hadd for h in self.nodes})

    def hadds(self) -> Iterator[Hadd]:
        """Every address the map knows (nodes, and values of nodes it has no description of)."""
        return iter(sorted(set(self.nodes) | set(self.values)))

    def neighbours(self, hadd: Hadd | str, network_controllers: Iterable[Hadd | str] = ()) -> list[Hadd]:
        """The original's neighbour rule: a plain node's only neighbour is its controller; a controller's
        are the network controllers plus its own nodes; a network controller's are all controllers."""
        hadd = Hadd.parse(hadd)
        ncs = {Hadd.parse(h) for h in network_controllers}
        if hadd in ncs:
            return [c for c in self.controllers() if c != hadd]
        if hadd.is_controller:
            own = [h for h in sorted(self.nodes) if h.controller == hadd.controller and h != hadd]
            return sorted(ncs - {hadd}) + own
        return [hadd.controller_hadd]

    def __len__(self) -> int:
        return len(self.nodes)

    def value_count(self) -> int:
        """How many values (every index counts) the map holds."""
        return sum(len(by_index) for genres in self.values.values() for uuids in genres.values()
                   for by_index in uuids.values())  # fmt: skip

    def knows_controller(self, controller: int) -> bool:
        """Does the map hold any node of `controller`?"""
        return any(h.controller == controller for h in self.nodes)

    # -- serving

    def resolv_replies(
        self,
        kind: str,
        reply_hadd: Hadd | None,
        extra: Mapping[str, Any] | None = None,
        chunk_size: int = RESOLV_CHUNK,
        when_empty: bool = False,
    ) -> list[DiscoveryReply]:
        """The answer to a resolv request for `kind`, for every genre, in chunks of `chunk_size` hadds.

        Goes to `/dhcp/resolv/reply/<reply_hadd>`, or `/dhcp/resolv/broadcast/` when `reply_hadd` is
        None. Each chunk echoes `extra` (the request's own extension keys, such as our correlation id)
        and carries CHUNK_KEY / CHUNKS_KEY. An empty category is answered with nothing, as the original
        did, unless `when_empty`: then one empty chunk says "complete, nothing here".
        """
        if kind not in REQUEST_GENRES:
            raise UsageError(f"unknown discovery request {kind!r}")
        if chunk_size < 1:
            raise UsageError("chunk_size must be at least 1")
        genre = REQUEST_GENRES[kind]
        route = ReplyRoute.RESOLV if reply_hadd is not None else ReplyRoute.RESOLV_BROADCAST
        groups: list[tuple[tuple[NodeInfo, ...], tuple[ValueInfo, ...]]] = []
        if genre is None:
            groups = [((self.nodes[h],), ()) for h in sorted(self.nodes)]
        else:
            for hadd in sorted(self.values):
                uuids = self.values[hadd].get(genre, {})
                vals = tuple(uuids[u][i] for u in sorted(uuids) for i in sorted(uuids[u]))
                if vals:
                    groups.append(((), vals))
        if not groups and not when_empty:
            return []
        chunks = [groups[i : i + chunk_size] for i in range(0, len(groups), chunk_size)] or [[]]
        out = []
        for n, chunk in enumerate(chunks, 1):
            out.append(
                DiscoveryReply(
                    kind,
                    reply_hadd,
                    route,
                    nodes=tuple(node for nodes, _ in chunk for node in nodes),
                    values=tuple(v for _, vals in chunk for v in vals),
                    topic_hadd=reply_hadd,
                    extra={**(extra or {}), CHUNK_KEY: n, CHUNKS_KEY: len(chunks)},
                )
            )
        return out


def chunk_marker(reply: DiscoveryReply) -> tuple[int, int] | None:
    """(chunk, chunks) of one of our resolv answers; None for a peer that does not mark them."""
    n, total = reply.extra.get(CHUNK_KEY), reply.extra.get(CHUNKS_KEY)
    if isinstance(n, int) and isinstance(total, int) and not isinstance(n, bool) and 1 <= n <= total:
        return n, total
    return None


class ResolvSync:
    """A secondary's replication of the primary's map: all six resolv requests at once.

    A category is complete when every chunk of our primary's answer arrived (CHUNK_KEY / CHUNKS_KEY).
    An original primary marks nothing, answers nothing for an empty category and crashes on four of
    the six requests: then the sync ends `timeout` seconds after the requests, `complete` staying False.
    """

    def __init__(
        self,
        own: Hadd,
        correlation: str,
        started: float,
        timeout: float,
        kinds: Iterable[str] = NETWORK_REQUESTS,
    ) -> None:
        self.own = own
        self.correlation = correlation
        self.started = started
        self.deadline = started + timeout
        self.map = NetworkMap()
        self.kinds = [k for k in NETWORK_REQUESTS if k in set(kinds)]
        self._chunks: dict[str, set[int]] = {k: set() for k in self.kinds}
        self._expected: dict[str, int] = {}
        self._unmarked: set[str] = set()  # kinds answered without chunk markers (an original primary)
        self.replies = 0

    def requests(self) -> list[DiscoveryRequest]:
        extra = {CORRELATION_KEY: self.correlation}
        return [DiscoveryRequest(k, self.own, resolv=True, extra=extra) for k in self.kinds]

    def accepts(self, reply: DiscoveryReply) -> bool:
        if reply.route is not ReplyRoute.RESOLV or reply.topic_hadd not in (None, self.own):
            return False
        if reply.kind not in self._chunks:
            return False
        return reply.correlation in (None, self.correlation)

    def feed(self, reply: DiscoveryReply) -> bool:
        """Take one resolv answer; returns False when it is not part of this sync."""
        if not self.accepts(reply):
            return False
        self.replies += 1
        self.map.merge_reply(reply)
        marker = chunk_marker(reply)
        if marker is not None:
            self._chunks[reply.kind].add(marker[0])
            self._expected[reply.kind] = marker[1]
        else:
            self._unmarked.add(reply.kind)
        return True

    def kind_complete(self, kind: str) -> bool:
        total = self._expected.get(kind)
        return total is not None and len(self._chunks.get(kind, ())) >= total

    def received(self) -> list[str]:
        """The kinds we hold: complete by the chunk markers, or answered at all by a primary that marks
        nothing (an original one: its unmarked answer is all it has)."""
        return [
            k
            for k in self.kinds
            if self.kind_complete(k) or (k in self._unmarked and k not in self._expected)
        ]

    @property
    def complete(self) -> bool:
        return all(self.kind_complete(k) for k in self.kinds)

    def missing(self) -> list[str]:
        """The kinds of every genre (all six, asked or not) that this sync did not bring."""
        got = set(self.received())
        return [k for k in NETWORK_REQUESTS if k not in got]

    def done(self, now: float) -> bool:
        return self.complete or now >= self.deadline

    def next_wake(self) -> float:
        return self.deadline
