"""The web manager in a real browser: Debian's Chromium driven by Playwright, a real mosquitto, a real
`jnt-node run` of the HelloWorld V3 appliance (sim backend) and `jnt web` as a process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from janitoo_node.apps.demo import prepare_config
from janitoo_node.broker import MosquittoBroker, free_port
from janitoo_protocol import Genre, Hadd, Heartbeat, HeartbeatDispatch, ValueInfo, ValuePublication
from janitoo_protocol.transport import JanitooClient, Subscription
from tests.helpers import NodeProcess, fake_conf

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
SCREENSHOTS = Path(os.environ.get("JNT_WEB_SCREENSHOTS", "/tmp/janitoo-web-screenshots"))
PREFIX = "web-e2e"
CONTROLLER = "0225/0000"
LED = "0225/0004"
FIVE = ["0225/0000", "0225/0001", "0225/0002", "0225/0003", "0225/0004"]
HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNT_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["XDG_CONFIG_HOME"] = str(tmp / "xdg")
    env["PYTHONUNBUFFERED"] = "1"
    return env


class WebProcess:
    """`jnt web` as a child process on a free loopback port; ready once it prints its URL."""

    def __init__(self, broker_port: int, tmp: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"web-{self.port}.log"
        self._fh = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "janitoo_cli.main", "web", "--port", str(broker_port), "--prefix", PREFIX,
             "--web-port", str(self.port), *args],
            stdout=self._fh, stderr=subprocess.STDOUT, text=True, env=_env(tmp), cwd=tmp,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "serving http://" in self.log.read_text():
                return
            assert self.proc.poll() is None, f"jnt web exited: {self.log.read_text()}"
            try:
                self.proc.wait(0.1)  # an interruptible wait for the next look at its log
            except subprocess.TimeoutExpired:
                pass
        raise AssertionError(f"jnt web not ready within {timeout} s: {self.log.read_text()}")

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._fh.close()
        return self.proc.returncode


@dataclass
class Stack:
    broker: MosquittoBroker
    appliance: NodeProcess
    web: WebProcess
    browser: Browser
    client: JanitooClient
    beats: Subscription
    tmp: Path


@pytest.fixture(scope="module")
def stack(broker: MosquittoBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("web")
    files = prepare_config(tmp, broker.port, prefix=PREFIX)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with JanitooClient(port=broker.port, prefix=PREFIX) as client:
        beats = client.watch("heartbeats")
        appliance = NodeProcess(files.conf).start()
        web = WebProcess(broker.port, tmp)
        try:
            _wait_heartbeat(beats, CONTROLLER, "ONLINE", 30)
            web.wait_ready()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    yield Stack(broker, appliance, web, browser, client, beats, tmp)
                finally:
                    browser.close()
        finally:
            web.stop()
            appliance.stop()


@pytest.fixture
def page(stack: Stack) -> Iterator[Page]:
    context = stack.browser.new_context(viewport=LAPTOP)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc.stack)))
    try:
        yield pg
    finally:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def _wait_heartbeat(beats: Subscription, hadd: str, state: str, timeout: float) -> float:
    """When `hadd` (or its whole controller) said `state` on the wire (monotonic)."""
    deadline = time.monotonic() + timeout
    while True:
        env = beats.get(max(0.0, deadline - time.monotonic()))
        assert env is not None, f"{hadd} did not say {state} within {timeout} s"
        m = env.message
        if isinstance(m, Heartbeat) and str(m.hadd) == hadd and m.state == state:
            return env.received_at
        if (isinstance(m, HeartbeatDispatch) and m.whole_controller and m.state == state
                and f"{m.add_ctrl:04d}" == hadd[:4]):  # fmt: skip
            return env.received_at


def _row(page: Page, hadd: str) -> Any:
    return page.locator(f'#nodes tr[data-hadd="{hadd}"]')


def _value(page: Page, key: str) -> Any:
    return page.locator(f'article.value[data-key="{key}"]')


def _shoot(page: Page, name: str) -> None:
    """The page at a laptop's width and a phone's, kept for the docs and for a look."""
    for label, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


def _set(page: Page, key: str, data: str | None = None, button: str = "Set") -> Any:
    """Choose or type `data` in a value's form, press its button; the form's result line."""
    card = _value(page, key)
    form = card.locator("form.set")
    if data is not None:
        field = form.locator("[name=data]:not(button)")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(data)
        else:
            field.fill(data)
    form.get_by_role("button", name=button).click()
    return form.locator("output.result")


# ------------------------------------------------------------------------------------------ tests


def test_the_network_page_lists_the_five_nodes_with_their_states(stack: Stack, page: Page) -> None:
    page.goto(stack.web.url + "/")
    for hadd in FIVE:
        expect(_row(page, hadd).locator(".badge")).to_have_text("ONLINE")
    expect(_row(page, CONTROLLER).locator(".name")).to_have_text("Hello world")
    expect(_row(page, LED).locator(".location")).to_have_text("GPIO")
    # The picture: a circle per node, coloured by state, each a link to its node page.
    expect(page.locator("#picture a.pic-node")).to_have_count(5)
    expect(page.locator('#picture a[data-hadd="0225/0004"] circle')).to_have_class("st-ONLINE")
    # Search and filter.
    page.fill("#q", "led")
    expect(_row(page, LED)).to_be_visible()
    expect(_row(page, CONTROLLER)).to_be_hidden()
    page.fill("#q", "")
    page.select_option("#state-filter", "OFFLINE")
    expect(page.locator("#no-match")).to_be_visible()
    page.select_option("#state-filter", "")
    expect(_row(page, CONTROLLER)).to_be_visible()
    _shoot(page, "network")


def test_the_node_page_groups_values_and_wakes_the_machine_up(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.web.url}/node/{CONTROLLER}")
    for title in ("Basic", "User", "Config", "System"):
        expect(page.get_by_role("heading", name=re.compile(f"^{title}"))).to_be_visible()
    critical = _value(page, "3:tutorial3_temperature_critical:0")
    expect(critical.locator(".help")).to_contain_text("The critical temperature")
    expect(_value(page, "2:tutorial3_temperature:0").locator(".units")).to_have_text("°C")
    expect(critical.locator("input[type=number]")).to_have_value("50")
    expect(_value(page, "3:tutorial3_timer_delay:0").locator("input")).to_have_attribute("min", "1")
    state = _value(page, "1:tutorial3_state:0").locator(".current")
    expect(state).to_have_text("sleeping")
    result = _set(page, "1:tutorial3_transition:0", "wakeup")
    expect(result).to_have_text("acknowledged: wakeup")
    # The machine's new state arrives live, from its publication.
    expect(state).to_have_text("reporting", timeout=10000)
    # Waking up what is awake: the node refuses, and the page says why.
    result = _set(page, "1:tutorial3_transition:0", "wakeup")
    expect(result).to_have_text(re.compile("refused.*wakeup is not allowed from reporting"))
    expect(result).to_have_class(re.compile("bad"))
    # A value out of its bounds: the browser holds it back (min=1); a page that does not is answered by
    # the web manager itself, before the wire.
    delay = _value(page, "3:tutorial3_timer_delay:0").locator("input")
    delay.fill("0")
    assert delay.evaluate("e => e.validity.rangeUnderflow")
    delay.evaluate("e => e.removeAttribute('min')")
    result = _set(page, "3:tutorial3_timer_delay:0", "0")
    expect(result).to_have_text(re.compile("below the minimum 1"))
    # A numeric user value has its chart.
    expect(_value(page, "2:tutorial3_temperature:0").locator("svg.chart")).to_have_count(1)
    _shoot(page, "node-controller")
    stack.client.set_value(CONTROLLER, "tutorial3_transition", "basic", "sleep", cmd_class=4272)


def test_the_led_blink_mode_and_a_config_value_are_acknowledged(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.web.url}/node/{LED}")
    result = _set(page, "1:blink:0", "info")
    expect(result).to_have_text("acknowledged: info")
    expect(_value(page, "1:blink:0").locator(".current")).to_have_text("info", timeout=10000)
    result = _set(page, "3:location:0", "Kitchen shelf")
    expect(result).to_have_text("acknowledged: Kitchen shelf")
    expect(page.locator("dd.location")).to_have_text("Kitchen shelf", timeout=10000)
    _shoot(page, "node-led")
    page.goto(stack.web.url + "/")
    expect(_row(page, LED).locator(".location")).to_have_text("Kitchen shelf")


def test_the_pages_work_with_the_keyboard(stack: Stack, page: Page) -> None:
    page.goto(stack.web.url + "/")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")
    page.locator("#q").focus()
    page.keyboard.type("0225/0004")
    page.keyboard.press("Tab")  # the state filter
    page.keyboard.press("Tab")  # the first visible node's link
    expect(page.locator('#nodes a[href="/node/0225/0004"]')).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{stack.web.url}/node/{LED}")
    switch = _value(page, "1:switch:0").locator("select")
    switch.focus()
    page.keyboard.press("ArrowUp")  # off -> on
    page.keyboard.press("Tab")
    expect(_value(page, "1:switch:0").get_by_role("button", name="Set")).to_be_focused()
    page.keyboard.press("Enter")
    expect(_value(page, "1:switch:0").locator("output.result")).to_have_text("acknowledged: on")


def test_the_ambiance_sensor_has_a_live_chart(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.web.url}/node/0225/0001")
    card = _value(page, "2:temperature:0")
    expect(card.locator(".units")).to_have_text("°C")
    expect(card.locator("svg.chart")).to_have_count(1)
    expect(card.locator("form.set")).to_have_count(0)  # a sensor reading is read-only


def test_a_new_node_appears_live_with_its_hostile_name_as_text_then_dies(stack: Stack, page: Page) -> None:
    page.goto(stack.web.url + "/")
    expect(_row(page, CONTROLLER)).to_be_visible()
    conf = fake_conf(
        stack.tmp / "hostile.conf", stack.broker.port, controller=1118, prefix=PREFIX, heartbeat=2
    )
    text = conf.read_text().replace("name = Fake component 1", f"name = {HOSTILE}")
    conf.write_text(text.replace("name = Fake controller", "name = </title></svg><b>bold</b>"))
    node = NodeProcess(conf).start()
    try:
        # A new node appears without a reload, its name from discovery shown as text.
        expect(_row(page, "1118/0001").locator(".name")).to_have_text(HOSTILE, timeout=15000)
        expect(_row(page, "1118/0000").locator(".name")).to_have_text("</title></svg><b>bold</b>")
        expect(page.locator("#picture a.pic-node")).to_have_count(8)
        assert page.evaluate("window.__xss") is None
        assert page.locator("main img, main b, main script").count() == 0
        # The same on a reload (rendered by the server) and on its node page.
        page.reload()
        expect(_row(page, "1118/0001").locator(".name")).to_have_text(HOSTILE)
        page.goto(f"{stack.web.url}/node/1118/0001")
        expect(page.locator("h1 .name")).to_have_text(HOSTILE)
        expect(_value(page, "3:name:0").locator(".current")).to_have_text(HOSTILE)
        assert page.evaluate("window.__xss") is None
        assert page.locator("main img, main b, main script").count() == 0
        page.goto(stack.web.url + "/")
        expect(_row(page, "1118/0002").locator(".badge")).to_have_text("ONLINE")
        # Killed: the broker publishes its last will (controller OFFLINE) and the page follows within 2 s.
        node.send(signal.SIGKILL)
        said = _wait_heartbeat(stack.beats, "1118/0000", "OFFLINE", 10)
        expect(_row(page, "1118/0002").locator(".badge")).to_have_text(
            re.compile("OFFLINE|FAILED"), timeout=2000
        )
        assert time.monotonic() - said < 2.0
        expect(page.locator('#picture a[data-hadd="1118/0002"] circle')).to_have_class(
            re.compile("st-(OFFLINE|FAILED)")
        )
        # Back, then a clean stop: OFFLINE heartbeats, shown within 2 s.
        node.stop(signal.SIGKILL)
        node = NodeProcess(conf).start()
        expect(_row(page, "1118/0002").locator(".badge")).to_have_text("ONLINE", timeout=15000)
        node.send(signal.SIGTERM)
        said = _wait_heartbeat(stack.beats, "1118/0001", "OFFLINE", 10)
        expect(_row(page, "1118/0001").locator(".badge")).to_have_text("OFFLINE", timeout=2000)
        assert time.monotonic() - said < 2.0
    finally:
        node.stop(signal.SIGKILL)


def test_the_traffic_page_shows_decoded_messages_filters_and_pauses(stack: Stack, page: Page) -> None:
    page.goto(stack.web.url + "/traffic")
    rows = page.locator("#traffic tbody tr")
    stack.client.get_value(LED, "switch", "basic", cmd_class=37)
    expect(page.locator("#traffic tbody tr", has_text="GET basic switch")).not_to_have_count(0)
    # Only heartbeats, then only one hadd's messages.
    for kind in ("value", "request", "reply", "resolv", "other"):
        page.locator(f"input[name=kind][value={kind}]").uncheck()
    expect(page.locator("#traffic tbody tr:visible[data-kind=request]")).to_have_count(0)
    page.locator("input[name=kind][value=request]").check()
    page.fill("#tq", "switch")
    expect(page.locator("#traffic tbody tr:visible", has_text="GET basic switch")).not_to_have_count(0)
    page.fill("#tq", "")
    page.click("#pause")
    expect(page.locator("#pause")).to_have_attribute("aria-pressed", "true")
    before = rows.count()
    stack.client.get_value(LED, "blink", "basic", cmd_class=12803)
    expect(page.locator("#skipped")).to_contain_text("held while paused")
    assert rows.count() == before
    page.click("#pause")
    expect(page.locator("#traffic tbody tr", has_text="GET basic blink")).not_to_have_count(0)
    _shoot(page, "traffic")


# ------------------------------------------------------------------------------------------ security


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, body, headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_writes_need_same_origin_and_the_csrf_token(stack: Stack, page: Page) -> None:
    page.goto(stack.web.url + "/")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    cookie = next(c for c in page.context.cookies() if c["name"] == "jnt_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    body = json.dumps({"hadd": LED, "genre": 3, "uuid": "location", "index": 0, "data": "pwned"}).encode()
    base = {"Content-Type": "application/json", "Cookie": f"jnt_session={cookie['value']}"}
    url = stack.web.url + "/api/set"
    host = stack.web.url.removeprefix("http://")
    # Another site's page: refused whatever it carries.
    status, answer = _post(url, body, {**base, "Origin": "http://evil.example", "X-CSRF-Token": token or ""})
    assert status == 403 and "not sent by this site" in answer["error"]
    status, answer = _post(url, body, {**base, "X-CSRF-Token": token or ""})  # no Origin at all
    assert status == 403
    status, answer = _post(url, body, {**base, "Origin": f"http://{host}"})  # no token
    assert status == 403 and "CSRF" in answer["error"]
    status, answer = _post(url, body, {**base, "Origin": f"http://{host}", "X-CSRF-Token": "0" * 64})
    assert status == 403
    # Ours, but hostile: every field is checked before anything is sent.
    ok = {**base, "Origin": f"http://{host}", "X-CSRF-Token": token or ""}
    for bad, why in (
        ({"hadd": "0225/4", "genre": 3, "uuid": "location", "data": "x"}, "CCCC/NNNN"),
        ({"hadd": LED, "genre": 9, "uuid": "location", "data": "x"}, "genre"),
        ({"hadd": LED, "genre": 3, "uuid": "nope", "data": "x"}, "no such value"),
        ({"hadd": LED, "genre": 3, "uuid": "location", "data": "x" * 2000}, "at most 1024"),
        ({"hadd": LED, "genre": 3, "uuid": "location", "data": "a\x00b"}, "control characters"),
        ({"hadd": LED, "genre": 3, "uuid": "pin", "data": "nineteen"}, "integer"),
        ({"hadd": LED, "genre": 1, "uuid": "blink", "data": "disco"}, "one of"),
        ({"hadd": "0225/0001", "genre": 2, "uuid": "temperature", "data": 1}, "read-only"),
    ):
        status, answer = _post(url, json.dumps(bad).encode(), ok)
        assert status == 400 and why in answer["error"], (bad, answer)
    status, answer = _post(url, b"{" * 10000, ok)
    assert status == 400
    # A page on another site cannot open our WebSocket either.
    assert (
        page.evaluate(
            """url => new Promise(done => {
        const ws = new WebSocket(url); ws.onopen = () => done('open'); ws.onclose = () => done('closed');
    })""",
            stack.web.url.replace("http", "ws") + "/ws?page=network",
        )
        == "open"
    )
    other = stack.browser.new_page()
    try:
        other.goto("about:blank")
        assert (
            other.evaluate(
                """url => new Promise(done => {
            const ws = new WebSocket(url); ws.onopen = () => done('open'); ws.onclose = () => done('closed');
        })""",
                stack.web.url.replace("http", "ws") + "/ws?page=network",
            )
            == "closed"
        )
    finally:
        other.close()
    # A DNS-rebinding name for our loopback address is not served.
    req = urllib.request.Request(stack.web.url + "/", headers={"Host": "attacker.example"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 421


def test_read_only_and_password(stack: Stack) -> None:
    ro = WebProcess(stack.broker.port, stack.tmp, "--read-only", "--web-password", "s3cret pass")
    try:
        ro.wait_ready()
        context = stack.browser.new_context(viewport=LAPTOP)
        pg = context.new_page()
        pg.goto(ro.url + "/")
        expect(pg).to_have_url(ro.url + "/login")
        pg.fill("input[name=password]", "wrong")
        pg.get_by_role("button", name="Log in").click()
        expect(pg.locator(".error")).to_have_text("Wrong password.")
        _shoot(pg, "login")
        pg.fill("input[name=password]", "s3cret pass")
        pg.get_by_role("button", name="Log in").click()
        expect(_row(pg, LED).locator(".badge")).to_have_text("ONLINE")
        expect(pg.locator(".tag")).to_have_text("read-only")
        pg.goto(f"{ro.url}/node/{LED}")
        expect(_value(pg, "1:blink:0")).to_be_visible()
        expect(pg.locator("form.set")).to_have_count(0)
        token = pg.locator("meta[name=csrf-token]").get_attribute("content") or ""
        answer = pg.evaluate(
            """token => fetch('/api/set', {method: 'POST', headers: {'Content-Type':
            'application/json', 'X-CSRF-Token': token}, body: JSON.stringify({hadd: '0225/0004', genre: 1,
            uuid: 'blink', index: 0, data: 'off'})}).then(r => r.json())""",
            token,
        )
        assert answer == {"ok": False, "error": "refused: the web manager runs read-only"}
        context.close()
    finally:
        ro.stop()


def test_listening_off_loopback_needs_a_password(stack: Stack) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "janitoo_cli.main", "web", "--port", str(stack.broker.port), "--bind", "0.0.0.0",
         "--web-port", str(free_port())],
        capture_output=True, text=True, timeout=30, env=_env(stack.tmp), cwd=stack.tmp,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "jnt: error: listening on 0.0.0.0 (not loopback) needs a password: give --web-password or JNT_WEB_PASSWORD"
    ]


def _stats(url: str, cookie: str) -> dict[str, Any]:
    req = urllib.request.Request(url + "/api/network", headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["stats"]  # type: ignore[no-any-return]


def test_a_page_that_stops_reading_costs_a_bounded_backlog_and_the_others_keep_up(
    stack: Stack, page: Page
) -> None:
    h = Hadd.parse(LED)

    def flood(k: int) -> ValuePublication:
        v = ValueInfo("flood", h, genre=2, type=8, cmd_class=49, data=f"{k:06d}" + "x" * 180)
        return ValuePublication(Genre.USER, h, "flood", (v,))

    stack.client.publish(flood(0))
    page.goto(f"{stack.web.url}/node/{LED}")
    deadline = time.monotonic() + 10
    while _value(page, "2:flood:0").count() == 0:  # until the web manager has taken the value in
        assert time.monotonic() < deadline, "the flood value never reached the node page"
        page.reload()
    cookie = next(c for c in page.context.cookies() if c["name"] == "jnt_session")
    jar = f"jnt_session={cookie['value']}"
    host = stack.web.url.removeprefix("http://")
    before = _stats(stack.web.url, jar)
    # A page that opens its WebSocket and then never reads: a raw socket with a tiny receive buffer.
    stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", stack.web.port))
    try:
        stalled.sendall((f"GET /ws?page=node&hadd={LED} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         f"Sec-WebSocket-Version: 13\r\nOrigin: http://{host}\r\nCookie: {jar}\r\n\r\n").encode())  # fmt: skip
        assert stalled.recv(12) == b"HTTP/1.1 101"
        assert _stats(stack.web.url, jar)["pages"] == before["pages"] + 1
        last = 10000
        for k in range(1, last + 1):
            stack.client.publish(flood(k))
        # The page that reads is served up to the end of the burst. QoS 0 under a burst: the broker or
        # the web manager's inbox may drop some, so one more value is published until one is seen.
        current = _value(page, "2:flood:0").locator(".current")
        deadline = time.monotonic() + 30
        while True:
            try:
                expect(current).to_have_text(re.compile(r"^01\d{4}x"), timeout=3000)
                break
            except AssertionError:
                assert time.monotonic() < deadline, "the page that reads was not served"
                last += 1
                stack.client.publish(flood(last))
        # The one that does not read costs at most one waiting event per value it shows.
        stats = _stats(stack.web.url, jar)
        assert stats["backlog"] <= 3, stats
    finally:
        stalled.close()


def test_the_appliance_stopped_its_five_nodes_go_offline(stack: Stack, page: Page) -> None:
    """Last of the module: it stops the appliance."""
    page.goto(stack.web.url + "/")
    for hadd in FIVE:
        expect(_row(page, hadd).locator(".badge")).to_have_text("ONLINE")
    stack.appliance.send(signal.SIGTERM)
    said = _wait_heartbeat(stack.beats, LED, "OFFLINE", 15)
    for hadd in FIVE:
        expect(_row(page, hadd).locator(".badge")).to_have_text("OFFLINE", timeout=2000)
    assert time.monotonic() - said < 2.0
    _shoot(page, "network-offline")
