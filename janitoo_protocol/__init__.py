"""janitoo_protocol: the Janitoo home-automation protocol over MQTT, sans-IO, wire-compatible with the original."""

from __future__ import annotations

from .addressing import Hadd, parse_hadd_or_none
from .codes import (
    COMMAND_CONFIGURATION,
    COMMAND_DISCOVERY,
    NETWORK_REQUESTS,
    Capability,
    CommandClass,
    Genre,
    ValueType,
    convert_data,
    describe,
    string_to_bool,
)
from .errors import ConnectError, JanitooError, ProtocolError, RequestRefused, RequestTimeout
from .liveness import STATES, LivenessTracker, StateChange
from .messages import (
    CORRELATION_KEY,
    ERROR_KEY,
    GENRE_REQUESTS,
    REQUEST_GENRES,
    DiscoveryReply,
    DiscoveryRequest,
    Heartbeat,
    HeartbeatDispatch,
    LeaseMessage,
    Message,
    ReplyRoute,
    ResolvHeartbeat,
    ValuePublication,
    ValueReply,
    ValueRequest,
    decode,
    encode,
)
from .model import NodeInfo, ValueInfo
from .topics import TopicInfo, TopicKind, Topics

__version__ = "0.1.0"

__all__ = [
    "COMMAND_CONFIGURATION",
    "COMMAND_DISCOVERY",
    "CORRELATION_KEY",
    "ERROR_KEY",
    "GENRE_REQUESTS",
    "NETWORK_REQUESTS",
    "REQUEST_GENRES",
    "STATES",
    "Capability",
    "CommandClass",
    "ConnectError",
    "DiscoveryReply",
    "DiscoveryRequest",
    "Genre",
    "Hadd",
    "Heartbeat",
    "HeartbeatDispatch",
    "JanitooError",
    "LeaseMessage",
    "LivenessTracker",
    "Message",
    "NodeInfo",
    "ProtocolError",
    "ReplyRoute",
    "RequestRefused",
    "RequestTimeout",
    "ResolvHeartbeat",
    "StateChange",
    "TopicInfo",
    "TopicKind",
    "Topics",
    "ValueInfo",
    "ValuePublication",
    "ValueReply",
    "ValueRequest",
    "ValueType",
    "convert_data",
    "decode",
    "describe",
    "encode",
    "parse_hadd_or_none",
    "string_to_bool",
]

# Network controllers (roles) and the map's replication: appended exports.
from .network import NetworkMap, ResolvSync  # noqa: E402
from .roles import Actions, NetworkController, RoleConfig, RoleConfigError  # noqa: E402

__all__ += ["Actions", "NetworkController", "NetworkMap", "ResolvSync", "RoleConfig", "RoleConfigError"]
