"""Protocol codes: genres, value types, capabilities, command classes, and the value data conversion rules."""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Mapping
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any, Final, SupportsFloat, SupportsIndex, SupportsInt

from .errors import UsageError

__all__ = [
    "COMMAND_CONFIGURATION",
    "COMMAND_DISCOVERY",
    "LIVENESS_RANK",
    "NETWORK_REQUESTS",
    "Capability",
    "CodedEnum",
    "CommandClass",
    "Genre",
    "NodeState",
    "RequestKind",
    "Role",
    "ValueType",
    "convert_data",
    "describe",
    "string_to_bool",
]


class CodedEnum(IntEnum):
    """An integer protocol code whose members carry a label (as the original names it) and a doc line."""

    @property
    def label(self) -> str:
        """The code's name as the original tables spell it, e.g. ``Basic``, ``Int``, ``SWITCH_BINARY``."""
        return _TABLES[type(self)][self][0]

    @property
    def doc(self) -> str:
        """One line saying what the code means."""
        return _TABLES[type(self)][self][1]


class Genre(CodedEnum):
    """The genre of a value (``genre`` on the wire, and the ``/values/<genre>/...`` topic word)."""

    BASIC = 1
    USER = 2
    CONFIG = 3
    SYSTEM = 4
    COMMAND = 5

    @property
    def topic_word(self) -> str:
        """The word used in ``/values/<word>/<hadd>/<uuid>`` topics, e.g. ``basic``."""
        return self.name.lower()

    @classmethod
    def from_word(cls, word: str) -> Genre:
        """The genre named by a topic word or a member name, in any case (``user``, ``USER``, ``User``)."""
        # str.lower(), not upper()/casefold(): those map look-alikes such as "ſ" to plain ASCII letters.
        genre = _GENRE_BY_WORD.get(word.lower()) if isinstance(word, str) else None
        if genre is None:
            accepted = ", ".join(member.topic_word for member in cls)
            raise UsageError(f"unknown genre word {_short(word)}: expected one of {accepted} (any case)")
        return genre


class ValueType(CodedEnum):
    """The type of a value's data (``type`` on the wire, the original's VALUE_DESC)."""

    BOOL = 0x01
    BYTE = 0x02
    DECIMAL = 0x03
    INT = 0x04
    LIST = 0x05
    SCHEDULE = 0x06
    SHORT = 0x07
    STRING = 0x08
    BUTTON = 0x09
    RAW = 0x10
    PASSWORD = 0x14
    JSON = 0x15
    ARRAY = 0x16
    VAR = 0x17
    HADD = 0x20
    IP = 0x21
    RGB = 0x30


class Capability(CodedEnum):
    """A node capability (an entry of a node's ``capabilities`` list, the original's CAPABILITY_DESC)."""

    NO_OPERATION = 0x00
    PRIMARY_CONTROLLER = 0x01
    STATIC_UPDATE_CONTROLLER = 0x02
    BRIDGE_CONTROLLER = 0x03
    DYNAMIC_CONTROLLER = 0x04
    TINY_CONTROLLER = 0x05
    ROUTING = 0x10
    LISTENING = 0x20
    FREQUENT = 0x21
    SECURITY = 0x50
    BEAMING = 0x60
    SLEEPING = 0x80


class CommandClass(CodedEnum):
    """A command class (``cmd_class`` on the wire, the original's COMMAND_DESC without ``COMMAND_``)."""

    # Derived from Z-Wave.
    NO_OPERATION = 0x00
    BASIC = 0x20
    CONTROLLER_REPLICATION = 0x21
    APPLICATION_STATUS = 0x22
    ZIP_SERVICES = 0x23
    ZIP_SERVER = 0x24
    SWITCH_BINARY = 0x25
    SWITCH_MULTILEVEL = 0x26
    SWITCH_ALL = 0x27
    SWITCH_TOGGLE_BINARY = 0x28
    SWITCH_TOGGLE_MULTILEVEL = 0x29
    CHIMNEY_FAN = 0x2A
    SCENE_ACTIVATION = 0x2B
    SCENE_ACTUATOR_CONF = 0x2C
    SCENE_CONTROLLER_CONF = 0x2D
    ZIP_CLIENT = 0x2E
    ZIP_ADV_SERVICES = 0x2F
    SENSOR_BINARY = 0x30
    SENSOR_MULTILEVEL = 0x31
    METER = 0x32
    CLASS_COLOR = 0x33
    ZIP_ADV_CLIENT = 0x34
    METER_PULSE = 0x35
    THERMOSTAT_HEATING = 0x38
    METER_TBL_CONFIG = 0x3C
    METER_TBL_MONITOR = 0x3D
    METER_TBL_PUSH = 0x3E
    THERMOSTAT_MODE = 0x40
    THERMOSTAT_OPERATING_STATE = 0x42
    THERMOSTAT_SETPOINT = 0x43
    THERMOSTAT_FAN_MODE = 0x44
    THERMOSTAT_FAN_STATE = 0x45
    CLIMATE_CONTROL_SCHEDULE = 0x46
    THERMOSTAT_SETBACK = 0x47
    DOOR_LOCK_LOGGING = 0x4C
    SCHEDULE_ENTRY_LOCK = 0x4E
    BASIC_WINDOW_COVERING = 0x50
    MTP_WINDOW_COVERING = 0x51
    MULTI_CHANNEL_V2 = 0x60
    DISPLAY = 0x61
    DOOR_LOCK = 0x62
    USER_CODE = 0x63
    GARAGE_DOOR = 0x64
    CONFIGURATION = 0x70
    ALARM = 0x71
    MANUFACTURER_SPECIFIC = 0x72
    POWERLEVEL = 0x73
    PROTECTION = 0x75
    LOCK = 0x76
    NODE_NAMING = 0x77
    ACTUATOR_MULTILEVEL = 0x78
    KICK = 0x79
    FIRMWARE_UPDATE_MD = 0x7A
    GROUPING_NAME = 0x7B
    REMOTE_ASSOCIATION_ACTIVATE = 0x7C
    REMOTE_ASSOCIATION = 0x7D
    BATTERY = 0x80
    CLOCK = 0x81
    HAIL = 0x82
    NETWORK_STAT = 0x83
    WAKE_UP = 0x84
    ASSOCIATION = 0x85
    VERSION = 0x86
    INDICATOR = 0x87
    PROPRIETARY = 0x88
    LANGUAGE = 0x89
    TIME = 0x8A
    TIME_PARAMETERS = 0x8B
    GEOGRAPHIC_LOCATION = 0x8C
    COMPOSITE = 0x8D
    MULTI_INSTANCE_ASSOCIATION = 0x8E
    MULTI_CMD = 0x8F
    ENERGY_PRODUCTION = 0x90
    MANUFACTURER_PROPRIETARY = 0x91
    SCREEN_MD = 0x92
    SCREEN_ATTRIBUTES = 0x93
    SIMPLE_AV_CONTROL = 0x94
    AV_CONTENT_DIRECTORY_MD = 0x95
    AV_RENDERER_STATUS = 0x96
    AV_CONTENT_SEARCH_MD = 0x97
    SECURITY = 0x98
    AV_TAGGING_MD = 0x99
    IP_CONFIGURATION = 0x9A
    ASSOCIATION_CONFIGURATION = 0x9B
    SENSOR_ALARM = 0x9C
    SILENCE_ALARM = 0x9D
    SENSOR_CONFIGURATION = 0x9E
    MARK = 0xEF
    NON_INTEROPERABLE = 0xF0
    # Janitoo specific.
    DHCPD = 0x1000
    DHCPC = 0x1001
    EVENT_ACTIVATION = 0x1010
    EVENT_ACTUATOR_CONF = 0x1011
    EVENT_CONTROLLER_CONF = 0x1012
    SCENARIO_ACTIVATION = 0x1020
    SCENARIO_ACTUATOR_CONF = 0x1021
    SCENARIO_CONTROLLER_CONF = 0x1022
    WEB_CONTROLLER = 0x1030
    WEB_RESOURCE = 0x1031
    DOC_RESOURCE = 0x1032
    UPDATE = 0x1040
    CONTROLLER = 0x1050
    NETWORK_CONTROLLER = 0x1051
    NDDE = 0x1060
    JMI = 0x10A0
    FSM = 0x10B0
    # Device families.
    ROOMBA_VACUUM = 0x2000
    ROOMBA_DRIVE = 0x2001
    AV_CHANNEL = 0x2100
    AV_VOLUME = 0x2101
    AV_SOURCE = 0x2102
    CAMERA_PREVIEW = 0x2200
    CAMERA_PHOTO = 0x2201
    CAMERA_VIDEO = 0x2202
    CAMERA_STREAM = 0x2203
    LOG = 0x2800
    BUTTON_BINARY = 0x3000
    BUTTON_MULTILEVEL = 0x3001
    BUTTON_ALL = 0x3002
    NOTIFY = 0x3010
    MOTOR = 0x3100
    SHUTTER_BINARY = 0x3150
    SHUTTER_MULTILEVEL = 0x3151
    SHUTTER_ALL = 0x3152
    BELL = 0x3155
    SCREEN_DRAW = 0x3200
    SCREEN_MESSAGE = 0x3201
    SCREEN_CLEAR = 0x3202
    BLINK = 0x3203
    UPDOWN = 0x3204
    # System.
    DISCOVERY = 0x5000


_GENRE_INFO: Final[dict[Genre, tuple[str, str]]] = {
    Genre.BASIC: ("Basic", 'the "level" controlled by basic commands; raw node readings'),
    Genre.USER: ("User", "values an ordinary user cares about"),
    Genre.CONFIG: ("Config", "device configuration (persisted)"),
    Genre.SYSTEM: ("System", "protocol internals (heartbeat, hadd, config_timeout)"),
    Genre.COMMAND: ("Command", "complex commands, e.g. pairing"),
}

_GENRE_BY_WORD: Final[dict[str, Genre]] = {genre.topic_word: genre for genre in Genre}

_VALUE_TYPE_INFO: Final[dict[ValueType, tuple[str, str]]] = {
    ValueType.BOOL: ("Bool", 'true or false; the strings "0", "false", "off" and "no" mean false'),
    ValueType.BYTE: ("Byte", "a small integer (converted with int())"),
    ValueType.DECIMAL: ("Decimal", "a floating-point number"),
    ValueType.INT: ("Int", "an integer"),
    ValueType.LIST: ("List", "one item picked from the value's list_items"),
    ValueType.SCHEDULE: ("Schedule", "a schedule (passed through unchanged)"),
    ValueType.SHORT: ("Short", "a short integer (converted with int())"),
    ValueType.STRING: ("String", "text"),
    ValueType.BUTTON: ("Button", "a push button: writing it triggers an action"),
    ValueType.RAW: ("Raw", "raw data (passed through unchanged)"),
    ValueType.PASSWORD: ("Password", "a secret string (passed through unchanged)"),
    ValueType.JSON: ("Json", "a JSON document (passed through unchanged)"),
    ValueType.ARRAY: ("Array", "a list of strings, joined with | on the wire (a|b|c)"),
    ValueType.VAR: ("Var", "data of any type (passed through unchanged)"),
    ValueType.HADD: ("HADD", "a home address, NNNN/NNNN"),
    ValueType.IP: ("IP", "an IP address"),
    ValueType.RGB: ("RGB", "a colour as three bytes, bbb#bbb#bbb"),
}

_CAPABILITY_INFO: Final[dict[Capability, tuple[str, str]]] = {
    Capability.NO_OPERATION: ("NO_OPERATION", "no capability"),
    Capability.PRIMARY_CONTROLLER: ("PRIMARY_CONTROLLER", "the primary controller of the network"),
    Capability.STATIC_UPDATE_CONTROLLER: (
        "STATIC_UPDATE_CONTROLLER",
        "a static update controller: keeps the network map for the other controllers",
    ),
    Capability.BRIDGE_CONTROLLER: ("BRIDGE_CONTROLLER", "a controller bridging to another network"),
    Capability.DYNAMIC_CONTROLLER: (
        "DYNAMIC_CONTROLLER",
        "a dynamic controller; the default for every bus controller node",
    ),
    Capability.TINY_CONTROLLER: ("TINY_CONTROLLER", "a controller of small-message devices"),
    Capability.ROUTING: ("ROUTING", "routes messages for other nodes"),
    Capability.LISTENING: ("LISTENING", "always listening"),
    Capability.FREQUENT: ("FREQUENT", "listening frequently (wakes up often)"),
    Capability.SECURITY: ("SECURITY", "supports secured messages"),
    Capability.BEAMING: ("BEAMING", "can wake up sleeping nodes"),
    Capability.SLEEPING: ("SLEEPING", "sleeps most of the time (battery powered)"),
}

_COMMAND_CLASS_DOCS: Final[dict[CommandClass, str]] = {
    CommandClass.NO_OPERATION: "no operation; also the cmd_class of a bare value that sets none",
    CommandClass.BASIC: "basic: the generic level of a device",
    CommandClass.CONTROLLER_REPLICATION: "controller replication: copies network data between controllers",
    CommandClass.APPLICATION_STATUS: "application status: busy or rejected answers",
    CommandClass.ZIP_SERVICES: "Z/IP services",
    CommandClass.ZIP_SERVER: "Z/IP server",
    CommandClass.SWITCH_BINARY: "binary switch (on/off)",
    CommandClass.SWITCH_MULTILEVEL: "multilevel switch, e.g. a dimmer",
    CommandClass.SWITCH_ALL: "switches every device on or off at once",
    CommandClass.SWITCH_TOGGLE_BINARY: "binary toggle switch",
    CommandClass.SWITCH_TOGGLE_MULTILEVEL: "multilevel toggle switch",
    CommandClass.CHIMNEY_FAN: "chimney fan",
    CommandClass.SCENE_ACTIVATION: "scene activation",
    CommandClass.SCENE_ACTUATOR_CONF: "scene configuration of an actuator",
    CommandClass.SCENE_CONTROLLER_CONF: "scene configuration of a controller",
    CommandClass.ZIP_CLIENT: "Z/IP client",
    CommandClass.ZIP_ADV_SERVICES: "Z/IP advanced services",
    CommandClass.SENSOR_BINARY: "binary sensor (boolean and presence sensors)",
    CommandClass.SENSOR_MULTILEVEL: "multilevel sensor (float, int, string and list readings)",
    CommandClass.METER: "meter (energy, gas, water, ...)",
    CommandClass.CLASS_COLOR: "colour control",
    CommandClass.ZIP_ADV_CLIENT: "Z/IP advanced client",
    CommandClass.METER_PULSE: "pulse meter",
    CommandClass.THERMOSTAT_HEATING: "thermostat heating",
    CommandClass.METER_TBL_CONFIG: "meter table configuration",
    CommandClass.METER_TBL_MONITOR: "meter table monitor",
    CommandClass.METER_TBL_PUSH: "meter table push",
    CommandClass.THERMOSTAT_MODE: "thermostat mode",
    CommandClass.THERMOSTAT_OPERATING_STATE: "thermostat operating state",
    CommandClass.THERMOSTAT_SETPOINT: "thermostat setpoint",
    CommandClass.THERMOSTAT_FAN_MODE: "thermostat fan mode",
    CommandClass.THERMOSTAT_FAN_STATE: "thermostat fan state",
    CommandClass.CLIMATE_CONTROL_SCHEDULE: "climate control schedule",
    CommandClass.THERMOSTAT_SETBACK: "thermostat setback",
    CommandClass.DOOR_LOCK_LOGGING: "door lock logging",
    CommandClass.SCHEDULE_ENTRY_LOCK: "schedule entry lock",
    CommandClass.BASIC_WINDOW_COVERING: "basic window covering",
    CommandClass.MTP_WINDOW_COVERING: "move-to-position window covering",
    CommandClass.MULTI_CHANNEL_V2: "multi channel (several endpoints in one node), version 2",
    CommandClass.DISPLAY: "display",
    CommandClass.DOOR_LOCK: "door lock",
    CommandClass.USER_CODE: "user code",
    CommandClass.GARAGE_DOOR: "garage door",
    CommandClass.CONFIGURATION: "configuration: system and config values, and the _poll/_config companions",
    CommandClass.ALARM: "alarm",
    CommandClass.MANUFACTURER_SPECIFIC: "manufacturer specific",
    CommandClass.POWERLEVEL: "power level",
    CommandClass.PROTECTION: "protection",
    CommandClass.LOCK: "lock",
    CommandClass.NODE_NAMING: "node naming",
    CommandClass.ACTUATOR_MULTILEVEL: "multilevel actuator",
    CommandClass.KICK: "kick",
    CommandClass.FIRMWARE_UPDATE_MD: "firmware update",
    CommandClass.GROUPING_NAME: "grouping name",
    CommandClass.REMOTE_ASSOCIATION_ACTIVATE: "remote association activation",
    CommandClass.REMOTE_ASSOCIATION: "remote association",
    CommandClass.BATTERY: "battery",
    CommandClass.CLOCK: "clock",
    CommandClass.HAIL: "hail",
    CommandClass.NETWORK_STAT: "network statistics",
    CommandClass.WAKE_UP: "wake up",
    CommandClass.ASSOCIATION: "association",
    CommandClass.VERSION: "version",
    CommandClass.INDICATOR: "indicator",
    CommandClass.PROPRIETARY: "proprietary",
    CommandClass.LANGUAGE: "language",
    CommandClass.TIME: "time",
    CommandClass.TIME_PARAMETERS: "time parameters",
    CommandClass.GEOGRAPHIC_LOCATION: "geographic location",
    CommandClass.COMPOSITE: "composite",
    CommandClass.MULTI_INSTANCE_ASSOCIATION: "multi instance association",
    CommandClass.MULTI_CMD: "multi command (several commands in one message)",
    CommandClass.ENERGY_PRODUCTION: "energy production",
    CommandClass.MANUFACTURER_PROPRIETARY: "manufacturer proprietary",
    CommandClass.SCREEN_MD: "screen meta data",
    CommandClass.SCREEN_ATTRIBUTES: "screen attributes",
    CommandClass.SIMPLE_AV_CONTROL: "simple audio/video control",
    CommandClass.AV_CONTENT_DIRECTORY_MD: "audio/video content directory meta data",
    CommandClass.AV_RENDERER_STATUS: "audio/video renderer status",
    CommandClass.AV_CONTENT_SEARCH_MD: "audio/video content search meta data",
    CommandClass.SECURITY: "security",
    CommandClass.AV_TAGGING_MD: "audio/video tagging meta data",
    CommandClass.IP_CONFIGURATION: "IP configuration",
    CommandClass.ASSOCIATION_CONFIGURATION: "association configuration",
    CommandClass.SENSOR_ALARM: "sensor alarm",
    CommandClass.SILENCE_ALARM: "silence alarm",
    CommandClass.SENSOR_CONFIGURATION: "sensor configuration",
    CommandClass.MARK: "mark: separates supported from controlled classes in a list",
    CommandClass.NON_INTEROPERABLE: "non interoperable",
    CommandClass.DHCPD: "Janitoo: the DHCP server",
    CommandClass.DHCPC: "Janitoo: a DHCP client",
    CommandClass.EVENT_ACTIVATION: "Janitoo: event activation",
    CommandClass.EVENT_ACTUATOR_CONF: "Janitoo: event configuration of an actuator",
    CommandClass.EVENT_CONTROLLER_CONF: "Janitoo: event configuration of a controller",
    CommandClass.SCENARIO_ACTIVATION: "Janitoo: scenario activation",
    CommandClass.SCENARIO_ACTUATOR_CONF: "Janitoo: scenario configuration of an actuator",
    CommandClass.SCENARIO_CONTROLLER_CONF: "Janitoo: scenario configuration of a controller",
    CommandClass.WEB_CONTROLLER: "Janitoo: web controller",
    CommandClass.WEB_RESOURCE: "Janitoo: web resource",
    CommandClass.DOC_RESOURCE: "Janitoo: documentation resource",
    CommandClass.UPDATE: "Janitoo: update",
    CommandClass.CONTROLLER: "Janitoo: a controller; the default in every controller node's cmd_classes",
    CommandClass.NETWORK_CONTROLLER: "Janitoo: network controller (the network_controller system value)",
    CommandClass.NDDE: "Janitoo: NDDE",
    CommandClass.JMI: "Janitoo: JMI",
    CommandClass.FSM: "Janitoo: finite state machine (the <oid>_transition values)",
    CommandClass.ROOMBA_VACUUM: "Roomba: vacuum",
    CommandClass.ROOMBA_DRIVE: "Roomba: drive",
    CommandClass.AV_CHANNEL: "Samsung AV: channel",
    CommandClass.AV_VOLUME: "Samsung AV: volume",
    CommandClass.AV_SOURCE: "Samsung AV: source",
    CommandClass.CAMERA_PREVIEW: "camera: preview",
    CommandClass.CAMERA_PHOTO: "camera: photo",
    CommandClass.CAMERA_VIDEO: "camera: video",
    CommandClass.CAMERA_STREAM: "camera: stream",
    CommandClass.LOG: "datalog: log",
    CommandClass.BUTTON_BINARY: "button: binary",
    CommandClass.BUTTON_MULTILEVEL: "button: multilevel",
    CommandClass.BUTTON_ALL: "button: all",
    CommandClass.NOTIFY: "button: notify",
    CommandClass.MOTOR: "motor",
    CommandClass.SHUTTER_BINARY: "shutter: binary (open/close)",
    CommandClass.SHUTTER_MULTILEVEL: "shutter: multilevel (position)",
    CommandClass.SHUTTER_ALL: "shutter: all",
    CommandClass.BELL: "bell",
    CommandClass.SCREEN_DRAW: "screen: draw",
    CommandClass.SCREEN_MESSAGE: "screen: message",
    CommandClass.SCREEN_CLEAR: "screen: clear",
    CommandClass.BLINK: "screen: blink",
    CommandClass.UPDOWN: "screen: up/down",
    CommandClass.DISCOVERY: "network discovery requests only (never a value's class)",
}

# The original's labels are the member names, so only the docs are written out above.
_COMMAND_CLASS_INFO: Final[dict[CommandClass, tuple[str, str]]] = {
    member: (member.name, doc) for member, doc in _COMMAND_CLASS_DOCS.items()
}

_TABLES: Final[dict[type[CodedEnum], Mapping[Any, tuple[str, str]]]] = {
    Genre: _GENRE_INFO,
    ValueType: _VALUE_TYPE_INFO,
    Capability: _CAPABILITY_INFO,
    CommandClass: _COMMAND_CLASS_INFO,
}


class NodeState(StrEnum):
    """A node's liveness state: the word of its heartbeat, and of the primary's dispatches.

    A `str` enum: members compare equal to the bare words (``NodeState.ONLINE == "ONLINE"``) and are
    written on the wire as those words. Decoded heartbeats carry members for the known words; a word
    this table lacks stays a plain string.
    """

    ONLINE = "ONLINE"
    BOOT = "BOOT"
    CONFIG = "CONFIG"
    PENDING = "PENDING"
    FAILED = "FAILED"
    DEAD = "DEAD"
    OFFLINE = "OFFLINE"
    UNKNOWN = "UNKNOWN"

    @property
    def rank(self) -> int:
        """How alive the state is: higher is more alive (the original's ranking of lease states)."""
        return LIVENESS_RANK[self]


class Role(StrEnum):
    """A network controller's role (``role`` in its resolv heartbeats and announcements)."""

    STOPPED = "stopped"
    LISTENING = "listening"
    SECONDARY = "secondary"
    ELECTING = "electing"
    PRIMARY = "primary"


class RequestKind(StrEnum):
    """A discovery request (the ``uuid`` of a ``request_info_*`` message) and what it asks for."""

    NODES = "request_info_nodes"
    USERS = "request_info_users"
    CONFIGS = "request_info_configs"
    SYSTEMS = "request_info_systems"
    BASICS = "request_info_basics"
    COMMANDS = "request_info_commands"

    @property
    def genre(self) -> Genre | None:
        """The genre of the values it asks for; None for `NODES`, which asks for the nodes themselves."""
        return _REQUEST_GENRE[self]

    @classmethod
    def for_genre(cls, genre: Genre | int) -> RequestKind:
        """The request that asks for the values of `genre`."""
        for kind, g in _REQUEST_GENRE.items():
            if g is not None and g == genre:
                return kind
        raise UsageError(f"unknown genre {_short(genre)}: expected one of 1-5")


_REQUEST_GENRE: Final[dict[RequestKind, Genre | None]] = {
    RequestKind.NODES: None,
    RequestKind.USERS: Genre.USER,
    RequestKind.CONFIGS: Genre.CONFIG,
    RequestKind.SYSTEMS: Genre.SYSTEM,
    RequestKind.BASICS: Genre.BASIC,
    RequestKind.COMMANDS: Genre.COMMAND,
}

# Every discovery request, in the order they are sent.
# Typed as text: a request word from the wire (a plain str) is looked up against them.
NETWORK_REQUESTS: Final[tuple[str, ...]] = tuple(RequestKind)

# The cmd_class of config and system values, as a plain int (wire dicts and payloads hold ints).
COMMAND_CONFIGURATION: Final = int(CommandClass.CONFIGURATION)
# The cmd_class of discovery requests and replies, as a plain int.
COMMAND_DISCOVERY: Final = int(CommandClass.DISCOVERY)

# Ranking of the original's leases_states: the higher, the more alive.
LIVENESS_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {
        "ONLINE": 5,
        "BOOT": 4,
        "CONFIG": 4,
        "PENDING": 3,
        "FAILED": 2,
        "DEAD": 1,
        "OFFLINE": 0,
        "UNKNOWN": -1,
    }
)


def describe(enum_cls: type[CodedEnum], code: int) -> str:
    """The label of ``code`` in ``enum_cls``, or ``unknown (0x0001)`` for a code the table lacks."""
    try:
        return enum_cls(code).label
    except ValueError:
        pass
    if isinstance(code, int) and not isinstance(code, bool):
        sign = "-" if code < 0 else ""
        return f"unknown ({sign}0x{abs(code):04X})"
    return f"unknown ({_short(code)})"


_FALSE_WORDS: Final = frozenset({"0", "FALSE", "OFF", "NO"})


def string_to_bool(data: object) -> bool:
    """The original's boolean rule: "0", "false", "off", "no" (any case, trimmed), 0 and None are false."""
    if data is None:
        return False
    if isinstance(data, bool):
        return data
    if isinstance(data, str):
        return data.strip().upper() not in _FALSE_WORDS
    # The original crashed on numbers; JSON clients send them, so accept them.
    if isinstance(data, int | float):
        return data != 0
    raise ValueError(f"cannot read {_short(data)} as a boolean: expected a bool, a number or a string")


def _to_int(data: object) -> int:
    if isinstance(data, str | bytes | bytearray | SupportsInt | SupportsIndex):
        return int(data)
    raise TypeError(f"not a number: {type(data).__name__}")


def _to_float(data: object) -> float:
    if isinstance(data, str | bytes | bytearray | SupportsFloat | SupportsIndex):
        return float(data)
    raise TypeError(f"not a number: {type(data).__name__}")


def _to_str(data: object) -> str:
    return data if isinstance(data, str) else str(data)


def _to_array(data: object) -> list[Any]:
    if isinstance(data, str):
        return data.split("|")
    if isinstance(data, list):
        return data
    if isinstance(data, tuple):
        return list(data)
    raise TypeError(f"not an array: {type(data).__name__}")


_CONVERTERS: Final[dict[ValueType, Callable[[object], object]]] = {
    ValueType.BOOL: string_to_bool,
    ValueType.BYTE: _to_int,
    ValueType.INT: _to_int,
    ValueType.SHORT: _to_int,
    ValueType.DECIMAL: _to_float,
    ValueType.STRING: _to_str,
    ValueType.ARRAY: _to_array,
}


def convert_data(value_type: int, data: object) -> object:
    """Convert value data to the Python form of ``value_type``, by the original's ``convert`` rules.

    None stays None; types without a rule (and unknown type codes) are returned unchanged.
    Raises ValueError, naming the type and the data, when the data cannot be converted.
    """
    if data is None:
        return None
    try:
        vtype = ValueType(value_type)
    except ValueError:
        return data
    converter = _CONVERTERS.get(vtype)
    if converter is None:
        return data
    try:
        return converter(data)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"cannot convert {_short(data)} to {vtype.label}") from exc


_REPR: Final = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60


def _short(data: object) -> str:
    """A one-line, bounded repr of ``data`` for error messages."""
    return _REPR.repr(data).replace("\r", "\\r").replace("\n", "\\n")
