"""A small fake Janitoo controller (the codec over a JanitooClient) for integration tests and benchmarks.

It answers like the original node manager: broadcast and direct discovery for its whole
controller, GET/SET of config/system values on `/values/<genre>/<hadd>/<uuid>` only, of basic/user/command
values on the reply topic AND `/values/...`; requests it cannot serve (unknown node or value, wrong
cmd_class) are silently ignored. Like the original it echoes unknown request keys (our `jnt_cid`); with
`echo_unknown_keys=False` it drops them, as a peer that forces the client's fallback matching would.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Heartbeat,
    ValuePublication,
    ValueReply,
    ValueRequest,
)
from janitoo_protocol.addressing import Hadd
from janitoo_protocol.codes import COMMAND_CONFIGURATION, CommandClass, Genre, ValueType
from janitoo_protocol.events import CORRELATION_KEY, ERROR_KEY, REQUEST_GENRES, ReplyRoute
from janitoo_protocol.model import NodeInfo, ValueInfo
from janitoo_protocol.transport import Envelope, JanitooClient

# The request keys the original knows; anything else is "unknown" (dropped in echo_unknown_keys=False mode).
ORIGINAL_REQUEST_KEYS = frozenset(
    {"cmd_class", "genre", "uuid", "reply_hadd", "hadd", "data", "is_writeonly", "is_readonly", "index"}
)

# The values every fake node has: uuid -> (genre, cmd_class, type, initial data, number of indexes).
# "counter" answers every GET with the next integer, so concurrent GETs all get different answers.
VALUE_SPECS: dict[str, tuple[Genre, int, ValueType, Any, int]] = {
    "load": (Genre.BASIC, CommandClass.SENSOR_MULTILEVEL, ValueType.DECIMAL, 0.25, 3),
    "switch": (Genre.USER, CommandClass.SWITCH_BINARY, ValueType.LIST, "off", 1),
    "counter": (Genre.USER, CommandClass.SENSOR_MULTILEVEL, ValueType.INT, 0, 1),
    "location": (Genre.CONFIG, COMMAND_CONFIGURATION, ValueType.STRING, "Rack", 1),
    "name": (Genre.CONFIG, COMMAND_CONFIGURATION, ValueType.STRING, "Fake node", 1),
    "heartbeat": (Genre.SYSTEM, COMMAND_CONFIGURATION, ValueType.INT, 30, 1),
    "blink": (Genre.COMMAND, CommandClass.BLINK, ValueType.LIST, "off", 1),
}

RequestHook = Callable[["FakeController", DiscoveryRequest | ValueRequest], None]


def node_uuid(controller: int, node: int) -> str:
    return f"fake{controller:04d}" if node == 0 else f"fake{controller:04d}__n{node}"


def make_values(hadd: Hadd) -> dict[str, dict[int, ValueInfo]]:
    """The values of one fake node: uuid -> index -> ValueInfo (full wire descriptions)."""
    out: dict[str, dict[int, ValueInfo]] = {}
    for uuid, (genre, cmd_class, vtype, data, n) in VALUE_SPECS.items():
        writable = genre is not Genre.BASIC and uuid != "counter"
        per_index: dict[int, ValueInfo] = {}
        for index in range(n):
            per_index[index] = ValueInfo(
                uuid=uuid,
                hadd=hadd,
                node_uuid=node_uuid(hadd.controller, hadd.node),
                genre=int(genre),
                type=int(vtype),
                cmd_class=int(cmd_class),
                index=index,
                data=f"{data} {hadd.node}" if isinstance(data, str) and genre is Genre.CONFIG else data,
                label=f"{uuid} ({index})" if n > 1 else uuid,
                help=f"The fake {uuid}",
                list_items=["on", "off"] if vtype is ValueType.LIST else None,
                is_readonly=not writable,
                is_polled=genre is Genre.BASIC,
                poll_delay=30 if genre is Genre.BASIC else 0,
            )
        out[uuid] = per_index
    return out


class FakeController:
    """One fake controller `CCCC/0000` with nodes `CCCC/0000` .. `CCCC/<nodes-1>`, each with VALUE_SPECS.

    `refuse` maps a value uuid to the reason sent back in the reply's "error" key; uuids in `ignore` get no
    answer at all. `on_request` is called (in the fake's network thread) with every request it receives,
    before it answers. `received` lists the requests, `answered` maps each echoed correlation to the data
    answered, `published` lists the topics of every answer, in order.
    """

    def __init__(
        self,
        host: str,
        port: int,
        controller: int,
        nodes: int = 1,
        *,
        prefix: str = "",
        echo_unknown_keys: bool = True,
        refuse: Mapping[str, str] | None = None,
        ignore: Iterable[str] = (),
        on_request: RequestHook | None = None,
        reconnect_max: float = 0.5,
    ) -> None:
        if nodes < 1:
            raise ValueError("a controller has at least its controller node")
        self.controller = controller
        self.hadds = [Hadd(controller, n) for n in range(nodes)]
        self.echo_unknown_keys = echo_unknown_keys
        self.refuse = dict(refuse or {})
        self.ignore = set(ignore)
        self.on_request = on_request
        self.nodes: dict[Hadd, NodeInfo] = {
            h: NodeInfo(
                uuid=node_uuid(controller, h.node),
                hadd=h,
                oid="fake.controller" if h.node == 0 else "fake.component",
                name=f"Fake {h}",
                location="Test bench",
                product_name="Fake Janitoo node",
                capabilities=(4,) if h.node == 0 else (),
                cmd_classes=(int(COMMAND_CONFIGURATION), int(CommandClass.SENSOR_MULTILEVEL)),
                state="ONLINE",
            )
            for h in self.hadds
        }
        self.values: dict[Hadd, dict[str, dict[int, ValueInfo]]] = {h: make_values(h) for h in self.hadds}
        self.received: list[DiscoveryRequest | ValueRequest] = []
        self.answered: dict[str, Any] = {}
        self.published: list[str] = []
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self.client = JanitooClient(
            host,
            port,
            prefix=prefix,
            reply_hadd=Hadd(controller, 0),
            reconnect_max=reconnect_max,
            client_id=f"fake-{controller:04d}-{id(self):x}",
        )

    # ------------------------------------------------------------------------------ lifecycle

    def start(self) -> FakeController:
        self.client.connect()
        topics = self.client.topics
        # Subscribed (and acknowledged) before start() returns: a request sent next is heard.
        self.client.subscribe(topics.broadcast_request(), self._on_request)
        self.client.subscribe(topics.controller_nodes(self.controller), self._on_request)
        return self

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> FakeController:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ what tests use

    @property
    def topics(self) -> Any:
        return self.client.topics

    def value(self, hadd: Hadd, uuid: str, index: int = 0) -> ValueInfo:
        return self.values[hadd][uuid][index]

    def heartbeat(self, node: int = 0, state: str = "ONLINE") -> None:
        self.client.publish(Heartbeat(Hadd(self.controller, node), state))

    def publish_poll(self, hadd: Hadd, uuid: str) -> None:
        """A plain poll publication (reply_hadd null), as the original's poll loop sends."""
        info = self.values[hadd][uuid][0]
        self.client.publish(ValuePublication(Genre(info.genre), hadd, uuid, (info,)))

    # ------------------------------------------------------------------------------ answering

    def _on_request(self, env: Envelope) -> None:
        req = env.message
        if not isinstance(req, DiscoveryRequest | ValueRequest):
            return  # replies on /nodes/CCCC/NNNN/reply, or undecodable: not for us
        if req.target is not None and req.target not in self.nodes:
            return  # the original only listens on its own nodes' request topics
        with self._lock:
            self.received.append(req)
        if self.on_request is not None:
            self.on_request(self, req)
        if isinstance(req, DiscoveryRequest):
            self._discovery(req, broadcast="broadcast" in env.topic)
        else:
            self._value(req, json.loads(env.payload))

    def _echo_extra(self, extra: Mapping[str, Any]) -> dict[str, Any]:
        return dict(extra) if self.echo_unknown_keys else {}

    def _send(self, message: DiscoveryReply | ValueReply | ValuePublication, cid: Any, data: Any) -> None:
        topic = self.client.topics
        with self._lock:
            if isinstance(message, DiscoveryReply):
                self.published.append(
                    topic.broadcast_reply(message.reply_hadd)  # type: ignore[arg-type]
                    if message.route is ReplyRoute.BROADCAST
                    else topic.node_reply(message.reply_hadd)  # type: ignore[arg-type]
                )
            elif isinstance(message, ValueReply):
                self.published.append(topic.node_reply(message.reply_hadd))
            else:
                self.published.append(topic.values(message.genre, message.hadd, message.uuid))
            if cid is not None:
                self.answered[str(cid)] = data
        self.client.publish(message)

    def _discovery(self, req: DiscoveryRequest, broadcast: bool) -> None:
        # The original routes on "the topic contains 'broadcast'" and answers for its whole controller.
        if req.reply_hadd is None or req.kind not in REQUEST_GENRES:
            return
        route = ReplyRoute.BROADCAST if broadcast else ReplyRoute.NODE
        genre = REQUEST_GENRES[req.kind]
        extra = self._echo_extra(req.extra)
        if genre is None:
            reply = DiscoveryReply(
                req.kind, req.reply_hadd, route, nodes=tuple(self.nodes.values()), extra=extra
            )
        else:
            values = tuple(
                v
                for per_uuid in self.values.values()
                for per_index in per_uuid.values()
                for v in per_index.values()
                if v.genre == genre
            )
            reply = DiscoveryReply(req.kind, req.reply_hadd, route, values=values, extra=extra)
        self._send(reply, extra.get(CORRELATION_KEY), req.kind)

    def _value(self, req: ValueRequest, raw: dict[str, Any]) -> None:
        per_uuid = self.values.get(req.hadd)  # found by the request's hadd, not by the topic
        if per_uuid is None or req.uuid not in per_uuid or req.uuid in self.ignore:
            return
        current = per_uuid[req.uuid][0]  # the original ignores the request's index
        if not self.echo_unknown_keys:
            raw = {k: v for k, v in raw.items() if k in ORIGINAL_REQUEST_KEYS}
        refused = self.refuse.get(req.uuid)
        if req.cmd_class == COMMAND_CONFIGURATION and req.genre in (Genre.CONFIG, Genre.SYSTEM):
            if current.genre != req.genre:
                return
            # Case 1: the request echoed with label/help; only on /values/<config|system>/...
            if req.is_writeonly and refused is None:
                current = self._store(req.hadd, req.uuid, req.data)
            reply = dict(raw)
            if req.genre == Genre.SYSTEM and req.is_writeonly and refused is None:
                reply["data"] = req.data  # a system SET echoes the requested data
            else:
                reply["data"] = self._read(req.hadd, current)  # config data is re-read
            self._finish(reply, current, refused)
            info = ValueInfo.from_wire(reply)
            self._send(
                ValuePublication(Genre(req.genre), req.hadd, req.uuid, (info,)),
                raw.get(CORRELATION_KEY),
                info.data,
            )
        elif req.cmd_class != COMMAND_CONFIGURATION and req.genre in (Genre.BASIC, Genre.USER, Genre.COMMAND):
            if current.genre != req.genre or current.cmd_class != req.cmd_class:
                return  # the original: "both conditions must hold", else ignored with a warning
            # Case 2: the full value dict with the request laid over it; on the reply topic AND /values/.
            reply = current.to_wire()
            reply.update(raw)
            if req.is_writeonly:
                if refused is None:
                    current = self._store(req.hadd, req.uuid, req.data)
                else:
                    reply["data"] = current.data
            elif req.is_readonly:
                reply["data"] = self._read(req.hadd, current)
            self._finish(reply, current, refused)
            info = ValueInfo.from_wire(reply)
            cid = raw.get(CORRELATION_KEY)
            if req.reply_hadd is not None:
                self._send(ValueReply(req.reply_hadd, info), cid, info.data)
            self._send(ValuePublication(Genre(req.genre), req.hadd, req.uuid, (info,)), cid, info.data)

    @staticmethod
    def _finish(reply: dict[str, Any], current: ValueInfo, refused: str | None) -> None:
        reply["is_writeonly"] = False
        reply["is_readonly"] = True
        reply["label"] = current.label
        reply["help"] = current.help
        if refused is not None:
            reply[ERROR_KEY] = refused

    def _store(self, hadd: Hadd, uuid: str, data: Any) -> ValueInfo:
        with self._lock:
            info = replace(self.values[hadd][uuid][0], data=data)
            self.values[hadd][uuid][0] = info
        return info

    def _read(self, hadd: Hadd, current: ValueInfo) -> Any:
        if current.uuid == "counter":
            with self._lock:
                n = next(self._counter)
            self._store(hadd, "counter", n)
            return n
        return current.data


def start_controllers(
    host: str, port: int, count: int, nodes: int, *, first: int = 101, **kwargs: Any
) -> list[FakeController]:
    """`count` started fake controllers with `nodes` nodes each (controllers first, first+1, ...)."""
    fakes: list[FakeController] = []
    try:
        for i in range(count):
            fakes.append(FakeController(host, port, first + i, nodes, **kwargs).start())
    except BaseException:
        for f in fakes:
            f.close()
        raise
    return fakes
