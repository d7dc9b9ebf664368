"""Primary/secondary failover with real node processes and a real mosquitto: crash (SIGKILL), hang
(SIGSTOP/SIGCONT) and broker restart. Everything waits on messages with deadlines, never on sleeps."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks import startup_map
from janitoo_node.broker import MosquittoBroker
from janitoo_node.config import ConfigError, JanitooConfig
from janitoo_node.netctl import network_settings
from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Hadd,
    HeartbeatDispatch,
    ResolvHeartbeat,
    ValuePublication,
)
from janitoo_protocol.transport import Envelope, JanitooClient, Subscription
from tests.helpers import NodeProcess, wait_for
from tests.original_dhcp import OriginalDhcpRunner

HB = 0.5  # resolv_heartbeat of the test configs
TIMEOUT = 2.0  # resolv_timeout
NODE_HB = 1  # node heartbeat: PENDING after 3 * 1.1 * 1 s of silence

P, S1, S2, N = Hadd(10, 0), Hadd(20, 0), Hadd(30, 0), Hadd(40, 0)
COMPONENTS = {P: 2, S1: 1, S2: 1, N: 2}


def node_conf(path: Path, port: int, ctrl: Hadd, network: dict[str, object] | None) -> Path:
    lines = ["[system]", f"service = jnt_{ctrl.controller}", "broker_ip = 127.0.0.1", f"broker_port = {port}",
             "heartbeat_count = 3", "slow_start = 0", ""]  # fmt: skip
    if network:
        lines += ["[network]", *(f"{k} = {v}" for k, v in network.items()), ""]
    n = COMPONENTS[ctrl]
    lines += ["[fake]", f"hadd = {ctrl}", f"heartbeat = {NODE_HB}", f"name = Controller {ctrl.controller}"]
    lines += [f"components.c{i} = fake.component" for i in range(1, n + 1)]
    for i in range(1, n + 1):
        lines += ["", f"[fake__c{i}]", f"hadd = {ctrl.controller:04d}/{i:04d}", f"heartbeat = {NODE_HB}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def all_nodes(*ctrls: Hadd) -> set[str]:
    return {f"{c.controller:04d}/{i:04d}" for c in ctrls for i in range(COMPONENTS[c] + 1)}


@dataclass
class Beat:
    at: float
    hadd: Hadd
    epoch: int
    state: str


class Wire:
    """Everything on the broker, decoded, with the time it arrived; waits with deadlines."""

    def __init__(self, client: JanitooClient) -> None:
        self.client = client
        self.sub: Subscription = client.watch("all")
        self.seen: list[Envelope] = []

    def expect(self, pred: Callable[[Envelope], bool], timeout: float, what: str) -> Envelope:
        try:
            return wait_for(self.sub, pred, timeout, what, self.seen)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last: {self.tail()}") from None

    def drain_for(self, seconds: float) -> None:
        """Record what arrives for `seconds` (to check that something did NOT happen)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            env = self.sub.get(left)
            if env is not None:
                self.seen.append(env)

    def beats(self, since: float = 0.0) -> list[Beat]:
        out = []
        for e in self.seen:
            m = e.message
            if e.received_at >= since and isinstance(m, ResolvHeartbeat):
                out.append(Beat(e.received_at, m.hadd, int(m.extra.get("epoch") or 0), m.state))
        return out

    def tail(self, n: int = 8) -> str:
        return " | ".join(f"{e.topic} {e.payload[:90]!r}" for e in self.seen[-n:])


def is_beat(
    hadd: Hadd | None = None, min_epoch: int = 0, state: str = "ONLINE"
) -> Callable[[Envelope], bool]:
    def pred(env: Envelope) -> bool:
        m = env.message
        return (
            isinstance(m, ResolvHeartbeat)
            and m.state == state
            and (hadd is None or m.hadd == hadd)
            and int(m.extra.get("epoch") or 0) >= min_epoch
        )

    return pred


def is_announcement(hadd: Hadd, **want: object) -> Callable[[Envelope], bool]:
    def pred(env: Envelope) -> bool:
        m = env.message
        if not (isinstance(m, ValuePublication) and m.uuid == "network_controller" and m.hadd == hadd):
            return False
        return all(m.value.extra.get(k) == v for k, v in want.items())

    return pred


class Cluster:
    """Node runtime processes, one config each: P primary, S1 and S2 secondaries, N a plain node."""

    def __init__(self, tmp: Path, port: int) -> None:
        self.tmp = tmp
        self.port = port
        self.procs: dict[Hadd, NodeProcess] = {}
        net = {"resolv_heartbeat": HB, "resolv_timeout": TIMEOUT}
        self.networks: dict[Hadd, dict[str, object] | None] = {
            P: {"is_primary": "true", "priority": 10, **net},
            S1: {"is_secondary": "true", "priority": 5, **net},
            S2: {"is_secondary": "true", "priority": 1, **net},
            N: None,
        }

    def start(self, *ctrls: Hadd) -> None:
        for c in ctrls:
            conf = node_conf(self.tmp / f"n{c.controller}.conf", self.port, c, self.networks[c])
            self.procs[c] = NodeProcess(conf, "--port", str(self.port)).start()

    def signal(self, ctrl: Hadd, sig: signal.Signals) -> float:
        self.procs[ctrl].send(sig)
        return time.monotonic()

    def logs(self) -> str:
        return "\n".join(f"--- {c}:\n{p.output()[-3000:]}" for c, p in self.procs.items())

    def stop(self) -> None:
        for p in self.procs.values():
            try:
                p.send(signal.SIGCONT)
            except (ProcessLookupError, AssertionError):
                pass
            p.stop(signal.SIGKILL, timeout=5)


@pytest.fixture
def cluster(private_broker: MosquittoBroker, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path, private_broker.port)
    yield c
    c.stop()
    print(c.logs())  # pytest shows it for a failing test only


@pytest.fixture
def wire(private_broker: MosquittoBroker) -> Iterator[Wire]:
    with JanitooClient(port=private_broker.port, reply_hadd="9999/0042", reconnect_max=0.5) as client:
        yield Wire(client)


def start_network(cluster: Cluster, wire: Wire, *others: Hadd) -> None:
    """P first (it claims after listening), then the others; returns once every secondary is synced."""
    cluster.start(P)
    wire.expect(is_beat(P, 1), 15, "the configured primary's first resolv heartbeat")
    cluster.start(*others)
    everyone = all_nodes(P, *others)
    for s in (h for h in others if cluster.networks[h]):
        wire.expect(is_announcement(s, role="secondary", primary=str(P), synced=True, nodes=len(everyone)), 20,
                    f"{s} following {P} with all {len(everyone)} nodes")  # fmt: skip


def resolv_nodes(client: JanitooClient, timeout: float = 5.0) -> set[str]:
    """Ask the current primary for request_info_nodes by resolv; the hadds of every chunk."""
    me = client.reply_hadd
    cid = client.new_correlation()
    with client.subscribe(client.topics.resolv_reply(me)) as sub:
        client.publish(DiscoveryRequest("request_info_nodes", me, resolv=True, extra={"jnt_cid": cid}))
        hadds: set[str] = set()
        chunks: set[int] = set()
        total = None

        def complete(env: Envelope) -> bool:
            nonlocal total
            m = env.message
            if isinstance(m, DiscoveryReply) and m.correlation == cid:
                hadds.update(str(n.hadd) for n in m.nodes)
                chunks.add(int(m.extra["jnt_chunk"]))
                total = int(m.extra["jnt_chunks"])
            return total is not None and len(chunks) >= total

        wait_for(sub, complete, timeout, f"the whole resolv answer (chunks {sorted(chunks)} of {total})")
    return hadds


# ------------------------------------------------------------------------------------------ tests


def test_sigkill_primary_one_secondary_takes_over_with_a_complete_map(cluster: Cluster, wire: Wire) -> None:
    start_network(cluster, wire, S1, S2, N)
    everyone = all_nodes(P, S1, S2, N)
    assert resolv_nodes(wire.client) == everyone

    killed = cluster.signal(P, signal.SIGKILL)
    env = wire.expect(is_beat(min_epoch=2), 5, "a new primary's resolv heartbeat")
    takeover = env.received_at - killed
    m = env.message
    assert isinstance(m, ResolvHeartbeat) and m.hadd == S1 and m.extra["epoch"] == 2
    assert takeover < 1.0, f"takeover took {takeover:.3f} s"
    # Exactly one: S2 follows S1 and never heartbeats as primary.
    wire.expect(is_announcement(S2, role="secondary", primary=str(S1), epoch=2), 3, "S2 following S1")
    wire.drain_for(3 * HB)
    assert {b.hadd for b in wire.beats(killed) if b.state == "ONLINE"} == {S1}
    # Its map is complete, replicated before the crash: it answers with every node and did not rebuild.
    assert resolv_nodes(wire.client) == everyone
    rebuilt = [e for e in wire.seen if e.received_at > killed and e.topic == "/broadcast/request"]
    assert rebuilt == []

    # Liveness dispatch continues: the plain node process hangs (no will), S1 dispatches PENDING.
    hung = cluster.signal(N, signal.SIGSTOP)
    pending: set[str] = set()
    want = all_nodes(N)
    while pending != want:
        env = wire.expect(
            lambda e: isinstance(e.message, HeartbeatDispatch) and e.message.state == "PENDING", 8,
            f"PENDING dispatched for {sorted(want - pending)}",
        )  # fmt: skip
        assert isinstance(env.message, HeartbeatDispatch)
        pending.add(str(env.message.hadd))
    assert env.received_at - hung < 3 * 1.1 * NODE_HB + 2


def test_sigstop_primary_promotion_after_timeout_then_old_primary_steps_down(
    cluster: Cluster, wire: Wire
) -> None:
    start_network(cluster, wire, S1, S2)
    stopped = cluster.signal(P, signal.SIGSTOP)
    env = wire.expect(is_beat(min_epoch=2), TIMEOUT + 3, "a new primary after the resolv timeout")
    m = env.message
    assert isinstance(m, ResolvHeartbeat) and m.hadd == S1
    elapsed = env.received_at - stopped
    # The watchdog runs from the last heartbeat heard, up to one period before the SIGSTOP.
    assert TIMEOUT - HB - 0.2 < elapsed < TIMEOUT + 1.0, f"promotion after {elapsed:.3f} s"
    wire.expect(is_announcement(S2, role="secondary", primary=str(S1)), 3, "S2 following S1")

    # Stay hung a bit longer than the timeout, as a real hang would, then resume.
    wire.drain_for(1.0)
    resumed = cluster.signal(P, signal.SIGCONT)
    down = wire.expect(is_announcement(P, role="secondary", primary=str(S1), epoch=2), 5,
                       "the old primary stepping down")  # fmt: skip
    wire.drain_for(4 * HB)
    assert [b for b in wire.beats(down.received_at) if b.hadd == P and b.state == "ONLINE"] == []
    late = [b for b in wire.beats(resumed + 2 * HB) if b.state == "ONLINE"]
    assert late and {b.hadd for b in late} == {S1}


def test_broker_restart_roles_settle_to_one_primary(
    cluster: Cluster, wire: Wire, private_broker: MosquittoBroker
) -> None:
    start_network(cluster, wire, S1, S2)
    private_broker.restart()
    restarted = time.monotonic()
    assert wire.client.wait_connected(10), "the observer did not reconnect"

    # Everyone is back: each network controller announces itself again (a primary by its heartbeat).
    def controller_speaking(env: Envelope) -> Hadd | None:
        m = env.message
        if isinstance(m, ResolvHeartbeat) and m.state == "ONLINE":
            return m.hadd
        if isinstance(m, ValuePublication) and m.uuid == "network_controller":
            return m.hadd
        return None

    back: set[Hadd] = set()
    while back != {P, S1, S2}:
        env = wire.expect(lambda e: controller_speaking(e) is not None, 10,
                          f"{sorted({P, S1, S2} - back)} back after the broker restart")  # fmt: skip
        back.add(controller_speaking(env) or P)
    # Settled: a window of resolv_timeout in which exactly one controller heartbeats as primary, and
    # the others follow it.
    deadline = time.monotonic() + 15
    while True:
        wire.drain_for(HB)
        now = time.monotonic()
        recent = [b for b in wire.beats(now - TIMEOUT) if b.state == "ONLINE" and b.at > restarted]
        senders = {b.hadd for b in recent}
        if len(senders) == 1 and len(recent) >= 3 and now - restarted > TIMEOUT:
            break
        assert now < deadline, f"not settled: primaries heard {sorted(senders)}; {cluster.logs()}"
    [primary] = senders
    for h in {P, S1, S2} - {primary}:
        wire.expect(is_announcement(h, role="secondary", primary=str(primary)), 3, f"{h} following {primary}")
    assert resolv_nodes(wire.client) == all_nodes(P, S1, S2)


ORIGINAL_PERIOD = 3.0  # the stand-in's resolv heartbeat period (15 s shipped; scaled, still > TIMEOUT)
ORIGINAL = Hadd(1, 0)


def test_an_original_primary_appearing_makes_ours_step_down_and_is_replaced_only_when_silent(
    cluster: Cluster, wire: Wire, private_broker: MosquittoBroker
) -> None:
    start_network(cluster, wire, S1)
    dhcp = OriginalDhcpRunner(private_broker.port, ORIGINAL_PERIOD).start()
    try:
        first = wire.expect(is_beat(ORIGINAL), 5, "the original primary's first resolv heartbeat").received_at
        for h in (P, S1):
            wire.expect(is_announcement(h, role="secondary", primary=str(ORIGINAL)), ORIGINAL_PERIOD,
                        f"{h} following the original primary")  # fmt: skip
        # Several of its periods (each longer than our resolv_timeout): nobody of ours beats as primary.
        wire.drain_for(3 * ORIGINAL_PERIOD)
        ours = [b.at for b in wire.beats(first) if b.state == "ONLINE" and b.hadd != ORIGINAL]
        # Two primaries visible for more than one heartbeat period is a failure: here, not even 0.5 s.
        assert ours == [] or max(ours) - first < 0.5, (
            f"ours beat {[round(t - first, 2) for t in ours]} s after"
        )
        beats = [b.at for b in wire.beats(first) if b.hadd == ORIGINAL]
        assert len(beats) >= 3
    finally:
        dhcp.stop()
    silent = max(b.at for b in wire.beats() if b.hadd == ORIGINAL)
    # It falls silent: replaced after two of its observed periods, by our best-ranked controller.
    env = wire.expect(
        is_beat(P, 2), 2 * ORIGINAL_PERIOD + 3, "our primary taking over from the silent original"
    )
    elapsed = env.received_at - silent
    assert 2 * ORIGINAL_PERIOD - 0.3 < elapsed < 2 * ORIGINAL_PERIOD + 1.5, f"replaced after {elapsed:.2f} s"
    wire.expect(is_announcement(S1, role="secondary", primary=str(P)), 3, "S1 following P again")
    assert resolv_nodes(wire.client) == all_nodes(P, S1)


def test_three_controllers_started_together_the_first_resolv_answer_lists_every_node(
    private_broker: MosquittoBroker, tmp_path: Path
) -> None:
    """Issue #15: the primary's broadcast may go out before the others subscribed; it asks any controller
    it hears of while listening, so its first answer is complete (benchmarks/startup_map.py runs 20)."""
    confs = [
        startup_map.conf(tmp_path, private_broker.port, h, p, TIMEOUT)
        for h, p in startup_map.CONTROLLERS.items()
    ]
    with JanitooClient(port=private_broker.port, reply_hadd="9999/0043") as client:
        for _ in range(3):
            _, since_up, hadds = startup_map.first_answer(client, confs, 20)
            assert hadds == startup_map.EVERY_NODE
            # The listen (resolv_timeout) and the answer, the processes' start-up excluded.
            assert since_up < 3.0, f"first answer {since_up:.2f} s after the first heartbeat"


def test_network_section_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "n.conf"
    node_conf(path, 1, N, None)
    assert network_settings(JanitooConfig(path)) is None  # a plain node process
    node_conf(path, 1, P, {"is_secondary": "yes", "priority": 7, "resolv_heartbeat": 0.25, "resolv_timeout": 1,
                           "take_back": "true", "do_heartbeat_dispatch": "false", "election_step": 0.3,
                           "listen_timeout": ""})  # fmt: skip
    s = network_settings(JanitooConfig(path))
    assert s is not None and s.is_secondary and not s.is_primary
    assert (s.priority, s.resolv_heartbeat, s.resolv_timeout, s.take_back, s.do_heartbeat_dispatch) == (
        7, 0.25, 1.0, True, False,
    )  # fmt: skip
    assert (s.step, s.listen_timeout, s.heartbeat_count) == (0.3, None, 3)
    node_conf(path, 1, P, {"is_primary": "true", "resolv_heartbeat": 2, "resolv_timeout": 3})
    with pytest.raises(ConfigError, match=r"\[network\]: resolv_timeout \(3 s\) must be at least twice"):
        network_settings(JanitooConfig(path))


def test_primary_config_errors_are_one_line(tmp_path: Path) -> None:
    conf = node_conf(tmp_path / "bad.conf", 1, P, {"is_primary": "true", "is_secondary": "true"})
    r = subprocess.run([sys.executable, "-m", "janitoo_node.cli", "run", "-c", str(conf)],
                       capture_output=True, text=True, timeout=30)  # fmt: skip
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "[network]" in lines[0] and "cannot both be true" in lines[0], r.stderr
