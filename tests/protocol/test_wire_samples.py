"""Every message the original Janitoo put on the wire decodes, and re-encodes to the same topic and JSON."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from janitoo_protocol import Heartbeat, ProtocolError, decode, encode

DATA = Path(__file__).resolve().parent.parent / "data" / "original"
CAPTURES = sorted(DATA.glob("*.jsonl"))
SPY = DATA / "original-jnt_spy-boot-to-query-node.txt"
# jnt_spy on Python 3 prints `topic qos b'payload'`.
SPY_LINE = re.compile(r"^(?P<topic>/\S*) (?P<qos>\d) (?P<payload>b(?P<q>['\"]).*(?P=q))$")


def _capture(path: Path) -> list[tuple[int, str, str]]:
    """(line number, topic, payload text) of every message of a JSON-lines capture."""
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            record = json.loads(line)
            out.append((lineno, record["topic"], record["payload"]))
    return out


def _check(where: str, topic: str, payload: str | bytes) -> None:
    """Decode, re-encode, compare with the original, and decode again."""
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    message = decode(topic, payload)
    out_topic, out_payload = encode(message)
    assert out_topic == topic, where
    if isinstance(message, Heartbeat):
        # The original's heartbeat is a bare word, not JSON: equal as text.
        assert out_payload.decode("ascii") == text, where
    else:
        assert json.loads(out_payload) == json.loads(text), where
    assert decode(out_topic, out_payload) == message, where


def _check_capture(path: Path) -> int:
    messages = _capture(path)
    for lineno, topic, payload in messages:
        _check(f"{path.name}:{lineno} {topic}", topic, payload)
    return len(messages)


def _spy_messages() -> list[tuple[int, str, bytes]]:
    out = []
    for lineno, line in enumerate(SPY.read_text(encoding="utf-8").splitlines(), 1):
        match = SPY_LINE.match(line)
        if match:
            payload = ast.literal_eval(match["payload"])
            assert isinstance(payload, bytes)
            out.append((lineno, match["topic"], payload))
    return out


@pytest.mark.parametrize("path", CAPTURES, ids=[p.name for p in CAPTURES])
def test_every_captured_message_round_trips(path: Path) -> None:
    assert _check_capture(path) > 0


def test_all_captures_are_checked() -> None:
    # Guards against an empty glob or empty files making the parametrized test pass on nothing.
    assert len(CAPTURES) >= 8, [p.name for p in CAPTURES]
    assert sum(_check_capture(path) for path in CAPTURES) > 400


def test_every_jnt_spy_payload_decodes() -> None:
    messages = _spy_messages()
    # Every line that names a topic is a message; none may slip past the pattern.
    topic_lines = [line for line in SPY.read_text(encoding="utf-8").splitlines() if line.startswith("/")]
    assert len(messages) == len(topic_lines) > 80
    for lineno, topic, payload in messages:
        try:
            decode(topic, payload)
        except ProtocolError as exc:
            pytest.fail(f"{SPY.name}:{lineno}: {exc}")


def test_every_jnt_spy_payload_round_trips() -> None:
    for lineno, topic, payload in _spy_messages():
        _check(f"{SPY.name}:{lineno} {topic}", topic, payload)
