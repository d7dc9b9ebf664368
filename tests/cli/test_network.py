"""`jnt network`: primary and secondaries from resolv heartbeats and discovery, node states from heartbeats."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from click.testing import Result

from janitoo_cli.netstate import NetState
from janitoo_protocol import Hadd, Heartbeat, HeartbeatDispatch, ResolvHeartbeat
from janitoo_protocol.network import NetworkMap

from .conftest import TIME, FakeNetwork, Responder, one_error_line, run_module

Jnt = Callable[..., Result]


def test_network_table(jnt: Jnt, fake_network: FakeNetwork) -> None:
    with Responder(fake_network, before=[Heartbeat(Hadd(1118, 2), "OFFLINE")]):
        result = jnt("network", "--listen", "20", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    # last_seen (seconds since the last heartbeat) varies: mask it.
    text = re.sub(r"\b\d+\.\d$", "<s>", result.stdout, flags=re.MULTILINE)
    assert text == (
        "controllers\n"
        "role       hadd       name            state   epoch  priority  last_seen\n"
        "primary    0001/0000  None            ONLINE  3      10        <s>\n"
        "secondary  0002/0000  Backup primary  ONLINE  None   None      None\n"
        "\n"
        "nodes\n"
        "hadd       uuid              name              state    heartbeat  last_seen\n"
        "0002/0000  backup            Backup primary    ONLINE   30         None\n"
        "1118/0000  fake              Fake controller   ONLINE   15         None\n"
        "1118/0001  fake__component1  Fake component 1  ONLINE   15         None\n"
        "1118/0002  fake__component2  Fake component 2  OFFLINE  15         <s>\n"
    )


def test_network_json(jnt: Jnt, fake_network: FakeNetwork) -> None:
    with Responder(fake_network, before=[HeartbeatDispatch(1118, 1, "FAILED")]):
        result = jnt("network", "--format", "json", "--listen", "20", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"primary", "controllers", "nodes"}
    primary = doc["primary"]
    assert (primary["hadd"], primary["state"], primary["epoch"], primary["priority"]) == ("0001/0000", "ONLINE", 3,
                                                                                          10)  # fmt: skip
    assert [(c["role"], c["hadd"]) for c in doc["controllers"]] == [("primary", "0001/0000"),
                                                                   ("secondary", "0002/0000")]  # fmt: skip
    states = {n["hadd"]: n["state"] for n in doc["nodes"]}
    assert states == {
        "0002/0000": "ONLINE",
        "1118/0000": "ONLINE",
        "1118/0001": "FAILED",
        "1118/0002": "ONLINE",
    }
    assert set(doc["nodes"][0]) == {"hadd", "uuid", "name", "state", "heartbeat", "last_seen"}


def test_network_without_primary_says_so(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("network", "--listen", "0", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "controllers (no primary heard on the resolv heartbeat within 0 s)"
    assert lines[1].split() == ["role", "hadd", "name", "state", "epoch", "priority", "last_seen"]
    assert lines[3] == "nodes"
    assert [line.split()[0] for line in lines[5:]] == ["1118/0000", "1118/0001", "1118/0002"]


def test_network_watch_prints_changes(jnt: Jnt, fake_network: FakeNetwork) -> None:
    after = [Heartbeat(Hadd(1118, 1), "OFFLINE"), Heartbeat(Hadd(7777, 1), "ONLINE"),
             ResolvHeartbeat(1, 0, "ONLINE", {"epoch": 4, "priority": 10})]  # fmt: skip
    with Responder(fake_network, after=after):
        result = jnt("network", "--watch", "--count", "3", "--listen", "20", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    head, changes = result.stdout.rsplit("\n\n", 1)
    assert "1118/0001  fake__component1  Fake component 1  ONLINE" in head
    lines = changes.splitlines()
    assert all(TIME.match(line) for line in lines), lines
    assert [TIME.sub("", line) for line in lines] == [
        "1118/0001  ONLINE -> OFFLINE",
        "7777/0001  UNKNOWN -> ONLINE",
        "0001/0000  primary ONLINE epoch=3 -> ONLINE epoch=4",
    ]


def test_network_watch_json_lines(jnt: Jnt, fake_network: FakeNetwork) -> None:
    with Responder(fake_network, after=[HeartbeatDispatch(1118, -1, "OFFLINE")]):
        result = jnt("network", "-w", "-n", "3", "-f", "json", "--listen", "20", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    first, *changes = result.stdout.split("\n}\n")
    assert json.loads(first + "}")["primary"]["epoch"] == 3
    events = [json.loads(line) for line in changes[0].splitlines()]
    assert sorted((e["hadd"], e["what"], e["old"], e["new"]) for e in events) == [
        ("1118/0000", "state", "ONLINE", "OFFLINE"),
        ("1118/0001", "state", "ONLINE", "OFFLINE"),
        ("1118/0002", "state", "ONLINE", "OFFLINE"),
    ]


def test_network_nobody(jnt: Jnt, quiet_network: FakeNetwork) -> None:
    result = jnt("network", "--listen", "0", *quiet_network.args)
    assert result.exit_code == 1
    assert one_error_line(result).startswith(
        "jnt: error: no node answered and no heartbeat was heard on 127.0.0.1:"
    )


def test_subprocess_network(fake_network: FakeNetwork) -> None:
    proc = run_module("janitoo_cli.main", "network", "--listen", "0", "-f", "csv", *fake_network.args)
    assert proc.returncode == 0, proc.stderr
    assert (
        "# nodes\nhadd,uuid,name,state,heartbeat,last_seen\n1118/0000,fake,Fake controller,ONLINE,15,\n"
        in proc.stdout
    )


def test_silent_nodes_age_to_pending_and_failed() -> None:
    """The state machine behind --watch, without a clock: a node that stops heartbeating ages."""
    state = NetState()
    state.add_discovery(NetworkMap(), 0.0)
    state.feed(Heartbeat(Hadd(1, 1), "ONLINE"), 0.0)
    window = 3 * 30 * 1.1  # heartbeat_count x default period x slack
    assert [(c.hadd, c.old, c.new) for c in state.tick(window + 0.1)] == [(Hadd(1, 1), "ONLINE", "PENDING")]
    assert [(c.old, c.new) for c in state.tick(2 * window + 0.1)] == [("PENDING", "FAILED")]
    assert state.node_rows(2 * window + 0.1)[0]["last_seen"] == round(2 * window + 0.1, 1)
