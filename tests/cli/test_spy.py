"""`jnt spy`: readable lines, --raw, --json, filters, --stats, --count, Ctrl+C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest
from click.testing import Result

from janitoo_cli.spy import describe
from janitoo_node.broker import free_port
from janitoo_node.server import Server
from janitoo_protocol import DiscoveryReply, Hadd, HeartbeatDispatch, ResolvHeartbeat, decode, encode
from janitoo_protocol.events import ReplyRoute

from .conftest import TIME, FakeNetwork, LineReader, one_error_line, publish_retained, subprocess_env

Jnt = Callable[..., Result]

RETAINED = [
    ("/dhcp/heartbeat/1118/0001", b"ONLINE"),
    ("/values/user/1118/0001/test_user",
     b'{"uuid": "test_user", "hadd": "1118/0001", "genre": 2, "type": 8, "cmd_class": 0, "index": 0, '
     b'"data": "hello", "units": null, "reply_hadd": null}'),
    ("/broadcast/request", b'{"cmd_class": 20480, "genre": 4, "uuid": "request_info_nodes", "reply_hadd": "9999/9990"}'),
    ("/dhcp/heartbeat/1118/0002", b"\xff\xfe"),
    ("/dhcp/resolv/heartbeat", b'{"add_ctrl": "0001", "add_node": "0000", "state": "ONLINE", "epoch": 3, "priority": 10}'),
    ("/values/config/1118/0002/counter_poll",
     b'{"uuid": "counter_poll", "hadd": "1118/0002", "genre": 3, "type": 4, "cmd_class": 112, "data": 30, '
     b'"units": "seconds"}'),
    ("/nodes/1118/0001/request",
     b'{"cmd_class": 0, "uuid": "test_user", "data": "hi", "reply_hadd": "9999/9990", "genre": 2, '
     b'"is_writeonly": true, "is_readonly": false, "hadd": "1118/0001"}'),
]  # fmt: skip


def expected_lines(prefix: str) -> list[str]:
    return [
        "HEARTBEAT  1118/0001  ONLINE (retained)",
        "VALUE      1118/0001  user test_user=hello (retained)",
        "REQUEST    *          request_info_nodes from 9999/9990 (retained)",
        f"HEARTBEAT  1118/0002  !! undecodable (payload is not UTF-8 (invalid start byte at byte 0)) "
        f"{prefix}/dhcp/heartbeat/1118/0002 \\xff\\xfe",
        "RESOLV     0001/0000  primary ONLINE epoch=3 priority=10 (retained)",
        "VALUE      1118/0002  config counter_poll=30 seconds (retained)",
        "REQUEST    1118/0001  SET user test_user=hi from 9999/9990 (retained)",
    ]


@pytest.fixture
def retained(quiet_network: FakeNetwork) -> FakeNetwork:
    """The messages above, retained by the broker: a spy receives them all as soon as it subscribes."""
    publish_retained(quiet_network, RETAINED)
    return quiet_network


def spy(jnt: Jnt, net: FakeNetwork, *args: str) -> Result:
    # --duration is only a safety net: every test ends on --count.
    result = jnt("spy", *args, "--duration", "20", *net.args)
    assert result.exit_code == 0, result.stderr
    return result


def strip_time(lines: list[str]) -> list[str]:
    for line in lines:
        assert TIME.match(line), line
    return [TIME.sub("", line) for line in lines]


def test_spy_one_readable_line_per_message(jnt: Jnt, retained: FakeNetwork) -> None:
    result = spy(jnt, retained, "--count", str(len(RETAINED)))
    assert sorted(strip_time(result.stdout.splitlines())) == sorted(expected_lines(retained.prefix))
    assert result.stderr == ""  # the transport's warning about the undecodable one is not repeated


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["--kind", "heartbeat"], [0, 3]),
        (["--kind", "requests", "--kind", "resolv"], [2, 4, 6]),
        (["--hadd", "1118/0002"], [3, 5]),
        (["--genre", "user"], [1, 6]),
        (["--hadd", "9999/9990", "--kind", "requests"], [2, 6]),
        (["--genre", "config", "--hadd", "1118/0002"], [5]),
    ],
)
def test_spy_filters(jnt: Jnt, retained: FakeNetwork, args: list[str], wanted: list[int]) -> None:
    result = spy(jnt, retained, *args, "--count", str(len(wanted)))
    expected = expected_lines(retained.prefix)
    assert sorted(strip_time(result.stdout.splitlines())) == sorted(expected[i] for i in wanted)


def test_spy_raw_is_topic_qos_payload(jnt: Jnt, retained: FakeNetwork) -> None:
    result = spy(jnt, retained, "--raw", "--count", str(len(RETAINED)))
    p = retained.prefix
    expected = [
        f"{p}{tail} 0 {payload.decode('utf-8', errors='backslashreplace')}" for tail, payload in RETAINED
    ]
    assert sorted(result.stdout.splitlines()) == sorted(expected)


def test_spy_json_lines(jnt: Jnt, retained: FakeNetwork) -> None:
    result = spy(jnt, retained, "--json", "-n", str(len(RETAINED)))
    docs = {d["topic"].removeprefix(retained.prefix): d for d in map(json.loads, result.stdout.splitlines())}
    assert set(docs) == {tail for tail, _ in RETAINED}
    for d in docs.values():
        assert {"time", "topic", "qos", "retain", "kind", "hadd", "text"} <= set(d)
        assert d["time"][10] == "T" and d["qos"] == 0
    hb = docs["/dhcp/heartbeat/1118/0001"]
    assert (hb["kind"], hb["hadd"], hb["state"], hb["retain"]) == ("heartbeat", "1118/0001", "ONLINE", True)
    bad = docs["/dhcp/heartbeat/1118/0002"]
    assert bad["undecodable"] == "payload is not UTF-8 (invalid start byte at byte 0)"
    assert bad["payload"] == "\\xff\\xfe" and bad["hadd"] == "1118/0002"
    value = docs["/values/user/1118/0001/test_user"]
    assert value["kind"] == "values" and value["uuid"] == "test_user"
    assert value["values"] == [{"index": 0, "data": "hello", "units": None}]
    req = docs["/broadcast/request"]
    assert (req["kind"], req["hadd"], req["request"], req["reply_hadd"]) == ("requests", None, "request_info_nodes",
                                                                             "9999/9990")  # fmt: skip
    primary = docs["/dhcp/resolv/heartbeat"]
    assert (primary["kind"], primary["epoch"], primary["priority"]) == ("resolv", 3, 10)
    setreq = docs["/nodes/1118/0001/request"]
    assert (setreq["request"], setreq["data"], setreq["genre"]) == ("SET", "hi", 2)


def test_spy_stats(jnt: Jnt, retained: FakeNetwork) -> None:
    result = spy(jnt, retained, "--stats", "--count", str(len(RETAINED)))
    lines = result.stdout.splitlines()
    assert lines[0].startswith("7 messages in ")
    assert lines[1].split() == ["hadd", "messages", "per_min", "heartbeat", "values", "requests", "replies",
                                "resolv", "other", "states", "last_state"]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert list(rows) == ["0001/0000", "1118/0001", "1118/0002", "*"]  # hadds first, sorted
    counts = {h: r[1:2] + r[3:9] + r[9:] for h, r in rows.items()}  # per_min varies with the run's length
    assert counts == {
        "0001/0000": ["1", "0", "0", "0", "0", "1", "0", "None", "None"],
        "1118/0001": ["3", "1", "1", "1", "0", "0", "0", "ONLINE", "ONLINE"],
        "1118/0002": ["2", "1", "1", "0", "0", "0", "0", "None", "None"],
        "*": ["1", "0", "0", "1", "0", "0", "0", "None", "None"],
    }


def test_spy_stats_json_and_interval(jnt: Jnt, retained: FakeNetwork) -> None:
    result = spy(jnt, retained, "--stats", "-f", "json", "--count", "7")
    rows = json.loads(result.stdout)
    one = next(r for r in rows if r["hadd"] == "1118/0001")
    assert (one["messages"], one["heartbeat"], one["states"], one["last_state"]) == (3, 1, "ONLINE", "ONLINE")
    assert isinstance(one["per_min"], float)
    # With --interval the statistics also come every SECONDS; here the run lasts ten intervals.
    result = jnt("spy", "--stats", "--interval", "0.1", "--duration", "1", *retained.args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count(" messages in ") >= 2  # at least one periodic print, and the final one


def test_spy_option_errors(jnt: Jnt) -> None:
    result = jnt("spy", "--raw", "--json")
    assert result.exit_code == 2
    assert one_error_line(result) == "jnt: error: --raw and --json are exclusive: choose one"
    result = jnt("spy", "--interval", "5")
    assert result.exit_code == 2
    assert one_error_line(result) == "jnt: error: --interval goes with --stats"
    result = jnt("spy", "--kind", "gossip")
    assert result.exit_code == 2


def test_spy_without_broker(jnt: Jnt, refused_port: int) -> None:
    port = refused_port
    result = jnt("spy", "--port", str(port))
    assert result.exit_code == 3
    assert f"MQTT broker 127.0.0.1:{port}: connection refused" in one_error_line(result)


def test_spy_custom_topic_filter(jnt: Jnt, retained: FakeNetwork) -> None:
    result = spy(jnt, retained, "--topic", f"{retained.prefix}/values/#", "-n", "2")
    assert sorted(strip_time(result.stdout.splitlines())) == sorted(
        [expected_lines(retained.prefix)[1], expected_lines(retained.prefix)[5]]
    )


# ---------------------------------------------------------------------------------------------- live


def start_spy(net: FakeNetwork, *args: str) -> tuple[subprocess.Popen[str], LineReader, LineReader]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "janitoo_cli.main", "spy", "--verbose", *args, *net.args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
    )  # fmt: skip
    out, err = LineReader(proc.stdout), LineReader(proc.stderr)
    err.wait_for("jnt spy: listening to")  # subscribed: what is published from now on is seen
    return proc, out, err


def test_spy_live_heartbeats_of_the_node_runtime(quiet_network: FakeNetwork) -> None:
    proc, out, err = start_spy(quiet_network, "--kind", "heartbeat", "--count", "3")
    server = Server(quiet_network.conf)
    try:
        server.start()
        assert proc.wait(30) == 0, err.rest()
    finally:
        server.stop()
        if proc.poll() is None:
            proc.kill()
    lines = sorted(strip_time(out.rest().splitlines()))
    assert lines == [f"HEARTBEAT  1118/000{i}  ONLINE" for i in range(3)]


def test_ctrl_c_once_exits_spy_cleanly(quiet_network: FakeNetwork) -> None:
    proc, out, err = start_spy(quiet_network, "--stats")
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = err.rest()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert out.rest().startswith("0 messages in ")  # the statistics are printed at exit


def test_spy_format_json_means_json_lines(jnt: Jnt, retained: FakeNetwork) -> None:
    result = spy(jnt, retained, "--format", "json", "--kind", "resolv", "-n", "1")
    doc = json.loads(result.stdout)
    assert (doc["kind"], doc["hadd"], doc["state"], doc["epoch"]) == ("resolv", "0001/0000", "ONLINE", 3)


@pytest.mark.parametrize("topic", ["#/bad", "/values/#/x", "/nodes/02+/request", ""])
def test_spy_refuses_an_invalid_topic_filter_as_a_usage_error(jnt: Jnt, topic: str) -> None:
    result = jnt("spy", "--topic", topic, "--port", str(free_port()))
    assert result.exit_code == 2  # before any connection: a usage error, not an internal one (70)
    assert "--topic" in one_error_line(result)


def test_spy_format_csv_is_one_row_per_message(jnt: Jnt, retained: FakeNetwork) -> None:
    import csv

    result = spy(jnt, retained, "--format", "csv", "-n", str(len(RETAINED)))
    rows = list(csv.reader(result.stdout.splitlines()))
    assert rows[0] == ["time", "topic", "qos", "retain", "kind", "hadd", "text"]
    by_topic = {r[1].removeprefix(retained.prefix): r for r in rows[1:]}
    assert set(by_topic) == {tail for tail, _ in RETAINED}
    hb = by_topic["/dhcp/heartbeat/1118/0001"]
    assert hb[2:6] == ["0", "True", "heartbeat", "1118/0001"] and hb[6].startswith("ONLINE")


def test_spy_describes_the_retained_state_extension(jnt: Jnt, quiet_network: FakeNetwork) -> None:
    good = json.dumps({"nodes": [{"uuid": "c", "hadd": "0226/0000", "state": "ONLINE"}], "values": [],
                       "status": 226}).encode()  # fmt: skip
    publish_retained(
        quiet_network, [("/retained/controllers/0226", good), ("/retained/controllers/bad", b"x")]
    )
    lines = strip_time(spy(jnt, quiet_network, "-n", "2").stdout.splitlines())
    assert "OTHER      0226/0000  retained state: 1 nodes, 0 values" in lines
    assert any(x.startswith("OTHER      -          !! undecodable (a controller is 4 digits)") for x in lines)


def test_spy_labels_wills_and_empty_answers() -> None:
    """Issue #15: a node process's own will is not "dispatched"; an empty answer names its requester."""
    col, text, fields, *_ = describe(decode(*encode(HeartbeatDispatch(225, -1, "OFFLINE"))))
    assert (col, text) == ("0225/0000", "OFFLINE (last will of the controller's process, all its nodes)")
    assert fields["dispatched"] is False and fields["whole_controller"] is True
    col, text, fields, *_ = describe(HeartbeatDispatch(225, 3, "PENDING"))
    assert (col, text, fields["dispatched"]) == ("0225/0003", "PENDING (dispatched)", True)
    will = ResolvHeartbeat(10, 0, "OFFLINE", {"role": "offline", "epoch": 0, "priority": 10})
    col, text, fields, *_ = describe(decode(*encode(will)))
    assert text == "network controller OFFLINE (its last will) role=offline epoch=0 priority=10"
    assert fields["role"] == "offline"
    col, text, *_ = describe(ResolvHeartbeat(10, 0, "OFFLINE", {"role": "stopped", "epoch": 2}))
    assert text.startswith("network controller OFFLINE (its goodbye)")
    assert describe(ResolvHeartbeat(1, 0, "ONLINE"))[1] == "primary ONLINE"  # the original's, no extras
    empty = DiscoveryReply("request_info_users", Hadd(9999, 42), ReplyRoute.BROADCAST)
    col, text, *_ = describe(decode(*encode(empty)))
    assert (col, text) == ("9999/0042", "request_info_users: 0 values to 9999/0042")
