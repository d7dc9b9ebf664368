"""Tests for janitoo_protocol.codes: the code tables, describe, string_to_bool and convert_data."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from janitoo_protocol.codes import (
    COMMAND_CONFIGURATION,
    LIVENESS_RANK,
    NETWORK_REQUESTS,
    Capability,
    CodedEnum,
    CommandClass,
    Genre,
    ValueType,
    convert_data,
    describe,
    string_to_bool,
)

ALL_ENUMS: list[type[CodedEnum]] = [Genre, ValueType, Capability, CommandClass]


# --- the tables ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("enum_cls", ALL_ENUMS)
def test_every_member_round_trips_by_code_and_has_label_and_doc(enum_cls: type[CodedEnum]) -> None:
    for member in enum_cls:
        assert enum_cls(int(member.value)) is member
        assert enum_cls(member.value) == member.value
        assert member.label and member.label.strip() == member.label
        assert member.doc and "\n" not in member.doc


@pytest.mark.parametrize("enum_cls", ALL_ENUMS)
def test_codes_are_plain_json_integers(enum_cls: type[CodedEnum]) -> None:
    for member in enum_cls:
        assert json.loads(json.dumps({"code": member})) == {"code": int(member)}


def test_genres_match_the_spec() -> None:
    assert [(g.value, g.label, g.topic_word) for g in Genre] == [
        (1, "Basic", "basic"),
        (2, "User", "user"),
        (3, "Config", "config"),
        (4, "System", "system"),
        (5, "Command", "command"),
    ]
    assert "pairing" in Genre.COMMAND.doc
    assert "heartbeat" in Genre.SYSTEM.doc


def test_value_types_match_the_spec() -> None:
    expected = {
        0x01: "Bool",
        0x02: "Byte",
        0x03: "Decimal",
        0x04: "Int",
        0x05: "List",
        0x06: "Schedule",
        0x07: "Short",
        0x08: "String",
        0x09: "Button",
        0x10: "Raw",
        0x14: "Password",
        0x15: "Json",
        0x16: "Array",
        0x17: "Var",
        0x20: "HADD",
        0x21: "IP",
        0x30: "RGB",
    }
    assert {t.value: t.label for t in ValueType} == expected
    # The decimal forms seen on the wire.
    assert sorted(t.value for t in ValueType) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 20, 21, 22, 23, 32, 33, 48]


def test_capabilities_match_the_spec() -> None:
    assert {c.value: c.label for c in Capability} == {
        0x00: "NO_OPERATION",
        0x01: "PRIMARY_CONTROLLER",
        0x02: "STATIC_UPDATE_CONTROLLER",
        0x03: "BRIDGE_CONTROLLER",
        0x04: "DYNAMIC_CONTROLLER",
        0x05: "TINY_CONTROLLER",
        0x10: "ROUTING",
        0x20: "LISTENING",
        0x21: "FREQUENT",
        0x50: "SECURITY",
        0x60: "BEAMING",
        0x80: "SLEEPING",
    }
    assert "default" in Capability.DYNAMIC_CONTROLLER.doc


@pytest.mark.parametrize(
    ("code", "label"),
    [
        (0x00, "NO_OPERATION"),
        (0x20, "BASIC"),
        (0x25, "SWITCH_BINARY"),
        (0x26, "SWITCH_MULTILEVEL"),
        (0x30, "SENSOR_BINARY"),
        (0x31, "SENSOR_MULTILEVEL"),
        (0x33, "CLASS_COLOR"),
        (0x70, "CONFIGURATION"),
        (0x9E, "SENSOR_CONFIGURATION"),
        (0xEF, "MARK"),
        (0xF0, "NON_INTEROPERABLE"),
        (0x1000, "DHCPD"),
        (0x1050, "CONTROLLER"),
        (0x1051, "NETWORK_CONTROLLER"),
        (0x10A0, "JMI"),
        (0x10B0, "FSM"),
        (0x2001, "ROOMBA_DRIVE"),
        (0x2203, "CAMERA_STREAM"),
        (0x2800, "LOG"),
        (0x3000, "BUTTON_BINARY"),
        (0x3010, "NOTIFY"),
        (0x3151, "SHUTTER_MULTILEVEL"),
        (0x3155, "BELL"),
        (0x3204, "UPDOWN"),
        (0x5000, "DISCOVERY"),
    ],
)
def test_command_class_labels_match_the_spec(code: int, label: str) -> None:
    assert CommandClass(code).label == label
    assert CommandClass(code).name == label
    assert describe(CommandClass, code) == label


def test_command_class_table_is_complete() -> None:
    # 89 Z-Wave derived, 17 Janitoo specific, 24 device family codes, and DISCOVERY.
    assert len(CommandClass) == 89 + 17 + 24 + 1
    zwave = [c for c in CommandClass if c.value < 0x100]
    janitoo = [c for c in CommandClass if 0x1000 <= c.value < 0x2000]
    assert (len(zwave), len(janitoo)) == (89, 17)
    assert 0x01 not in {c.value for c in CommandClass}
    assert not any(c.name.startswith("COMMAND_") for c in CommandClass)


def test_wire_usage_codes_are_known() -> None:
    for decimal in (112, 49, 48, 37, 38, 12288, 12289, 12624, 12625, 4272, 4177, 4176, 4096, 20480, 0):
        assert CommandClass(decimal).value == decimal


# --- Genre.from_word --------------------------------------------------------------------------------


@pytest.mark.parametrize("genre", list(Genre))
def test_genre_from_word_accepts_topic_word_and_name_in_any_case(genre: Genre) -> None:
    for word in (
        genre.topic_word,
        genre.name,
        genre.label,
        genre.topic_word.capitalize(),
        genre.name.swapcase(),
    ):
        assert Genre.from_word(word) is genre


@pytest.mark.parametrize("word", ["", "values", "basics", " basic", "1", "baſic", "BASİC"])
def test_genre_from_word_rejects_bad_words_with_a_clear_message(word: str) -> None:
    with pytest.raises(ValueError) as info:
        Genre.from_word(word)
    message = str(info.value)
    assert "\n" not in message
    assert repr(word) in message
    assert "basic, user, config, system, command" in message


def test_genre_from_word_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="unknown genre word 1"):
        Genre.from_word(1)  # type: ignore[arg-type]


# --- describe ---------------------------------------------------------------------------------------


def test_describe_known_codes() -> None:
    assert describe(Genre, 3) == "Config"
    assert describe(ValueType, 0x16) == "Array"
    assert describe(Capability, 0x04) == "DYNAMIC_CONTROLLER"
    assert describe(CommandClass, 0) == "NO_OPERATION"
    assert describe(CommandClass, CommandClass.FSM) == "FSM"


def test_describe_unknown_codes() -> None:
    # cmd_class 1 is what the original's factory action values send.
    assert describe(CommandClass, 1) == "unknown (0x0001)"
    assert describe(CommandClass, 0x10B1) == "unknown (0x10B1)"
    assert describe(CommandClass, 0x12345) == "unknown (0x12345)"
    assert describe(Genre, 0) == "unknown (0x0000)"
    assert describe(Genre, -1) == "unknown (-0x0001)"
    assert describe(ValueType, 0x0A) == "unknown (0x000A)"
    assert describe(Capability, 0x06) == "unknown (0x0006)"


@given(st.integers())
def test_describe_never_raises(code: int) -> None:
    for enum_cls in ALL_ENUMS:
        text = describe(enum_cls, code)
        known = code in {member.value for member in enum_cls}
        assert text.startswith("unknown (") != known


# --- constants --------------------------------------------------------------------------------------


def test_constants() -> None:
    assert NETWORK_REQUESTS == (
        "request_info_nodes",
        "request_info_users",
        "request_info_configs",
        "request_info_systems",
        "request_info_basics",
        "request_info_commands",
    )
    assert int(CommandClass.DISCOVERY) == 20480
    assert COMMAND_CONFIGURATION == 112 == int(CommandClass.CONFIGURATION)


def test_liveness_rank() -> None:
    assert dict(LIVENESS_RANK) == {
        "ONLINE": 5,
        "BOOT": 4,
        "CONFIG": 4,
        "PENDING": 3,
        "FAILED": 2,
        "DEAD": 1,
        "OFFLINE": 0,
        "UNKNOWN": -1,
    }
    assert "ERROR" not in LIVENESS_RANK
    with pytest.raises(TypeError):
        LIVENESS_RANK["ERROR"] = 9  # type: ignore[index]


# --- string_to_bool ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (True, True),
        (False, False),
        (None, False),
        ("0", False),
        ("false", False),
        ("FALSE", False),
        ("False", False),
        ("off", False),
        ("Off", False),
        ("no", False),
        ("NO", False),
        ("  no \n", False),
        ("\t0 ", False),
        ("1", True),
        ("true", True),
        ("on", True),
        ("yes", True),
        ("", True),
        ("nope", True),
        ("00", True),
        ("0.0", True),
        (0, False),
        (1, True),
        (-3, True),
        (0.0, False),
        (0.5, True),
    ],
)
def test_string_to_bool(data: object, expected: bool) -> None:
    assert string_to_bool(data) is expected


@pytest.mark.parametrize("data", [[], [0], {}, {"a": 1}, b"0", object()])
def test_string_to_bool_rejects_other_types(data: object) -> None:
    with pytest.raises(ValueError, match="as a boolean"):
        string_to_bool(data)


# --- convert_data -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value_type", [*ValueType, 0, 0x0A, 0x99, -1])
def test_none_stays_none_for_every_type(value_type: int) -> None:
    assert convert_data(value_type, None) is None


@pytest.mark.parametrize(
    ("value_type", "data", "expected"),
    [
        (ValueType.BOOL, "off", False),
        (ValueType.BOOL, "On", True),
        (ValueType.BOOL, True, True),
        (ValueType.BOOL, 0, False),
        (ValueType.BYTE, "6", 6),
        (ValueType.BYTE, 7, 7),
        (ValueType.INT, " -12 ", -12),
        (ValueType.INT, 3.9, 3),
        (ValueType.INT, True, 1),
        (ValueType.SHORT, "300", 300),
        (ValueType.DECIMAL, "21.5", 21.5),
        (ValueType.DECIMAL, 21, 21.0),
        (ValueType.DECIMAL, "1e3", 1000.0),
        (ValueType.STRING, "kitchen", "kitchen"),
        (ValueType.STRING, 6, "6"),
        (ValueType.STRING, 2.5, "2.5"),
        (ValueType.ARRAY, "a|b|c", ["a", "b", "c"]),
        (ValueType.ARRAY, "a", ["a"]),
        (ValueType.ARRAY, "", [""]),
        (ValueType.ARRAY, ["x", "y"], ["x", "y"]),
        (ValueType.ARRAY, ("x", "y"), ["x", "y"]),
        # The int code works as well as the enum member.
        (4, "5", 5),
        (0x03, "0.25", 0.25),
    ],
)
def test_convert_data_rules(value_type: int, data: object, expected: object) -> None:
    result = convert_data(value_type, data)
    assert result == expected
    assert type(result) is type(expected)


def test_convert_data_keeps_the_same_list() -> None:
    items = ["a", "b"]
    assert convert_data(ValueType.ARRAY, items) is items


@pytest.mark.parametrize(
    "value_type",
    [
        ValueType.LIST,
        ValueType.SCHEDULE,
        ValueType.BUTTON,
        ValueType.RAW,
        ValueType.PASSWORD,
        ValueType.JSON,
        ValueType.VAR,
        ValueType.HADD,
        ValueType.IP,
        ValueType.RGB,
        0x0A,
        0x99,
        -1,
    ],
)
def test_types_without_a_rule_and_unknown_types_are_unchanged(value_type: int) -> None:
    for data in ("abc", 12, 1.5, ["a"], {"k": "v"}, True):
        assert convert_data(value_type, data) is data


@pytest.mark.parametrize(
    ("value_type", "data", "message"),
    [
        (ValueType.INT, "abc", "cannot convert 'abc' to Int"),
        (ValueType.BYTE, "1.5", "cannot convert '1.5' to Byte"),
        (ValueType.SHORT, "", "cannot convert '' to Short"),
        (ValueType.INT, [1], "cannot convert [1] to Int"),
        (ValueType.INT, {"a": 1}, "cannot convert {'a': 1} to Int"),
        (ValueType.INT, float("inf"), "cannot convert inf to Int"),
        (ValueType.INT, float("nan"), "cannot convert nan to Int"),
        (ValueType.DECIMAL, "warm", "cannot convert 'warm' to Decimal"),
        (ValueType.DECIMAL, [], "cannot convert [] to Decimal"),
        (ValueType.DECIMAL, 10**400, "to Decimal"),
        (ValueType.BOOL, [], "cannot convert [] to Bool"),
        (ValueType.BOOL, {"on": True}, "cannot convert {'on': True} to Bool"),
        (ValueType.ARRAY, 5, "cannot convert 5 to Array"),
        (ValueType.ARRAY, {"a": 1}, "cannot convert {'a': 1} to Array"),
    ],
)
def test_convert_data_failures(value_type: int, data: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        convert_data(value_type, data)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_convert_data_failure_message_is_bounded() -> None:
    with pytest.raises(ValueError) as info:
        convert_data(ValueType.INT, "x" * 10_000 + "\n")
    text = str(info.value)
    assert len(text) < 120
    assert "\n" not in text
    assert text.startswith("cannot convert 'xxx") and text.endswith("to Int")


json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=10,
)


@given(value_type=st.sampled_from(list(ValueType)), text=st.text())
def test_convert_data_on_arbitrary_text_raises_only_value_error(value_type: ValueType, text: str) -> None:
    try:
        result = convert_data(value_type, text)
    except ValueError as exc:
        assert value_type.label in str(exc)
        assert "\n" not in str(exc)
        return
    if value_type in (ValueType.BYTE, ValueType.INT, ValueType.SHORT):
        assert isinstance(result, int)
    elif value_type is ValueType.DECIMAL:
        assert isinstance(result, float)
    elif value_type is ValueType.BOOL:
        assert isinstance(result, bool)
    elif value_type is ValueType.ARRAY:
        assert result == text.split("|")
    else:
        assert result is text


@given(value_type=st.one_of(st.sampled_from(list(ValueType)), st.integers()), data=json_data)
def test_convert_data_on_arbitrary_json_raises_only_value_error(value_type: int, data: object) -> None:
    try:
        result = convert_data(value_type, data)
    except ValueError:
        return
    if data is None:
        assert result is None
