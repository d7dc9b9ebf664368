"""Every name janitoo_web takes from janitoo_protocol, imported here once so the rest never reaches inside it."""

from __future__ import annotations

from janitoo_protocol.addressing import Hadd
from janitoo_protocol.codes import COMMAND_CONFIGURATION, NETWORK_REQUESTS, CommandClass, Genre, ValueType
from janitoo_protocol.errors import (
    ConnectError,
    JanitooError,
    ProtocolError,
    RequestRefused,
    RequestTimeout,
)
from janitoo_protocol.events import (
    DiscoveryReply,
    DiscoveryRequest,
    Heartbeat,
    HeartbeatDispatch,
    LeaseMessage,
    Message,
    ResolvHeartbeat,
    ValuePublication,
    ValueReply,
    ValueRequest,
)
from janitoo_protocol.liveness import FAILED, OFFLINE, ONLINE, STATES, UNKNOWN, LivenessTracker, StateChange
from janitoo_protocol.model import NodeInfo, ValueInfo
from janitoo_protocol.network import NetworkMap
from janitoo_protocol.transport import Envelope, JanitooClient

__all__ = [
    "COMMAND_CONFIGURATION",
    "FAILED",
    "NETWORK_REQUESTS",
    "OFFLINE",
    "ONLINE",
    "STATES",
    "UNKNOWN",
    "CommandClass",
    "ConnectError",
    "DiscoveryReply",
    "DiscoveryRequest",
    "Envelope",
    "Genre",
    "Hadd",
    "Heartbeat",
    "HeartbeatDispatch",
    "JanitooClient",
    "JanitooError",
    "LeaseMessage",
    "LivenessTracker",
    "Message",
    "NetworkMap",
    "NodeInfo",
    "ProtocolError",
    "RequestRefused",
    "RequestTimeout",
    "ResolvHeartbeat",
    "StateChange",
    "ValueInfo",
    "ValuePublication",
    "ValueReply",
    "ValueRequest",
    "ValueType",
]
