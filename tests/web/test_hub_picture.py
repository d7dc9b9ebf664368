"""Pages that do not keep up are dropped, never buffered without bound; the picture escapes every text."""

from __future__ import annotations

import asyncio
import json

from janitoo_web.hub import MAX_PENDING, MAX_TRAFFIC_PENDING, Hub
from janitoo_web.picture import network_svg


def _row(hadd: str, name: str = "n", state: str = "ONLINE") -> dict[str, object]:
    return {"hadd": hadd, "controller": hadd.endswith("/0000"), "name": name, "state": state}


def test_a_page_that_does_not_read_is_dropped() -> None:
    async def scenario() -> tuple[bool, int, int]:
        hub = Hub()
        stuck = asyncio.Event()

        async def never(text: str) -> None:
            await stuck.wait()

        client = hub.add(never, "network")
        assert client is not None
        sender = asyncio.create_task(hub.run_sender(client, []))
        for k in range(MAX_PENDING + 10):
            hub.publish([{"t": "seen", "hadd": f"{k:04d}/0000", "age": 0.0}])
        sender.cancel()
        return client.dropped, len(client.pending), len(hub.clients)

    dropped, pending, clients = asyncio.run(scenario())
    assert dropped and pending == 0 and clients == 0


def test_pages_get_only_their_events_and_traffic_is_capped() -> None:
    async def scenario() -> list[list[dict[str, object]]]:
        hub = Hub()
        sent: list[list[dict[str, object]]] = []
        got = asyncio.Event()

        async def send(text: str) -> None:
            sent.append(json.loads(text))
            got.set()

        node = hub.add(send, "node", "0225/0004")
        traffic = hub.add(send, "traffic")
        assert node is not None and traffic is not None
        hub.publish(
            [{"t": "value", "hadd": "0225/0001", "key": "k"}, {"t": "value", "hadd": "0225/0004", "key": "k"}]
        )
        hub.publish([{"t": "traffic", "line": {}}] * (MAX_TRAFFIC_PENDING + 7))
        assert len(traffic.pending) == MAX_TRAFFIC_PENDING and traffic.skipped == 7
        tasks = [asyncio.create_task(hub.run_sender(c, [])) for c in (node, traffic)]
        while len(sent) < 4:
            got.clear()
            await asyncio.wait_for(got.wait(), 2)
        for t in tasks:
            t.cancel()
        return sent

    sent = asyncio.run(scenario())
    batches = [b for b in sent if b]
    node_batch = next(b for b in batches if b[0]["t"] == "value")
    assert node_batch == [{"t": "value", "hadd": "0225/0004", "key": "k"}]
    traffic_batch = next(b for b in batches if b[0]["t"] == "traffic")
    assert len(traffic_batch) == MAX_TRAFFIC_PENDING + 1 and traffic_batch[-1] == {"t": "skipped", "n": 7}


def test_the_picture_escapes_names_and_draws_every_node() -> None:
    rows = [_row("0225/0000", "</title><script>x()</script>"), _row("0225/0001", "a&b", "FAILED"),
            _row("0300/0002", "orphan", "OFFLINE")]  # fmt: skip
    svg = network_svg(rows)
    assert "<script>" not in svg and "&lt;/title&gt;&lt;script&gt;" in svg and "a&amp;b" in svg
    assert svg.count('class="pic-node"') == 4  # three nodes and the silent controller of 0300
    assert 'class="st-FAILED"' in svg and 'class="st-OFFLINE"' in svg
    assert "No node yet" in network_svg([])
    many = network_svg([_row(f"{c:04d}/{n:04d}") for c in range(100) for n in range(10)])
    assert many.count('class="pic-node"') == 1000


def test_a_page_behind_gets_the_present_not_the_past() -> None:
    async def scenario() -> list[dict[str, object]]:
        hub = Hub()
        client = hub.add(_never_sends, "node", "0225/0004")
        assert client is not None
        for k in range(5000):
            hub.publish([{"t": "value", "hadd": "0225/0004", "key": "1:blink:0", "data": k}])
        hub.publish([{"t": "node", "new": True, "row": _row("0225/0004", "Led")}])
        hub.publish([{"t": "state", "row": _row("0225/0004", "Led", "OFFLINE")}])
        assert not client.dropped
        return list(client.pending.values())

    pending = asyncio.run(scenario())
    assert pending == [{"t": "value", "hadd": "0225/0004", "key": "1:blink:0", "data": 4999},
                       {"t": "state", "new": True, "row": _row("0225/0004", "Led", "OFFLINE")}]  # fmt: skip


async def _never_sends(text: str) -> None:
    raise AssertionError("not sent in this test")
