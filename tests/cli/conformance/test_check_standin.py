"""`jnt check` against stand-ins of the original built from the spec: each of its deviations is reported by
its assertion id; broken and hostile nodes fail the right assertions and never crash the checker."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from janitoo_cli.conformance.checks import Checker, Options
from janitoo_cli.conformance.command import MAX_REPLY
from janitoo_cli.conformance.report import render
from janitoo_cli.conformance.results import Outcome
from janitoo_cli.conformance.session import Session
from janitoo_cli.main import cli
from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import Hadd
from janitoo_protocol.transport import JanitooClient

from .standin import Knobs, StandIn

FAST = ["--timeout", "1", "--observe", "8"]

# The original node manager (a component of it), checked in full: every deviation and nothing else.
NODE_MANAGER_FAILS = {
    "JNT-HB-03",  # heartbeats every 2.5 s, advertises 1 s (§5.2)
    "JNT-HB-04",  # heartbeat min 0 (§8.1)
    "JNT-REF-01",  # unknown value: silence (§4.3)
    "JNT-REF-02",  # no read-only check (§4.3)
    "JNT-REF-03",  # text stored in an Int (§4.3)
    "JNT-REF-04",  # wrong cmd_class: silence (§4.3)
    "JNT-SAFE-01",  # every unknown key echoed (§4.1)
    "JNT-SAFE-02",  # control characters stored (§8.5)
    "JNT-SAFE-03",  # heartbeat 0 accepted (§8.1)
    "JNT-SAFE-04",  # any poll delay (§8.3)
    "JNT-POLL-02",  # polled command value under /values/user/ (§4.4)
}
NODE_MANAGER_WARNS = {"JNT-HB-06", "JNT-IDX-01", "JNT-IDX-02", "JNT-SAFE-07"}
# The DHCP server's controller manager, the network's primary (§4.2 kind B, §4.5, §5.3).
CONTROLLER_MANAGER_FAILS = {
    "JNT-DISC-03",
    "JNT-DISC-04",
    "JNT-DISC-06",
    "JNT-HB-04",
    "JNT-REF-01",
    "JNT-REF-03",
    "JNT-SAFE-01",
    "JNT-SAFE-02",
    "JNT-SAFE-03",
}
CONTROLLER_MANAGER_WARNS = {"JNT-SAFE-07", "JNT-IDX-02", "JNT-CTL-04", "JNT-CTL-05", "JNT-CTL-06"}


@pytest.fixture
def broker() -> Iterator[MosquittoBroker]:
    # Each stand-in test has a broker of its own: the checker listens to whole controllers.
    with MosquittoBroker() as b:
        yield b


def run_check(broker: MosquittoBroker, hadd: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["check", "--hadd", hadd, "--port", str(broker.port), "--prefix", "p", *FAST, *args]
    )
    assert result.exit_code in (0, 1), f"{result.exit_code}: {result.output[-2000:]} {result.exception!r}"
    return result.exit_code, result.stdout, result.stderr


def outcomes(report: dict[str, Any], outcome: Outcome) -> set[str]:
    return {r["id"] for r in report["results"] if r["result"] == outcome.value}


def test_the_original_node_manager_is_reported_deviation_by_deviation(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    with StandIn(broker.host, broker.port, "p", Knobs()) as standin:
        code, out, err = run_check(broker, "0225/0001", "--format", "json")
        report = json.loads(out)
        assert outcomes(report, Outcome.FAIL) == NODE_MANAGER_FAILS
        assert outcomes(report, Outcome.WARN) == NODE_MANAGER_WARNS
        assert code == 1 and err.count("\n") == 1 and "does not conform" in err
        by_id = {r["id"]: r["message"] for r in report["results"]}
        assert "silent refusal" in by_id["JNT-REF-01"]
        assert "load_config index 2" in by_id["JNT-IDX-01"]
        # Everything it wrongly accepted was written back.
        v = standin.values["0225/0001"]
        assert (v["location"][0]["data"], v["heartbeat"][0]["data"], v["temperature_poll"][0]["data"]) == (
            "Bench",
            1,
            1,
        )
        assert [v["load_config"][i]["data"] for i in range(3)] == ["1", "5", "15"]
        assert report["notes"] == []


def test_read_only_junit_report_of_the_original_counts_its_failures(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    out = tmp_path / "conformance.xml"
    with StandIn(broker.host, broker.port, "p", Knobs()) as standin:
        code, stdout, _ = run_check(
            broker, "0225/0001", "--read-only", "--format", "junit", "--output", str(out)
        )
        sets = [r for r in standin.received if r.get("is_writeonly")]
    assert code == 1 and stdout == ""
    assert sets == [] and len(standin.received) > 10  # --read-only sent no SET
    suite = ET.parse(out).getroot().find("testsuite")
    assert suite is not None
    failed = {c.get("name", "").split()[0] for c in suite.iter("testcase") if c.find("failure") is not None}
    # --read-only: the deviations only a SET shows are n/a (skipped), not failures; silent refusals fail.
    assert failed == {"JNT-HB-03", "JNT-HB-04", "JNT-REF-01", "JNT-REF-04", "JNT-SAFE-01", "JNT-POLL-02"}
    assert suite.get("failures") == str(len(failed))
    skipped = {c.get("name", "").split()[0] for c in suite.iter("testcase") if c.find("skipped") is not None}
    assert {"JNT-SET-01", "JNT-REF-02", "JNT-SAFE-02", "JNT-SAFE-03"} <= skipped


def test_the_original_dhcp_server_as_primary(broker: MosquittoBroker) -> None:
    knobs = Knobs(controller_manager=True, primary=True, advertised=1, heartbeat_every=1)
    with StandIn(broker.host, broker.port, "p", knobs):
        _, out, _ = run_check(broker, "0225/0000", "--format", "json")
    report = json.loads(out)
    assert outcomes(report, Outcome.FAIL) == CONTROLLER_MANAGER_FAILS
    assert outcomes(report, Outcome.WARN) == CONTROLLER_MANAGER_WARNS
    assert {"JNT-CTL-01", "JNT-CTL-02", "JNT-CTL-03"} <= outcomes(report, Outcome.PASS)


@pytest.mark.parametrize(
    ("knobs", "must_fail"),
    [
        (Knobs(heartbeats=False), {"JNT-HB-01", "JNT-HB-03", "JNT-HB-05"}),
        (Knobs(broken_shapes=True), {"JNT-DISC-02", "JNT-DISC-03", "JNT-DISC-06", "JNT-WIRE-02"}),
    ],
    ids=["no-heartbeat", "wrong-reply-shape"],  # silent on refusal: the original, above
)
def test_a_broken_node_fails_the_right_assertions(
    broker: MosquittoBroker, knobs: Knobs, must_fail: set[str]
) -> None:
    with StandIn(broker.host, broker.port, "p", knobs):
        code, out, _ = run_check(broker, "0225/0001", "--read-only", "--format", "json", "--observe", "6")
    report = json.loads(out)
    assert code == 1
    assert must_fail <= outcomes(report, Outcome.FAIL)
    assert "JNT-DISC-07" not in outcomes(report, Outcome.FAIL)


def test_a_hostile_node_never_crashes_the_checker(broker: MosquittoBroker) -> None:
    with StandIn(broker.host, broker.port, "p", Knobs(hostile=True)):
        client = JanitooClient(broker.host, broker.port, prefix="p", max_payload=MAX_REPLY).connect()
        try:
            session = Session(client, Hadd.parse("0225/0001"))
            session.start()
            report = Checker(
                session, Options(Hadd.parse("0225/0001"), timeout=1, observe=3, read_only=True, quiet=0.5)
            ).run()
        finally:
            client.close()
    assert not report.ok
    fails = {r.assertion.id for r in report.results if r.outcome is Outcome.FAIL}
    assert {"JNT-HB-01", "JNT-WIRE-02", "JNT-DISC-01"} <= fails
    for fmt in ("table", "json", "junit"):
        text = render(report, fmt)
        assert not any(ord(c) < 32 and c not in "\n" for c in text), fmt
        assert "\u2028" not in text and "A" * 1000 not in text
    ET.fromstring(render(report, "junit"))
    json.loads(render(report, "json"))


def _checker(broker: MosquittoBroker, until: float) -> tuple[JanitooClient, Session, Checker]:
    client = JanitooClient(broker.host, broker.port, prefix="p").connect()
    session = Session(client, Hadd.parse("0225/0001"))
    session.start()
    checker = Checker(session, Options(Hadd.parse("0225/0001"), timeout=2, until_offline=until))
    checker.check_discovery()
    return client, session, checker


def test_until_offline_a_crash_without_will_is_reported(broker: MosquittoBroker) -> None:
    standin = StandIn(broker.host, broker.port, "p", Knobs(heartbeat_every=1)).start()
    client, session, checker = _checker(broker, until=10)
    try:
        mark = session.mark()
        standin.crash()
        checker.check_offline(mark)
    finally:
        client.close()
    got = {r.assertion.id: r for r in checker.r.results()}
    assert got["JNT-LW-01"].outcome is Outcome.WARN and "without a will" in got["JNT-LW-01"].message
    assert got["JNT-HB-07"].outcome is Outcome.NA


def test_until_offline_a_clean_stop_says_offline_for_every_node(broker: MosquittoBroker) -> None:
    standin = StandIn(broker.host, broker.port, "p", Knobs(heartbeat_every=1)).start()
    client, session, checker = _checker(broker, until=10)
    try:
        mark = session.mark()
        standin.stop()
        checker.check_offline(mark)
    finally:
        client.close()
    got = {r.assertion.id: r for r in checker.r.results()}
    assert got["JNT-HB-07"].outcome is Outcome.PASS, got["JNT-HB-07"].message
    assert got["JNT-LW-01"].outcome is Outcome.NA
