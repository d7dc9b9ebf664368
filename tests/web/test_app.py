"""The pages as the server renders them, called through ASGI directly (no socket, no broker): values by
genre with the right inputs, hostile texts escaped, headers, hosts, the SET endpoint's checks."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from janitoo_protocol.addressing import Hadd
from janitoo_protocol.model import NodeInfo, ValueInfo
from janitoo_protocol.network import NetworkMap
from janitoo_protocol.transport import JanitooClient
from janitoo_web.app import WebConfig, build_app
from janitoo_web.bridge import Bridge
from janitoo_web.hub import Hub
from janitoo_web.netview import NetView

H = Hadd(1118, 1)
EVIL = '<script>alert("x")</script>'


def _app(**config: Any) -> Any:
    view = NetView()
    network = NetworkMap()
    network.nodes[H] = NodeInfo("evil", H, name=EVIL, location="<i>loc</i>")
    values = [
        (ValueInfo("level", H, genre=2, type=3, cmd_class=49, data=3.5, units="<u>", help=EVIL), 2),
        (ValueInfo("mode", H, genre=1, type=5, cmd_class=37, data="on", list_items=["on", "<off>"],
                   is_readonly=False), 1),
        (ValueInfo("reboot", H, genre=5, type=5, cmd_class=0, list_items=["now", "later"], is_readonly=False), 5),
        (ValueInfo("ping", H, genre=5, type=9, cmd_class=0, is_readonly=False), 5),
        (ValueInfo("delay", H, genre=3, type=4, cmd_class=112, data=45, min=1, max=3600, is_readonly=False), 3),
        (ValueInfo("enabled", H, genre=3, type=1, cmd_class=112, data=True, is_readonly=False), 3),
    ]  # fmt: skip
    for v, genre in values:
        network.merge_value(v, genre)
    view.add_discovery(network, 0.0, 0.0)

    def no_client() -> JanitooClient:
        raise AssertionError("the tests never connect")

    bridge = Bridge(no_client, view, Hub())
    return build_app(WebConfig(no_client, **config), bridge)


def _call(app: Any, method: str, path: str, headers: dict[str, str] | None = None,
          body: bytes = b"") -> tuple[int, dict[str, str], str]:  # fmt: skip
    headers = {"host": "127.0.0.1:8080", **(headers or {})}
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "scheme": "http",
             "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 5000), "root_path": "",
             "http_version": "1.1"}  # fmt: skip
    out: dict[str, Any] = {"body": b""}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return out["status"], out["headers"], out["body"].decode()


def test_the_node_page_escapes_wire_texts_and_offers_the_right_inputs() -> None:
    status, headers, html = _call(_app(), "GET", "/node/1118/0001")
    assert status == 200
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<i>loc</i>" not in html and "&lt;u&gt;" in html
    assert re.search(r"<option\s*>&lt;off&gt;</option>", html)  # a list value: a select
    assert re.search(r'type="number"[^>]*step="1"[^>]*min="1"[^>]*max="3600"[^>]*value="45"', html)
    assert '<option value="true" selected>on</option>' in html  # a bool: on/off
    for button in ("now", "later"):  # a command's choices are buttons
        assert f'<button type="submit" name="data" value="{button}">{button}</button>' in html
    assert '<button type="submit" name="data" value="">ping</button>' in html
    assert 'class="chart"' in html  # the numeric user value's chart
    assert (
        "level" in html and 'name="data"' not in html.split('data-key="2:level:0"')[1].split("</article>")[0]
    )
    assert headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    assert headers["x-frame-options"] == "DENY" and "HttpOnly" in headers["set-cookie"]
    assert "SameSite=strict" in headers["set-cookie"]


def test_read_only_shows_no_input_and_the_network_page_escapes_names() -> None:
    _, _, html = _call(_app(read_only=True), "GET", "/node/1118/0001")
    assert 'class="set"' not in html and "read-only" in html
    _, _, html = _call(_app(), "GET", "/")
    assert EVIL not in html and "&lt;script&gt;" in html
    assert html.count('class="pic-node"') == 2  # the node and its (silent) controller


def test_bad_addresses_and_foreign_hosts() -> None:
    assert _call(_app(), "GET", "/node/1118/1")[0] == 400
    assert _call(_app(), "GET", "/node/٠١١٨/0001")[0] == 400
    status, _, html = _call(_app(), "GET", "/node/1118/0009")
    assert status == 200 and "No node 1118/0009 has been heard" in html
    assert _call(_app(), "GET", "/", {"host": "rebound.example:8080"})[0] == 421
    # Off loopback (with a password), any host name is served, and pages need a login.
    status, headers, _ = _call(_app(bind="0.0.0.0", password="pw"), "GET", "/", {"host": "pi.lan:8080"})
    assert status == 303 and headers["location"] == "/login"


def test_the_set_endpoint_refuses_before_the_wire() -> None:
    app = _app()
    status, headers, html = _call(app, "GET", "/")
    cookie = headers["set-cookie"].split(";")[0]
    token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]
    ok = {"cookie": cookie, "origin": "http://127.0.0.1:8080", "x-csrf-token": token}

    def post(body: dict[str, Any], headers: dict[str, str] = ok) -> tuple[int, dict[str, Any]]:
        status, _, text = _call(app, "POST", "/api/set", headers, json.dumps(body).encode())
        return status, json.loads(text)

    assert post({"hadd": "1118/0001", "genre": 3, "uuid": "delay", "data": "0"}) == (
        400, {"ok": False, "error": "delay: 0 is below the minimum 1"})  # fmt: skip
    assert post({"hadd": "1118/0001", "genre": 1, "uuid": "mode", "data": "<script>"})[1]["error"] == (
        "mode takes one of on, <off>")  # fmt: skip
    assert (
        post({"hadd": "1118/0001", "genre": 2, "uuid": "level", "data": 1})[1]["error"]
        == "level is read-only"
    )
    assert (
        post({"hadd": "1118/0001", "genre": 3, "uuid": "delay", "data": 5}, {**ok, "origin": "http://x"})[0]
        == 403
    )
    # A valid SET with no broker behind: one line, no traceback.
    status, answer = post({"hadd": "1118/0001", "genre": 3, "uuid": "delay", "data": 5})
    assert status == 502 and answer["error"] == "the SET failed: not connected to the broker"
    status, _, _ = _call(app, "POST", "/api/set", ok, b"x" * 9000)
    assert status == 400
