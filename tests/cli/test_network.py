"""`jnt network`: primary and secondaries from resolv heartbeats and discovery, node states from heartbeats."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from click.testing import Result

from janitoo_cli.netstate import NetState, change_line
from janitoo_protocol import Hadd, Heartbeat, HeartbeatDispatch, ResolvHeartbeat
from janitoo_protocol.network import NetworkMap

from .conftest import TIME, FakeNetwork, Responder, one_error_line, run_module

Jnt = Callable[..., Result]


def test_network_table(jnt: Jnt, fake_network: FakeNetwork) -> None:
    with Responder(fake_network, before=[Heartbeat(Hadd(1118, 2), "OFFLINE")]):
        result = jnt("network", "--listen", "0.2", "--listen-max", "2", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    # last_seen (seconds since the last heartbeat, or the discovery answer) varies: mask it.
    text = re.sub(r"\b\d+\.\d$", "<s>", result.stdout, flags=re.MULTILINE)
    assert text == (
        "controllers\n"
        "role       hadd       name            state   epoch  priority  last_seen\n"
        "primary    0001/0000  None            ONLINE  3      10        <s>\n"
        "secondary  0002/0000  Backup primary  ONLINE  None   None      <s>\n"
        "\n"
        "nodes\n"
        "hadd       uuid              name              state    heartbeat  last_seen\n"
        "0002/0000  backup            Backup primary    ONLINE   30         <s>\n"
        "1118/0000  fake              Fake controller   ONLINE   15         <s>\n"
        "1118/0001  fake__component1  Fake component 1  ONLINE   15         <s>\n"
        "1118/0002  fake__component2  Fake component 2  OFFLINE  15         <s>\n"
    )


def test_network_json(jnt: Jnt, fake_network: FakeNetwork) -> None:
    with Responder(fake_network, before=[HeartbeatDispatch(1118, 1, "FAILED")]):
        result = jnt(
            "network", "--format", "json", "--listen", "0.2", "--listen-max", "2", *fake_network.args
        )
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
    after = [Heartbeat(Hadd(1118, 1), "OFFLINE"), Heartbeat(Hadd(7777, 1), "ONLINE")]
    with Responder(fake_network, after=after):
        # --listen-max 0: the changes arrive after the first view (the primary, heard once, is not waited for).
        result = jnt(
            "network", "--watch", "--count", "3", "--listen", "0", "--listen-max", "0", *fake_network.args
        )
    assert result.exit_code == 0, result.stderr
    head, changes = result.stdout.rsplit("\n\n", 1)
    assert "1118/0001  fake__component1  Fake component 1  ONLINE" in head
    lines = changes.splitlines()
    assert all(TIME.match(line) for line in lines), lines
    assert [TIME.sub("", line) for line in lines] == [
        "0001/0000  primary ONLINE epoch=3 priority=10 (new)",
        "1118/0001  ONLINE -> OFFLINE",
        "7777/0001  UNKNOWN -> ONLINE",
    ]
    state = NetState()
    state.feed(ResolvHeartbeat(1, 0, "ONLINE", {"epoch": 3, "priority": 10}), 0.0)
    [change] = state.feed(ResolvHeartbeat(1, 0, "ONLINE", {"epoch": 4, "priority": 10}), 1.0)
    assert TIME.sub("", change_line(change, "table")) == "0001/0000  primary ONLINE epoch=3 -> ONLINE epoch=4"


def test_network_watch_json_lines(jnt: Jnt, fake_network: FakeNetwork) -> None:
    with Responder(fake_network, after=[HeartbeatDispatch(1118, -1, "OFFLINE")]):
        result = jnt(
            "network",
            "-w",
            "-n",
            "4",
            "-f",
            "json",
            "--listen",
            "0",
            "--listen-max",
            "0",
            *fake_network.args,
        )
    assert result.exit_code == 0, result.stderr
    first, *changes = result.stdout.split("\n}\n")
    assert json.loads(first + "}")["primary"] is None  # not listened for: its heartbeat comes as a change
    events = [json.loads(line) for line in changes[0].splitlines()]
    assert sorted((e["hadd"], e["what"], e["old"], e["new"]) for e in events) == [
        ("0001/0000", "primary", None, "ONLINE epoch=3"),
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
    # last_seen: seconds since its discovery answer (it was "None" for a node that had just answered).
    assert re.search(
        r"# nodes\nhadd,uuid,name,state,heartbeat,last_seen\n1118/0000,fake,Fake controller,ONLINE,15,\d+\.\d\n",
        proc.stdout,
    ), proc.stdout


def test_silent_nodes_age_to_pending_and_failed() -> None:
    """The state machine behind --watch, without a clock: a node that stops heartbeating ages."""
    state = NetState()
    state.add_discovery(NetworkMap(), 0.0)
    state.feed(Heartbeat(Hadd(1, 1), "ONLINE"), 0.0)
    window = 3 * 30 * 1.1  # heartbeat_count x default period x slack
    assert [(c.hadd, c.old, c.new) for c in state.tick(window + 0.1)] == [(Hadd(1, 1), "ONLINE", "PENDING")]
    assert [(c.old, c.new) for c in state.tick(2 * window + 0.1)] == [("PENDING", "FAILED")]
    assert state.node_rows(2 * window + 0.1)[0]["last_seen"] == round(2 * window + 0.1, 1)


def test_two_primaries_beating_at_once_exit_6(jnt: Jnt, fake_network: FakeNetwork) -> None:
    """The original's primary (no epoch) beside ours, both beating: the tables, then a one-line error."""
    epoch3 = ResolvHeartbeat(1, 0, "ONLINE", {"epoch": 3, "priority": 10})
    after = [ResolvHeartbeat(5, 0, "ONLINE"), epoch3, ResolvHeartbeat(5, 0, "ONLINE"), epoch3]
    with Responder(fake_network, after=after):
        result = jnt("network", "--listen", "0.5", "--listen-max", "3", *fake_network.args)
    assert result.exit_code == 6, result.stderr
    assert "primary (contender)  0005/0000" in result.stdout
    assert one_error_line(result) == (
        "jnt: error: two primaries beating at once: 0001/0000 (epoch 3), "
        "0005/0000 (no epoch: an original primary); see docs/failover.md"
    )


def test_listens_one_full_period_of_the_slowest_primary() -> None:
    state = NetState()
    ours, original = Hadd(10, 0), Hadd(1, 0)
    state.feed(ResolvHeartbeat(10, 0, "ONLINE", {"epoch": 1}), 0.1)
    state.feed(ResolvHeartbeat(10, 0, "ONLINE", {"epoch": 1}), 1.1)
    assert state.listened_enough(0.0, 2.0, listen=2.0)  # ours alone: its period (1 s) is covered
    state.feed(ResolvHeartbeat(1, 0, "ONLINE"), 1.5)  # the original, heard once: its period is unknown
    assert not state.listened_enough(0.0, 10.0, listen=2.0) and state.enough_at(0.0, 2.0) == float("inf")
    state.feed(ResolvHeartbeat(1, 0, "ONLINE"), 16.5)
    assert state.period(original) == 15.0 and state.period(ours) == 1.0
    assert state.enough_at(0.0, 2.0) == 15.0 and state.listened_enough(0.0, 16.5, listen=2.0)
    # Ours kept beating between the original's two beats: two primaries at once.
    state.feed(ResolvHeartbeat(10, 0, "ONLINE", {"epoch": 1}), 16.6)
    assert [p.hadd for p in state.rival_primaries()] == [original, ours]


def test_a_handover_is_not_two_primaries() -> None:
    state = NetState()
    for t in (0.0, 1.0, 2.0):
        state.feed(ResolvHeartbeat(10, 0, "ONLINE", {"epoch": 1}), t)
    for t in (4.0, 5.0):  # the old one stopped (a hang), then the new one beats
        state.feed(ResolvHeartbeat(20, 0, "ONLINE", {"epoch": 2}), t)
    assert state.rival_primaries() == []
    state.feed(ResolvHeartbeat(10, 0, "OFFLINE", {"epoch": 0}), 5.5)  # a will: no longer a primary
    state.feed(ResolvHeartbeat(20, 0, "ONLINE", {"epoch": 2}), 6.0)
    assert state.rival_primaries() == [] and state.period(Hadd(10, 0)) is None
