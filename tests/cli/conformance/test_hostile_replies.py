"""The checker's judges fed with arbitrary discovery replies and publications: they report, never raise."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from janitoo_cli.conformance.checks import Checker, Options
from janitoo_cli.conformance.results import Outcome
from janitoo_cli.conformance.session import Seen, Session, parse_json
from janitoo_protocol import Hadd, decode
from janitoo_protocol.codes import NETWORK_REQUESTS
from janitoo_protocol.transport import JanitooClient

HADD = Hadd.parse("0225/0001")
REPLY = "/nodes/9999/9990/reply"

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
keys = st.sampled_from(["0225/0001", "0225/0000", "x", "0", "uuid", "hadd", "heartbeat", "location", "1"])
nested = st.recursive(
    st.one_of(json_values, st.fixed_dictionaries({"uuid": st.text(max_size=8), "hadd": keys, "genre": scalars,
                                                   "index": scalars, "heartbeat": scalars, "min": scalars})),
    lambda inner: st.dictionaries(keys, inner, max_size=4),
    max_leaves=40,
)  # fmt: skip


def seen(topic: str, body: Any) -> Seen:
    payload = json.dumps(body).encode()
    try:
        message, error = decode(topic, payload), None
    except Exception as exc:  # noqa: BLE001 - the codec's own failures are data here
        message, error = None, str(exc)
    return Seen(0.0, topic, payload, False, message, error, parse_json(payload))


def checker() -> Checker:
    # A client that never connects: these judges only read what was recorded.
    session = Session(JanitooClient("127.0.0.1", 1), HADD)
    return Checker(session, Options(HADD))


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.sampled_from(NETWORK_REQUESTS), nested, min_size=1))
def test_discovery_judges_never_raise(data: dict[str, Any]) -> None:
    c = checker()
    for kind, d in data.items():
        c.replies[kind] = seen(REPLY, {"cmd_class": 20480, "genre": 4, "uuid": kind, "reply_hadd": "9999/9990",
                                       "data": d})  # fmt: skip
        c.check_envelope(kind, c.replies[kind], "JNT-DISC-02")
    c.read_nodes()
    c.read_values()
    c.check_required()
    for r in c.r.results():
        assert "\n" not in r.message and len(r.message) <= 300
    assert c.r.results()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["basic", "user", "system", "bogus"]), nested), max_size=6))
def test_publication_judges_never_raise(pubs: list[tuple[str, Any]]) -> None:
    c = checker()
    for word, body in pubs:
        c.s.seen.append(seen(f"/values/{word}/0225/0001/v", body))
    c.end = 1.0
    c.check_publications()
    c.check_wire()
    outcome = {r.assertion.id: r.outcome for r in c.r.results()}
    assert outcome["JNT-POLL-02"] in (Outcome.PASS, Outcome.FAIL, Outcome.NA)


def test_a_hadd_that_is_not_the_controllers_is_a_problem_not_a_crash() -> None:
    c = checker()
    nodes = {"a": {"uuid": "a", "hadd": "garbage"}, "b": {"uuid": "b", "hadd": "0999/0001"}}
    c.replies["request_info_nodes"] = seen(REPLY, {"uuid": "request_info_nodes", "data": nodes})
    c.read_nodes()
    got = {r.assertion.id: r for r in c.r.results()}
    assert got["JNT-DISC-03"].outcome is Outcome.FAIL and "garbage" in got["JNT-DISC-03"].message
    assert c.nodes == {}
