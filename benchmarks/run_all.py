"""Run every benchmark and write their tables to docs/performance.md (also printed).

    python benchmarks/run_all.py [--quick]      (or: nox -s bench)

--quick uses fewer runs and smaller sizes, for a smoke check.
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
}


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    sections = []
    for title, cmd in FULL:
        script, *extra = cmd
        if args.quick:
            # Quick arguments come last: argparse keeps the last value of an option given twice.
            extra = [*extra, *QUICK_ARGS.get(script, [])]
        print(f"## {title}\n", flush=True)
        out = subprocess.run(
            [sys.executable, str(HERE / script), *extra], capture_output=True, text=True, cwd=HERE.parent
        )
        body = (
            out.stdout.strip()
            if out.returncode == 0
            else f"failed (exit {out.returncode}):\n\n```\n{out.stderr[-2000:]}\n```"
        )
        print(body + "\n", flush=True)
        sections.append(f"## {title}\n\n`python benchmarks/{' '.join(cmd)}`\n\n{body}\n")
    DOC.write_text(
        "# Performance\n\n"
        f"Measured on {dt.date.today().isoformat()}: {machine()}, mosquitto on loopback.\n"
        "Rerun with `nox -s bench` or `python benchmarks/run_all.py`; every figure below comes from the script\n"
        "named above it, and ratios compare against a baseline measured in the same run.\n\n"
        + "\n".join(sections)
    )
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
