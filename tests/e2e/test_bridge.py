"""Two real mosquitto brokers joined by a mosquitto bridge (a house and its garden shed): nodes and a
secondary on the shed, the primary and the tools in the house. Discovery, GET/SET, heartbeats, last wills,
the retained state, a bridge restart and a failover, all across the bridge."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import Hadd, Heartbeat, HeartbeatDispatch, ResolvHeartbeat
from janitoo_protocol.transport import Envelope, JanitooClient, Subscription
from tests.e2e.test_failover import all_nodes, is_announcement, is_beat, node_conf
from tests.helpers import NodeProcess, wait_for

P, S1, N = Hadd(10, 0), Hadd(20, 0), Hadd(40, 0)  # P in the house; S1 and N in the shed
RESOLV_HB, RESOLV_TIMEOUT = 0.5, 4.0  # a bridge restart (about 1 s) stays under the takeover timeout


def bridge_config(remote_port: int, prefix: str = "") -> str:
    """The shed broker's bridge to the house: every Janitoo topic both ways.

    With an empty prefix the original's topics start with '/', and `#` matches them (only `$SYS`-like
    topics are left out); under a prefix, `topic <prefix>/# both 0` bridges that network only."""
    pattern = "#" if not prefix else f"{prefix}/#"
    return (
        "connection shed-to-house\n"
        f"address 127.0.0.1:{remote_port}\n"
        f"topic {pattern} both 0\n"
        # try_private: the remote knows it is a bridge, so it keeps retain flags and never echoes back
        # what the bridge sent (no loop). cleansession: nothing queued for a dead link (QoS 0 anyway).
        "try_private true\ncleansession true\nnotifications false\n"
        "restart_timeout 1\nkeepalive_interval 5\nstart_type automatic\n"
    )


@dataclass
class Site:
    house: MosquittoBroker
    shed: MosquittoBroker
    tmp: Path
    procs: dict[Hadd, NodeProcess]

    def start(self, ctrl: Hadd, broker: MosquittoBroker, network: dict[str, object] | None) -> None:
        conf = node_conf(self.tmp / f"n{ctrl.controller}.conf", broker.port, ctrl, network)
        self.procs[ctrl] = NodeProcess(conf, "--port", str(broker.port)).start()

    def logs(self) -> str:
        return "\n".join(f"--- {c}:\n{p.output()[-3000:]}" for c, p in self.procs.items())


def wait_bridged(src: MosquittoBroker, dst: MosquittoBroker, timeout: float = 15) -> None:
    """Until a message published on `src` arrives on `dst` (the bridge is up and subscribed)."""
    with JanitooClient(port=src.port) as a, JanitooClient(port=dst.port) as b, b.subscribe("probe/#") as sub:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            a.publish_raw("probe/bridge", b"ping")
            if sub.get(0.2) is not None:  # a bounded wait per probe: the bridge connects on its own timer
                return
    raise AssertionError(f"the bridge from {src.port} to {dst.port} did not come up within {timeout:g} s")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with MosquittoBroker() as house, MosquittoBroker(extra_config=bridge_config(house.port)) as shed:
        wait_bridged(shed, house)
        wait_bridged(house, shed)
        s = Site(house, shed, tmp_path, {})
        try:
            yield s
        finally:
            for p in s.procs.values():
                try:
                    p.send(signal.SIGCONT)
                except (ProcessLookupError, AssertionError):
                    pass
                p.stop(signal.SIGKILL, timeout=5)
            print(s.logs())  # shown for a failing test only


def _jnt(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "janitoo_cli", "query", "network", "--port", str(port),
                           "--format", "json", *args], capture_output=True, text=True, timeout=60)  # fmt: skip


def _heartbeat_of(hadd: str, state: str = "ONLINE") -> Callable[[Envelope], bool]:
    def pred(env: Envelope) -> bool:
        m = env.message
        return isinstance(m, Heartbeat) and str(m.hadd) == hadd and m.state == state

    return pred


def test_a_network_across_a_bridge_discovery_get_set_heartbeats_wills_restart_and_failover(
    site: Site,
) -> None:
    net = {"resolv_heartbeat": RESOLV_HB, "resolv_timeout": RESOLV_TIMEOUT}
    everyone = all_nodes(P, S1, N)
    with JanitooClient(port=site.house.port, reply_hadd="9999/0042", reconnect_max=0.5) as house:
        wire = house.watch("all")
        site.start(P, site.house, {"is_primary": "true", "priority": 10, **net})
        wait_for(wire, is_beat(P, 1), 15, "the primary's first resolv heartbeat")
        site.start(N, site.shed, None)
        site.start(S1, site.shed, {"is_secondary": "true", "priority": 5, **net})
        # The secondary in the shed follows the primary in the house, its map complete across the bridge.
        wait_for(wire, is_announcement(S1, role="secondary", primary=str(P), synced=True, nodes=len(everyone)),
                 25, "the shed's secondary following the house's primary")  # fmt: skip

        # Discovery from the house: the retained state (bridged with its retain flag) and the requests.
        for source in ("retained", "requests"):
            r = _jnt(site.house.port, "--source", source)
            assert r.returncode == 0, r.stderr
            assert {row["hadd"] for row in json.loads(r.stdout)} == everyone, source
        # GET and SET across the bridge, answered from the shed.
        assert house.set_value("0040/0001", "location", "config", "Shed").data == "Shed"
        assert house.get_value("0040/0001", "location", "config").data == "Shed"
        # Heartbeats of the shed's nodes reach the house.
        wait_for(wire, _heartbeat_of("0040/0002"), 5, "a shed node's heartbeat in the house")

        # A bridge restart: the shed broker (which holds the bridge) dies and comes back on its port.
        after: list[Envelope] = []  # everything the house hears from the restart on
        site.shed.kill()
        restarted = time.monotonic()
        site.shed.start()
        wait_bridged(site.shed, site.house)
        wait_bridged(site.house, site.shed)  # requests go this way: the bridge's subscription on the house
        # The shed's nodes reconnect and heartbeat at once; the house hears them again through the bridge.
        wait_for(
            wire, _heartbeat_of("0040/0001"), 10, "the shed's nodes again after the bridge restart", after
        )
        assert house.get_value("0040/0001", "location", "config").data == "Shed"
        # Shorter than resolv_timeout: no takeover happened on either side (the epoch is still 1).
        wait_for(wire, is_beat(P, 1), 5, "the house's primary still primary", after)
        assert not any(is_beat(min_epoch=2)(e) for e in after + _drain(wire)), site.logs()
        # The house's retained copy stayed, and the shed's came back with the shed's nodes' republication.
        with JanitooClient(port=site.shed.port) as shed_client:
            assert {str(h) for h in shed_client.read_retained().nodes} >= all_nodes(S1, N)
        assert time.monotonic() - restarted < 30

        # A crash in the shed: its last will crosses the bridge, and so does its retained will.
        site.procs[N].send(signal.SIGKILL)
        env = wait_for(wire, lambda e: isinstance(e.message, HeartbeatDispatch) and e.message.add_ctrl == 40,
                       5, "the shed node's last will in the house")  # fmt: skip
        assert isinstance(env.message, HeartbeatDispatch) and env.message.state == "OFFLINE"
        deadline = time.monotonic() + 5
        while {n.state for h, n in house.read_retained().nodes.items() if h.controller == 40} != {"OFFLINE"}:
            assert time.monotonic() < deadline, "the retained will did not cross the bridge"

        # Failover across the bridge: the house's primary dies, the shed's secondary takes over.
        site.procs[P].send(signal.SIGKILL)
        killed = time.monotonic()
        env = wait_for(wire, is_beat(S1, 2), RESOLV_TIMEOUT + 5, "the shed's secondary taking over")
        assert isinstance(env.message, ResolvHeartbeat)
        assert env.received_at - killed < RESOLV_TIMEOUT + 2


def _drain(sub: Subscription) -> list[Envelope]:
    """What is already queued (nothing waited for)."""
    assert sub.queue is not None
    out = []
    while True:
        try:
            out.append(sub.queue.get_nowait())
        except queue.Empty:
            return out


def test_a_bridge_of_one_prefixed_network_only(tmp_path: Path) -> None:
    # `topic site/# both 0` carries the network under the prefix `site`, and nothing else.
    with MosquittoBroker() as house, MosquittoBroker(extra_config=bridge_config(house.port, "site")) as shed:
        conf = node_conf(tmp_path / "n40.conf", shed.port, N, None)
        conf.write_text(conf.read_text().replace("[system]\n", "[system]\ntopic_prefix = site\n", 1))
        with NodeProcess(conf) as node, JanitooClient(port=house.port, prefix="site") as client:
            with client.subscribe("site/dhcp/heartbeat/0040/+") as beats:
                wait_for(beats, lambda e: True, 15, "the shed's heartbeats under the prefix, in the house")
            for source in ("retained", "requests"):
                r = _jnt(house.port, "--prefix", "site", "--source", source)
                assert r.returncode == 0, r.stderr + node.output()
                assert {row["hadd"] for row in json.loads(r.stdout)} == all_nodes(N), source
            assert client.get_value("0040/0001", "name", "config").data is not None
            # The original's unprefixed topics are not bridged.
            with (
                JanitooClient(port=shed.port) as shed_client,
                client.subscribe("/#") as plain,
                client.subscribe("site/bridge/#") as probe,
            ):
                shed_client.publish_raw("/dhcp/heartbeat/0099/0000", b"ONLINE")
                shed_client.publish_raw("site/bridge/probe", b"after")
                wait_for(probe, lambda e: True, 5, "the probe sent after the unprefixed heartbeat")
                # One client's messages cross the bridge in order: had the first crossed, it would be here.
                assert plain.queue is not None and plain.queue.empty()
