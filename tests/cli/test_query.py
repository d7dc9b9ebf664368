"""`jnt query network|node|value` against the node runtime through a real mosquitto."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from click.testing import Result

from janitoo_cli.errors import CliError
from janitoo_cli.query import check_index
from janitoo_protocol import Hadd, NodeInfo
from janitoo_protocol.network import NetworkMap

from .conftest import FakeNetwork, golden, mask_counter, one_error_line, publish_retained, run_module

Jnt = Callable[..., Result]

NODE_KEYS = {"hadd", "uuid", "name", "location", "product_type", "product_name", "product_manufacturer", "oid",
             "capabilities", "cmd_classes", "heartbeat", "config_timeout", "state"}  # fmt: skip
VALUE_KEYS = {"hadd", "node_uuid", "uuid", "idx", "data", "units", "type", "genre", "cmdclass", "help", "label",
              "list_items", "default", "min", "max", "is_readonly", "is_writeonly", "is_polled", "poll_delay"}  # fmt: skip


# ---------------------------------------------------------------------------------------------- network


def test_query_network_prints_the_nodes_table(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt(*fake_network.args, "query", "network")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == golden("query-network-nodes.txt")
    assert result.stderr == ""


def test_query_network_all_has_a_title_and_a_header_on_every_table(
    jnt: Jnt, fake_network: FakeNetwork
) -> None:
    result = jnt("query", "network", "--vuuid", "all", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    assert mask_counter(result.stdout) == mask_counter(golden("query-network-all.txt"))
    assert result.stdout.count("hadd       node_uuid") == 5  # one header per value table


def test_query_network_options_from_the_environment(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "network", "--vuuid", "configs", env=fake_network.env)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["hadd", "node_uuid", "uuid", "idx", "data", "units", "type", "genre", "cmdclass",
                                "help"]  # fmt: skip
    # Sorted by hadd, then uuid.
    keys = [(line.split()[0], line.split()[2]) for line in lines[1:]]
    assert keys == sorted(keys)
    assert "1118/0000  fake              location      0    Local" in result.stdout


def test_query_network_json_is_a_list_of_records(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "network", "--format", "json", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    nodes = json.loads(result.stdout)
    assert [n["hadd"] for n in nodes] == ["1118/0000", "1118/0001", "1118/0002"]
    assert all(set(n) == NODE_KEYS for n in nodes)
    assert nodes[1] == {
        "hadd": "1118/0001", "uuid": "fake__component1", "name": "Fake component 1", "location": "Local",
        "product_type": "Software component", "product_name": "Software generic component",
        "product_manufacturer": "Janitoo", "oid": "fake.component", "capabilities": [],
        "cmd_classes": [112, 0, 49], "heartbeat": 15, "config_timeout": 3, "state": "ONLINE",
    }  # fmt: skip


def test_query_network_json_with_several_requests_is_keyed_by_request(
    jnt: Jnt, fake_network: FakeNetwork
) -> None:
    result = jnt("query", "network", "--vuuid", "nodes,systems", "-f", "json", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert list(doc) == ["request_info_nodes", "request_info_systems"]
    systems = doc["request_info_systems"]
    assert all(set(v) == VALUE_KEYS for v in systems)
    heartbeat = next(v for v in systems if v["hadd"] == "1118/0001" and v["uuid"] == "heartbeat")
    assert heartbeat["data"] == 15.0 and heartbeat["units"] == "seconds" and heartbeat["cmdclass"] == 112
    assert heartbeat["genre"] == 4 and heartbeat["idx"] == 0 and heartbeat["node_uuid"] == "fake__component1"


def test_query_network_csv(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "network", "--vuuid", "users", "--format", "csv", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "hadd",
        "node_uuid",
        "uuid",
        "idx",
        "data",
        "units",
        "type",
        "genre",
        "cmdclass",
        "help",
    ]
    assert [r[0] + " " + r[2] for r in rows[1:]] == [
        "1118/0001 counter", "1118/0001 test_user", "1118/0002 counter", "1118/0002 test_user",
    ]  # fmt: skip
    # None is an empty field in CSV.
    assert rows[2] == [
        "1118/0001",
        "fake__component1",
        "test_user",
        "0",
        "",
        "",
        "8",
        "2",
        "0",
        "A user test value",
    ]


def test_query_network_csv_with_several_tables(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "network", "--vuuid", "nodes", "--vuuid", "basics", "-f", "csv", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    nodes, basics = result.stdout.split("\n\n")
    assert nodes.splitlines()[:2] == ["# request_info_nodes", "hadd,uuid,name,location,product_type"]
    assert basics.splitlines() == [
        "# request_info_basics",
        "hadd,node_uuid,uuid,idx,data,units,type,genre,cmdclass,help",
        "1118/0001,fake__component1,test_basic,0,,,8,1,0,A basic test value",
        "1118/0002,fake__component2,test_basic,0,,,8,1,0,A basic test value",
    ]


def test_query_network_with_nobody_there(jnt: Jnt, quiet_network: FakeNetwork) -> None:
    result = jnt("query", "network", *quiet_network.args)
    assert result.exit_code == 1
    assert result.stdout == ""
    line = one_error_line(result)
    assert line.startswith("jnt: error: no node answered on 127.0.0.1:")
    assert f"prefix '{quiet_network.prefix}'" in line


def test_unknown_vuuid_is_a_usage_error(jnt: Jnt, quiet_network: FakeNetwork) -> None:
    result = jnt("query", "network", "--vuuid", "request_info_cats", *quiet_network.args)
    assert result.exit_code == 2
    assert "request_info_cats" in one_error_line(result)


# ---------------------------------------------------------------------------------------------- node


def test_query_node_values_of_one_controller(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt(
        "query", "node", "--hadd", "1118/0000", "--vuuid", "request_info_configs", *fake_network.args
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == golden("query-node-configs.txt")


def test_query_node_of_a_component_shows_that_node_only(jnt: Jnt, fake_network: FakeNetwork) -> None:
    for vuuid, golden_name in (("request_info_configs", "query-node-configs.txt"),
                               ("request_info_nodes", "query-network-nodes.txt")):  # fmt: skip
        result = jnt("query", "node", "--hadd", "1118/0001", "--vuuid", vuuid, *fake_network.args)
        assert result.exit_code == 0, result.stderr
        every = golden(golden_name).splitlines()
        # The controller's answer, less the rows of its other nodes: header lines and 1118/0001's rows.
        assert result.stdout.splitlines() == [
            r for r in every if not r.startswith(("1118/0000", "1118/0002"))
        ]
        assert any(r.startswith("1118/0001") for r in result.stdout.splitlines())


def test_query_node_nodes(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "node", "--hadd", "1118/0000", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == golden("query-network-nodes.txt")


def test_query_node_nobody_answers(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "node", "--hadd", "4321/0000", *fake_network.args)
    assert result.exit_code == 1
    assert one_error_line(result).startswith("jnt: error: no node answered at 4321/0000 on 127.0.0.1:")


@pytest.mark.parametrize("bad", ["11x8/0000", "1118", "1118/0000/1", ""])
def test_invalid_hadd_is_one_line_and_exit_2(jnt: Jnt, bad: str) -> None:
    result = jnt("query", "node", "--hadd", bad)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith("jnt: error: Invalid value for '--hadd': invalid hadd")
    assert "--help" in line


# ---------------------------------------------------------------------------------------------- value


def test_query_value_get_config(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "value", "--hadd", "1118/0001", "--uuid", "location", "--genre", "config",
                 *fake_network.args)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    # A config acknowledgement carries no node_uuid, units or type: printed None, as the original did.
    assert result.stdout == golden("query-value-location.txt")


def test_query_value_set_then_get(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "value", "--hadd", "1118/0002", "--uuid", "location", "--set", "Rack 2",
                 *fake_network.args)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "1118/0002  None       location  0    Rack 2" in result.stdout
    result = jnt(
        "query", "value", "--hadd", "1118/0002", "--uuid", "location", "-f", "json", *fake_network.args
    )
    assert result.exit_code == 0, result.stderr
    [value] = json.loads(result.stdout)
    assert value["data"] == "Rack 2" and value["genre"] == 3 and value["cmdclass"] == 112


def test_query_value_finds_genre_and_cmdclass_by_asking(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "value", "--hadd", "1118/0001", "--uuid", "test_user", "--set", "hello", "-f", "json",
                 *fake_network.args)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [value] = json.loads(result.stdout)
    assert set(value) == VALUE_KEYS
    assert (value["hadd"], value["uuid"], value["data"], value["genre"], value["cmdclass"], value["type"]) == (
        "1118/0001", "test_user", "hello", 2, 0, 8,
    )  # fmt: skip


def test_query_value_index_and_cmdclass_by_name(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "value", "--hadd", "1118/0001", "--uuid", "counter", "--genre", "user", "--cmdclass",
                 "SENSOR_MULTILEVEL", "--index", "0", "-f", "csv", *fake_network.args)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert row.startswith("1118/0001,fake__component1,counter,0,")
    assert row.endswith(",,4,2,49,How many times the counter was read")


def test_refused_set_exits_5_with_the_nodes_reason(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt(
        "query", "value", "--hadd", "1118/0001", "--uuid", "counter", "--set", "5", *fake_network.args
    )
    assert result.exit_code == 5
    assert result.stdout == ""
    assert (
        one_error_line(result) == "jnt: error: node 1118/0001 refused SET of 'counter': counter is read-only"
    )


def test_unanswered_get_exits_4(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "value", "--hadd", "1118/0009", "--uuid", "location", "--genre", "config",
                 "--timeout", "0.3", *fake_network.args)  # fmt: skip
    assert result.exit_code == 4
    line = one_error_line(result)
    assert line.startswith("jnt: error: node 1118/0009 never answered the GET of config value 'location'")


def test_unknown_value_lists_the_nodes_values(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "value", "--hadd", "1118/0001", "--uuid", "nope", *fake_network.args)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert line.startswith(
        "jnt: error: node 1118/0001 has no value 'nope'; its values: config_timeout, counter,"
    )


def test_value_of_a_silent_node(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "value", "--hadd", "4444/0001", "--uuid", "x", *fake_network.args)
    assert result.exit_code == 1
    assert one_error_line(result).startswith("jnt: error: no node answered at 4444/0001")


def test_bad_genre_and_cmdclass(jnt: Jnt) -> None:
    result = jnt("query", "value", "--hadd", "1118/0001", "--uuid", "x", "--genre", "usr")
    assert result.exit_code == 2
    assert "'usr' is not a genre" in one_error_line(result)
    result = jnt("query", "value", "--hadd", "1118/0001", "--uuid", "x", "--cmdclass", "SWITCH_BINAR")
    assert result.exit_code == 2
    assert "'SWITCH_BINAR' is not a command class" in one_error_line(result)


# ---------------------------------------------------------------------------------------------- errors


def test_no_broker_names_host_and_port(jnt: Jnt, refused_port: int) -> None:
    port = refused_port
    result = jnt("query", "network", "--port", str(port))
    assert result.exit_code == 3
    assert one_error_line(result) == (
        f"jnt: error: MQTT broker 127.0.0.1:{port}: connection refused (is the broker running?)"
    )


def test_unknown_host(jnt: Jnt) -> None:
    result = jnt("query", "network", "--host", "no-such-host.invalid")
    assert result.exit_code == 3
    assert one_error_line(result).startswith("jnt: error: MQTT broker no-such-host.invalid:1883: ")


# ---------------------------------------------------------------------------------------------- subprocess


def test_subprocess_query_network(fake_network: FakeNetwork) -> None:
    proc = run_module("janitoo_cli.main", "query", "network", env=fake_network.env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == golden("query-network-nodes.txt")
    assert proc.stderr == ""


def test_subprocess_query_node(fake_network: FakeNetwork) -> None:
    proc = run_module("janitoo_cli.main", "query", "node", "--hadd", "1118/0000", "--vuuid", "configs",
                      *fake_network.args)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == golden("query-node-configs.txt")


def test_subprocess_query_value_set_and_refusal(fake_network: FakeNetwork) -> None:
    proc = run_module("janitoo_cli.main", "query", "value", "--hadd", "1118/0001", "--uuid", "test_config",
                      "--genre", "config", "--cmdclass", "0", "--set", "abc", *fake_network.args)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "1118/0001  fake__component1  test_config  0    abc" in proc.stdout
    proc = run_module("janitoo_cli.main", "query", "value", "--hadd", "1118/0001", "--uuid", "counter", "--set", "1",
                      *fake_network.args)  # fmt: skip
    assert proc.returncode == 5
    assert one_error_line(proc) == "jnt: error: node 1118/0001 refused SET of 'counter': counter is read-only"


def test_subprocess_no_broker(fake_network: FakeNetwork, refused_port: int) -> None:
    port = refused_port
    proc = run_module("janitoo_cli.main", "query", "node", "--hadd", "1118/0000", "--port", str(port))
    assert proc.returncode == 3
    assert f"127.0.0.1:{port}" in one_error_line(proc)


def test_subprocess_bad_hadd() -> None:
    proc = run_module("janitoo_cli.main", "query", "value", "--hadd", "zz", "--uuid", "x")
    assert proc.returncode == 2
    assert "invalid hadd 'zz'" in one_error_line(proc)


def test_query_network_names_a_known_controller_that_did_not_answer(
    jnt: Jnt, fake_network: FakeNetwork
) -> None:
    # A controller heard in a heartbeat (here a retained one, heard at once) but silent to requests.
    publish_retained(fake_network, [("/dhcp/heartbeat/0777/0000", b"ONLINE")])
    result = jnt("query", "network", "--timeout", "1.5", *fake_network.args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == golden("query-network-nodes.txt")  # every node that answered, as before
    assert one_error_line(result) == (
        "jnt: warning: controller(s) 0777 did not answer within 1.5 s: the list is partial"
    )
    result = jnt("query", "network", "--timeout", "1.5", "--complete", *fake_network.args)
    assert result.exit_code == 1
    assert "0777 did not answer" in one_error_line(result)


def test_index_reaches_our_nodes_which_say_they_honour_it(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("query", "value", "--hadd", "1118/0001", "--uuid", "location", "--genre", "config",
                 "--index", "1", "--timeout", "1", *fake_network.args)  # fmt: skip
    assert "does not say it honours --index" not in result.stderr


def test_index_set_to_a_node_that_does_not_honour_it_is_refused_without_force(
    jnt: Jnt, fake_network: FakeNetwork
) -> None:
    """Issue #15: an original node writes instance 0 whatever the index, and echoes the index back."""
    args = ("query", "value", "--hadd", "1118/0009", "--uuid", "location", "--genre", "config", "--index", "2",
            "--timeout", "0.3")  # fmt: skip
    result = jnt(*args, "--set", "x", *fake_network.args)
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "jnt: error: node 1118/0009 does not say it honours --index (no answer): it would write instance 0, "
        "not 2; add --force to send it anyway"
    )
    result = jnt(*args, "--set", "x", "--force", *fake_network.args)  # sent, with a warning (nobody answers)
    assert result.exit_code == 4
    assert (
        "jnt: warning: node 1118/0009 does not say it honours --index (no answer): it may write instance 0"
        in (result.stderr)
    )
    result = jnt(*args, *fake_network.args)  # a GET: a warning only
    assert result.exit_code == 4 and "it may read instance 0 and still echo index 2" in result.stderr


def test_check_index_reads_the_extension_key_of_the_discovery() -> None:
    ours, original = Hadd(1118, 1), Hadd(225, 1)
    network = NetworkMap()
    network.nodes[ours] = NodeInfo.from_wire({"uuid": "a", "hadd": "1118/0001", "jnt_index": True})
    network.nodes[original] = NodeInfo.from_wire({"uuid": "b", "hadd": "0225/0001"})
    assert network.nodes[ours].honours_index and not network.nodes[original].honours_index
    check_index(network, ours, 3, is_set=True, force=False)  # nothing to say
    with pytest.raises(
        CliError, match=r"node 0225/0001 does not say it honours --index \(an original node\?\)"
    ):
        check_index(network, original, 3, is_set=True, force=False)
    # A hostile "jnt_index": "yes" is not true.
    network.nodes[original] = NodeInfo.from_wire({"uuid": "b", "hadd": "0225/0001", "jnt_index": "yes"})
    assert not network.nodes[original].honours_index
