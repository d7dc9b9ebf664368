"""The assertion table, the docs generated from it, and the reports (no broker needed)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from janitoo_cli.conformance import docs
from janitoo_cli.conformance.assertions import ASSERTIONS, BY_ID, CLIENT, CONTROLLER, MAY, MUST, NODE, SHOULD
from janitoo_cli.conformance.report import render, render_junit, render_markdown, report_dict
from janitoo_cli.conformance.results import MAX_MESSAGE, Outcome, Recorder, Report, clip
from janitoo_cli.main import cli

REPO = Path(__file__).resolve().parents[3]
POISON = "\x1b[2J\x00]]></failure><x a='\"'>\u2028\ud800\x85" + "z" * 1000


def test_ids_are_unique_well_formed_and_sorted_by_area() -> None:
    ids = [a.id for a in ASSERTIONS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"JNT-[A-Z]+-\d\d", i) for i in ids)
    assert all(a.level in (MUST, SHOULD, MAY) and a.role in (NODE, CONTROLLER, CLIENT) for a in ASSERTIONS)


def test_every_deviation_names_its_spec_section_and_client_assertions_are_not_checked() -> None:
    for a in ASSERTIONS:
        if a.deviation is not None:
            assert "spec §" in a.deviation, a.id
        if a.role == CLIENT:
            assert not a.checked, a.id


def test_the_safety_rules_of_the_lead_are_musts() -> None:
    for aid in ("JNT-SAFE-01", "JNT-SAFE-02", "JNT-HB-04", "JNT-REF-01"):
        assert BY_ID[aid].level == MUST
    assert BY_ID["JNT-LW-01"].extension and BY_ID["JNT-DISC-08"].extension and BY_ID["JNT-IDX-01"].extension


def test_docs_protocol_md_holds_the_generated_section() -> None:
    text = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = docs.section_of(text)
    assert section is not None, "docs/protocol.md lost its assertion markers"
    assert section == render_markdown(), (
        "docs/protocol.md and the assertion table differ: "
        "run python -m janitoo_cli.conformance.docs docs/protocol.md"
    )
    for a in ASSERTIONS:
        assert f"`{a.id}`" in section


def test_docs_updater_rewrites_only_between_the_markers(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(f"intro\n{docs.BEGIN}\nstale\n{docs.END}\noutro\n", encoding="utf-8")
    assert docs.main([str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith("outro\n") and "stale" not in text
    assert docs.section_of(text) == render_markdown()
    page.write_text("no markers", encoding="utf-8")
    assert docs.main([str(page)]) == 1


def test_jnt_check_list_prints_the_table() -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["check", "--list", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert [a["id"] for a in json.loads(out.output)] == [a.id for a in ASSERTIONS]
    md = runner.invoke(cli, ["check", "--list", "--format", "markdown"])
    assert md.output.strip() == render_markdown().strip()


def test_jnt_check_needs_a_hadd_and_a_report_format() -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["check"])
    assert out.exit_code == 2 and "--hadd is required" in out.output
    out = runner.invoke(cli, ["check", "--hadd", "0225/0000", "--format", "markdown"])
    assert out.exit_code == 2 and "junit" in out.output


def test_recorder_a_failure_wins_and_a_should_only_warns() -> None:
    r = Recorder()
    r.record("JNT-HB-01", True, "fine")
    r.record("JNT-HB-01", False, "broken")
    r.record("JNT-HB-01", True, "fine again")
    r.record("JNT-HB-06", False, "offline")
    r.record("JNT-DISC-01", None, "n/a")
    r.record("JNT-DISC-01", True, "too late")
    got = {x.assertion.id: x for x in r.results()}
    assert (got["JNT-HB-01"].outcome, got["JNT-HB-01"].message) == (Outcome.FAIL, "broken")
    assert got["JNT-HB-06"].outcome is Outcome.WARN
    assert got["JNT-DISC-01"].outcome is Outcome.NA
    assert got["JNT-DISC-02"].message == "not observed"
    assert all(x.assertion.checked for x in r.results())


def _report(outcomes: dict[str, bool | None], message: str = "m") -> Report:
    r = Recorder()
    for aid, ok in outcomes.items():
        r.record(aid, ok, message)
    return Report("0225/0000", "127.0.0.1:1883", r.results())


def test_report_conforms_only_when_every_must_passes() -> None:
    assert _report({"JNT-HB-06": False}).ok  # a SHOULD
    bad = _report({"JNT-HB-01": False, "JNT-REF-01": False})
    assert not bad.ok
    assert "does not conform" in bad.summary() and "JNT-HB-01 JNT-REF-01" in bad.summary()
    assert "\n" not in bad.summary()
    restored = _report({})
    restored.restore_failed = True
    assert not restored.ok


def test_junit_xml_parses_with_the_right_counts_even_with_poisoned_messages() -> None:
    report = _report(
        {"JNT-HB-01": False, "JNT-REF-01": False, "JNT-HB-06": False, "JNT-SYS-01": True}, POISON
    )
    root = ET.fromstring(render_junit(report))
    suite = root.find("testsuite")
    assert suite is not None
    n_na = report.count(Outcome.NA)
    assert (suite.get("failures"), suite.get("skipped"), suite.get("tests")) == (
        "2",
        str(n_na),
        str(len(report.results)),
    )
    failed = {c.get("name", "").split()[0] for c in suite.iter("testcase") if c.find("failure") is not None}
    assert failed == {"JNT-HB-01", "JNT-REF-01"}
    warned = [c for c in suite.iter("testcase") if c.find("system-out") is not None]
    assert [c.get("name", "").split()[0] for c in warned] == ["JNT-HB-06"]


def test_reports_escape_and_clip_what_the_node_sent() -> None:
    report = _report({"JNT-HB-01": False}, POISON)
    for fmt in ("table", "json", "junit"):
        text = render(report, fmt)
        assert "\x1b" not in text and "\x00" not in text and "\u2028" not in text and "\x85" not in text, fmt
    assert json.loads(render(report, "json"))["results"][0]["message"] == report.results[0].message
    assert len(report.results[0].message) <= MAX_MESSAGE
    assert clip("a\nb") == "a\\x0ab"
    assert report_dict(report)["conforms"] is False
