"""Run every benchmark and write their tables to docs/performance.md (also printed).

    python benchmarks/run_all.py [--quick] [--only soak.py,codec.py]      (or: nox -s bench)

--quick uses fewer runs and smaller sizes, for a smoke check. --only reruns the named scripts and keeps
the other sections of docs/performance.md as they were (each section says when it was measured), so the
hour-long soak need not be repeated to refresh a codec figure; --output-of soak.py=FILE takes a section from
what a run made apart printed (`python benchmarks/soak.py > FILE` beside other work). A script's lines starting with
"summary: " (figure | ours | target | the original's) are gathered into the table at the top.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "performance.md"

FULL = [
    ("Codec (issue: protocol codec)", ["codec.py"]),
    ("Client transport and discovery (JanitooClient)", ["client.py"]),
    ("Discovery by network size (`jnt query network --vuuid all`)", ["discovery.py"]),
    ("Late join from retained state (1,000 nodes; 10 tools at once)", ["late_join.py"]),
    ("Publish and ingest throughput (runtime, `jnt spy`)", ["throughput.py"]),
    ("Node boot, RSS and idle CPU (fake bus)", ["node_boot.py"]),
    (
        "HelloWorld V3 appliance boot, RSS and idle CPU (60 s idle)",
        ["node_boot.py", "--appliance", "--idle", "60"],
    ),
    ("Failover takeover", ["failover.py"]),
    ("Heartbeats under a 10,000 requests/s flood (with the request ceiling)", ["request_flood.py"]),
    ("The same flood without the ceiling (baseline)", ["request_flood.py", "--no-ceiling"]),
    ("Hostile requests through the node (fuzzing)", ["fuzz_requests.py"]),
    ("Node memory under 10 MB requests", ["oversized_payloads.py"]),
    ("Web manager: 1,000 nodes, ~500 values/s, 5 pages, 10 minutes (`jnt web`)", ["web.py"]),
    ("Soak: 1,000 simulated nodes and the HelloWorld V3 node for an hour", ["soak.py"]),
    ("The simulator's CPU at steady state (1,000 nodes, spread)", ["sim_steady.py"]),
    ("Command-line start-up (`jnt --help`, `jnt-node --help`)", ["cli_start.py"]),
]
QUICK_ARGS = {
    "client.py": [],
    "discovery.py": ["--sizes", "10,100", "--runs", "1"],
    "throughput.py": ["--n", "5000"],
    "late_join.py": ["--controllers", "10", "--runs", "1"],
    "node_boot.py": ["--runs", "2", "--idle", "3"],
    "failover.py": ["--runs", "2", "--hang-runs", "1"],
    "request_flood.py": ["--seconds", "4"],
    "fuzz_requests.py": ["--count", "20000"],
    "web.py": ["--minutes", "1", "--warmup", "20", "--samples", "50"],
    "soak.py": ["--minutes", "2", "--warmup", "1", "--interval", "10", "--controllers", "10"],
    "cli_start.py": ["--runs", "3"],
    "sim_steady.py": ["--runs", "1", "--window", "20"],
}
SUMMARY = "summary: "


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def old_sections() -> dict[str, str]:
    """The sections of the current docs/performance.md by title, to keep those not rerun."""
    if not DOC.exists():
        return {}
    sections: dict[str, str] = {}
    for chunk in DOC.read_text().split("\n## ")[1:]:
        title = chunk.split("\n", 1)[0]
        sections[title] = f"## {chunk.rstrip()}\n"
    return sections


def glance(sections: list[str]) -> str:
    """The table at the top: every `summary: ` line of every section, in section order."""
    rows = [
        line[len(SUMMARY) :].strip().strip("|").strip()
        for section in sections
        for line in section.splitlines()
        if line.startswith(SUMMARY)
    ]
    table = "\n".join(f"| {row} |" for row in rows)
    return (
        "## At a glance\n\n"
        "Each figure beside its target (issue #17 and earlier) and the original Janitoo's where one is known;\n"
        "the sections below say how each was measured.\n\n"
        "| figure | ours | target | the original |\n|---|---|---|---|\n" + table + "\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--only", default="", help="comma-separated scripts to rerun; the other sections are kept"
    )
    ap.add_argument(
        "--output-of",
        action="append",
        default=[],
        metavar="SCRIPT=FILE",
        help="take a script's section from what a run made apart printed (the hour-long soak, say)",
    )
    args = ap.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    outputs = dict(item.split("=", 1) for item in args.output_of if "=" in item)
    only |= set(outputs)
    known = {script for _, (script, *_) in FULL}
    if only - known:
        ap.error(f"unknown scripts: {', '.join(sorted(only - known))} (known: {', '.join(sorted(known))})")
    today = dt.date.today().isoformat()
    fresh: dict[str, str] = {}
    for title, cmd in FULL:
        script, *extra = cmd
        if only and script not in only:
            continue
        if args.quick:
            # Quick arguments come last: argparse keeps the last value of an option given twice.
            extra = [*extra, *QUICK_ARGS.get(script, [])]
        print(f"## {title}\n", flush=True)
        if script in outputs:
            body = Path(outputs[script]).read_text().strip()
        else:
            out = subprocess.run(
                [sys.executable, str(HERE / script), *extra], capture_output=True, text=True, cwd=HERE.parent
            )
            body = (
                out.stdout.strip()
                if out.returncode == 0
                else f"failed (exit {out.returncode}):\n\n```\n{out.stderr[-2000:]}\n```"
            )
        print(body + "\n", flush=True)
        fresh[title] = f"## {title}\n\n`python benchmarks/{' '.join(cmd)}` (measured on {today})\n\n{body}\n"
    # The document is read only now: another run (the hour-long soak, say) may have rewritten other
    # sections meanwhile, and those are kept.
    kept = old_sections()
    sections = [
        fresh.get(title)
        or kept.get(title, f"## {title}\n\n`python benchmarks/{' '.join(cmd)}`\n\nnot run yet\n")
        for title, cmd in FULL
    ]
    DOC.write_text(
        "# Performance\n\n"
        f"Machine: {machine()}, mosquitto on loopback.\n"
        "Rerun with `nox -s bench` or `python benchmarks/run_all.py`; every figure below comes from the script\n"
        "named above it, and ratios compare against a baseline measured in the same run.\n\n"
        + glance(sections)
        + "\n"
        + "\n".join(sections)
    )
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
