"""Hadd: the `CCCC/NNNN` address, its text form, ordering, hashing and validation."""

from __future__ import annotations

import pytest

from janitoo_protocol import Hadd, ProtocolError
from janitoo_protocol.addressing import parse_hadd_or_none


@pytest.mark.parametrize(
    ("text", "controller", "node"),
    [
        ("0225/0003", 225, 3),
        ("0001/0000", 1, 0),
        ("9999/9990", 9999, 9990),
        ("0000/0000", 0, 0),
        ("12345/0001", 12345, 1),  # wider than 4 digits: the original's %0.4d simply widens
        ("-001/0000", -1, 0),  # how the original renders -1
        ("225/3", 225, 3),  # int() on each half: padding is not required to read
        (" 0121/0002 ", 121, 2),
    ],
)
def test_parse(text: str, controller: int, node: int) -> None:
    hadd = Hadd.parse(text)
    assert hadd == Hadd(controller, node)
    assert (hadd.controller, hadd.node) == (controller, node)


@pytest.mark.parametrize(
    ("controller", "node", "text"),
    [
        (225, 3, "0225/0003"),
        (1, 0, "0001/0000"),
        (0, 0, "0000/0000"),
        (9999, 9999, "9999/9999"),
        (10000, 1, "10000/0001"),
        (1, 123456, "0001/123456"),
        (-1, 0, "-001/0000"),
    ],
)
def test_format_pads_to_four_digits_and_widens_over_9999(controller: int, node: int, text: str) -> None:
    hadd = Hadd(controller, node)
    assert str(hadd) == text
    assert f"{hadd}" == text
    assert repr(hadd) == f"Hadd('{text}')"
    assert Hadd.parse(str(hadd)) == hadd


def test_parse_returns_a_hadd_unchanged() -> None:
    hadd = Hadd(121, 1)
    assert Hadd.parse(hadd) is hadd


def test_of_defaults_to_the_controller_node() -> None:
    assert Hadd.of(121) == Hadd(121, 0)
    assert Hadd.of("121", "2") == Hadd(121, 2)  # type: ignore[arg-type]


def test_ordering_is_controller_then_node() -> None:
    hadds = [Hadd(2, 0), Hadd(1, 5), Hadd(10000, 0), Hadd(1, 0), Hadd(1, 10)]
    assert sorted(hadds) == [Hadd(1, 0), Hadd(1, 5), Hadd(1, 10), Hadd(2, 0), Hadd(10000, 0)]
    assert Hadd(1, 9999) < Hadd(2, 0)
    assert Hadd(121, 1) > Hadd(121, 0)
    assert max(hadds) == Hadd(10000, 0)


def test_equal_hadds_hash_equal_and_work_as_keys() -> None:
    a = Hadd.parse("0121/0001")
    b = Hadd(121, 1)
    assert a == b
    assert hash(a) == hash(b)
    assert {a: "load"}[b] == "load"
    assert len({a, b, Hadd.parse("121/1"), Hadd(121, 2)}) == 2
    assert Hadd(121, 1) != Hadd(1, 121)


def test_hadd_is_immutable() -> None:
    hadd = Hadd(1, 2)
    with pytest.raises(AttributeError):
        hadd.node = 3  # type: ignore[misc]


def test_is_controller() -> None:
    assert Hadd.parse("0225/0000").is_controller
    assert Hadd(1, 0).is_controller
    assert not Hadd.parse("0225/0003").is_controller
    assert not Hadd(0, 1).is_controller


def test_controller_hadd() -> None:
    assert Hadd.parse("0225/0003").controller_hadd == Hadd(225, 0)
    assert str(Hadd(121, 2).controller_hadd) == "0121/0000"
    controller = Hadd(121, 0)
    assert controller.controller_hadd == controller
    assert controller.controller_hadd.is_controller


@pytest.mark.parametrize("text", ["abc", "12", "1/2/3", "a/b", "", "0121/", "/0001", "1.5/2", "0x10/0001"])
def test_invalid_text_raises_protocol_error_naming_it(text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        Hadd.parse(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize("value", [None, 5, 1.5, ["0001", "0000"], {"add_ctrl": 1}, b"0001/0000"])
def test_non_text_raises_protocol_error_naming_it(value: object) -> None:
    with pytest.raises(ProtocolError) as info:
        Hadd.parse(value)
    assert repr(value) in str(info.value)


def test_protocol_error_is_a_value_error() -> None:
    # Callers that only know ValueError still catch a bad address.
    with pytest.raises(ValueError):
        Hadd.parse("abc")


@pytest.mark.parametrize("empty", [None, "", "None"])
def test_parse_hadd_or_none_reads_the_originals_three_spellings_of_no_address(empty: object) -> None:
    assert parse_hadd_or_none(empty) is None


def test_parse_hadd_or_none_parses_an_address_and_rejects_garbage() -> None:
    assert parse_hadd_or_none("9999/9990") == Hadd(9999, 9990)
    with pytest.raises(ProtocolError, match="abc"):
        parse_hadd_or_none("abc")
