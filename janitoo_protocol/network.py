"""The network map: nodes and their values by genre, merged from discovery replies and publications."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from .addressing import Hadd
from .codes import Genre
from .messages import DiscoveryReply, ValuePublication
from .model import NodeInfo, ValueInfo


@dataclass
class NetworkMap:
    """What is known of a network: `nodes[hadd]` and `values[hadd][genre][uuid][index]`.

    Pure data with merge rules; no I/O and no clock. The client's discovery returns one, primaries and
    secondaries keep one current.
    """

    nodes: dict[Hadd, NodeInfo] = field(default_factory=dict)
    values: dict[Hadd, dict[Genre, dict[str, dict[int, ValueInfo]]]] = field(default_factory=dict)

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
        for value in pub.values:
            self.merge_value(value if value.hadd is not None else replace(value, hadd=pub.hadd), pub.genre)

    def merge_value(self, value: ValueInfo, genre: Genre | int | None = None) -> bool:
        if value.hadd is None:
            return False
        try:
            g = Genre(genre if genre is not None else value.genre)
        except ValueError:
            return False
        per_uuid = self.values.setdefault(value.hadd, {}).setdefault(g, {}).setdefault(value.uuid, {})
        old = per_uuid.get(value.index)
        if old is not None and value.wire_keys is not None and "genre" not in value.wire_keys:
            # A config/system echo omits type, units...: keep what discovery told us, take the data.
            value = replace(old, data=value.data)
        per_uuid[value.index] = value
        return True

    def set_state(self, hadd: Hadd, state: str) -> None:
        node = self.nodes.get(hadd)
        if node is not None and node.state != state:
            self.nodes[hadd] = replace(node, state=state)

    def forget_controller(self, controller: int) -> None:
        for hadd in [h for h in self.nodes if h.controller == controller]:
            del self.nodes[hadd]
        for hadd in [h for h in self.values if h.controller == controller]:
            del self.values[hadd]

    def update(self, other: NetworkMap) -> None:
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
        g = Genre(genre)
        out: list[ValueInfo] = []
        for hadd in sorted(self.values):
            if controller is not None and hadd.controller != controller:
                continue
            uuids = self.values[hadd].get(g, {})
            for uuid in sorted(uuids):
                by_index = uuids[uuid]
                out.extend(by_index[i] for i in sorted(by_index))
        return out

    def get_value(self, hadd: Hadd, uuid: str, index: int = 0) -> ValueInfo | None:
        for uuids in self.values.get(hadd, {}).values():
            if uuid in uuids:
                return uuids[uuid].get(index)
        return None

    def controllers(self) -> list[Hadd]:
        return sorted({h.controller_hadd for h in self.nodes})

    def hadds(self) -> Iterator[Hadd]:
        return iter(sorted(set(self.nodes) | set(self.values)))

    def neighbours(self, hadd: Hadd, network_controllers: Iterable[Hadd] = ()) -> list[Hadd]:
        """The original's neighbour rule: a plain node's only neighbour is its controller; a controller's
        are the network controllers plus its own nodes; a network controller's are all controllers."""
        ncs = set(network_controllers)
        if hadd in ncs:
            return [c for c in self.controllers() if c != hadd]
        if hadd.is_controller:
            own = [h for h in sorted(self.nodes) if h.controller == hadd.controller and h != hadd]
            return sorted(ncs - {hadd}) + own
        return [hadd.controller_hadd]

    def __len__(self) -> int:
        return len(self.nodes)
