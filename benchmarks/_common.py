"""Shared helpers of the benchmark scripts: the repo on sys.path, a private broker, simulated networks."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def rss_mb(pid: int) -> float:
    """A process's resident memory, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tool(name: str) -> list[str]:
    """The console script if installed, else `python -m` of its module."""
    exe = shutil.which(name)
    if exe:
        return [exe]
    modules = {"jnt": "janitoo_cli.main", "jnt-node": "janitoo_node.cli"}
    return [sys.executable, "-m", modules[name]]


class Simulation:
    """`jnt-node simulate` as a separate process; ready once its nodes heartbeat."""

    def __init__(self, port: int, controllers: int, nodes: int, values: int = 1, **opts: float) -> None:
        args = [*tool("jnt-node"), "simulate", "--port", str(port), "--controllers", str(controllers),
                "--nodes", str(nodes), "--values", str(values)]  # fmt: skip
        for k, v in opts.items():
            args += [f"--{k}", str(v)]
        self.expected = controllers * (nodes + 1)
        self.port = port
        self.proc = subprocess.Popen(
            args, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )

    def wait_ready(self, timeout: float = 120) -> None:
        from janitoo_protocol import Heartbeat
        from janitoo_protocol.transport import JanitooClient

        with JanitooClient(port=self.port) as c, c.watch("heartbeats") as beats:
            seen: set[str] = set()
            deadline = time.monotonic() + timeout
            while len(seen) < self.expected:
                env = beats.get(max(0.0, deadline - time.monotonic()))
                if env is None:
                    raise RuntimeError(f"simulation not ready: {len(seen)}/{self.expected} nodes heartbeated")
                if isinstance(env.message, Heartbeat):
                    seen.add(env.topic)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self) -> Simulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
