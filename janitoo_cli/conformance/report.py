"""A check report as an aligned table, JSON or JUnit XML, and the assertion table as text or Markdown.

Everything printed from a node's answers went through `results.clip` (one printable line, bounded);
XML is built with ElementTree, which escapes, and control characters are removed where XML forbids them.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from .assertions import AREAS, ASSERTIONS, Assertion
from .results import Outcome, Report

CHECK_FORMATS = ("table", "json", "junit")
LIST_FORMATS = ("table", "json", "markdown")

# Characters XML 1.0 cannot hold even escaped.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "junit":
        return render_junit(report)
    return render_table(report)


def render_table(report: Report) -> str:
    rows = [(r.assertion.id, r.assertion.level, r.outcome.value.upper(), r.message) for r in report.results]
    widths = [
        max(len(str(row[i])) for row in [("id", "level", "result", "message"), *rows]) for i in range(3)
    ]
    lines = [f"{'id':<{widths[0]}}  {'level':<{widths[1]}}  {'result':<{widths[2]}}  message"]
    for row in rows:
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}")
    for note in report.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "hadd": report.hadd,
        "broker": report.broker,
        "conforms": report.ok,
        "summary": report.summary(),
        "counts": {o.value: report.count(o) for o in Outcome},
        "results": [
            {
                "id": r.assertion.id,
                "level": r.assertion.level,
                "role": r.assertion.role,
                "extension": r.assertion.extension,
                "result": r.outcome.value,
                "message": r.message,
            }
            for r in report.results
        ],
        "notes": report.notes,
    }


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=True)


def _xml(text: str) -> str:
    return _XML_FORBIDDEN.sub("?", text)


def render_junit(report: Report) -> str:
    """JUnit XML: one testcase per assertion; a failed MUST is a failure, n/a is skipped, a broken
    SHOULD passes with a system-out line (CI should not go red on a recommendation)."""
    suite = ET.Element(
        "testsuite",
        {
            "name": _xml(f"jnt check {report.hadd}"),
            "tests": str(len(report.results)),
            "failures": str(report.count(Outcome.FAIL) + (1 if report.restore_failed else 0)),
            "errors": "0",
            "skipped": str(report.count(Outcome.NA)),
        },
    )
    for r in report.results:
        a = r.assertion
        case = ET.SubElement(
            suite, "testcase", {"classname": f"janitoo.{a.area}", "name": f"{a.id} {a.level}"}
        )
        if r.outcome is Outcome.FAIL:
            ET.SubElement(case, "failure", {"message": _xml(r.message)}).text = _xml(a.text)
        elif r.outcome is Outcome.NA:
            ET.SubElement(case, "skipped", {"message": _xml(r.message)})
        elif r.outcome is Outcome.WARN:
            ET.SubElement(case, "system-out").text = _xml(f"warning ({a.level}): {r.message}")
    if report.restore_failed:
        case = ET.SubElement(suite, "testcase", {"classname": "janitoo.restore", "name": "values restored"})
        ET.SubElement(case, "failure", {"message": _xml("; ".join(report.notes))})
        suite.set("tests", str(len(report.results) + 1))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


# ---------------------------------------------------------------------------------------------- the table


def assertion_dict(a: Assertion) -> dict[str, Any]:
    return {
        "id": a.id,
        "level": a.level,
        "role": a.role,
        "area": a.area,
        "text": a.text,
        "extension": a.extension,
        "deviation": a.deviation,
        "checked": a.checked,
    }


def render_list(fmt: str) -> str:
    if fmt == "json":
        return json.dumps([assertion_dict(a) for a in ASSERTIONS], indent=2, ensure_ascii=False)
    if fmt == "markdown":
        return render_markdown()
    lines = []
    for a in ASSERTIONS:
        ext = f" [extension: {a.extension}]" if a.extension else ""
        lines.append(f"{a.id:<12} {a.level:<6} {a.role:<10} {a.text}{ext}")
        if a.deviation:
            lines.append(f"{'':<30} original: {a.deviation}")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown() -> str:
    """The assertions section of docs/protocol.md (between its markers), generated from the table."""
    out = [
        "Generated from `janitoo_cli/conformance/assertions.py` (`jnt check --list --format markdown`); "
        "`tests/cli/test_conformance_docs.py` fails when this section and the table differ.",
        "",
        "MUST, SHOULD and MAY as in RFC 2119. **Extension** marks what this implementation adds to the "
        "original's wire; *Original* says how the original Janitoo breaks an assertion (its known "
        "deviations, with the section of `spec/original-wire-protocol.md`). `jnt check` tests every "
        "assertion not marked *not checked*: a MUST that fails makes it exit non-zero.",
    ]
    for area in AREAS:
        out += [
            "",
            f"### {area}",
            "",
            "| id | level | role | requirement | original |",
            "|---|---|---|---|---|",
        ]
        for a in ASSERTIONS:
            if a.area != area:
                continue
            text = a.text
            if a.extension:
                text += f" **Extension** ({a.extension})."
            if not a.checked:
                text += " *(not checked by `jnt check`)*"
            out.append(f"| `{a.id}` | {a.level} | {a.role} | {_cell(text)} | {_cell(a.deviation or '')} |")
    return "\n".join(out)
