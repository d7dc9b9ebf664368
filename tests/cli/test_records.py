"""A value's record blanks exactly the keys its node did not send, whatever keys the wire brought."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from janitoo_cli import render
from janitoo_cli.render import value_record
from janitoo_protocol import ValueInfo

WIRE_KEYS = ["uuid", "hadd", "node_uuid", "genre", "type", "cmd_class", "index", "data", "default", "label",
             "help", "units", "min", "max", "list_items", "is_readonly", "is_writeonly", "is_polled",
             "poll_delay", "voice_uuid", "reply_hadd", "entry_name", "idx", "cmdclass", "jnt_index"]  # fmt: skip
FULL = {"uuid": "switch", "hadd": "0225/0004", "node_uuid": "led", "genre": 2, "type": 1, "cmd_class": 37,
        "index": 1, "data": True, "default": False, "label": "Switch", "help": "On or off", "units": "",
        "min": 0, "max": 1, "list_items": ["on", "off"], "is_readonly": False, "is_writeonly": False,
        "is_polled": True, "poll_delay": 30, "reply_hadd": "9999/9990"}  # fmt: skip


def blanked_one_by_one(value: ValueInfo) -> dict[str, Any]:
    """The rule as first written: every record key but uuid and idx whose wire key was not sent is None."""
    rec = value_record(dataclasses.replace(value, wire_keys=None))
    if value.wire_keys is not None:
        sent = set(value.wire_keys)
        for key in rec:
            if (
                key not in ("uuid", "idx")
                and {"idx": "index", "cmdclass": "cmd_class"}.get(key, key) not in sent
            ):
                rec[key] = None
    return rec


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WIRE_KEYS), unique=True).map(tuple))
def test_the_remembered_blanks_are_the_rule_applied_key_by_key(keys: tuple[str, ...]) -> None:
    value = ValueInfo.from_wire({k: FULL.get(k, "x") for k in ("uuid", *keys)})
    assert value_record(value) == blanked_one_by_one(value)
    assert value_record(value) == value_record(value)  # the second time from the remembered blanks


def test_the_blanks_cover_every_record_key_but_uuid_and_idx() -> None:
    keys = list(value_record(ValueInfo("x")))
    assert list(render._OPTIONAL_KEYS) == [k for k in keys if k not in ("uuid", "idx")]


def test_key_sets_from_a_hostile_node_cannot_grow_the_memory_without_bound() -> None:
    for i in range(render._UNSENT_MAX * 2):
        value_record(ValueInfo.from_wire({"uuid": "x", f"junk{i}": 1}))
    assert len(render._UNSENT) <= render._UNSENT_MAX
