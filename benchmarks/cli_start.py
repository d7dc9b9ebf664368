"""Start-up of the command-line tools: wall time of `jnt --help`, `jnt query --help` and `jnt-node --help`
as processes, beside `python -c pass` and `python -c "import click"` (the floor any click tool stands on).

Each command runs `--runs` times, the commands taking turns so that a busy moment hurts them all alike;
median and min of the wall time from start to exit. Two columns: as this environment runs Python (where
PYTHONDONTWRITEBYTECODE is set and no bytecode is cached, our modules are compiled at every start), and
with bytecode cached as an installed package has it (in a temporary PYTHONPYCACHEPREFIX, warmed by one
run; the source tree is left untouched). The code measured is this checkout's (PYTHONPATH).

    python benchmarks/cli_start.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, tool

TARGET_MS = 100


def script(name: str) -> list[str]:
    """The console script installed beside this Python, else what `tool` finds. Not a version manager's
    shim from PATH (pyenv's costs about 100 ms of its own before Python even starts)."""
    beside = Path(sys.executable).parent / name
    return [str(beside)] if beside.is_file() else tool(name)


def commands() -> list[tuple[str, list[str], bool]]:
    """(label, argv, has the target): the baselines first."""
    python = sys.executable
    return [
        ("`python -c pass` (baseline)", [python, "-c", "pass"], False),
        ('`python -c "import click"` (baseline)', [python, "-c", "import click"], False),
        ("`jnt --help`", [*script("jnt"), "--help"], True),
        ("`jnt query --help`", [*script("jnt"), "query", "--help"], True),
        ("`jnt-node --help`", [*script("jnt-node"), "--help"], True),
    ]


def wall(argv: list[str], env: dict[str, str]) -> float:
    # No `timeout`: subprocess then polls the child with sleeps of up to 50 ms, which would be measured.
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def measure(cmds: list[tuple[str, list[str], bool]], env: dict[str, str], runs: int) -> list[list[float]]:
    for _, argv, _ in cmds:
        wall(argv, env)  # warm-up: the OS's file cache, and the bytecode where it may be written
    times: list[list[float]] = [[] for _ in cmds]
    for _ in range(runs):
        for i, (_, argv, _) in enumerate(cmds):
            times[i].append(wall(argv, env))
    return times


def figure(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.0f} ms (min {min(samples) * 1000:.0f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    cmds = commands()
    here = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    with tempfile.TemporaryDirectory(prefix="jnt-pycache-") as cache:
        cached = {k: v for k, v in here.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = cache
        as_is = measure(cmds, here, args.runs)
        warm = measure(cmds, cached, args.runs)
    compiled = (
        "our modules compiled at every start" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "as usual"
    )
    print(f"Wall time from process start to exit, median of {args.runs} runs (min), commands taking turns.")
    print(f"This environment: PYTHONDONTWRITEBYTECODE {'set' if 'PYTHONDONTWRITEBYTECODE' in os.environ else 'unset'}"
          f" ({compiled}).\n")  # fmt: skip
    print("| command | this environment | bytecode cached (installed) | target |")
    print("|---|---:|---:|---|")
    for (label, _, has_target), a, b in zip(cmds, as_is, warm, strict=True):
        print(
            f"| {label} | {figure(a)} | {figure(b)} | {f'< {TARGET_MS} ms' if has_target else 'baseline'} |"
        )
    print()
    for (label, _, has_target), a, b in zip(cmds, as_is, warm, strict=True):
        if has_target:
            print(f"summary: {label} start-up, median of {args.runs} | {statistics.median(a) * 1000:.0f} ms "
                  f"({statistics.median(b) * 1000:.0f} ms with bytecode cached) | < {TARGET_MS} ms | not published")  # fmt: skip


if __name__ == "__main__":
    main()
