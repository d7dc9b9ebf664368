"""The web manager under load: a simulated network of 1,000 nodes publishing about 500 values/s, `jnt web`
with 5 connected pages (WebSocket clients: 3 network pages, 1 node page, 1 traffic page).

Prints the web process's RSS after the warm-up and at the end (the growth must stay under 5 MB), the
latency from a value's publication on the broker to a node page's WebSocket receiving it (median, p95),
and the network page's load time in Chromium with the 1,000 nodes (median of 5 loads).

    python benchmarks/web.py [--minutes 10] [--warmup 60] [--controllers 100] [--nodes 9] [--rate 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from _common import ROOT, Simulation, rss_mb, tool

from janitoo_node.broker import MosquittoBroker, free_port
from janitoo_protocol import Genre, Hadd, ValueInfo, ValuePublication
from janitoo_protocol.transport import JanitooClient

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
PROBE = "bench_probe"


class Web:
    """`jnt web` as a process, and a session cookie to talk to it."""

    def __init__(self, broker_port: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("JNT_")}
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        self._fh = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([*tool("jnt"), "web", "--port", str(broker_port), "--web-port", str(self.port),
                                      "--timeout", "15"], stdout=self._fh, stderr=subprocess.STDOUT, env=env)  # fmt: skip
        self.cookie = ""

    def wait_ready(self, nodes: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while "serving http://" not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"jnt web did not start: {self.log.read_text()}")
            time.sleep(0.2)  # a benchmark's start-up poll, not a test
        with urllib.request.urlopen(self.url + "/", timeout=30) as resp:
            self.cookie = resp.headers["set-cookie"].split(";")[0]
        while True:
            req = urllib.request.Request(self.url + "/api/network", headers={"Cookie": self.cookie})
            with urllib.request.urlopen(req, timeout=30) as resp:
                known = len(json.loads(resp.read())["nodes"])
            if known >= nodes:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"jnt web knows {known}/{nodes} nodes after {timeout} s")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._fh.close()


class Pages:
    """Five WebSocket clients reading everything they are sent, in their own thread and event loop."""

    def __init__(self, web: Web, probe_hadd: str) -> None:
        self.web = web
        self.probe_hadd = probe_hadd
        self.received = 0
        self.probes: dict[float, float] = {}  # probe data -> monotonic time of arrival
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _client(self, query: str) -> None:
        from websockets.asyncio.client import connect

        ws_url = self.web.url.replace("http", "ws") + "/ws?" + query
        try:
            async with connect(ws_url, origin=self.web.url, additional_headers={"Cookie": self.web.cookie},  # type: ignore[arg-type]
                               max_size=None) as ws:  # fmt: skip
                while not self.stop.is_set():
                    try:
                        text = await asyncio.wait_for(ws.recv(), 0.5)
                    except TimeoutError:
                        continue
                    now = time.monotonic()
                    for event in json.loads(text):
                        self.received += 1
                        if event.get("t") == "value" and event["key"] == f"{int(Genre.USER)}:{PROBE}:0":
                            self.probes.setdefault(event["data"], now)
        except Exception as exc:  # noqa: BLE001 - reported at the end
            self.errors.append(f"{query}: {exc}")

    async def _main(self) -> None:
        queries = ["page=network"] * 3 + ["page=traffic", f"page=node&hadd={self.probe_hadd}"]
        await asyncio.gather(*(self._client(q) for q in queries))

    def __enter__(self) -> Pages:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


def latency(broker_port: int, pages: Pages, hadd: str, samples: int) -> list[float]:
    """Milliseconds from publishing a probe value on the broker to the node page receiving it."""
    sent: dict[float, float] = {}
    with JanitooClient(port=broker_port) as client:
        h = Hadd.parse(hadd)
        for k in range(samples):
            data = 1_000_000.0 + k
            value = ValueInfo(PROBE, h, genre=int(Genre.USER), type=3, cmd_class=49, data=data, units="ms")
            sent[data] = time.monotonic()
            client.publish(ValuePublication(Genre.USER, h, PROBE, (value,)))
            time.sleep(0.05)  # one probe every 50 ms, spread over the load
        deadline = time.monotonic() + 5
        while len(pages.probes) < samples and time.monotonic() < deadline:
            time.sleep(0.1)
    # The first probe creates the value (the page learns of it); the rest are what a page sees.
    return [1000 * (pages.probes[d] - t) for d, t in sent.items() if d in pages.probes and d != 1_000_000.0]


def page_load(url: str, nodes: int, runs: int = 5) -> list[float]:
    """Milliseconds from navigation to the network page loaded with every node's row, in Chromium."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/")  # the session cookie, once
        for _ in range(runs):
            t = time.perf_counter()
            page.goto(url + "/", wait_until="load")
            count = page.locator("#nodes tbody tr").count()
            times.append(1000 * (time.perf_counter() - t))
            nav = page.evaluate(
                "(() => { const n = performance.getEntriesByType('navigation')[0]; return [n.responseStart,"
                " n.responseEnd, n.domInteractive, n.domContentLoadedEventEnd, n.loadEventEnd]; })()"
            )
            print(
                "  load: first byte {:.0f} ms, last byte {:.0f}, interactive {:.0f}, DOMContentLoaded {:.0f}, "
                "load {:.0f}".format(*nav),
                file=sys.stderr,
            )
            if count < nodes:
                raise RuntimeError(f"the page showed {count}/{nodes} nodes")
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the first RSS reading")
    parser.add_argument("--controllers", type=int, default=100)
    parser.add_argument("--nodes", type=int, default=9, help="nodes per controller (plus the controller)")
    parser.add_argument("--rate", type=float, default=500.0, help="value publications per second, about")
    parser.add_argument("--samples", type=int, default=200, help="latency probes")
    args = parser.parse_args()
    total = args.controllers * (args.nodes + 1)
    poll = total / args.rate
    probe_hadd = "1000/0001"
    with (
        MosquittoBroker() as broker,
        Simulation(broker.port, args.controllers, args.nodes, 1, poll=poll) as sim,
    ):
        sim.wait_ready()
        web = Web(broker.port, Path(os.environ.get("TMPDIR", "/tmp")) / f"jnt-web-bench-{broker.port}.log")
        try:
            web.wait_ready(total)
            load_ms = page_load(web.url, total) if Path(CHROMIUM).exists() else []
            with Pages(web, probe_hadd) as pages:
                time.sleep(args.warmup)  # warm-up: caches, histories and queues reach their size
                rss_warm = rss_mb(web.proc.pid)
                received_warm = pages.received
                lat = latency(broker.port, pages, probe_hadd, args.samples)
                end = time.monotonic() + max(0.0, args.minutes * 60 - args.warmup)
                peak = rss_warm
                while time.monotonic() < end:
                    time.sleep(min(10.0, max(0.0, end - time.monotonic())))
                    peak = max(peak, rss_mb(web.proc.pid))
                rss_end = rss_mb(web.proc.pid)
                received = pages.received - received_warm
                errors = pages.errors
        finally:
            web.stop()
    span = args.minutes * 60 - args.warmup
    lat.sort()
    print(f"network: {total} nodes, 1 value each polled every {poll:g} s (~{args.rate:g} values/s), "
          f"{args.minutes:g} min, 5 pages")  # fmt: skip
    print("| measure | value |\n|---|---|")
    print(f"| web RSS after {args.warmup:g} s warm-up | {rss_warm:.1f} MB |")
    print(f"| web RSS at the end ({args.minutes:g} min) | {rss_end:.1f} MB (peak {peak:.1f} MB) |")
    print(f"| growth | {rss_end - rss_warm:+.1f} MB ({'under' if rss_end - rss_warm < 5 else 'OVER'} 5 MB) |")
    print(f"| events received by the 5 pages after warm-up | {received} ({received / max(span, 1):.0f}/s) |")
    if lat:
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        print(
            f"| publication -> node page, median / p95 ({len(lat)} probes) | {statistics.median(lat):.1f} ms / {p95:.1f} ms |"
        )
    if load_ms:
        print(f"| network page with {total} nodes loaded in Chromium, median of {len(load_ms)} | "
              f"{statistics.median(load_ms):.0f} ms (min {min(load_ms):.0f}, max {max(load_ms):.0f}) |")  # fmt: skip
    print(f"summary: web manager RSS growth over {args.minutes:g} min at ~{args.rate:g} values/s | "
          f"{rss_end - rss_warm:+.1f} MB | < 5 MB | no web manager")  # fmt: skip
    if lat:
        print(f"summary: web manager, publication -> page (median) | {statistics.median(lat):.1f} ms | < 100 ms | "
              "no web manager")  # fmt: skip
    if load_ms:
        print(f"summary: network page of {total} nodes loaded in Chromium (median) | "
              f"{statistics.median(load_ms):.0f} ms | < 1000 ms | no web manager")  # fmt: skip
    if errors:
        print(f"page errors: {errors}", file=sys.stderr)


if __name__ == "__main__":
    main()
