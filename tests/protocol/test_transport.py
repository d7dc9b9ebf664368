"""Integration tests of JanitooClient against a real mosquitto: request/reply, discovery, reconnects,
connection errors, the last will, threads, and bad input. Every wait is on a queue or event with a timeout."""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from janitoo_node.broker import MosquittoBroker, free_port
from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Heartbeat,
    HeartbeatDispatch,
    ValuePublication,
    ValueRequest,
    decode,
)
from janitoo_protocol.addressing import Hadd
from janitoo_protocol.codes import CommandClass, Genre
from janitoo_protocol.errors import ConnectError, ProtocolError, RequestRefused, RequestTimeout
from janitoo_protocol.events import CORRELATION_KEY, ReplyRoute
from janitoo_protocol.model import ValueInfo
from janitoo_protocol.transport import Envelope, JanitooClient, Subscription, TlsOptions
from tests.helpers import wait_for
from tests.protocol.fakenode import FakeController

WAIT = 5.0  # the longest any single thing may take before a test fails (never slept)
NODE = Hadd(101, 1)
SENSOR = int(CommandClass.SENSOR_MULTILEVEL)
SWITCH = int(CommandClass.SWITCH_BINARY)
BLINK = int(CommandClass.BLINK)

# (genre word, value uuid, cmd_class to send, new data for a SET, answered on the reply topic too?)
GENRE_CASES = [
    ("basic", "load", SENSOR, 0.75, True),
    ("user", "switch", SWITCH, "on", True),
    ("command", "blink", BLINK, "on", True),
    ("config", "location", None, "Rack 42", False),
    ("system", "heartbeat", None, 45, False),
]


@pytest.fixture
def client(broker: MosquittoBroker, prefix: str) -> Iterator[JanitooClient]:
    with JanitooClient(broker.host, broker.port, prefix=prefix) as c:
        yield c


@pytest.fixture
def spy(broker: MosquittoBroker, prefix: str) -> Iterator[Subscription]:
    """Everything on the wire under this test's prefix, from a separate connection."""
    with JanitooClient(broker.host, broker.port, prefix=prefix) as c:
        yield c.watch("all")


@pytest.fixture
def fake(broker: MosquittoBroker, prefix: str) -> Iterator[FakeController]:
    with FakeController(broker.host, broker.port, 101, nodes=3, prefix=prefix) as f:
        yield f


def until(sub: Subscription, topic: str, timeout: float = WAIT) -> list[Envelope]:
    """The messages `sub` receives up to and including the first one on `topic`."""
    seen: list[Envelope] = []
    wait_for(sub, lambda env: env.topic == topic, timeout, f"a message on {topic}", seen)
    return seen


def one_line_naming(exc: BaseException, host: str, port: int) -> None:
    text = str(exc)
    assert f"{host}:{port}" in text
    assert "\n" not in text and text.strip() == text


# --- request / reply -------------------------------------------------------------------------------------


def test_broadcast_discovery_request_is_answered_on_the_broadcast_reply_topic(
    client: JanitooClient, fake: FakeController
) -> None:
    reply = client.request(DiscoveryRequest("request_info_nodes", None), timeout=WAIT)
    assert isinstance(reply, DiscoveryReply)
    assert reply.route is ReplyRoute.BROADCAST
    assert reply.kind == "request_info_nodes"
    assert {n.hadd for n in reply.nodes} == set(fake.hadds)
    sent = fake.received[-1]
    assert isinstance(sent, DiscoveryRequest) and sent.target is None
    assert reply.correlation == sent.extra[CORRELATION_KEY]  # our key went out and came back


def test_direct_discovery_request_is_answered_on_the_node_reply_topic_for_the_whole_controller(
    client: JanitooClient, fake: FakeController
) -> None:
    reply = client.request(DiscoveryRequest("request_info_users", None, target=Hadd(101, 2)), timeout=WAIT)
    assert isinstance(reply, DiscoveryReply)
    assert reply.route is ReplyRoute.NODE
    assert reply.kind == "request_info_users"
    assert {v.hadd for v in reply.values} == set(fake.hadds)  # every node of the controller
    assert {v.uuid for v in reply.values} == {"switch", "counter"}
    assert all(v.genre == Genre.USER for v in reply.values)


@pytest.mark.parametrize(("word", "uuid", "cmd_class", "new", "both_routes"), GENRE_CASES)
def test_get_value_answers_on_the_genre_reply_route(
    client: JanitooClient,
    fake: FakeController,
    spy: Subscription,
    word: str,
    uuid: str,
    cmd_class: int | None,
    new: object,
    both_routes: bool,
) -> None:
    topics = client.topics
    genre = Genre.from_word(word)
    value = client.get_value(NODE, uuid, word, cmd_class, timeout=WAIT)
    assert (value.uuid, value.hadd, value.data) == (uuid, NODE, fake.value(NODE, uuid).data)
    assert value.is_readonly and not value.is_writeonly
    _assert_routes(client, spy, genre, uuid, both_routes)
    assert topics.values(genre, NODE, uuid) in fake.published


@pytest.mark.parametrize(("word", "uuid", "cmd_class", "new", "both_routes"), GENRE_CASES)
def test_set_value_is_acknowledged_on_the_genre_reply_route(
    client: JanitooClient,
    fake: FakeController,
    spy: Subscription,
    word: str,
    uuid: str,
    cmd_class: int | None,
    new: object,
    both_routes: bool,
) -> None:
    genre = Genre.from_word(word)
    ack = client.set_value(NODE, uuid, genre, new, cmd_class, timeout=WAIT)
    assert (ack.uuid, ack.hadd, ack.data) == (uuid, NODE, new)
    assert fake.value(NODE, uuid).data == new
    _assert_routes(client, spy, genre, uuid, both_routes)
    assert client.get_value(NODE, uuid, int(genre), cmd_class, timeout=WAIT).data == new


def _assert_routes(client: JanitooClient, spy: Subscription, genre: Genre, uuid: str, both: bool) -> None:
    """The answer to the last request on `uuid` went to /values/... and, for basic/user/command only, to
    the reply topic too. A GET of the user switch then marks the end: the fake answers in order."""
    topics = client.topics
    reply_topic = topics.node_reply(client.reply_hadd)
    seen = until(spy, topics.values(genre, NODE, uuid))
    client.get_value(NODE, "switch", "user", SWITCH, timeout=WAIT)
    seen += until(spy, topics.values(Genre.USER, NODE, "switch"))
    on_reply = [json.loads(e.payload)["uuid"] for e in seen if e.topic == reply_topic]
    assert (uuid in on_reply) is both
    assert on_reply.count("switch") == 1 + (uuid == "switch")


def test_fallback_matching_with_a_peer_that_drops_the_correlation_key(
    broker: MosquittoBroker, prefix: str, client: JanitooClient, spy: Subscription
) -> None:
    with FakeController(broker.host, broker.port, 102, nodes=2, prefix=prefix, echo_unknown_keys=False) as f:
        hadd = Hadd(102, 1)
        assert client.get_value(hadd, "location", "config", timeout=WAIT).data == "Rack 1"
        assert client.set_value(hadd, "switch", "user", "on", SWITCH, timeout=WAIT).data == "on"
        reply = client.request(DiscoveryRequest("request_info_nodes", None), timeout=WAIT)
        assert isinstance(reply, DiscoveryReply) and {n.hadd for n in reply.nodes} == set(f.hadds)
        assert all(CORRELATION_KEY in r.extra for r in f.received)  # we sent it...
        seen = until(spy, client.topics.broadcast_reply(client.reply_hadd))
        answers = [e for e in seen if not e.topic.endswith("/request")]
        assert len(answers) == 4  # config echo, user reply + echo, discovery reply
        assert all(CORRELATION_KEY not in json.loads(e.payload) for e in answers)  # ...it never came back


def test_fallback_matching_does_not_take_a_poll_publication_for_the_answer(
    broker: MosquittoBroker, prefix: str, client: JanitooClient, spy: Subscription
) -> None:
    # A peer without our key answers nothing, but polls the value while we wait: that is not the answer.
    def poll_instead(fake: FakeController, req: object) -> None:
        fake.publish_poll(Hadd(102, 1), "load")

    with FakeController(
        broker.host, broker.port, 102, 2, prefix=prefix, echo_unknown_keys=False, ignore={"load"},
        on_request=poll_instead,
    ) as f:  # fmt: skip
        with pytest.raises(RequestTimeout):
            client.get_value(Hadd(102, 1), "load", "basic", SENSOR, timeout=0.5)
        poll = until(spy, client.topics.values(Genre.BASIC, Hadd(102, 1), "load"))[-1]
        assert isinstance(poll.message, ValuePublication) and poll.message.value.reply_hadd is None
        assert len(f.received) == 1


@pytest.mark.parametrize(
    ("word", "uuid", "cmd_class", "reason"),
    [
        ("user", "switch", SWITCH, "the switch is locked"),
        ("config", "location", None, "location is read-only"),
    ],
)
def test_refused_set_raises_request_refused_with_the_node_reason(
    broker: MosquittoBroker, prefix: str, client: JanitooClient, word: str, uuid: str, cmd_class: int | None,
    reason: str,
) -> None:  # fmt: skip
    with FakeController(broker.host, broker.port, 103, 2, prefix=prefix, refuse={uuid: reason}) as f:
        before = f.value(Hadd(103, 1), uuid).data
        with pytest.raises(RequestRefused, match=reason) as info:
            client.set_value(Hadd(103, 1), uuid, word, "new", cmd_class, timeout=WAIT)
        assert "SET" in str(info.value) and uuid in str(info.value)
        assert f.value(Hadd(103, 1), uuid).data == before


def test_never_acknowledged_set_raises_request_timeout_quickly(
    client: JanitooClient, fake: FakeController
) -> None:
    # The node ignores a request with the wrong cmd_class, silently, like the original.
    t0 = time.monotonic()
    with pytest.raises(RequestTimeout, match="never acknowledged the SET") as info:
        client.set_value(NODE, "switch", "user", "on", int(CommandClass.SWITCH_MULTILEVEL), timeout=0.3)
    took = time.monotonic() - t0
    assert 0.3 <= took < 1.0
    assert "'switch'" in str(info.value) and str(NODE) in str(info.value)
    assert fake.value(NODE, "switch").data == "off"
    assert len(fake.received) == 1  # it was delivered, and ignored


def test_unknown_genre_word_raises_value_error_before_sending_anything(
    client: JanitooClient, fake: FakeController
) -> None:
    with pytest.raises(ValueError, match="unknown genre word"):
        client.get_value(NODE, "switch", "usr", SWITCH)
    with pytest.raises(ValueError, match="unknown genre word"):
        client.set_value(NODE, "switch", "bogus", "on", SWITCH)
    with pytest.raises(ValueError, match="cmd_class"):
        client.get_value(NODE, "switch", "user")  # a user value needs its cmd_class
    client.get_value(NODE, "location", "CONFIG", timeout=WAIT)  # any case works
    assert [r.uuid for r in fake.received] == ["location"]  # type: ignore[union-attr]


def test_request_with_an_unknown_genre_number_leaves_no_subscription(client: JanitooClient) -> None:
    from janitoo_protocol import ValueRequest

    filters = dict(client._filters)  # white box: a leaked subscription is invisible from outside
    bad = ValueRequest(NODE, "switch", genre=9, cmd_class=SWITCH, reply_hadd=None, target=NODE)
    with pytest.raises(ProtocolError, match="unknown genre"):
        client.request(bad, timeout=0.2)
    assert client._filters == filters


# --- discover() ---------------------------------------------------------------------------------------------


@pytest.fixture
def three(broker: MosquittoBroker, prefix: str) -> Iterator[list[FakeController]]:
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(FakeController(broker.host, broker.port, 101 + i, nodes=2 + i, prefix=prefix))
            for i in range(3)
        ]


def test_discover_three_controllers_returns_every_node_and_value_by_genre(
    client: JanitooClient, three: list[FakeController]
) -> None:
    net = client.discover(timeout=5)
    assert set(net.nodes) == {h for f in three for h in f.hadds}
    assert len(net.nodes) == 2 + 3 + 4
    assert net.controllers() == [Hadd(101, 0), Hadd(102, 0), Hadd(103, 0)]
    assert all(n.state == "ONLINE" for n in net.nodes.values())
    expected = {
        Genre.BASIC: {"load"},
        Genre.USER: {"switch", "counter"},
        Genre.CONFIG: {"location", "name"},
        Genre.SYSTEM: {"heartbeat"},
        Genre.COMMAND: {"blink"},
    }
    for f in three:
        for hadd in f.hadds:
            by_genre = net.values[hadd]
            assert {g: set(uuids) for g, uuids in by_genre.items()} == expected
            assert set(by_genre[Genre.BASIC]["load"]) == {0, 1, 2}  # the 3-level (indexed) shape
            assert by_genre[Genre.CONFIG]["location"][0].data == f.value(hadd, "location").data
            assert by_genre[Genre.SYSTEM]["heartbeat"][0].data == 30


def test_discover_returns_well_before_the_timeout(client: JanitooClient, three: list[FakeController]) -> None:
    t0 = time.monotonic()
    net = client.discover(timeout=5)
    took = time.monotonic() - t0
    assert len(net.nodes) == 9
    assert took < 5 / 2, f"discovery took {took:.2f} s"


def test_discover_waits_for_a_slow_controller_it_knows_of_and_names_one_that_never_answers(
    broker: MosquittoBroker, prefix: str, client: JanitooClient
) -> None:
    def slow(fake: FakeController, req: DiscoveryRequest | ValueRequest) -> None:
        if isinstance(req, DiscoveryRequest) and req.kind == "request_info_nodes" and not req.resolv:
            # Its heartbeat is heard while the discovery runs (sent on another connection: this fake's
            # own is held by the delay below), so it is a controller known to exist...
            client.publish(Heartbeat(Hadd(202, 0), "ONLINE"))
            time.sleep(0.8)  # ...that answers 0.8 s after the others, a Pi on Wi-Fi (its own thread)

    with FakeController(broker.host, broker.port, 201, prefix=prefix), \
            FakeController(broker.host, broker.port, 202, prefix=prefix, on_request=slow):  # fmt: skip
        net = client.discover(timeout=10)
        assert {h.controller for h in net.nodes} == {201, 202} and net.unanswered == []
        # A controller named by the caller that never answers ends the wait at the timeout, reported.
        t0 = time.monotonic()
        net = client.discover(timeout=2, expected=[203])
        assert time.monotonic() - t0 >= 2 and net.unanswered == [203]
        assert {h.controller for h in net.nodes} == {201, 202}


def test_discover_with_no_node_returns_after_idle_with_an_empty_map(client: JanitooClient) -> None:
    t0 = time.monotonic()
    net = client.discover(timeout=5, idle=0.5)
    took = time.monotonic() - t0
    assert 0.5 <= took < 1.5
    assert len(net) == 0 and net.values == {}


def test_discover_target_asks_one_controller_only(client: JanitooClient, three: list[FakeController]) -> None:
    net = client.discover(timeout=5, target="0102/0001")
    assert set(net.nodes) == set(three[1].hadds)  # its whole controller, whichever node was addressed
    assert set(net.values) == set(three[1].hadds)
    assert three[0].received == [] and three[2].received == []
    assert all(r.target == Hadd(102, 1) for r in three[1].received)


def test_discover_with_a_peer_that_drops_the_correlation_key(
    broker: MosquittoBroker, prefix: str, client: JanitooClient
) -> None:
    with FakeController(broker.host, broker.port, 104, 3, prefix=prefix, echo_unknown_keys=False) as f:
        net = client.discover(timeout=5)
    assert set(net.nodes) == set(f.hadds)
    assert set(net.values[Hadd(104, 2)]) == set(Genre)


# --- broker restart -----------------------------------------------------------------------------------------


def test_broker_kill_and_restart_client_reconnects_resubscribes_and_requests_again(
    private_broker: MosquittoBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    b = private_broker
    changes: queue.Queue[bool] = queue.Queue()
    with (
        FakeController(b.host, b.port, 101, 2) as fake,
        JanitooClient(b.host, b.port, reconnect_max=0.5, on_connection_change=changes.put) as client,
    ):
        assert changes.get(timeout=WAIT) is True
        heartbeats = client.watch("heartbeats")
        values = client.watch("values")
        assert client.get_value(NODE, "location", "config", timeout=WAIT).data == "Rack 1"
        assert until(values, client.topics.values(Genre.CONFIG, NODE, "location"))

        b.kill()
        assert changes.get(timeout=WAIT) is False
        assert not client.connected
        b.start()
        assert changes.get(timeout=10) is True
        assert client.wait_connected(WAIT)
        assert fake.client.wait_connected(WAIT)

        fake.heartbeat(1)
        env = heartbeats.get(timeout=WAIT)
        assert env is not None and env.message == Heartbeat(NODE, "ONLINE")
        ack = client.set_value(NODE, "location", "config", "after restart", timeout=WAIT)
        assert ack.data == "after restart"
        assert until(values, client.topics.values(Genre.CONFIG, NODE, "location"))
        assert changes.empty()  # exactly: up, down, up
    # The loss and the recovery are one line each; paho's retries stay out of an INFO log.
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("janitoo")]
    assert any(m.startswith(f"reconnected to MQTT broker {b.host}:{b.port} after ") for m in messages)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "janitoo.paho"]


# --- connection errors --------------------------------------------------------------------------------------


def _connect_fails(**kwargs: object) -> ConnectError:
    host = str(kwargs.pop("host", "127.0.0.1"))
    port = int(kwargs.pop("port"))  # type: ignore[call-overload]
    t0 = time.monotonic()
    with pytest.raises(ConnectError) as info:
        JanitooClient(host, port, **kwargs).connect()  # type: ignore[arg-type]
    assert time.monotonic() - t0 < 2.0
    one_line_naming(info.value, host, port)
    return info.value


def test_connect_error_when_nothing_listens() -> None:
    err = _connect_fails(port=free_port())
    assert "refused" in str(err)


@pytest.fixture(scope="module")
def auth_broker() -> Iterator[MosquittoBroker]:
    # Without a password file, `allow_anonymous false` alone refuses every anonymous client.
    extra = "allow_anonymous false\n"
    # mosquitto started as root reads the password file after dropping to its own user: the file must be
    # reachable by anyone (pytest's tmp_path is not), in a folder of its own under /tmp.
    with tempfile.TemporaryDirectory(prefix="jnt-auth-") as folder:
        if shutil.which("mosquitto_passwd"):
            pw = Path(folder) / "passwd"
            subprocess.run(["mosquitto_passwd", "-b", "-c", str(pw), "jnt", "secret"], check=True, timeout=10)
            Path(folder).chmod(0o755)
            pw.chmod(0o644)
            extra += f"password_file {pw}\n"
        with MosquittoBroker(extra_config=extra) as b:
            yield b


@pytest.mark.parametrize(("username", "password"), [(None, None), ("jnt", "wrong")])
def test_connect_error_with_bad_credentials(
    auth_broker: MosquittoBroker, username: str | None, password: str | None
) -> None:
    err = _connect_fails(port=auth_broker.port, username=username, password=password)
    assert "not authori" in str(err).lower()


def test_good_credentials_connect_to_the_same_broker(auth_broker: MosquittoBroker) -> None:
    if not shutil.which("mosquitto_passwd"):
        pytest.skip("no mosquitto_passwd: this broker has no user at all")
    with JanitooClient(auth_broker.host, auth_broker.port, username="jnt", password="secret") as c:
        assert c.connected


def test_connect_error_with_a_missing_tls_ca_file(broker: MosquittoBroker) -> None:
    err = _connect_fails(port=broker.port, tls=TlsOptions(ca_file="/nonexistent"))
    assert "TLS" in str(err)


def test_connect_error_with_tls_against_a_plain_listener(broker: MosquittoBroker) -> None:
    _connect_fails(port=broker.port, tls=TlsOptions(insecure=True))


# --- the last will ------------------------------------------------------------------------------------------

WILL_CHILD = """
import sys
from janitoo_protocol.events import HeartbeatDispatch
from janitoo_protocol.transport import JanitooClient
host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = JanitooClient(host, port, prefix=prefix, will=HeartbeatDispatch(225, -1, "OFFLINE")).connect()
print("ready", flush=True)
sys.stdin.read()  # until killed
"""


def test_last_will_is_published_when_the_process_is_killed(
    broker: MosquittoBroker, prefix: str, client: JanitooClient
) -> None:
    watcher = client.watch("heartbeats")
    child = subprocess.Popen(
        [sys.executable, "-c", WILL_CHILD, broker.host, str(broker.port), prefix],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the child exits (EOF) if it cannot connect
        assert line.strip() == "ready", child.stderr.read() if child.stderr else ""
        assert watcher.queue is not None and watcher.queue.empty()  # no will while it lives
        child.send_signal(signal.SIGKILL)
        child.wait(WAIT)
        env = watcher.get(timeout=WAIT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(WAIT)
    assert env is not None, "the broker did not send the last will"
    assert env.topic == client.topics.heartbeat_dispatch()
    assert env.message == HeartbeatDispatch(225, -1, "OFFLINE")


def test_clean_close_does_not_send_the_will(
    broker: MosquittoBroker, prefix: str, client: JanitooClient
) -> None:
    watcher = client.watch("heartbeats")
    leaving = JanitooClient(
        broker.host, broker.port, prefix=prefix, will=HeartbeatDispatch(225, -1, "OFFLINE")
    )
    leaving.connect()
    leaving.close()
    # A marker sent after the close: a will would have come first (and we still give it half a second).
    client.publish(Heartbeat(Hadd(1, 0), "ONLINE"))
    env = watcher.get(timeout=WAIT)
    assert env is not None and env.message == Heartbeat(Hadd(1, 0), "ONLINE")
    assert watcher.get(timeout=0.5) is None


# --- threads and lifecycle ----------------------------------------------------------------------------------


def test_close_leaves_no_paho_thread_behind(broker: MosquittoBroker, prefix: str) -> None:
    before = set(threading.enumerate())
    c = JanitooClient(broker.host, broker.port, prefix=prefix).connect()
    c.watch("all")
    c.discover(timeout=1, idle=0.1)
    started = set(threading.enumerate()) - before
    assert any(t.name.startswith("paho-mqtt-client-") for t in started)
    c.close()
    assert set(threading.enumerate()) - before == set()
    c.close()  # twice is harmless


def test_clean_close_logs_no_error(
    broker: MosquittoBroker, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    # paho may turn its loop once more after the DISCONNECT and log that it is not connected: it did so on
    # one close in ten to fifty here, so fifty closes.
    with caplog.at_level(logging.WARNING):
        for _ in range(50):
            c = JanitooClient(broker.host, broker.port, prefix=prefix).connect()
            c.watch("all")
            c.close()
    assert [r.getMessage() for r in caplog.records] == []


def test_context_manager_connects_then_closes(broker: MosquittoBroker, prefix: str) -> None:
    before = set(threading.enumerate())
    with JanitooClient(broker.host, broker.port, prefix=prefix) as c:
        assert c.connected
        sub = c.watch("heartbeats")
        c.publish(Heartbeat(Hadd(1, 1), "ONLINE"))
        env = sub.get(timeout=WAIT)
        assert env is not None and env.message == Heartbeat(Hadd(1, 1), "ONLINE")
    assert not c.connected
    t0 = time.monotonic()
    assert sub.closed.is_set() and sub.get(timeout=WAIT) is None
    assert time.monotonic() - t0 < 1.0  # a closed subscription does not make its reader wait
    assert set(threading.enumerate()) - before == set()


def test_concurrent_get_value_calls_each_get_their_own_answer(
    client: JanitooClient, fake: FakeController
) -> None:
    # Every GET of "counter" is answered with the next integer, on the same topics for every caller:
    # only the correlation tells the answers apart.
    threads, calls = 8, 20
    start = threading.Barrier(threads)
    results: list[list[ValueInfo]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            start.wait(WAIT)
            for _ in range(calls):
                results[i].append(client.get_value(NODE, "counter", "user", SENSOR, timeout=WAIT))
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not errors, errors
    answers = [v for per_thread in results for v in per_thread]
    assert len(answers) == threads * calls
    assert sorted(v.data for v in answers) == list(range(1, threads * calls + 1))  # nobody got another's
    cids = [v.extra[CORRELATION_KEY] for v in answers]
    assert len(set(cids)) == len(cids)
    assert all(fake.answered[cid] == v.data for cid, v in zip(cids, answers, strict=True))


def test_a_request_sharing_a_reply_subscription_not_yet_sent_still_gets_its_answer(
    client: JanitooClient, fake: FakeController, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Thread A opens the reply-topic subscription; thread B, needing the same filter, must not publish its
    # request before A's SUBSCRIBE is on its way, or the answer comes back to a topic nobody listens to.
    # A's SUBSCRIBE is held back (white box: paho's subscribe is wrapped) to make the interleaving certain.
    reply_filter = client.topics.node_reply(client.reply_hadd)
    real_subscribe = client._mqtt.subscribe
    in_subscribe, release = threading.Event(), threading.Event()

    def held_subscribe(topic: object, *args: object, **kwargs: object) -> object:
        if topic == reply_filter and not in_subscribe.is_set():
            in_subscribe.set()
            release.wait(WAIT)
        return real_subscribe(topic, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(client._mqtt, "subscribe", held_subscribe)
    outcome: dict[str, object] = {}

    def run(name: str, call: Callable[[], object]) -> None:
        try:
            outcome[name] = call()
        except Exception as exc:  # reported below
            outcome[name] = exc

    a = threading.Thread(target=run, args=("a", lambda: client.get_value(NODE, "switch", "user", SWITCH)))
    b_done = threading.Event()

    def b_call() -> object:
        try:  # a direct discovery: answered on the reply topic only
            return client.request(DiscoveryRequest("request_info_nodes", None, target=NODE), timeout=2.0)
        finally:
            b_done.set()

    b = threading.Thread(target=run, args=("b", b_call))
    a.start()
    assert in_subscribe.wait(WAIT)
    b.start()
    b_done.wait(0.5)  # B either waits for A's subscription, or has sent its request already
    release.set()
    a.join(WAIT)
    b.join(WAIT)
    assert isinstance(outcome["a"], ValueInfo), outcome["a"]
    assert isinstance(outcome["b"], DiscoveryReply), outcome["b"]


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (b'{"uuid": "x", "data": ', "not JSON"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"[1, 2, 3]", "must be a JSON object"),
    ],
)
def test_undecodable_message_is_logged_with_topic_and_reason_and_the_next_one_arrives(
    client: JanitooClient, prefix: str, caplog: pytest.LogCaptureFixture, garbage: bytes, reason: str
) -> None:
    got: queue.Queue[tuple[str, object]] = queue.Queue()

    def handler(env: Envelope) -> None:
        got.put((env.topic, env.message))

    def strict(env: Envelope) -> None:
        raise ProtocolError("a handler that raises", env.topic)  # must not reach paho's thread

    client.subscribe(client.topics.values_all(), strict)
    client.subscribe(client.topics.values_all(), handler)
    topic = f"{prefix}/values/user/0001/0001/x"
    good = ValuePublication(Genre.USER, Hadd(1, 1), "x", (ValueInfo("x", hadd=Hadd(1, 1), genre=2, data=42),))
    with caplog.at_level(logging.WARNING, logger="janitoo"):
        client.publish_raw(topic, garbage)
        client.publish(good)
        first = got.get(timeout=WAIT)
        second = got.get(timeout=WAIT)
    assert first == (topic, None)
    assert second[0] == topic and isinstance(second[1], ValuePublication) and second[1].value.data == 42
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("janitoo")]
    assert any(topic in m and reason in m and "undecodable" in m for m in logged), logged
    failures = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], ProtocolError)]
    assert len(failures) == 2 and all(topic in r.getMessage() for r in failures)  # logged, not raised


def test_routes_follow_subscriptions_added_and_closed_after_traffic(
    client: JanitooClient, prefix: str
) -> None:
    # A topic's route is remembered after its first message: a subscription added or closed later must
    # still change who gets the next one.
    topic = f"{prefix}/values/user/0001/0001/x"
    wide: queue.Queue[Envelope] = queue.Queue()
    exact: queue.Queue[Envelope] = queue.Queue()
    first = client.subscribe(client.topics.values_all(), wide.put)
    client.publish_raw(topic, b'{"uuid": "x", "genre": 2, "data": 1}')
    assert wide.get(timeout=WAIT).topic == topic
    client.subscribe(topic, exact.put)
    client.publish_raw(topic, b'{"uuid": "x", "genre": 2, "data": 2}')
    for q in (wide, exact):
        env = q.get(timeout=WAIT)
        assert isinstance(env.message, ValuePublication) and env.message.value.data == 2
    first.close()
    client.publish_raw(topic, b'{"uuid": "x", "genre": 2, "data": 3}')
    env = exact.get(timeout=WAIT)
    assert isinstance(env.message, ValuePublication) and env.message.value.data == 3
    assert wide.empty()


def test_a_message_outside_the_protocol_topics_arrives_with_the_decode_error(
    client: JanitooClient, prefix: str
) -> None:
    got: queue.Queue[Envelope] = queue.Queue()
    client.subscribe(f"{prefix}/elsewhere/#", got.put)
    topic = f"{prefix}/elsewhere/a/b"
    client.publish_raw(topic, b'{"uuid": "x"}')
    env = got.get(timeout=WAIT)
    assert env.topic == topic and env.payload == b'{"uuid": "x"}' and env.message is None
    with pytest.raises(ProtocolError) as raised:
        decode(topic, env.payload, client.topics)
    assert env.error is not None and env.error.reason == raised.value.reason and env.error.topic == topic


def test_a_topic_that_is_not_utf8_is_dropped_with_a_warning_and_the_next_message_arrives(
    client: JanitooClient, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Brokers refuse such topics; should one pass them on, paho's thread must not get the exception.
    import paho.mqtt.client as mqtt

    got: queue.Queue[Envelope] = queue.Queue()
    client.subscribe(client.topics.values_all(), got.put)
    bad = mqtt.MQTTMessage(topic=f"{prefix}/values/user/0001/0001/".encode() + b"\xff\xfe")
    bad.payload = b'{"uuid": "x"}'
    with caplog.at_level(logging.WARNING, logger="janitoo"):
        client._on_message(client._mqtt, None, bad)
        client._on_message(client._mqtt, None, bad)  # a second time: nothing remembered for it either
    assert got.empty()
    assert sum("not UTF-8" in r.getMessage() for r in caplog.records) == 2
    client.publish_raw(f"{prefix}/values/user/0001/0001/x", b'{"uuid": "x", "genre": 2, "data": 4}')
    env = got.get(timeout=WAIT)
    assert isinstance(env.message, ValuePublication) and env.message.value.data == 4


def test_paho_debug_lines_are_skipped_unless_someone_listens_and_its_errors_always_pass(
    client: JanitooClient, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    import paho.mqtt.client as mqtt

    got: queue.Queue[Envelope] = queue.Queue()
    client.subscribe(client.topics.values_all(), got.put)
    topic = f"{prefix}/values/user/0001/0001/x"

    def paho_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "janitoo.paho"]

    with caplog.at_level(logging.INFO, logger="janitoo.paho"):
        client.publish_raw(topic, b'{"uuid": "x", "genre": 2, "data": 1}')
        got.get(timeout=WAIT)
        client._mqtt._easy_log(mqtt.MQTT_LOG_ERR, "an error of paho's: %s", "still logged")
    assert not any("PUBLISH" in line for line in paho_lines())
    assert "an error of paho's: still logged" in paho_lines()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="janitoo.paho"):
        client.publish_raw(topic, b'{"uuid": "x", "genre": 2, "data": 2}')
        got.get(timeout=WAIT)
    assert any(line.startswith("Received PUBLISH") and topic in line for line in paho_lines()), paho_lines()


# --- get / set by ValueInfo ------------------------------------------------------------------------------


def test_get_and_set_take_a_value_info_from_the_map(client: JanitooClient, fake: FakeController) -> None:
    network = client.discover(timeout=5)
    switch = network.value(str(NODE), "switch")  # genre, cmd_class and index come from the map
    assert client.get(switch, timeout=WAIT).data == "off"
    assert client.set(switch, "on", timeout=WAIT).data == "on"
    assert fake.value(NODE, "switch").data == "on"
    load = network.value(NODE, "load", index=2)
    assert client.get(load, timeout=WAIT).index == 2
    assert [r.index for r in fake.received[-1:]] == [2]  # type: ignore[union-attr]


def test_get_of_a_value_without_hadd_is_a_usage_error_before_sending(
    client: JanitooClient, fake: FakeController
) -> None:
    from janitoo_protocol import UsageError

    with pytest.raises(UsageError, match="has no hadd"):
        client.get(ValueInfo("switch", genre=2, cmd_class=SWITCH))
    with pytest.raises(UsageError, match="needs its cmd_class"):
        client.set_value(NODE, "switch", "user", "on")
    assert fake.received == []


@pytest.mark.parametrize("bad", ["", "/values/#/x", "/nodes/a+/request", "/nodes/#/#"])
def test_a_bad_topic_filter_is_a_usage_error_and_is_not_kept(client: JanitooClient, bad: str) -> None:
    from janitoo_protocol import UsageError

    filters = dict(client._filters)  # white box: a kept bad filter would break every re-subscription
    with pytest.raises(UsageError, match="cannot subscribe to"):
        client.subscribe(bad)
    assert client._filters == filters


@pytest.mark.parametrize("bad", ["", "/values/+/x", "/nodes/#"])
def test_publishing_to_a_wildcard_or_empty_topic_is_a_usage_error(client: JanitooClient, bad: str) -> None:
    from janitoo_protocol import UsageError

    with pytest.raises(UsageError, match="cannot publish to"):
        client.publish_raw(bad, b"{}")


def test_wait_written_returns_once_a_burst_is_on_the_wire(client: JanitooClient, prefix: str) -> None:
    assert client.wait_written(WAIT)  # nothing published yet
    with JanitooClient(port=client.port, prefix=prefix) as reader, reader.watch("values") as values:
        for i in range(500):
            client.publish_raw(f"{prefix}/values/user/0101/0001/burst", json.dumps({"i": i}).encode())
        assert client.wait_written(WAIT)
        assert client._mqtt._out_packet == collections.deque()  # paho holds nothing more
        wait_for(
            values, lambda env: json.loads(env.payload) == {"i": 499}, WAIT, "the last message of the burst"
        )


def test_wait_written_is_false_without_a_connection(broker: MosquittoBroker, prefix: str) -> None:
    c = JanitooClient(broker.host, broker.port, prefix=prefix)
    c.publish_raw(f"{prefix}/values/user/0101/0001/x", b"{}")  # paho keeps it: not connected
    assert c.wait_written(0.1) is False


def test_routes_work_on_the_decoded_topic_should_paho_drop_its_topic_bytes(
    client: JanitooClient, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The routes are kept by paho's private `_topic` bytes; a paho without them falls back to `msg.topic`.
    import operator

    from janitoo_protocol import transport

    monkeypatch.setattr(transport, "_topic_key", operator.attrgetter("topic"))
    got: queue.Queue[Envelope] = queue.Queue()
    client.subscribe(client.topics.values_all(), got.put)
    for data in (1, 2):  # the second through the remembered route
        client.publish_raw(
            f"{prefix}/values/user/0001/0001/x", b'{"uuid": "x", "genre": 2, "data": %d}' % data
        )
        env = got.get(timeout=WAIT)
        assert isinstance(env.message, ValuePublication) and env.message.value.data == data
    assert list(client._routes) == [f"{prefix}/values/user/0001/0001/x"]
