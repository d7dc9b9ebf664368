"""`--format json` is written faster than json.dumps(indent=2) writes it, and is the very same text."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from janitoo_cli.jsontext import dumps_indented
from janitoo_cli.render import node_record, to_json, value_record
from janitoo_protocol import Hadd, NodeInfo, ValueInfo


class Level(enum.IntEnum):
    LOW = 1


class Word(enum.StrEnum):
    ODD = 'odd\n"word"'


class Ratio(float):
    pass


class Opaque:
    """Not JSON: `default=str` turns it into its text."""

    def __str__(self) -> str:
        return "opaque \u00e9 \x00"


def reference(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


# Text with what must be escaped: quotes, backslashes, control characters (NUL is the records' marker),
# line and paragraph separators, non-BMP characters, lone surrogates.
text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["", "\x00", ",\x00", "},\x00{", '"', "\\", "\n", "\u2028", "\ud800", "😀", "é"]
)
scalars = (
    text
    | st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([Level.LOW, Word.ODD, Ratio(1.5), Ratio(float("nan")), Opaque(), Hadd(225, 3), -0.0])
)
keys = text | st.integers(-5, 5) | st.floats(allow_nan=False) | st.booleans() | st.none()
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(text, inner, max_size=4)
        | st.dictionaries(keys, inner, max_size=3)
    ),
    max_leaves=25,
)
flat_record = st.dictionaries(text, scalars.filter(lambda v: type(v) in (str, int, float, bool, type(None))),
                              min_size=1, max_size=6)  # fmt: skip


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_any_value_is_written_as_the_standard_encoder_writes_it(obj: Any) -> None:
    assert dumps_indented(obj) == reference(obj)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(flat_record, max_size=6), st.dictionaries(text, st.lists(flat_record, max_size=4), max_size=3)
)
def test_tables_of_records_are_written_as_the_standard_encoder_writes_them(
    rows: list[dict[str, Any]], keyed: dict[str, list[dict[str, Any]]]
) -> None:
    assert dumps_indented(rows) == reference(rows)
    assert dumps_indented(keyed) == reference(keyed)
    assert dumps_indented([keyed, rows, [rows]]) == reference([keyed, rows, [rows]])


@pytest.mark.parametrize(
    "obj",
    [
        [], {}, [[]], [{}], [{}, {"a": 1}], {"a": []}, {"a": {}}, (1, (2,)), [1, [2, [3, {}]]],
        {1: "x", "b": [1]}, {True: 1, None: 2, 1.5: [3], float("nan"): 4}, [{"n": math.inf, "m": -math.inf}],
        [{"a": Level.LOW}], [{"a": "},\x00{"}, {"b": ",\x00"}], {"records": [{"x": 1}], "more": [{"y": 2}]},
        [Opaque(), {"o": Opaque()}], {"k": {1: {2: [Opaque()]}}}, 10**40, "plain",
    ],
)  # fmt: skip
def test_the_odd_shapes(obj: Any) -> None:
    assert dumps_indented(obj) == reference(obj)


def test_nodes_and_values_as_jnt_prints_them() -> None:
    node = NodeInfo(
        hadd=Hadd(225, 0), uuid="ctrl", name="Living\nroom", capabilities=(4,), cmd_classes=(4176, 112)
    )
    values = [
        ValueInfo("temperature", hadd=Hadd(225, 1), data=21.5, list_items=["a", "b"], min=-1e300),
        ValueInfo.from_wire({"uuid": "location", "hadd": "0225/0001", "data": "Salon", "cmd_class": 112}),
    ]
    tables = {
        "request_info_nodes": [node_record(node)],
        "request_info_users": [value_record(v) for v in values],
    }
    assert to_json(tables) == reference(tables)
