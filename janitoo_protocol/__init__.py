"""janitoo_protocol: the Janitoo home-automation protocol over MQTT, wire-compatible with the original.

`import janitoo_protocol` is the library's surface: the client (`JanitooClient`, and `aio` for asyncio),
its errors (all `JanitooError`), addresses (`Hadd`), the protocol's codes as enums, the typed model of
nodes, values and messages, the network map, `decode`/`encode`, and the network controller. Everything
else lives in submodules, for the node runtime and the tools; see docs/library.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # What type checkers and readers see; at run time each name is imported on first use (below).
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


# Each public name and the submodule that defines it. Importing the package costs next to nothing: a
# name's module (and what it pulls: paho and ssl for the client, `transitions` for the controller) loads
# the first time the name is used, so `jnt --help` or a tool needing only `Hadd` never pays for the rest.
_HOME = {
    "Hadd": "addressing",
    **dict.fromkeys(("Capability", "CommandClass", "Genre", "NodeState", "RequestKind", "Role",
                     "ValueType"), "codes"),
    "decode": "decoding",
    "encode": "encoding",
    **dict.fromkeys(("ConnectError", "JanitooError", "NotFound", "ProtocolError", "RequestRefused",
                     "RequestTimeout", "RoleConfigError", "UsageError"), "errors"),
    **dict.fromkeys(("DiscoveryReply", "DiscoveryRequest", "Heartbeat", "HeartbeatDispatch", "Message",
                     "ResolvHeartbeat", "ValuePublication", "ValueReply", "ValueRequest"), "events"),
    **dict.fromkeys(("NodeInfo", "ValueInfo"), "model"),
    "NetworkMap": "network",
    **dict.fromkeys(("NetworkController", "RoleConfig"), "roles"),
    **dict.fromkeys(("Envelope", "JanitooClient", "Subscription", "TlsOptions"), "transport"),
}  # fmt: skip


if not TYPE_CHECKING:
    # Hidden from type checkers: they see the imports above, and a misspelt name stays an error for them
    # rather than becoming Any through __getattr__.

    def __getattr__(name: str) -> Any:
        """A public name, imported from its submodule on first use (PEP 562), then kept as a plain global."""
        home = _HOME.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{home}", __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
