"""`jnt-node acl`: roles and rules from node configs, mosquitto hashes, the files it writes."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from paho.mqtt.client import topic_matches_sub

from janitoo_node.acl import (
    NETWORK_CONTROLLER,
    NODE,
    READ,
    WRITE,
    AclError,
    Rule,
    acl_text,
    build_users,
    check_mosquitto_hash,
    mosquitto_hash,
    node_user,
    password_text,
)
from janitoo_node.cli import main
from janitoo_node.config import ConfigError
from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Genre,
    Hadd,
    Heartbeat,
    HeartbeatDispatch,
    ValueInfo,
    ValuePublication,
    ValueReply,
    encode,
)
from janitoo_protocol.events import ReplyRoute
from janitoo_protocol.roles import NetworkController, RoleConfig
from janitoo_protocol.topics import Topics
from tests.helpers import fake_conf

# A line written by mosquitto_passwd 2.0.11 (`mosquitto_passwd -b -c FILE alice secret`): our hash must agree.
MOSQUITTO_PASSWD_LINE = "alice:$7$101$Y3GvdYVzLz60zSto$CHMeESnA3WJbTWsZ09KtzK7Uigke3fPKVm0RTuE8NKNBSUcN9l6fu14Sq13Bs4Cv+600mTGRscq+88CUhmGNFQ=="


def _conf(
    tmp_path: Path, name: str, controller: int, *, prefix: str = "", system: str = "", extra: str = ""
) -> Path:
    conf = fake_conf(tmp_path / f"{name}.conf", 1883, controller=controller, prefix=prefix, extra=extra)
    user = f"broker_user = {name}\n" if name else ""
    conf.write_text(conf.read_text().replace("slow_start = 0\n", "slow_start = 0\n" + user + system, 1))
    return conf


def _allowed(rules: list[Rule], access: str, topic: str) -> bool:
    return any(r.access == access and topic_matches_sub(r.topic, topic) for r in rules)


@pytest.mark.parametrize("prefix", ["", "site", "home/a"])
def test_a_node_may_publish_everything_the_runtime_publishes_for_its_controller(
    tmp_path: Path, prefix: str
) -> None:
    user = node_user(_conf(tmp_path, "n1", 1118, prefix=prefix))
    assert user.role == NODE
    t = Topics(prefix)
    mine, asker = Hadd(1118, 1), Hadd(9999, 9990)
    value = ValueInfo(uuid="location", genre=Genre.CONFIG, cmd_class=112, hadd=mine, data="x")
    published = [
        Heartbeat(mine, "ONLINE"), Heartbeat(Hadd(1118, 0), "ONLINE"),
        HeartbeatDispatch(1118, -1, "OFFLINE"),  # the will: mosquitto refuses the CONNECT without it
        ValuePublication(Genre.CONFIG, mine, "location", (value,)), ValueReply(asker, value),
        DiscoveryReply("request_info_nodes", asker, route=ReplyRoute.BROADCAST),
        DiscoveryReply("request_info_nodes", asker, route=ReplyRoute.NODE),
    ]  # fmt: skip
    for message in published:
        topic, _ = encode(message, t)
        assert _allowed(user.rules, WRITE, topic), topic
    for heard in (t.broadcast_request(), t.node_request(mine), t.node_request(Hadd(1118, 0))):
        assert _allowed(user.rules, READ, heard), heard


@pytest.mark.parametrize("prefix", ["", "site"])
def test_a_node_may_not_speak_for_another_controller_nor_send_requests(tmp_path: Path, prefix: str) -> None:
    rules = node_user(_conf(tmp_path, "n1", 1118, prefix=prefix)).rules
    t = Topics(prefix)
    other = Hadd(1119, 1)
    value = ValueInfo(uuid="x", genre=Genre.USER, cmd_class=49, hadd=other, data=1)
    for topic in (
        t.heartbeat(other), t.values(Genre.USER, other, "x"), t.node_request(other), t.broadcast_request(),
        t.resolv_heartbeat(), t.resolv_broadcast(), t.lease("new"),
        encode(ValuePublication(Genre.USER, other, "x", (value,)), t)[0],
        # Another prefix is another network.
        Topics("elsewhere").heartbeat(Hadd(1118, 1)),
    ):  # fmt: skip
        assert not _allowed(rules, WRITE, topic), topic
    assert not _allowed(rules, READ, t.node_request(other))
    assert not _allowed(rules, READ, t.values(Genre.USER, other, "x"))


def test_a_network_controller_may_publish_what_its_controller_publishes(tmp_path: Path) -> None:
    user = node_user(_conf(tmp_path, "p1", 225, extra="\n[network]\nis_primary = True\n"))
    assert user.role == NETWORK_CONTROLLER
    t = Topics("")
    me = Hadd(225, 0)
    ctl = NetworkController(me, RoleConfig(is_primary=True))
    out = list(ctl.start(0.0).publish) + [
        ctl.will(),
        DiscoveryRequest("request_info_nodes", me, Hadd(300, 0)),
    ]
    out += list(ctl.tick(100.0).publish)
    assert out
    for message in out:
        topic, _ = encode(message, t)
        assert _allowed(user.rules, WRITE, topic), topic
    for heard in (t.heartbeat_all(), t.values_all(), t.resolv_all(), t.broadcast_reply(me), t.node_reply(me)):
        assert _allowed(user.rules, READ, heard), heard
    assert not _allowed(user.rules, READ, t.node_reply(Hadd(9999, 9990)))


def test_operator_and_viewer_rules(tmp_path: Path) -> None:
    users = build_users([_conf(tmp_path, "n1", 1118, prefix="site")], ["op"], ["tv"])
    op, tv = users[1], users[2]
    t = Topics("site")
    for topic in (t.node_request(Hadd(1118, 1)), t.broadcast_request()):
        assert _allowed(op.rules, WRITE, topic) and not _allowed(tv.rules, WRITE, topic)
    for topic in (t.heartbeat(Hadd(1, 1)), t.resolv_heartbeat(), t.node_reply(Hadd(9999, 9990))):
        assert _allowed(op.rules, READ, topic) and _allowed(tv.rules, READ, topic)
    assert not _allowed(op.rules, WRITE, t.heartbeat(Hadd(1118, 1)))
    assert not _allowed(op.rules, READ, Topics("other").heartbeat(Hadd(1, 1)))


def test_acl_text_blocks(tmp_path: Path) -> None:
    text = acl_text(build_users([_conf(tmp_path, "n1", 1118)], ["op"], []))
    blocks = [b for b in text.split("\n\n") if b.startswith("# node") or b.startswith("# operator")]
    assert blocks[0].splitlines()[1] == "user n1"
    assert "topic write /dhcp/heartbeat/1118/+" in blocks[0]
    assert blocks[1].splitlines()[1:] == [
        "user op", "topic read /#", "topic write /broadcast/request", "topic write /nodes/+/+/request",
        "topic write /retained/sync/+",
    ]  # fmt: skip


def test_a_node_config_without_broker_user_is_refused(tmp_path: Path) -> None:
    conf = _conf(tmp_path, "", 1118)
    with pytest.raises(ConfigError, match=r"\[system\] broker_user: missing"):
        node_user(conf)


@pytest.mark.parametrize("name", ["has space", "a:b", "x" * 65, "é"])
def test_bad_user_names_are_refused(tmp_path: Path, name: str) -> None:
    conf = _conf(tmp_path, "n1", 1118)
    with pytest.raises(AclError, match="user name"):
        build_users([conf], [name])


def test_a_user_named_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    a, b = _conf(tmp_path, "n1", 1118), _conf(tmp_path / "b", "n1", 1119)
    with pytest.raises(AclError, match="user 'n1' is both"):
        build_users([a, b])
    with pytest.raises(AclError, match="user 'op' is both"):
        build_users([a], ["op"], ["op"])


def test_one_controller_in_two_configs_is_refused(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    a, b = _conf(tmp_path, "n1", 1118), _conf(tmp_path / "b", "n2", 1118)
    with pytest.raises(AclError, match="controller 1118 is in both"):
        build_users([a, b])


def test_our_hash_agrees_with_mosquitto_passwd() -> None:
    _, hashed = MOSQUITTO_PASSWD_LINE.split(":", 1)
    assert check_mosquitto_hash("secret", hashed)
    assert not check_mosquitto_hash("Secret", hashed)
    salt = hashed.split("$")[3]
    assert mosquitto_hash("secret", base64.b64decode(salt)) == hashed


def test_password_text_hashes_known_passwords_only(tmp_path: Path) -> None:
    secret = tmp_path / "n1.pw"
    secret.write_text("node-secret\n")
    users = build_users([_conf(tmp_path, "n1", 1118, system=f"broker_password_file = {secret}\n")], ["op"], ["tv"],
                        passwords={"op": "op-secret"})  # fmt: skip
    lines = dict(line.split(":", 1) for line in password_text(users).splitlines())
    assert set(lines) == {"n1", "op"}
    assert check_mosquitto_hash("node-secret", lines["n1"]) and check_mosquitto_hash("op-secret", lines["op"])
    assert "node-secret" not in password_text(users)


def test_acl_command_writes_private_files_and_lists_missing_passwords(tmp_path: Path) -> None:
    conf = _conf(tmp_path, "n1", 1118, system="broker_password = pw1\n")
    people = tmp_path / "people.txt"
    people.write_text("# operators\nop:op-secret\n")
    acl, passwd = tmp_path / "out.acl", tmp_path / "out.passwd"
    result = CliRunner().invoke(main, ["acl", "-c", str(conf), "--operator", "op", "--viewer", "tv", "--passwords",
                                       str(people), "-o", str(acl), "--password-file", str(passwd)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "user n1" in acl.read_text() and "user tv" in acl.read_text()
    assert sorted(line.split(":")[0] for line in passwd.read_text().splitlines()) == ["n1", "op"]
    for f in (acl, passwd):
        assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert "mosquitto_passwd" in result.output and "(for tv)" in result.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_acl_command_prints_the_acl_without_an_output_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["acl", "-c", str(_conf(tmp_path, "n1", 1118))])
    assert result.exit_code == 0
    assert "user n1\ntopic write /broadcast/reply/+/+" in result.output


@pytest.mark.parametrize(
    ("setup", "expected"),
    [("nouser", "broker_user: missing"), ("badpasswords", "expected user:password"),
     ("nofile", "cannot read the passwords file")],
)  # fmt: skip
def test_acl_command_errors_are_one_line(tmp_path: Path, setup: str, expected: str) -> None:
    conf = _conf(tmp_path, "" if setup == "nouser" else "n1", 1118)
    args = ["acl", "-c", str(conf)]
    people = tmp_path / "people.txt"
    if setup == "badpasswords":
        people.write_text("op-without-password\n")
    if setup != "nouser":
        args += ["--passwords", str(people)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jnt-node: error: ") and expected in lines[0]


@pytest.mark.parametrize("prefix", ["two words", "tab\there", "bell\x07"])
def test_a_prefix_that_would_break_an_acl_line_is_refused(tmp_path: Path, prefix: str) -> None:
    conf = _conf(tmp_path, "n1", 1118)
    with pytest.raises(AclError, match="topic prefix"):
        build_users([conf], ["op"], prefixes=[prefix])


def test_operators_get_the_prefixes_asked_for(tmp_path: Path) -> None:
    users = build_users([_conf(tmp_path, "n1", 1118, prefix="site")], ["op"], prefixes=["site", "lab"])
    assert {r.topic for r in users[1].rules if r.access == READ} == {"site/#", "lab/#"}
