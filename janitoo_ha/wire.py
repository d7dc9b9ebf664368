"""Every name janitoo_ha takes from janitoo_protocol, imported here once so the rest never reaches inside it."""

from __future__ import annotations

from janitoo_protocol.addressing import Hadd
from janitoo_protocol.codes import NETWORK_REQUESTS, CommandClass, Genre, ValueType
from janitoo_protocol.errors import ConnectError, JanitooError, ProtocolError, RequestRefused, RequestTimeout
from janitoo_protocol.events import Heartbeat, HeartbeatDispatch, Message, ValuePublication
from janitoo_protocol.liveness import DEAD, FAILED, OFFLINE, ONLINE, STATES, LivenessTracker, StateChange
from janitoo_protocol.model import NodeInfo, ValueInfo
from janitoo_protocol.network import NetworkMap
from janitoo_protocol.topics import Topics
from janitoo_protocol.transport import Envelope, JanitooClient, TlsOptions

__all__ = [
    "DEAD",
    "FAILED",
    "NETWORK_REQUESTS",
    "OFFLINE",
    "ONLINE",
    "STATES",
    "CommandClass",
    "ConnectError",
    "Envelope",
    "Genre",
    "Hadd",
    "Heartbeat",
    "HeartbeatDispatch",
    "JanitooClient",
    "JanitooError",
    "LivenessTracker",
    "Message",
    "NetworkMap",
    "NodeInfo",
    "ProtocolError",
    "RequestRefused",
    "RequestTimeout",
    "StateChange",
    "TlsOptions",
    "Topics",
    "ValueInfo",
    "ValuePublication",
    "ValueType",
]
