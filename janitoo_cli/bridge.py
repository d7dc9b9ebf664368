"""`jnt bridge`: bridges from a Janitoo network to other home-automation systems (Home Assistant)."""

from __future__ import annotations

import re
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from janitoo_ha.bridge import Options
from janitoo_ha.mapping import Layout
from janitoo_ha.runtime import BridgeRuntime
from janitoo_ha.service import DEFAULT_ENV_FILE, systemd_unit
from janitoo_ha.wire import JanitooClient, Topics

from .errors import EXIT_USAGE, CliError, OneLineErrors, protocol_errors
from .settings import COMMON_EPILOG, get_settings, leaf_options

# The largest message the bridge decodes: a whole controller's discovery reply fits, a flood does not.
MAX_PAYLOAD = 4 * 1024 * 1024
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}
# A topic the bridge publishes under: levels of printable characters, no wildcard, no empty level.
_TOPIC = re.compile(r"^[^/+#\x00-\x1f\x7f]{1,64}(/[^/+#\x00-\x1f\x7f]{1,64}){0,7}$")


class BridgeGroup(OneLineErrors, click.Group):
    """The `jnt bridge` group: one-line errors."""


@click.group(cls=BridgeGroup, context_settings=CONTEXT)
def bridge() -> None:
    """Show a Janitoo network in another home-automation system.

    \b
    Examples:
      jnt bridge homeassistant --host 192.168.1.10
      sudo jnt bridge install-service
    """


def _topic(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not _TOPIC.match(value):
        raise click.BadParameter(
            f"{value!r} is not a topic to publish under (no '+', '#', empty level or control character)"
        )
    return value


def _url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://[^\s\"'<>]{1,200}$", value):
        raise click.BadParameter(f"{value!r} is not an http:// or https:// URL")
    return value


@bridge.command("homeassistant", epilog=COMMON_EPILOG)
@click.option(
    "--discovery-prefix",
    default="homeassistant",
    show_default=True,
    envvar="JNT_HA_DISCOVERY_PREFIX",
    callback=_topic,
    help="Home Assistant's MQTT discovery prefix [env JNT_HA_DISCOVERY_PREFIX].",
)
@click.option(
    "--bridge-topic",
    default="janitoo-ha",
    show_default=True,
    envvar="JNT_HA_BRIDGE_TOPIC",
    callback=_topic,
    help="Where the bridge publishes availability and takes commands [env JNT_HA_BRIDGE_TOPIC].",
)
@click.option(
    "--network",
    default=None,
    envvar="JNT_HA_NETWORK",
    metavar="NAME",
    help="A name for this network in HA ids, when one HA sees several [env JNT_HA_NETWORK; "
    "default the topic prefix].",
)
@click.option(
    "--web-url",
    default=None,
    envvar="JNT_HA_WEB_URL",
    metavar="URL",
    callback=_url,
    help="The `jnt web` manager, linked from each device [env JNT_HA_WEB_URL].",
)
@click.option(
    "--refresh-delay",
    type=click.FloatRange(0, 60),
    default=2.0,
    show_default=True,
    help="Seconds between announcing entities and asking their nodes for values.",
)
@click.option(
    "--forget-after",
    type=click.FloatRange(min=0),
    default=604800.0,
    show_default=True,
    help="Seconds a node stays unavailable before its entities are removed from HA (0: never).",
)
@leaf_options
def homeassistant(discovery_prefix: str, bridge_topic: str, network: str | None, web_url: str | None,
                  refresh_delay: float, forget_after: float) -> None:  # fmt: skip
    """Every Janitoo node in Home Assistant, through MQTT discovery, until stopped.

    Publishes (retained) one HA device per node and one entity per value under the discovery prefix,
    keeps their availability from the nodes' heartbeats, and turns HA's commands into Janitoo SETs; a
    refused SET is logged and published on <bridge-topic>/bridge/refusal. HA must use the same broker,
    with MQTT discovery on. See docs/home-assistant.md.

    \b
    Examples:
      jnt bridge homeassistant
      jnt bridge homeassistant --host 192.168.1.10 --web-url http://192.168.1.10:8080
    """
    settings = get_settings()
    a, b = discovery_prefix + "/", bridge_topic + "/"
    if a.startswith(b) or b.startswith(a):
        raise CliError("--bridge-topic and --discovery-prefix must not contain one another", EXIT_USAGE)
    layout = Layout(
        discovery_prefix=discovery_prefix.rstrip("/"),
        bridge_topic=bridge_topic.rstrip("/"),
        network=settings.prefix if network is None else network,
        topics=Topics(settings.prefix),
        web_url=web_url,
    )
    runtime: BridgeRuntime | None = None

    def changed(up: bool) -> None:
        if runtime is not None:
            runtime.connection_changed(up)

    client = JanitooClient(
        settings.host, settings.port, username=settings.username, password=settings.password,
        tls=settings.tls_options(), prefix=settings.prefix, reply_hadd=settings.myhadd,
        connect_timeout=min(max(settings.timeout, 3.0), 10.0),
        # A bridge that dies takes its entities with it: the broker says so for us, retained like the
        # "online" it replaces, so a Home Assistant started after the crash reads "offline" too.
        will=(layout.bridge_availability, b"offline"), will_retain=True, on_connection_change=changed,
        max_payload=MAX_PAYLOAD,
    )  # fmt: skip
    runtime = BridgeRuntime(client, layout, Options(refresh_delay=refresh_delay, forget_after=forget_after),
                            discovery_timeout=settings.timeout)  # fmt: skip
    with protocol_errors():
        client.connect()
    rt = runtime

    def handler(signum: int, frame: FrameType | None) -> None:
        rt.request_stop()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        rt.run()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        client.close()


@bridge.command("install-service")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_ENV_FILE,
    show_default=True,
    help="The settings (JNT_HOST=..., JNT_PASSWORD=...) the service reads.",
)
@click.option("--user", default="janitoo", show_default=True, help="The dedicated user the service runs as.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the unit here (default: /etc/systemd/system/jnt-ha-bridge.service).",
)
@click.option("--print", "to_stdout", is_flag=True, help="Print the unit instead of writing it.")
def install_service(env_file: Path, user: str, output: Path | None, to_stdout: bool) -> None:
    """Write a systemd unit that runs `jnt bridge homeassistant` (Restart=on-failure, dedicated user).

    \b
    Example:
      sudo jnt bridge install-service
      echo JNT_HOST=127.0.0.1 | sudo tee /etc/janitoo/ha-bridge.env
      sudo systemctl daemon-reload && sudo systemctl enable --now jnt-ha-bridge
    """  # fmt: skip
    try:
        unit = systemd_unit(env_file.absolute(), user)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if to_stdout:
        click.echo(unit, nl=False)
        return
    target = output or Path("/etc/systemd/system/jnt-ha-bridge.service")
    try:
        target.write_text(unit)
    except OSError as exc:
        raise CliError(
            f"cannot write {target}: {exc.strerror} (run with sudo, or use --print / -o)", 1
        ) from None
    click.echo(f"wrote {target}; now: systemctl daemon-reload && systemctl enable --now jnt-ha-bridge")
