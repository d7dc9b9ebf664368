"""Every file under examples/ (the ones docs/library.md shows) runs against a real broker and a real node
process (`jnt-node run` with the fake node config), and prints what the guide says it prints."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import Heartbeat, JanitooClient
from tests.helpers import NodeProcess, fake_conf, wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PREFIX = "examples"  # this module's own topic prefix on the session broker
NODES = ("1118/0000", "1118/0001", "1118/0002")


@pytest.fixture(scope="module")
def network(broker: MosquittoBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """The fake node process (controller 1118, two components), online, heartbeating every second."""
    conf = fake_conf(
        tmp_path_factory.mktemp("examples") / "fake.conf", broker.port, prefix=PREFIX, heartbeat=1
    )
    with JanitooClient(port=broker.port, prefix=PREFIX) as client, client.watch("heartbeats") as beats:
        node = NodeProcess(conf).start()
        try:
            wait_for(beats, lambda e: isinstance(e.message, Heartbeat) and str(e.message.hadd) == NODES[-1],
                     30, "the fake node's first heartbeat")  # fmt: skip
            yield broker
        finally:
            node.stop()


def example_command(name: str, broker: MosquittoBroker, *args: str, prefix: str = PREFIX) -> list[str]:
    return [sys.executable, str(EXAMPLES / name), *args, "--port", str(broker.port), "--prefix", prefix]


def example_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def run_example(name: str, broker: MosquittoBroker, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(example_command(name, broker, *args), capture_output=True, text=True, timeout=60,
                          env=example_env(), cwd=ROOT)  # fmt: skip


def test_print_network_lists_every_node_and_user_value(network: MosquittoBroker) -> None:
    out = run_example("print_network.py", network)
    assert out.returncode == 0, out.stderr
    for hadd in NODES:
        assert hadd in out.stdout
    assert "Fake component 1" in out.stdout
    assert "1118/0001  test_user" in out.stdout


def test_get_and_set_writes_the_value_and_reads_the_acknowledgement(network: MosquittoBroker) -> None:
    out = run_example("get_and_set.py", network, "1118/0001", "test_user", "hello")
    assert out.returncode == 0, out.stderr
    assert "1118/0001 test_user is now 'hello'" in out.stdout
    again = run_example("get_and_set.py", network, "1118/0001", "test_user", "again")
    assert "1118/0001 test_user was 'hello'" in again.stdout


def test_get_and_set_says_in_one_line_when_the_value_is_unknown(network: MosquittoBroker) -> None:
    out = run_example("get_and_set.py", network, "1118/0001", "no_such_value", "x")
    assert out.returncode == 1
    assert (
        out.stderr.strip() == "error: no value 'no_such_value' (index 0) on node 1118/0001 in the network map"
    )


def test_watch_heartbeats_prints_the_states_it_hears(network: MosquittoBroker) -> None:
    out = run_example("watch_heartbeats.py", network, "--count", "3")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 3
    assert all(line.split()[0] in NODES and line.endswith("ONLINE (alive)") for line in lines)


def test_async_app_discovers_sets_and_hears_the_publication(network: MosquittoBroker) -> None:
    out = run_example("async_app.py", network, "1118/0002", "test_user", "from asyncio", "--count", "1")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("3 nodes, ")
    assert lines[1] == "1118/0002 test_user set to 'from asyncio'"
    # The first publication heard is the SET's own (subscribed before it), unless a poll of a counter
    # happened to come first.
    assert lines[2] == "1118/0002 test_user = 'from asyncio'" or " counter = " in lines[2]


def primary_conf(path: Path, port: int, prefix: str) -> Path:
    """A node process that is the primary network controller (0010/0000, with two fake components)."""
    path.write_text(
        f"[system]\nservice = jnt_primary\nbroker_ip = 127.0.0.1\nbroker_port = {port}\ntopic_prefix = {prefix}\n"
        "slow_start = 0\n\n[network]\nis_primary = true\nresolv_heartbeat = 0.5\nresolv_timeout = 2\n\n"
        "[fake]\nhadd = 0010/0000\nheartbeat = 1\ncomponents.c1 = fake.component\ncomponents.c2 = fake.component\n"
        "\n[fake__c1]\nhadd = 0010/0001\nheartbeat = 1\n\n[fake__c2]\nhadd = 0010/0002\nheartbeat = 1\n"
    )
    return path


class Lines:
    """A child process's stdout lines, read on a thread so the test can wait for one with a timeout."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert proc.stdout is not None
        stdout = proc.stdout
        threading.Thread(
            target=lambda: [self.lines.put(line.rstrip("\n")) for line in stdout], daemon=True
        ).start()

    def wait_for(self, start: str, timeout: float = 20) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"no line starting {start!r} within {timeout} s; saw {self.seen}"
                ) from None
            self.seen.append(line)
            if line.startswith(start):
                return line


def test_secondary_controller_follows_replicates_and_takes_over(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    prefix = "examples-netctl"
    primary = NodeProcess(primary_conf(tmp_path / "primary.conf", broker.port, prefix)).start()
    app = subprocess.Popen(example_command("secondary_controller.py", broker, "0050/0000", prefix=prefix),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=example_env(), cwd=ROOT)  # fmt: skip
    try:
        out = Lines(app)
        assert out.wait_for("listening ") == "listening primary=None synced=False nodes=0"
        out.wait_for("secondary primary=0010/0000 ")
        # The replica of the primary's map: its controller and two components.
        assert out.wait_for("secondary primary=0010/0000 synced=True").endswith("nodes=3")
        primary.stop(signal.SIGKILL)  # its will tells the secondary at once
        assert out.wait_for("primary ") == "primary primary=0050/0000 synced=True nodes=3"
        app.send_signal(signal.SIGINT)
        assert out.wait_for("stopped") == "stopped"
        assert app.wait(10) == 0
    finally:
        primary.stop(signal.SIGKILL)
        if app.poll() is None:
            app.kill()
            app.wait(5)


def test_every_python_block_of_the_guide_is_an_excerpt_of_a_tested_example() -> None:
    guide = (ROOT / "docs" / "library.md").read_text()
    blocks = guide.split("```python\n")[1:]
    assert len(blocks) >= 6
    sources = {p.name: p.read_text() for p in EXAMPLES.glob("*.py")}
    # The guide shows excerpts dedented (and formatted) as top-level code: compare the lines, stripped.
    lines = {name: [x.strip() for x in text.splitlines() if x.strip()] for name, text in sources.items()}
    for block in blocks:
        code = [x.strip() for x in block.split("```")[0].splitlines() if x.strip()]
        assert any(code == text[i : i + len(code)] for text in lines.values() for i in range(len(text))), (
            "not in any example:\n" + "\n".join(code)
        )
    # ... and every example the guide links to exists and is run by this module.
    linked = set(re.findall(r"\(\.\./examples/(\w+\.py)\)", guide))
    assert linked <= set(sources)
    assert linked == {p for p in sources if f'"{p}"' in Path(__file__).read_text()}
