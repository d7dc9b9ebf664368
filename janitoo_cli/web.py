"""`jnt web`: starts the web manager (janitoo_web, the web extra) with jnt's connection settings."""

from __future__ import annotations

import click

from .errors import EXIT_FAILED, EXIT_USAGE, CliError, protocol_errors
from .settings import COMMON_EPILOG, get_settings, leaf_options


@click.command(epilog=COMMON_EPILOG)
@click.option(
    "--bind",
    "web_bind",
    metavar="ADDRESS",
    help="Address the web manager listens on [env JNT_WEB_BIND; default 127.0.0.1]. Any other "
    "than loopback needs --web-password.",
)
@click.option(
    "--web-port",
    "web_port",
    metavar="PORT",
    type=click.IntRange(0, 65535),
    help="Port the web manager listens on [env JNT_WEB_PORT; default 8080; 0: any free port].",
)
@click.option(
    "--web-password",
    "web_password",
    metavar="SECRET",
    help="Password of the web pages (login, session cookie) [env JNT_WEB_PASSWORD].",
)
@click.option("--read-only", is_flag=True, help="Show the network, never write to it (no SET).")
@leaf_options
def web(web_bind: str | None, web_port: int | None, web_password: str | None, read_only: bool) -> None:
    """The web manager: the network, its nodes and its traffic, live in a browser.

    Connects to the broker, asks the network for its nodes and values, then serves pages at
    http://127.0.0.1:8080/ (by default only this machine can reach them) until Ctrl+C.

    \b
    Examples:
      jnt web                                  then open http://127.0.0.1:8080/
      jnt web --port 1884 --web-port 8081      broker on 1884, pages on 8081
      JNT_WEB_PASSWORD=... jnt web --bind 0.0.0.0 --read-only
    """
    try:
        from janitoo_web.app import WebConfig
        from janitoo_web.server import WebError, serve
    except ImportError as exc:
        raise CliError(
            f"jnt web needs the web extra ({exc.name} is missing): python3 -m pip install -e '.[web]' in a clone",
            EXIT_FAILED,
        ) from None
    settings = get_settings(web_bind=web_bind, web_port=web_port, web_password=web_password)
    config = WebConfig(
        client_factory=settings.client, bind=settings.web_bind, port=settings.web_port,
        password=settings.web_password, read_only=read_only, broker=settings.broker,
        discover_timeout=settings.timeout, set_timeout=settings.timeout,
    )  # fmt: skip

    def started(url: str) -> None:
        click.echo(f"jnt web: serving {url} for the network on {settings.broker}; Ctrl+C to stop", err=True)

    with protocol_errors():
        try:
            serve(config, started)
        except WebError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
