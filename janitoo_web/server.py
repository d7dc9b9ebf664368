"""Running the web manager: connect to the broker first (a one-line error if it is not there), then serve."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Callable

import uvicorn

from .app import WebConfig, build_app
from .bridge import Bridge
from .guard import is_loopback
from .hub import Hub
from .netview import NetView

log = logging.getLogger("janitoo.web")

MAX_WS_MESSAGE = 4096  # bytes: the pages send only keep-alives


class WebError(Exception):
    """`jnt web` cannot start: the message is one line saying what and what to do."""


def check(config: WebConfig) -> None:
    if not is_loopback(config.bind) and not config.password:
        raise WebError(
            f"listening on {config.bind} (not loopback) needs a password: give --web-password or JNT_WEB_PASSWORD"
        )


async def run(config: WebConfig, started: Callable[[str], None] | None = None) -> None:
    """Serve until cancelled (or SIGINT/SIGTERM, which uvicorn turns into a clean stop)."""
    check(config)
    view, hub = NetView(), Hub()
    bridge = Bridge(config.client_factory, view, hub, config.discover_timeout, config.set_timeout)
    sock = _listen(config.bind, config.port)
    try:
        await bridge.start()  # ConnectError: the broker is not there
    except BaseException:
        sock.close()
        raise
    app = build_app(config, bridge)
    uv = uvicorn.Config(app, host=config.bind, port=config.port, log_level="warning", ws="websockets-sansio",
                        ws_max_size=MAX_WS_MESSAGE, ws_ping_interval=10.0, ws_ping_timeout=10.0,
                        lifespan="off", server_header=False,
                        proxy_headers=False)  # fmt: skip
    server = uvicorn.Server(uv)
    uv.load()
    server.lifespan = uv.lifespan_class(uv)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, setattr, server, "should_exit", True)
    try:
        await server.startup(sockets=[sock])
        host = f"[{config.bind}]" if ":" in config.bind else config.bind
        if started is not None:
            started(f"http://{host}:{sock.getsockname()[1]}/")
        await server.main_loop()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if server.started:
            await server.shutdown(sockets=[sock])
        sock.close()
        await bridge.stop()


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, made here so a taken port is one clear line, not a uvicorn log."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise WebError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def serve(config: WebConfig, started: Callable[[str], None] | None = None) -> None:
    asyncio.run(run(config, started))
