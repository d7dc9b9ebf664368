"""Every file under examples/ (the ones docs/library.md shows) runs against a real broker and a real node
process (`jnt-node run` with the fake node config), and prints what the guide says it prints."""

from __future__ import annotations

import os
import subprocess
import sys
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


def run_example(name: str, broker: MosquittoBroker, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args, "--port", str(broker.port), "--prefix", PREFIX],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )  # fmt: skip


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
