"""janitoo_protocol: the Janitoo home-automation protocol over MQTT, wire-compatible with the original.

`import janitoo_protocol` is the library's surface: the client (`JanitooClient`, and `aio` for asyncio),
its errors (all `JanitooError`), addresses (`Hadd`), the protocol's codes as enums, the typed model of
nodes, values and messages, the network map, `decode`/`encode`, and the network controller. Everything
else lives in submodules, for the node runtime and the tools; see docs/library.md.
"""

from __future__ import annotations

from .addressing import Hadd
from .codes import Capability, CommandClass, Genre, NodeState, RequestKind, Role, ValueType
from .decoding import decode
from .encoding import encode
from .errors import (
    ConnectError,
    JanitooError,
    NotFound,
    ProtocolError,
    RequestRefused,
    RequestTimeout,
    RoleConfigError,
    UsageError,
)
from .events import (
    DiscoveryReply,
    DiscoveryRequest,
    Heartbeat,
    HeartbeatDispatch,
    Message,
    ResolvHeartbeat,
    ValuePublication,
    ValueReply,
    ValueRequest,
)
from .model import NodeInfo, ValueInfo
from .network import NetworkMap
from .roles import NetworkController, RoleConfig
from .transport import Envelope, JanitooClient, Subscription, TlsOptions

__version__ = "0.1.0"

__all__ = [
    # the client
    "JanitooClient",
    "TlsOptions",
    "Subscription",
    "Envelope",
    # errors: one family
    "JanitooError",
    "ProtocolError",
    "ConnectError",
    "RequestTimeout",
    "RequestRefused",
    "NotFound",
    "UsageError",
    "RoleConfigError",
    # addressing and codes
    "Hadd",
    "Genre",
    "CommandClass",
    "ValueType",
    "Capability",
    "NodeState",
    "Role",
    "RequestKind",
    # the model, the map, the messages and their codec
    "NodeInfo",
    "ValueInfo",
    "NetworkMap",
    "Message",
    "Heartbeat",
    "HeartbeatDispatch",
    "ResolvHeartbeat",
    "DiscoveryRequest",
    "DiscoveryReply",
    "ValueRequest",
    "ValueReply",
    "ValuePublication",
    "decode",
    "encode",
    # a network controller in your app
    "NetworkController",
    "RoleConfig",
]
