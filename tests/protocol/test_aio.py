"""Integration tests of AsyncJanitooClient against a real mosquitto and the fake controllers of the threaded
client's tests: connect errors, GET/SET (by address and by ValueInfo), refusals, timeouts, discovery,
concurrent requests on one loop, subscriptions as async iterators, and a broker restart. Every wait has a
timeout; nothing sleeps."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest

from janitoo_node.broker import MosquittoBroker
from janitoo_protocol import (
    CommandClass,
    ConnectError,
    Genre,
    Hadd,
    Heartbeat,
    NodeState,
    RequestRefused,
    RequestTimeout,
    UsageError,
    ValueInfo,
    ValuePublication,
)
from janitoo_protocol.aio import AsyncJanitooClient
from tests.protocol.fakenode import FakeController

WAIT = 5.0
NODE = Hadd(101, 1)
SWITCH = int(CommandClass.SWITCH_BINARY)
SENSOR = int(CommandClass.SENSOR_MULTILEVEL)
T = TypeVar("T")


def run(make: Callable[[], Awaitable[T]], timeout: float = 30) -> T:
    """Run one coroutine on a fresh event loop, bounded in time."""

    async def bounded() -> T:
        return await asyncio.wait_for(make(), timeout)

    return asyncio.run(bounded())


@pytest.fixture
def fake(broker: MosquittoBroker, prefix: str) -> Iterator[FakeController]:
    with FakeController(broker.host, broker.port, 101, nodes=3, prefix=prefix) as f:
        yield f


@pytest.fixture
def three(broker: MosquittoBroker, prefix: str) -> Iterator[list[FakeController]]:
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(FakeController(broker.host, broker.port, 101 + i, nodes=2 + i, prefix=prefix))
            for i in range(3)
        ]


def test_connect_error_when_nothing_listens(refused_port: int) -> None:
    port = refused_port

    async def go() -> None:
        async with AsyncJanitooClient("127.0.0.1", port, connect_timeout=2):
            pass  # pragma: no cover - never connects

    with pytest.raises(ConnectError, match=f"127.0.0.1:{port}: connection refused"):
        run(go)


def test_context_manager_connects_then_closes_without_a_thread_left(
    broker: MosquittoBroker, prefix: str
) -> None:
    before = set(threading.enumerate())

    async def go() -> tuple[bool, bool]:
        client = AsyncJanitooClient(broker.host, broker.port, prefix=prefix)
        async with client:
            inside = client.connected
        return inside, client.connected

    assert run(go) == (True, False)
    assert set(threading.enumerate()) - before == set()


@pytest.mark.parametrize(
    ("word", "uuid", "cmd_class", "new"),
    [
        ("user", "switch", SWITCH, "on"),
        ("config", "location", None, "Rack 42"),
        ("system", "heartbeat", None, 45),
    ],
)
def test_get_and_set_value_by_address(
    broker: MosquittoBroker, prefix: str, fake: FakeController, word: str, uuid: str, cmd_class: int | None,
    new: object,
) -> None:  # fmt: skip
    async def go() -> tuple[ValueInfo, ValueInfo, ValueInfo]:
        async with AsyncJanitooClient(broker.host, broker.port, prefix=prefix) as client:
            before = await client.get_value(NODE, uuid, word, cmd_class, timeout=WAIT)
            ack = await client.set_value(str(NODE), uuid, word, new, cmd_class, timeout=WAIT)
            after = await client.get_value(NODE, uuid, Genre.from_word(word), cmd_class, timeout=WAIT)
            return before, ack, after

    before, ack, after = run(go)
    assert before.data != new and (ack.uuid, ack.hadd, ack.data) == (uuid, NODE, new) and after.data == new
    assert fake.value(NODE, uuid).data == new


def test_discover_then_get_and_set_a_value_info(
    broker: MosquittoBroker, prefix: str, three: list[FakeController]
) -> None:
    async def go() -> tuple[int, float, object, object]:
        async with AsyncJanitooClient(broker.host, broker.port, prefix=prefix) as client:
            t0 = time.monotonic()
            network = await client.discover(timeout=5)
            took = time.monotonic() - t0
            switch = network.value("0102/0001", "switch")  # genre and cmd_class come from the map
            ack = await client.set(switch, "on", timeout=WAIT)
            got = await client.get(network.value(Hadd(102, 1), "location"), timeout=WAIT)
            return len(network), took, ack.data, got.data

    nodes, took, ack, location = run(go)
    assert nodes == 2 + 3 + 4 and took < 2.5
    assert ack == "on" and three[1].value(Hadd(102, 1), "switch").data == "on"
    assert location == three[1].value(Hadd(102, 1), "location").data


def test_discover_target_and_an_empty_network(
    broker: MosquittoBroker, prefix: str, three: list[FakeController]
) -> None:
    async def go() -> tuple[set[Hadd], int, float]:
        async with AsyncJanitooClient(broker.host, broker.port, prefix=prefix) as client:
            one = await client.discover(timeout=5, target="0103/0000")
        async with AsyncJanitooClient(broker.host, broker.port, prefix=prefix + "-empty") as client:
            t0 = time.monotonic()
            empty = await client.discover(timeout=5, idle=0.5)
            return set(one.nodes), len(empty), time.monotonic() - t0

    hadds, empty, took = run(go)
    assert hadds == set(three[2].hadds) and three[0].received == []
    assert empty == 0 and 0.5 <= took < 1.5


def test_refusal_timeout_and_bad_arguments_raise_janitoo_errors(broker: MosquittoBroker, prefix: str) -> None:
    async def go() -> list[str]:
        out = []
        async with AsyncJanitooClient(broker.host, broker.port, prefix=prefix) as client:
            for call in (
                lambda: client.set_value(Hadd(103, 1), "switch", "user", "on", SWITCH, timeout=WAIT),
                lambda: client.set_value(Hadd(103, 1), "switch", "user", "on", SENSOR, timeout=0.3),
                lambda: client.get_value(Hadd(103, 1), "switch", "user"),  # no cmd_class
                lambda: client.get(ValueInfo("switch", genre=2, cmd_class=SWITCH)),  # no hadd
            ):
                try:
                    await call()
                except (RequestRefused, RequestTimeout, UsageError) as exc:
                    out.append(f"{type(exc).__name__}: {exc}")
        return out

    with FakeController(broker.host, broker.port, 103, 2, prefix=prefix, refuse={"switch": "locked"}):
        errors = run(go)
    assert errors[0] == "RequestRefused: node 0103/0001 refused SET of 'switch': locked"
    assert errors[1].startswith(
        "RequestTimeout: node 0103/0001 never acknowledged the SET of user value 'switch'"
    )
    assert errors[2] == "UsageError: a user value needs its cmd_class (the node checks it)"
    assert errors[3].startswith("UsageError: value 'switch' has no hadd")


def test_concurrent_gets_on_one_loop_each_get_their_own_answer(
    broker: MosquittoBroker, prefix: str, fake: FakeController
) -> None:
    async def go() -> list[ValueInfo]:
        async with AsyncJanitooClient(broker.host, broker.port, prefix=prefix) as client:
            calls = [client.get_value(NODE, "counter", "user", SENSOR, timeout=WAIT) for _ in range(40)]
            return list(await asyncio.gather(*calls))

    answers = run(go)
    assert sorted(v.data for v in answers) == list(range(1, 41))  # the correlation tells them apart
    assert all(fake.answered[v.extra["jnt_cid"]] == v.data for v in answers)


def test_watch_heartbeats_and_values_as_async_iterators(
    broker: MosquittoBroker, prefix: str, fake: FakeController
) -> None:
    async def go() -> tuple[list[Heartbeat], list[ValuePublication], bool]:
        beats: list[Heartbeat] = []
        pubs: list[ValuePublication] = []
        async with AsyncJanitooClient(broker.host, broker.port, prefix=prefix) as client:
            async with client.watch("heartbeats") as heartbeats, client.watch("values") as values:
                fake.heartbeat(1)
                fake.heartbeat(2, "OFFLINE")
                fake.publish_poll(NODE, "load")
                async for env in heartbeats:
                    if isinstance(env.message, Heartbeat):
                        beats.append(env.message)
                    if len(beats) == 2:
                        break
                env = await values.get(timeout=WAIT)
                assert env is not None and isinstance(env.message, ValuePublication)
                pubs.append(env.message)
            # Closed: the iterator ends at once, and get() does not wait.
            ended = [env async for env in heartbeats] == [] and await heartbeats.get(timeout=WAIT) is None
        return beats, pubs, ended

    beats, pubs, ended = run(go)
    assert [(str(b.hadd), b.state) for b in beats] == [("0101/0001", "ONLINE"), ("0101/0002", "OFFLINE")]
    assert beats[0].state is NodeState.ONLINE
    assert pubs[0].uuid == "load" and pubs[0].hadd == NODE
    assert ended


def test_closing_the_client_ends_a_reader_waiting_on_a_subscription(
    broker: MosquittoBroker, prefix: str
) -> None:
    async def go() -> float:
        client = await AsyncJanitooClient(broker.host, broker.port, prefix=prefix).connect()
        sub = await client.watch("all").open()

        async def read() -> list[object]:
            return [env async for env in sub]

        reader = asyncio.create_task(read())
        t0 = time.monotonic()
        await client.close()
        assert await asyncio.wait_for(reader, WAIT) == []
        return time.monotonic() - t0

    assert run(go) < 1.0


def test_a_subscription_must_be_opened_and_kinds_are_checked(broker: MosquittoBroker, prefix: str) -> None:
    async def go() -> None:
        async with AsyncJanitooClient(broker.host, broker.port, prefix=prefix) as client:
            with pytest.raises(UsageError, match="open the subscription first"):
                await client.watch("values").get(timeout=0.1)
            with pytest.raises(UsageError, match="unknown watch kind 'beats'"):
                client.watch("beats")

    run(go)


def test_broker_restart_the_client_reconnects_and_requests_again(private_broker: MosquittoBroker) -> None:
    b = private_broker

    async def go() -> tuple[object, object]:
        async with AsyncJanitooClient(b.host, b.port, reconnect_max=0.5) as client:
            with FakeController(b.host, b.port, 101, 2) as f:
                first = await client.get_value(NODE, "switch", "user", SWITCH, timeout=WAIT)
                await asyncio.to_thread(b.restart)
                ok = await asyncio.to_thread(client.sync.wait_connected, 15)
                ok = ok and await asyncio.to_thread(f.client.wait_connected, 15)
                assert ok, "client or fake did not come back"
                again = await client.set_value(NODE, "switch", "user", "on", SWITCH, timeout=WAIT)
                return first.data, again.data

    assert run(go, 60) == ("off", "on")
