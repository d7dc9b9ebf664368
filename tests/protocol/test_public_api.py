"""The top level of janitoo_protocol is the library's documented surface: small, typed, one error family."""

from __future__ import annotations

import enum
import inspect
import json
from pathlib import Path

import pytest

import janitoo_protocol as jp
from janitoo_protocol import (
    CommandClass,
    Genre,
    Hadd,
    Heartbeat,
    HeartbeatDispatch,
    JanitooError,
    NetworkMap,
    NodeInfo,
    NodeState,
    NotFound,
    RequestKind,
    Role,
    RoleConfig,
    RoleConfigError,
    UsageError,
    ValueInfo,
    aio,
    decode,
    encode,
)

# What the guide documents, and nothing else: internals (correlation keys, resolv sync, role actions,
# lease RPC messages, topic builders...) live in their submodules.
EXPECTED = {
    "JanitooClient", "TlsOptions", "Subscription", "Envelope",
    "JanitooError", "ProtocolError", "ConnectError", "RequestTimeout", "RequestRefused", "NotFound",
    "UsageError", "RoleConfigError",
    "Hadd", "Genre", "CommandClass", "ValueType", "Capability", "NodeState", "Role", "RequestKind",
    "NodeInfo", "ValueInfo", "NetworkMap", "Message", "Heartbeat", "HeartbeatDispatch", "ResolvHeartbeat",
    "DiscoveryRequest", "DiscoveryReply", "ValueRequest", "ValueReply", "ValuePublication", "decode", "encode",
    "NetworkController", "RoleConfig",
}  # fmt: skip


def test_all_is_exactly_the_documented_surface() -> None:
    assert set(jp.__all__) == EXPECTED
    assert len(jp.__all__) == len(EXPECTED)  # no duplicates


@pytest.mark.parametrize(
    ("module", "name"), [(jp, n) for n in sorted(EXPECTED)] + [(aio, n) for n in aio.__all__]
)
def test_every_public_name_has_a_docstring(module: object, name: str) -> None:
    obj = getattr(module, name)
    doc = obj.__doc__ if name != "Message" else jp.events.__doc__  # a type alias documents in its module
    assert doc and doc.strip(), f"janitoo_protocol.{name} has no docstring"
    if inspect.isclass(obj) and not issubclass(obj, BaseException | enum.Enum):
        # The public methods a user calls are documented too.
        for attr, member in vars(obj).items():
            if (
                attr.startswith("_")
                or not isinstance(member, property | classmethod | staticmethod)
                and not callable(member)
            ):
                continue
            assert inspect.getdoc(getattr(obj, attr)), f"janitoo_protocol.{name}.{attr} has no docstring"


@pytest.mark.parametrize(
    "internal",
    ["CORRELATION_KEY", "ResolvSync", "Actions", "LeaseMessage", "parse_hadd_or_none", "COMMAND_DISCOVERY",
     "Topics", "LivenessTracker", "REQUEST_GENRES", "STATES"],
)  # fmt: skip
def test_internals_are_not_re_exported(internal: str) -> None:
    assert internal not in jp.__all__
    assert not hasattr(jp, internal)


def test_every_error_of_the_library_is_a_janitoo_error() -> None:
    for name in jp.__all__:
        obj = getattr(jp, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert issubclass(obj, JanitooError), name
    # The ones that used to be plain builtins still are, for callers that catch those.
    assert issubclass(RoleConfigError, ValueError) and issubclass(UsageError, ValueError | TypeError)
    assert issubclass(NotFound, LookupError)


def test_role_config_errors_and_bad_arguments_are_in_the_family() -> None:
    with pytest.raises(JanitooError, match="cannot both be true"):
        RoleConfig(is_primary=True, is_secondary=True)
    with pytest.raises(JanitooError, match="unknown genre word"):
        Genre.from_word("usr")
    with pytest.raises(JanitooError, match="not a Janitoo message"):
        encode("ONLINE")  # type: ignore[arg-type]
    with pytest.raises(JanitooError, match="cannot encode object"):
        encode(jp.ValueReply(Hadd(1, 0), ValueInfo("x", data=object())))


def test_str_enums_compare_and_travel_as_their_words() -> None:
    assert NodeState.ONLINE == "ONLINE" and Role.PRIMARY == "primary"
    assert RequestKind.USERS == "request_info_users" and RequestKind.USERS.genre is Genre.USER
    assert RequestKind.NODES.genre is None and RequestKind.for_genre(Genre.CONFIG) is RequestKind.CONFIGS
    assert json.dumps({"state": NodeState.FAILED}) == '{"state": "FAILED"}'
    assert f"{NodeState.DEAD}" == "DEAD" and str(Role.ELECTING) == "electing"
    assert int(CommandClass.DISCOVERY) == 0x5000


def test_decoded_states_are_node_states_and_unknown_words_stay_words() -> None:
    beat = decode("/dhcp/heartbeat/0001/0002", b"online")
    assert isinstance(beat, Heartbeat) and beat.state is NodeState.ONLINE
    odd = decode("/dhcp/heartbeat/0001/0002", b"SLEEPY")
    assert isinstance(odd, Heartbeat) and odd.state == "SLEEPY" and not isinstance(odd.state, NodeState)
    dispatch = decode("/dhcp/heartbeat/", b'{"add_ctrl": 1, "add_node": 2, "state": "DEAD"}')
    assert isinstance(dispatch, HeartbeatDispatch) and dispatch.state is NodeState.DEAD
    # The wire is the word, byte for byte.
    assert encode(Heartbeat(Hadd(1, 2), NodeState.ONLINE)) == ("/dhcp/heartbeat/0001/0002", b"ONLINE")


def test_the_map_takes_addresses_as_text_or_hadd() -> None:
    network = NetworkMap()
    network.nodes[Hadd(1, 2)] = NodeInfo("n", Hadd(1, 2))
    network.merge_value(ValueInfo("switch", Hadd(1, 2), genre=2, cmd_class=0x25, data=True))
    assert network.value("0001/0002", "switch") is network.value(Hadd(1, 2), "switch")
    assert network.get_value("0001/0002", "switch") is not None
    assert network.node("0001/0002").uuid == "n"
    assert [v.uuid for v in network.values_of("0001/0002", Genre.USER)] == ["switch"]
    assert network.values_of("0001/0002", Genre.BASIC) == []
    with pytest.raises(NotFound, match="no value 'other' .* on node 0001/0002"):
        network.value("0001/0002", "other")
    with pytest.raises(NotFound, match="no node 0001/0003"):
        network.node("1/3")
    with pytest.raises(jp.ProtocolError):
        network.value("not an address", "switch")
    network.set_state("0001/0002", NodeState.FAILED)
    assert network.node(Hadd(1, 2)).state == "FAILED"
    assert network.neighbours("0001/0002") == [Hadd(1, 0)]


def test_no_module_builds_topics_by_hand_with_the_private_helper() -> None:
    root = Path(jp.__file__).resolve().parents[1]
    offenders = [
        str(p.relative_to(root))
        for folder in (
            "janitoo_protocol",
            "janitoo_node",
            "janitoo_cli",
            "janitoo_ha",
            "janitoo_web",
            "examples",
            "benchmarks",
        )
        for p in (root / folder).rglob("*.py")
        if p.name != "topics.py" and "._t(" in p.read_text()
    ]
    assert offenders == []
