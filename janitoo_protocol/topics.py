"""Every MQTT topic of the Janitoo protocol: building them, and parsing a topic back into its parts."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .addressing import Hadd
from .codes import Genre
from .errors import ProtocolError


class TopicKind(enum.Enum):
    """What a topic carries."""

    HEARTBEAT = "heartbeat"  # /dhcp/heartbeat/<hadd>: a node's bare state word
    HEARTBEAT_DISPATCH = "heartbeat_dispatch"  # /dhcp/heartbeat/: JSON liveness from a primary
    BROADCAST_REQUEST = "broadcast_request"  # /broadcast/request
    BROADCAST_REPLY = "broadcast_reply"  # /broadcast/reply/<reply hadd>
    NODE_REQUEST = "node_request"  # /nodes/<hadd>/request
    NODE_REPLY = "node_reply"  # /nodes/<reply hadd>/reply
    VALUES = "values"  # /values/<genre>/<hadd>/<value uuid>
    RESOLV_HEARTBEAT = "resolv_heartbeat"  # /dhcp/resolv/heartbeat
    RESOLV_REQUEST = "resolv_request"  # /dhcp/resolv/request/
    RESOLV_REPLY = "resolv_reply"  # /dhcp/resolv/reply/<hadd>
    RESOLV_BROADCAST = "resolv_broadcast"  # /dhcp/resolv/broadcast/
    LEASE = "lease"  # /dhcp/lease/<action>, /dhcp/resolv/hadd|name|cmd_classes (DHCP RPC)
    RPC_REPLY = "rpc_reply"  # /reply/<rep_uuid>


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """A parsed topic: its kind and whatever address, genre, value uuid or action it names."""

    kind: TopicKind
    hadd: Hadd | None = None
    genre: Genre | None = None
    uuid: str | None = None
    action: str | None = None


_LEASE_ACTIONS = {"new", "repair", "lock", "release", "remove"}
_RESOLV_RPC = {"hadd", "name", "cmd_classes"}


class Topics:
    """Builds and parses topics under an optional prefix (default empty: the original `/...` topics)."""

    def __init__(self, prefix: str = "") -> None:
        # The original topics start with '/'; a prefix goes in front of that slash ("site" -> "site/nodes/...").
        self.prefix = prefix.rstrip("/")
        # Parsed topics repeat (the same values and heartbeats again and again): remember them.
        self._parsed: dict[str, TopicInfo] = {}
        self._values: dict[tuple[Genre | int, Hadd, str], str] = {}

    def _t(self, tail: str) -> str:
        return self.prefix + tail

    def heartbeat(self, hadd: Hadd) -> str:
        return self._t(f"/dhcp/heartbeat/{hadd}")

    def heartbeat_dispatch(self) -> str:
        return self._t("/dhcp/heartbeat/")

    def heartbeat_all(self) -> str:
        return self._t("/dhcp/heartbeat/#")

    def broadcast_request(self) -> str:
        return self._t("/broadcast/request")

    def broadcast_reply(self, reply_hadd: Hadd) -> str:
        return self._t(f"/broadcast/reply/{reply_hadd}")

    def node_request(self, hadd: Hadd) -> str:
        return self._t(f"/nodes/{hadd}/request")

    def node_reply(self, reply_hadd: Hadd) -> str:
        return self._t(f"/nodes/{reply_hadd}/reply")

    def node_replies(self) -> str:
        """Every node's reply topic (`/nodes/+/+/reply`), as a filter."""
        return self._t("/nodes/+/+/reply")

    def broadcast_replies(self) -> str:
        """Every broadcast reply topic (`/broadcast/reply/+/+`), as a filter."""
        return self._t("/broadcast/reply/+/+")

    def controller_heartbeats(self, controller: int) -> str:
        """The heartbeats of one controller's nodes (`/dhcp/heartbeat/NNNN/+`), as a filter."""
        return self._t(f"/dhcp/heartbeat/{controller:04d}/+")

    def controller_values(self, controller: int) -> str:
        """The value publications of one controller's nodes, every genre (`/values/+/NNNN/+/+`)."""
        return self._t(f"/values/+/{controller:04d}/+/+")

    def node_requests(self, controller: int | None = None) -> str:
        """Requests to every node of one controller (`/nodes/NNNN/+/request`), or of all (`/nodes/+/+/request`)."""
        ctrl = "+" if controller is None else f"{controller:04d}"
        return self._t(f"/nodes/{ctrl}/+/request")

    def controller_nodes(self, controller: int) -> str:
        """Everything addressed to one controller's nodes (`/nodes/NNNN/#`)."""
        return self._t(f"/nodes/{controller:04d}/#")

    def values(self, genre: Genre | int, hadd: Hadd, uuid: str) -> str:
        # A node publishes the same values again and again: their topics are built once (a node has tens
        # of them; a simulation of thousands of nodes starts again from empty now and then).
        key = (genre, hadd, uuid)
        topic = self._values.get(key) if type(uuid) is str and type(hadd) is Hadd else None
        if topic is None:
            topic = self._t(f"/values/{Genre(genre).topic_word}/{hadd}/{uuid}")
            if type(uuid) is str and type(hadd) is Hadd:
                if len(self._values) >= 4096:
                    self._values.clear()
                self._values[key] = topic
        return topic

    def values_all(self) -> str:
        return self._t("/values/#")

    def resolv_heartbeat(self) -> str:
        return self._t("/dhcp/resolv/heartbeat")

    def resolv_request(self) -> str:
        return self._t("/dhcp/resolv/request/")

    def resolv_reply(self, hadd: Hadd) -> str:
        return self._t(f"/dhcp/resolv/reply/{hadd}")

    def resolv_broadcast(self) -> str:
        return self._t("/dhcp/resolv/broadcast/")

    def resolv_all(self) -> str:
        return self._t("/dhcp/resolv/#")

    def lease(self, action: str) -> str:
        """A DHCP RPC topic: `/dhcp/lease/<action>`, or `/dhcp/resolv/<what>` for a `resolv/<what>` action."""
        if action.startswith("resolv/"):
            return self._t(f"/dhcp/{action}")
        return self._t(f"/dhcp/lease/{action}")

    def rpc_reply(self, rep_uuid: str) -> str:
        return self._t(f"/reply/{rep_uuid}")

    def everything(self) -> str:
        """The spy filter: `/#` for the original layout, `<prefix>/#` under a prefix."""
        return self._t("/#")

    def parse(self, topic: str) -> TopicInfo:
        """Split a topic into a TopicInfo; raises ProtocolError for a topic that is not Janitoo's."""
        info = self._parsed.get(topic)
        if info is None:
            info = self._parse(topic)
            if len(self._parsed) >= 65536:
                self._parsed.clear()
            self._parsed[topic] = info
        return info

    def _parse(self, topic: str) -> TopicInfo:
        if self.prefix:
            if not topic.startswith(self.prefix + "/"):
                raise ProtocolError(f"topic is outside the prefix {self.prefix!r}", topic)
            tail = topic[len(self.prefix) :]
        else:
            tail = topic
        parts = tail.split("/")
        if len(parts) < 3 or parts[0] != "":
            raise ProtocolError("not a Janitoo topic", topic)
        head = parts[1]
        rest = parts[2:]
        try:
            if head == "dhcp":
                return self._parse_dhcp(rest, topic)
            if head == "broadcast":
                if rest == ["request"]:
                    return TopicInfo(TopicKind.BROADCAST_REQUEST)
                if len(rest) == 3 and rest[0] == "reply":
                    return TopicInfo(TopicKind.BROADCAST_REPLY, hadd=_hadd(rest[1:]))
            elif head == "nodes" and len(rest) == 3:
                if rest[2] == "request":
                    return TopicInfo(TopicKind.NODE_REQUEST, hadd=_hadd(rest[:2]))
                if rest[2] == "reply":
                    return TopicInfo(TopicKind.NODE_REPLY, hadd=_hadd(rest[:2]))
            elif head == "values" and len(rest) == 4 and rest[3]:
                return TopicInfo(
                    TopicKind.VALUES, hadd=_hadd(rest[1:3]), genre=Genre.from_word(rest[0]), uuid=rest[3]
                )
            elif head == "reply" and len(rest) == 1 and rest[0]:
                return TopicInfo(TopicKind.RPC_REPLY, uuid=rest[0])
        except (ProtocolError, ValueError) as exc:
            raise ProtocolError(str(getattr(exc, "reason", exc)), topic) from None
        raise ProtocolError("not a Janitoo topic", topic)

    def _parse_dhcp(self, rest: list[str], topic: str) -> TopicInfo:
        if rest[0] == "heartbeat":
            if rest[1:] == [""]:
                return TopicInfo(TopicKind.HEARTBEAT_DISPATCH)
            if len(rest) == 3:
                return TopicInfo(TopicKind.HEARTBEAT, hadd=_hadd(rest[1:]))
        elif rest[0] == "resolv" and len(rest) >= 2:
            sub = rest[1]
            if sub == "heartbeat" and len(rest) == 2:
                return TopicInfo(TopicKind.RESOLV_HEARTBEAT)
            if sub == "request":
                return TopicInfo(TopicKind.RESOLV_REQUEST)
            if sub == "broadcast":
                return TopicInfo(TopicKind.RESOLV_BROADCAST)
            if sub == "reply" and len(rest) == 4:
                return TopicInfo(TopicKind.RESOLV_REPLY, hadd=_hadd(rest[2:]))
            if sub in _RESOLV_RPC and len(rest) == 2:
                return TopicInfo(TopicKind.LEASE, action=f"resolv/{sub}")
        elif rest[0] == "lease" and len(rest) == 2 and rest[1] in _LEASE_ACTIONS:
            return TopicInfo(TopicKind.LEASE, action=rest[1])
        raise ProtocolError("not a Janitoo topic", topic)


def filter_problem(topic_filter: str) -> str | None:
    """Why `topic_filter` is not a valid MQTT topic filter; None when it is."""
    if not topic_filter or "\0" in topic_filter or len(topic_filter.encode("utf-8", "replace")) > 65535:
        return "a topic filter is 1 to 65535 bytes of UTF-8 without NUL"
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return "'#' must be a whole level, and the last one (e.g. '/values/#')"
        if "+" in level and level != "+":
            return "'+' must be a whole level (e.g. '/nodes/+/+/request')"
    return None


def _hadd(parts: list[str]) -> Hadd:
    return Hadd.parse("/".join(parts))


DEFAULT_TOPICS = Topics()
