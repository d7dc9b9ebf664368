"""`jnt_query` and `jnt_spy`: the original tools' options and text layout."""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import Result

from janitoo_cli.compat import jnt_query, jnt_spy

from .conftest import FakeNetwork, golden, mask_counter, one_error_line, publish_retained, run_script

Jnt = Callable[..., Result]


def conn(net: FakeNetwork) -> list[str]:
    """The original's connection options (the prefix comes from JNT_PREFIX: the original had none)."""
    return ["--host", net.broker.host, "--port", str(net.broker.port)]


def test_node_nodes_in_the_original_layout(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("node", "--hadd", "1118/0001", *conn(fake_network), env={"JNT_PREFIX": fake_network.prefix},
                 cmd=jnt_query)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == golden("jnt_query-node-nodes.txt")


def test_node_all_has_a_header_on_every_table(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("node", "--hadd", "1118/0000", "--vuuid", "all", *conn(fake_network),
                 env={"JNT_PREFIX": fake_network.prefix}, cmd=jnt_query)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert mask_counter(result.stdout) == mask_counter(golden("jnt_query-node-all.txt"))
    blocks = result.stdout.split("\n\n")
    assert [b.splitlines()[0] for b in blocks if b] == [
        "request_info_nodes", "request_info_users", "request_info_configs", "request_info_systems",
        "request_info_basics", "request_info_commands",
    ]  # fmt: skip
    assert all(b.splitlines()[1] == "-" * 10 and b.splitlines()[2].startswith("hadd ") for b in blocks if b)


def test_network_layout_and_raw_output(jnt: Jnt, fake_network: FakeNetwork) -> None:
    env = {"JNT_PREFIX": fake_network.prefix}
    result = jnt("network", "--vuuid", "request_info_systems", "--timeout", "5", *conn(fake_network), env=env,
                 cmd=jnt_query)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "request_info_systems",
        "----------",
        "hadd       uuid                      idx  data                      units      type  genre cmdclass help",
    ]
    assert lines[3] == (
        "1118/0000  config_timeout            0    3.0                       seconds    4     4     112      "
        "The config timeout before applying configuration and rebooting"
    )
    result = jnt("--output", "raw", "network", *conn(fake_network), env=env, cmd=jnt_query)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["uuid"] == "request_info_nodes" and set(payload["data"]) == {"fake", "fake__component1",
                                                                               "fake__component2"}  # fmt: skip


def test_query_get_config_in_the_original_layout(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "--hadd", "1118/0001", "--uuid", "location", "--genre", "config", *conn(fake_network),
                 env={"JNT_PREFIX": fake_network.prefix}, cmd=jnt_query)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    # Like the original's capture: type None (a config acknowledgement has none), list_items None.
    assert result.stdout == (
        "location\n"
        "----------\n"
        "hadd       uuid                      idx  data                      units      type  genre cmdclass "
        "list_items help\n"
        "1118/0001  location                  0    Local                     None       None  3     112      "
        "None The location of the node\n"
        "\n"
    )


def test_query_set_with_writeonly_and_readonly_words(jnt: Jnt, fake_network: FakeNetwork) -> None:
    env = {"JNT_PREFIX": fake_network.prefix}
    result = jnt("query", "--hadd", "1118/0001", "--uuid", "test_user", "--cmdclass", "0", "--data", "hello",
                 "--writeonly", "true", "--readonly", "False", *conn(fake_network), env=env, cmd=jnt_query)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[3] == (
        "1118/0001  test_user                 0    hello                     None       8     2     0        "
        "None A user test value"
    )
    # The genre defaults to user and the cmdclass is asked to the node when omitted.
    result = jnt(
        "query", "--hadd", "1118/0001", "--uuid", "test_user", *conn(fake_network), env=env, cmd=jnt_query
    )
    assert result.exit_code == 0, result.stderr
    assert "1118/0001  test_user                 0    hello" in result.stdout


def test_query_refused_and_debug(jnt: Jnt, fake_network: FakeNetwork) -> None:
    env = {"JNT_PREFIX": fake_network.prefix}
    result = jnt("query", "--hadd", "1118/0001", "--uuid", "counter", "--cmdclass", "49", "--data", "3",
                 "--writeonly", "yes", *conn(fake_network), env=env, cmd=jnt_query)  # fmt: skip
    assert result.exit_code == 5
    assert (
        one_error_line(result)
        == "jnt_query: error: node 1118/0001 refused SET of 'counter': counter is read-only"
    )
    result = jnt("--debug", "node", "--hadd", "1118/0000", *conn(fake_network), env=env, cmd=jnt_query)
    assert result.exit_code == 0
    assert f"{fake_network.prefix}/nodes/9999/9990/reply 0 b'" in result.stderr
    assert "DiscoveryReply(kind='request_info_nodes'" in result.stderr


def test_code_tables(jnt: Jnt) -> None:
    result = jnt("genres", cmd=jnt_query)
    assert result.stdout.splitlines() == ["1 Basic", "2 User", "3 Config", "4 System", "5 Command"]
    result = jnt("cmds", cmd=jnt_query)
    assert "112 CONFIGURATION" in result.stdout.splitlines()
    assert "1 PRIMARY_CONTROLLER" in jnt("caps", cmd=jnt_query).stdout.splitlines()
    assert "32 HADD" in jnt("types", cmd=jnt_query).stdout.splitlines()


def test_errors(jnt: Jnt, quiet_network: FakeNetwork, refused_port: int) -> None:
    port = refused_port
    result = jnt("network", "--port", str(port), cmd=jnt_query)
    assert result.exit_code == 3
    assert one_error_line(result).startswith(
        f"jnt_query: error: MQTT broker 127.0.0.1:{port}: connection refused"
    )
    result = jnt("node", "--hadd", "1118/0000", "--timeout", "0.5", *conn(quiet_network),
                 env={"JNT_PREFIX": quiet_network.prefix}, cmd=jnt_query)  # fmt: skip
    assert result.exit_code == 1
    assert one_error_line(result).startswith("jnt_query: error: no node answered at 1118/0000")
    result = jnt("node", "--hadd", "x", cmd=jnt_query)
    assert result.exit_code == 2
    result = jnt("query", "--hadd", "1118/0001", "--uuid", "x", "--writeonly", "perhaps", cmd=jnt_query)
    assert result.exit_code == 2
    assert "'perhaps'" in one_error_line(result)


def test_subprocess_jnt_query(fake_network: FakeNetwork) -> None:
    proc = run_script("jnt_query", "node", "--hadd", "1118/0001", *conn(fake_network),
                      env={"JNT_PREFIX": fake_network.prefix})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == golden("jnt_query-node-nodes.txt")


def test_jnt_spy_prints_topic_qos_payload(jnt: Jnt, quiet_network: FakeNetwork) -> None:
    publish_retained(quiet_network, [("/dhcp/heartbeat/0225/0002", b"ONLINE"),
                                     ("/values/basic/0225/0002/x", b'{"uuid": "x", "data": 1}')])  # fmt: skip
    result = jnt("--count", "2", *conn(quiet_network), env={"JNT_PREFIX": quiet_network.prefix}, cmd=jnt_spy)
    assert result.exit_code == 0, result.stderr
    p = quiet_network.prefix
    assert sorted(result.stdout.splitlines()) == [
        f"{p}/dhcp/heartbeat/0225/0002 0 b'ONLINE'",
        f'{p}/values/basic/0225/0002/x 0 b\'{{"uuid": "x", "data": 1}}\'',
    ]
    assert result.stderr.splitlines()[0] == f">>>>>> Subscribe to {p}/#"
    result = jnt("--count", "1", "--topic", f"{p}/values/#", *conn(quiet_network), cmd=jnt_spy)
    assert result.stdout.startswith(f"{p}/values/basic/0225/0002/x 0 ")


def test_connection_options_before_the_subcommand_as_the_original_took_them(
    jnt: Jnt, fake_network: FakeNetwork
) -> None:
    result = jnt("--output", "txt", *conn(fake_network), "node", "--hadd", "1118/0001",
                 env={"JNT_PREFIX": fake_network.prefix}, cmd=jnt_query)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == golden("jnt_query-node-nodes.txt")


def test_options_are_moved_only_before_a_subcommand() -> None:
    from janitoo_cli.compat import _options_after_command

    cmds = {"node", "network"}
    assert _options_after_command(["--port", "1", "--debug", "node", "--hadd", "x"], cmds) == [
        "--debug", "node", "--port", "1", "--hadd", "x"]  # fmt: skip
    assert _options_after_command(["--host=h", "network"], cmds) == ["network", "--host=h"]
    assert _options_after_command(["--port", "1"], cmds) == ["--port", "1"]  # no subcommand: click says so
