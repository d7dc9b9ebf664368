"""The Starlette application: the network, node and traffic pages, the SET endpoint, login and the WebSocket."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from .bridge import Bridge
from .guard import COOKIE, SESSION_LIFETIME, Guard, Session, is_loopback, same_origin
from .hub import Hub
from .netview import HISTORY, NUMERIC_TYPES, NetView, shown, value_key
from .picture import network_svg
from .validate import Invalid, checked_data, input_kind, is_writable, list_items, parse_hadd, parse_set
from .wire import Genre, JanitooClient, RequestRefused, RequestTimeout, ValueType

log = logging.getLogger("janitoo.web")

HERE = Path(__file__).parent
MAX_BODY = 8192  # bytes of a POST body
INLINE_PICTURE = 200  # nodes drawn inside the network page; more are drawn once the page is shown
GENRE_TITLES = {Genre.BASIC: "Basic", Genre.USER: "User", Genre.CONFIG: "Config", Genre.SYSTEM: "System",
                Genre.COMMAND: "Commands"}  # fmt: skip
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")  # fmt: skip
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # Not "no-referrer": with it Chromium sends `Origin: null` on form POSTs, and the login would be refused.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


@dataclass
class WebConfig:
    """How `jnt web` runs: where it listens, who may use it, and how it reaches the broker."""

    client_factory: Callable[[], JanitooClient]
    bind: str = "127.0.0.1"
    port: int = 8080
    password: str | None = None
    read_only: bool = False
    broker: str = ""
    discover_timeout: float = 5.0
    set_timeout: float = 5.0
    extra: dict[str, Any] = field(default_factory=dict)


class HostAndHeaders:
    """ASGI middleware: the security headers on every answer, and (when listening on loopback) a Host
    header that names loopback, so a DNS-rebinding page cannot read us through its own name."""

    def __init__(self, app: ASGIApp, loopback_only: bool) -> None:
        self.app = app
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.loopback_only:
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            try:
                name = urlsplit("//" + host).hostname or ""
            except ValueError:
                name = ""
            if not is_loopback(name):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await Response("unknown host name", 421, media_type="text/plain")(scope, receive, send)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _age_text(age: Any) -> str:
    if age is None:
        return "never"
    return f"{age:.0f} s" if age < 120 else f"{age / 60:.0f} min"


def build_app(config: WebConfig, bridge: Bridge | None = None) -> Starlette:
    """The application; `bridge` is started by the caller (tests may pass one already running)."""
    view = bridge.view if bridge is not None else NetView()
    hub = bridge.hub if bridge is not None else Hub()
    if bridge is None:
        bridge = Bridge(config.client_factory, view, hub, config.discover_timeout, config.set_timeout)
    guard = Guard(config.password)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["age"] = _age_text
    env.globals["GENRE_TITLES"] = GENRE_TITLES

    def session_of(conn: Request | WebSocket) -> Session | None:
        return guard.read(conn.cookies.get(COOKIE))

    def set_cookie(response: Response, cookie: str) -> None:
        response.set_cookie(
            COOKIE, cookie, max_age=SESSION_LIFETIME, httponly=True, samesite="strict", path="/"
        )

    def page(request: Request, template: str, **context: Any) -> Response:
        session = session_of(request)
        cookie = None
        if session is None:
            session, cookie = guard.new_session()
        if not guard.allowed(session):
            response: Response = RedirectResponse("/login", 303)
        else:
            html = env.get_template(template).render(
                csrf=guard.csrf_token(session), read_only=config.read_only, broker=config.broker,
                connected=bridge.connected, login=guard.login_required, page=template.split(".")[0], **context,
            )  # fmt: skip
            response = HTMLResponse(html)
        if cookie is not None:
            set_cookie(response, cookie)
        return response

    async def network_page(request: Request) -> Response:
        now = time.monotonic()
        rows = view.node_rows(now)
        # A big network's picture comes after the page (fetched by the script): the table is usable first.
        svg = network_svg(rows) if len(rows) <= INLINE_PICTURE else ""
        return page(request, "network.html", rows=rows, roles=view.role_rows(now), svg=svg)

    async def picture(request: Request) -> Response:
        if not guard.allowed(session_of(request)):
            return Response("login required", 401)
        return Response(network_svg(view.node_rows(time.monotonic())), media_type="image/svg+xml")

    async def node_page(request: Request) -> Response:
        try:
            hadd = parse_hadd(f"{request.path_params['ctrl']}/{request.path_params['node']}")
        except Invalid as exc:
            return Response(f"bad address: {exc}", 400, media_type="text/plain")
        if not view.knows(hadd):
            return page(request, "missing.html", hadd=str(hadd))
        node = view.map.nodes.get(hadd)
        genres = []
        for genre, values in view.values_of(hadd).items():
            items = []
            for v in values:
                numeric = genre == Genre.USER and v.type in NUMERIC_TYPES
                items.append({
                    "key": value_key(int(genre), v.uuid, v.index), "uuid": v.uuid, "index": v.index,
                    "label": shown(v.label or v.uuid, 80), "data": shown(v.data), "units": shown(v.units or "", 20),
                    "help": shown(v.help or "", 300), "writable": is_writable(v), "kind": input_kind(v),
                    "choices": list_items(v) or [], "min": v.min if _num(v.min) else None,
                    "max": v.max if _num(v.max) else None, "genre": int(genre), "type": _type_label(v.type),
                    "chart": json.dumps(view.history(hadd, v.uuid, v.index)) if numeric else None,
                    "command": genre == Genre.COMMAND or input_kind(v) == "button",
                })  # fmt: skip
            genres.append((GENRE_TITLES.get(genre, str(genre)), int(genre), items))
        return page(request, "node.html", hadd=str(hadd), node=view.node_row(hadd, time.monotonic()),
                    info=node, genres=genres, history=HISTORY)  # fmt: skip

    async def traffic_page(request: Request) -> Response:
        return page(request, "traffic.html")

    async def api_network(request: Request) -> Response:
        if not guard.allowed(session_of(request)):
            return JSONResponse({"error": "login required"}, 401)
        now = time.monotonic()
        stats = {"pages": len(hub.clients), "dropped_pages": hub.dropped, "dropped_messages": bridge.dropped,
                 "ignored_messages": view.ignored,
                 "backlog": max((len(c.pending) for c in hub.clients), default=0)}  # fmt: skip
        return JSONResponse({"nodes": view.node_rows(now), "roles": view.role_rows(now),
                             "connected": bridge.connected, "stats": stats})  # fmt: skip

    async def api_set(request: Request) -> Response:
        session = session_of(request)
        if not same_origin(request.headers):
            return JSONResponse({"ok": False, "error": "refused: not sent by this site's pages"}, 403)
        if not guard.allowed(session):
            return JSONResponse({"ok": False, "error": "login required"}, 401)
        if not guard.csrf_ok(session, request.headers.get("x-csrf-token")):
            return JSONResponse(
                {"ok": False, "error": "refused: missing or wrong CSRF token (reload the page)"}, 403
            )
        if config.read_only:
            return JSONResponse({"ok": False, "error": "refused: the web manager runs read-only"}, 403)
        body = await _body(request)
        if body is None:
            return JSONResponse(
                {"ok": False, "error": f"the request must be JSON of at most {MAX_BODY} bytes"}, 400
            )
        try:
            req = parse_set(body)
            value = view.map.get_value(req.hadd, req.uuid, req.index, req.genre)
            if value is None or int(value.genre) != req.genre:
                found = view.values_of(req.hadd).get(Genre(req.genre), [])
                value = next((v for v in found if v.uuid == req.uuid and v.index == req.index), None)
            if value is None:
                raise Invalid(f"node {req.hadd} has no such value {req.uuid[:100]!r}")
            data = checked_data(value, req.data)
        except Invalid as exc:
            return JSONResponse({"ok": False, "error": str(exc)}, 400)
        try:
            ack = await bridge.set_value(value, data)
        except RequestRefused as exc:
            return JSONResponse({"ok": False, "refused": True, "error": shown(str(exc), 300)})
        except RequestTimeout as exc:
            return JSONResponse({"ok": False, "error": shown(str(exc), 300)}, 504)
        except Exception as exc:  # noqa: BLE001 - the page gets one line, the log the rest
            log.warning("SET of %s on %s failed: %s", value.uuid, value.hadd, exc)
            return JSONResponse({"ok": False, "error": f"the SET failed: {shown(str(exc), 200)}"}, 502)
        return JSONResponse({"ok": True, "data": shown(ack.data)})

    async def login_page(request: Request) -> Response:
        session = session_of(request)
        cookie = None
        if session is None:
            session, cookie = guard.new_session()
        html = env.get_template("login.html").render(csrf=guard.csrf_token(session), error=None, login=True,
                                                     page="login", broker=config.broker, connected=bridge.connected,
                                                     read_only=config.read_only)  # fmt: skip
        response = HTMLResponse(html)
        if cookie is not None:
            set_cookie(response, cookie)
        return response

    async def login(request: Request) -> Response:
        session = session_of(request)
        if not same_origin(request.headers) or session is None:
            return Response("refused: not sent by this site's login page", 403, media_type="text/plain")
        raw = await _raw_body(request)
        form = parse_qs(raw.decode("utf-8", errors="replace")) if raw is not None else {}
        if not guard.csrf_ok(session, _field(form, "csrf")):
            return Response(
                "refused: missing or wrong CSRF token (reload the page)", 403, media_type="text/plain"
            )
        ok = guard.check_password((form.get("password") or [""])[0]) if guard.login_required else True
        if not ok:
            error = "Too many attempts: wait a minute." if ok is None else "Wrong password."
            html = env.get_template("login.html").render(csrf=guard.csrf_token(session), error=error, login=True,
                                                         page="login", broker=config.broker,
                                                         connected=bridge.connected, read_only=config.read_only)  # fmt: skip
            return HTMLResponse(html, 429 if ok is None else 401)
        _, cookie = guard.new_session(authed=True)  # a new session id: no fixation
        response = RedirectResponse("/", 303)
        set_cookie(response, cookie)
        return response

    async def logout(request: Request) -> Response:
        session = session_of(request)
        if not same_origin(request.headers):
            return Response("refused: not sent by this site's pages", 403, media_type="text/plain")
        raw = await _raw_body(request)
        form = parse_qs(raw.decode("utf-8", errors="replace")) if raw is not None else {}
        if not guard.csrf_ok(session, _field(form, "csrf")):
            return Response("refused: missing or wrong CSRF token", 403, media_type="text/plain")
        response = RedirectResponse("/login" if guard.login_required else "/", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def websocket(ws: WebSocket) -> None:
        if not same_origin(ws.headers) or not guard.allowed(session_of(ws)):
            await ws.close(1008)
            return
        which = ws.query_params.get("page", "")
        hadd_text = ws.query_params.get("hadd")
        now = time.monotonic()
        first: list[dict[str, Any]] = [{"t": "broker", "up": bridge.connected}]
        if which == "network":
            first += [{"t": "node", "new": False, "row": r} for r in view.node_rows(now)]
            first.append({"t": "roles", "rows": view.role_rows(now)})
            hadd_text = None
        elif which == "node":
            try:
                hadd = parse_hadd(hadd_text)
            except Invalid:
                await ws.close(1008)
                return
            if view.knows(hadd):
                first.append({"t": "node", "new": False, "row": view.node_row(hadd, now)})
            for genre, values in view.values_of(hadd).items():
                first += [{"t": "value", "hadd": str(hadd), "key": value_key(int(genre), v.uuid, v.index),
                           "data": shown(v.data), "at": None, "numeric": False} for v in values]  # fmt: skip
        elif which == "traffic":
            first += [{"t": "traffic", "line": line} for line in list(view.traffic)[-100:]]
            hadd_text = None
        else:
            await ws.close(1008)
            return
        client = hub.add(ws.send_text, which, hadd_text)
        if client is None:
            await ws.close(1013)
            return
        await ws.accept()
        sender = asyncio.create_task(hub.run_sender(client, first))
        receiver = asyncio.create_task(_ignore_incoming(ws))
        try:
            # Ends when the page goes (receiver) or is dropped for not keeping up (sender).
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            hub.remove(client)
            sender.cancel()
            receiver.cancel()
            if client.dropped:
                # 1013 "try again later": the page reconnects and starts from a fresh snapshot.
                try:
                    await asyncio.wait_for(ws.close(1013), 2.0)
                except (TimeoutError, RuntimeError, WebSocketDisconnect):
                    pass

    routes = [
        Route("/", network_page),
        Route("/picture.svg", picture),
        Route("/node/{ctrl}/{node}", node_page),
        Route("/traffic", traffic_page),
        Route("/api/network", api_network),
        Route("/api/set", api_set, methods=["POST"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        WebSocketRoute("/ws", websocket),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.bridge = bridge
    app.state.view = view
    app.state.hub = hub
    app.add_middleware(HostAndHeaders, loopback_only=is_loopback(config.bind))
    return app


async def _ignore_incoming(ws: WebSocket) -> None:
    """The pages send nothing but keep-alives: read (bounded by uvicorn's ws_max_size) and drop them."""
    try:
        while True:
            await ws.receive_text()
    except (WebSocketDisconnect, RuntimeError, KeyError):
        return


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _type_label(code: int) -> str:
    try:
        return ValueType(code).name.lower()
    except ValueError:
        return str(code)


def _field(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


async def _raw_body(request: Request) -> bytes | None:
    """The body, or None when it is longer than MAX_BODY (read no further than that)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _body(request: Request) -> Any:
    raw = await _raw_body(request)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None
