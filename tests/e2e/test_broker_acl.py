"""`jnt-node acl` files in a real mosquitto: each role refused outside its rights, a real node working inside."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from janitoo_node.broker import MosquittoBroker
from janitoo_node.cli import main as jnt_node
from janitoo_protocol import RequestRefused
from janitoo_protocol.transport import JanitooClient, Subscription
from tests.brokerkit import RawClient, WatchedProcess, make_readable, public_folder, run_jnt, secure_broker
from tests.helpers import fake_conf

PREFIX = "site"
PASSWORDS = {"node-a": "pass-a", "node-b": "pass-b", "alice": "operator-pass", "bob": "viewer-pass"}
NODES_A = {"1118/0000", "1118/0001", "1118/0002"}
SET_LOCATION = (
    '{"cmd_class": 112, "genre": 3, "uuid": "location", "hadd": "1118/0001", "data": "%s", '
    '"reply_hadd": "9999/9990", "is_writeonly": true, "is_readonly": false}'
)


def _node_conf(folder: Path, name: str, controller: int, extra: str = "") -> Path:
    secret = folder / f"{name}.password"
    secret.write_text(PASSWORDS[name] + "\n")
    conf = fake_conf(folder / f"{name}.conf", 1883, controller=controller, prefix=PREFIX, heartbeat=5,
                     extra=extra)  # fmt: skip
    system = f"broker_user = {name}\nbroker_password_file = {secret}\n"
    conf.write_text(conf.read_text().replace("slow_start = 0\n", "slow_start = 0\n" + system, 1))
    return conf


@dataclass
class Network:
    broker: MosquittoBroker
    node: WatchedProcess
    acl: str


@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    """Node process A (controller 1118, primary network controller) runs; node B (1200) is only a user."""
    with public_folder("jnt-acl-") as d:
        conf_a = _node_conf(d, "node-a", 1118, extra="\n[network]\nis_primary = True\n")
        conf_b = _node_conf(d, "node-b", 1200)
        people = d / "people.txt"
        people.write_text("alice:operator-pass\nbob:viewer-pass\n")
        acl, passwd = d / "janitoo.acl", d / "janitoo.passwd"
        result = CliRunner().invoke(jnt_node, ["acl", "-c", str(conf_a), "-c", str(conf_b), "--operator", "alice",
                                               "--viewer", "bob", "--passwords", str(people), "-o", str(acl),
                                               "--password-file", str(passwd)])  # fmt: skip
        assert result.exit_code == 0, result.output
        make_readable(acl, passwd)
        broker, _ = secure_broker(passwd, acl_file=acl)
        with broker:
            # The node's port is the broker's: rewrite the placeholder port of the configs.
            for conf in (conf_a, conf_b):
                conf.write_text(
                    conf.read_text().replace("broker_port = 1883", f"broker_port = {broker.port}")
                )
            with WatchedProcess.node(conf_a) as node:
                node.wait_for("all buses online")
                node.wait_for("network controller 1118/0000 starting")
                yield Network(broker, node, acl.read_text())
            assert node.proc.returncode == 0, node.output()


@pytest.fixture
def operator(network: Network) -> Iterator[JanitooClient]:
    with JanitooClient(port=network.broker.port, prefix=PREFIX, username="alice",
                       password=PASSWORDS["alice"]) as client:  # fmt: skip
        yield client


def _raw(network: Network, user: str) -> RawClient:
    raw = RawClient(network.broker.port, user, PASSWORDS[user])
    assert raw.connect() == "Success"
    return raw


def _seen_until(watch: Subscription, control: str, timeout: float = 10) -> list[tuple[str, bytes]]:
    """The (topic, payload) pairs `watch` received up to and including the first on `control`."""
    seen: list[tuple[str, bytes]] = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1][0] != control:
        env = watch.get(max(0.0, deadline - time.monotonic()))
        assert env is not None, f"the control message on {control} never came; saw {seen}"
        seen.append((env.topic, env.payload))
    return seen


def _payloads_until(watch: Subscription, topic: str, control: bytes, timeout: float = 10) -> list[bytes]:
    """The payloads on `topic` that `watch` received up to and including the first holding `control`."""
    out: list[bytes] = []
    deadline = time.monotonic() + timeout
    while not out or control not in out[-1]:
        env = watch.get(max(0.0, deadline - time.monotonic()))
        assert env is not None, f"the control message on {topic} never came; saw {out}"
        if env.topic == topic:
            out.append(env.payload)
    return out


# --- authentication ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "password"), [(None, None), ("mallory", "x"), ("alice", "wrong")])
def test_anonymous_unknown_and_wrong_password_clients_are_refused(
    network: Network, user: str | None, password: str | None
) -> None:
    raw = RawClient(network.broker.port, user, password)
    try:
        assert raw.connect() == "Not authorized"
    finally:
        raw.close()


# --- what each role may not do -------------------------------------------------------------------------------

FORBIDDEN = [
    # (who, forbidden topic, payload, allowed control topic of the same user)
    ("node-b", "/dhcp/heartbeat/1118/0001", "OFFLINE", "/dhcp/heartbeat/1200/0001"),
    ("node-b", "/values/user/1118/0001/counter", '{"data": "forged by node-b"}', "/values/user/1200/0001/counter"),
    ("node-b", "/nodes/1118/0001/request", SET_LOCATION % "by node-b", "/dhcp/heartbeat/1200/0002"),
    ("node-b", "/dhcp/resolv/heartbeat", '{"add_ctrl": 1200, "add_node": 0, "state": "ONLINE"}',
     "/dhcp/heartbeat/1200/0000"),
    ("node-a", "/dhcp/heartbeat/1200/0000", "ONLINE", "/dhcp/heartbeat/1118/0009"),
    ("alice", "/dhcp/heartbeat/1118/0001", "OFFLINE", "/nodes/1118/0009/request"),
    ("alice", "/values/user/1118/0001/counter", '{"data": "forged by alice"}', "/nodes/1118/0009/request"),
]  # fmt: skip


@pytest.mark.parametrize(("user", "forbidden", "payload", "control"), FORBIDDEN)
def test_a_user_publishing_outside_its_rights_is_not_delivered(
    network: Network, operator: JanitooClient, user: str, forbidden: str, payload: str, control: str
) -> None:
    watch = operator.watch()
    with _raw(network, user) as raw:
        raw.publish(PREFIX + forbidden, payload)  # acknowledged once mosquitto handled (dropped) it
        raw.publish(PREFIX + control, "ONLINE")  # the same user, within its rights: delivered
        seen = _seen_until(watch, PREFIX + control)
    # By payload too: the running node publishes its own heartbeats and values on some of these topics.
    assert (PREFIX + forbidden, payload.encode()) not in seen
    watch.close()


def test_a_viewer_sees_everything_but_its_set_is_not_delivered(
    network: Network, operator: JanitooClient
) -> None:
    watch = operator.watch()
    with JanitooClient(port=network.broker.port, prefix=PREFIX, username="bob",
                       password=PASSWORDS["bob"]) as viewer:  # fmt: skip
        beats = viewer.watch("heartbeats")
        assert beats.get(15) is not None  # a viewer may subscribe, and hears the node
        with _raw(network, "bob") as raw:
            raw.publish(PREFIX + "/nodes/1118/0001/request", SET_LOCATION % "by the viewer")
    # Positive control after the viewer's PUBACK: the operator's GET on the same topic arrives, alone.
    location = operator.get_value("1118/0001", "location", "config")
    requests = _payloads_until(watch, PREFIX + "/nodes/1118/0001/request", b'"uuid": "location"')
    assert not any(b"by the viewer" in p for p in requests)
    assert location.data != "by the viewer"
    watch.close()


def test_an_operator_set_is_delivered_and_applied(network: Network, operator: JanitooClient) -> None:
    ack = operator.set_value("1118/0001", "location", "config", "Rack 9")
    assert ack.data == "Rack 9"
    assert operator.get_value("1118/0001", "location", "config").data == "Rack 9"
    # The very payload the viewer sent, from the operator: applied (so the viewer's was refused by the broker).
    with _raw(network, "alice") as raw:
        raw.publish(PREFIX + "/nodes/1118/0001/request", SET_LOCATION % "by the operator")
    # GET answers come after the SET's (the node handles its requests in order).
    assert operator.get_value("1118/0001", "location", "config").data == "by the operator"
    with pytest.raises(RequestRefused):
        operator.set_value("1118/0001", "counter", "user", 3, cmd_class=49)  # the node still says no itself


# --- a real node and jnt through the acl ---------------------------------------------------------------------


def test_the_real_node_and_its_network_controller_work_through_the_acl(
    network: Network, operator: JanitooClient
) -> None:
    resolv = operator.watch("resolv")
    assert resolv.get(10) is not None, "the primary's resolv heartbeat was not delivered"
    values = operator.watch("values", topic=f"{PREFIX}/values/config/1118/0002/location")
    operator.set_value("1118/0002", "location", "config", "Hall")
    assert values.get(10) is not None, "the node's value publication was not delivered"


def test_jnt_query_network_as_operator(network: Network) -> None:
    env = {"JNT_USERNAME": "alice", "JNT_PASSWORD": PASSWORDS["alice"], "JNT_PREFIX": PREFIX}
    result = run_jnt("query", "network", "--port", str(network.broker.port), "--format", "json", env=env)
    assert result.returncode == 0, result.stderr + network.node.output()
    assert {row["hadd"] for row in json.loads(result.stdout)} == NODES_A


def test_jnt_query_network_as_viewer_learns_the_network_from_the_retained_state(network: Network) -> None:
    # A viewer may not send a request (nor the retained reading's end marker, so it ends on its timeout):
    # the nodes' retained state alone tells it the network.
    env = {"JNT_USERNAME": "bob", "JNT_PASSWORD": PASSWORDS["bob"], "JNT_PREFIX": PREFIX}
    result = run_jnt("query", "network", "--port", str(network.broker.port), "--timeout", "1", "--format",
                     "json", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {row["hadd"] for row in json.loads(result.stdout)} == NODES_A


def test_the_generated_acl_names_the_prefix_everywhere(network: Network) -> None:
    topics = [line.split()[-1] for line in network.acl.splitlines() if line.startswith("topic ")]
    assert topics and all(t.startswith(PREFIX + "/") for t in topics)
    assert "Traceback" not in network.node.output()
