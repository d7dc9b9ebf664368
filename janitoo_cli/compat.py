"""`jnt_query` and `jnt_spy` with the original tools' options and text layout, on the modern client.

Differences from the original, all fixes: a header on every table, `None` printed instead of crashing,
rows sorted by hadd, discovery returns as soon as the network answered (the timeout is only the
longest wait), `--readonly False` means False, one Ctrl+C exits, errors are one line and an exit code.
Other settings (--prefix, credentials, TLS) come from JNT_* variables and the config file, as for `jnt`.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from janitoo_protocol import DiscoveryReply, Genre, Hadd, ValueRequest
from janitoo_protocol.codes import COMMAND_CONFIGURATION, NETWORK_REQUESTS
from janitoo_protocol.events import GENRE_REQUESTS, REQUEST_GENRES
from janitoo_protocol.network import NetworkMap

from .codes import CODE_TABLES
from .errors import EXIT_FAILED, EXIT_REFUSED, EXIT_USAGE, CliError, OneLineErrors, protocol_errors
from .interrupt import interruptible
from .params import CMDCLASS, HADD
from .query import find_value
from .render import value_record
from .settings import Settings, get_settings, parse_bool

if TYPE_CHECKING:
    from janitoo_protocol.transport import Envelope, JanitooClient

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}
DASHES = "-" * 10

# The original's str.format layouts (jnt_query, 2019 version), column for column.
NODE_FORMATS = {
    "node": "{hadd:<10} {uuid:<30} {name:<25} {location:<20} {product_name:<25} {product_type}",
    "network": "{hadd:<10} {uuid:<20} {name:<25} {location:<25} {product_name:<25} {product_type}",
}
VALUE_FORMATS = {
    "node": "{hadd:<10} {uuid:<30} {index:<4} {data:<25} {units:<10} {type:<5} {genre:<5} {cmd_class:<8} {help}",
    "network": "{hadd:<10} {uuid:<25} {index:<4} {data:<25} {units:<10} {type:<5} {genre:<5} {cmd_class:<8} {help}",
}
QUERY_FORMAT = "{hadd:<10} {uuid:<25} {index:<4} {data:<25} {units:<10} {type:<5} {genre:<5} {cmd_class:<8} {list_items} {help}"
NODE_HEADER = {"hadd": "hadd", "uuid": "uuid", "name": "name", "location": "location",
               "product_name": "product_name", "product_type": "product_type"}  # fmt: skip
VALUE_HEADER = {"hadd": "hadd", "uuid": "uuid", "index": "idx", "data": "data", "units": "units", "type": "type",
                "genre": "genre", "cmd_class": "cmdclass", "list_items": "list_items", "help": "help"}  # fmt: skip


class CompatGroup(OneLineErrors, click.Group):
    """A compatibility tool: one-line errors, and connection options before the subcommand too."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _options_after_command(args, set(self.commands)))


# The original took these before the subcommand as well (`jnt_query --port 1884 network`).
_MOVABLE = ("--host", "--port", "--timeout", "--myhadd")
_GROUP_WITH_VALUE = ("--output",)


def _options_after_command(args: list[str], commands: set[str]) -> list[str]:
    """Move connection options given before the subcommand to just after it, where click looks."""
    before: list[str] = []
    moved: list[str] = []
    i = 0
    while i < len(args) and args[i] not in commands:
        arg = args[i]
        if arg in _MOVABLE or arg in _GROUP_WITH_VALUE:
            pair = args[i : i + 2]
            (moved if arg in _MOVABLE else before).extend(pair)
            i += len(pair)
            continue
        (moved if arg.startswith(tuple(f"{o}=" for o in _MOVABLE)) else before).append(arg)
        i += 1
    if i == len(args) or not moved:
        return args  # no subcommand (click says so), or nothing to move
    return [*before, args[i], *moved, *args[i + 1 :]]


def _fmt(layout: str, fields: dict[str, Any]) -> str:
    # str() first: the original crashed formatting None with a width on Python 3.
    return layout.format(**{k: "None" if v is None else str(v) for k, v in fields.items()})


def node_lines(network: NetworkMap, layout: str, controller: int | None) -> list[str]:
    out = [_fmt(layout, NODE_HEADER)]
    for n in network.node_list(controller):
        out.append(_fmt(layout, {"hadd": n.hadd, "uuid": n.uuid, "name": n.name, "location": n.location,
                                 "product_name": n.product_name, "product_type": n.product_type}))  # fmt: skip
    return out


def value_lines(network: NetworkMap, genre: Genre, layout: str, controller: int | None) -> list[str]:
    out = [_fmt(layout, VALUE_HEADER)]
    for v in network.value_list(genre, controller):
        rec = value_record(v)
        out.append(_fmt(layout, {"hadd": rec["hadd"], "uuid": rec["uuid"], "index": rec["idx"], "data": rec["data"],
                                 "units": rec["units"], "type": rec["type"], "genre": rec["genre"],
                                 "cmd_class": rec["cmdclass"], "help": rec["help"]}))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------- options


def _remember_global(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if param.name and value is not None and value is not False:
        ctx.find_root().meta[f"compat.{param.name}"] = value
    return value


def global_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--debug and --output, accepted before or after the subcommand."""
    f = click.option("--output", type=click.Choice(["txt", "raw"]), expose_value=False, callback=_remember_global,
                     help="txt: tables; raw: the reply payloads only.")(f)  # fmt: skip
    f = click.option("--debug", is_flag=True, expose_value=False, callback=_remember_global,
                     help="Also print each reply as `topic qos payload` (on stderr).")(f)  # fmt: skip
    return f


def connection_options(timeout: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        f = click.option("--myhadd", type=HADD, help="The hadd replies are sent to [default 9999/9990].")(f)
        f = click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
                         help=f"Longest wait in seconds [default {timeout:g}].")(f)  # fmt: skip
        f = click.option("--port", type=click.IntRange(1, 65535), help="Broker port [default 1883].")(f)
        f = click.option("--host", help="Broker host [default 127.0.0.1].")(f)
        return global_options(f)

    return deco


def compat_settings(host: str | None, port: int | None, timeout: float | None, myhadd: Hadd | None,
                    default_timeout: float) -> Settings:  # fmt: skip
    settings = get_settings(
        host=host, port=port, timeout=timeout, myhadd=None if myhadd is None else str(myhadd)
    )
    if settings.origin and settings.origin.get("timeout") == "default":
        settings.timeout = default_timeout
    return settings


def _opt(name: str) -> Any:
    return click.get_current_context().find_root().meta.get(f"compat.{name}")


@contextmanager
def reply_tap(client: JanitooClient) -> Iterator[list[Envelope]]:
    """Every discovery reply arriving for us while the block runs, for --output raw and --debug."""
    seen: list[Envelope] = []

    def keep(env: Envelope) -> None:
        if isinstance(env.message, DiscoveryReply):
            seen.append(env)

    subs = [client.subscribe(client.topics.node_reply(client.reply_hadd), keep),
            client.subscribe(client.topics.broadcast_reply(client.reply_hadd), keep)]  # fmt: skip
    try:
        yield seen
    finally:
        for s in subs:
            s.close()


def debug_env(env: Envelope) -> None:
    click.echo(f"{env.topic} {env.qos} {env.payload!r}", err=True)
    msg = env.message
    if msg is not None:
        click.echo(repr(msg), err=True)


def _vuuids(vuuid: str) -> list[str]:
    word = vuuid.strip().lower()
    if word == "all":
        return list(NETWORK_REQUESTS)
    if word not in NETWORK_REQUESTS:
        raise CliError(f"--vuuid {vuuid!r} is not one of {', '.join(NETWORK_REQUESTS)}, all", EXIT_USAGE)
    return [word]


def _discover_and_print(settings: Settings, kinds: list[str], layout: str, target: Hadd | None) -> None:
    with protocol_errors(), settings.client() as client, reply_tap(client) as replies:
        network = client.discover(kinds, timeout=settings.timeout, target=target, source="requests")
    if _opt("debug"):
        for env in replies:
            debug_env(env)
    controller = None if target is None else target.controller
    if not network.node_list(controller) and not network.values:
        where = f"at {target}" if target is not None else "on the network"
        raise CliError(f"no node answered {where} ({settings.broker})", EXIT_FAILED)
    if _opt("output") == "raw":
        for env in replies:
            click.echo(env.payload.decode("utf-8", errors="backslashreplace"))
        return
    for kind in kinds:
        click.echo(kind)
        click.echo(DASHES)
        genre = REQUEST_GENRES[kind]
        if genre is None:
            lines = node_lines(network, NODE_FORMATS[layout], controller)
        else:
            lines = value_lines(network, genre, VALUE_FORMATS[layout], controller)
        for text in lines:
            click.echo(text)
        click.echo("")


# ---------------------------------------------------------------------------------------------- jnt_query


@click.group(cls=CompatGroup, name="jnt_query", context_settings=CONTEXT)
@global_options
def jnt_query() -> None:
    """Query a Janitoo network: the original jnt_query's commands and options.

    \b
    Examples:
      jnt_query network --vuuid all
      jnt_query node --hadd 0225/0000 --vuuid request_info_configs
      jnt_query query --hadd 0225/0001 --uuid location --genre config --data "Rack 2" --writeonly true
      jnt_query genres
    """


@jnt_query.command("node")
@click.option("--hadd", required=True, type=HADD, help="The controller (or one of its nodes) to ask.")
@click.option("--vuuid", default="request_info_nodes", show_default=True,
              help="A request_info_* name, or all.")  # fmt: skip
@connection_options(8.0)
def compat_node(hadd: Hadd, vuuid: str, host: str | None, port: int | None, timeout: float | None,
                myhadd: Hadd | None) -> None:  # fmt: skip
    """Ask one controller for its nodes or values.

    \b
    Example:
      jnt_query node --hadd 0225/0000 --vuuid all
    """
    settings = compat_settings(host, port, timeout, myhadd, 8.0)
    _discover_and_print(settings, _vuuids(vuuid), "node", hadd)


@jnt_query.command("network")
@click.option("--vuuid", default="request_info_nodes", show_default=True,
              help="A request_info_* name, or all.")  # fmt: skip
@connection_options(12.0)
def compat_network(vuuid: str, host: str | None, port: int | None, timeout: float | None,
                   myhadd: Hadd | None) -> None:  # fmt: skip
    """Ask every controller for its nodes or values (broadcast).

    \b
    Example:
      jnt_query network --vuuid request_info_users
    """
    settings = compat_settings(host, port, timeout, myhadd, 12.0)
    _discover_and_print(settings, _vuuids(vuuid), "network", None)


def _genre_word(ctx: click.Context, param: click.Parameter, value: str) -> Genre:
    try:
        return Genre.from_word(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _bool_word(ctx: click.Context, param: click.Parameter, value: str | None) -> bool | None:
    # The original took any non-empty word as True, even "False"; here a word means what it says.
    if value is None:
        return None
    try:
        return parse_bool(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@jnt_query.command("query")
@click.option("--hadd", required=True, type=HADD, help="The node holding the value.")
@click.option("--uuid", required=True, help="The value's uuid.")
@click.option("--data", help="The data to write (with --writeonly true).")
@click.option(
    "--cmdclass",
    type=CMDCLASS,
    help="The value's command class [default: 112 for config/system, else asked].",
)
@click.option("--genre", default="user", show_default=True, callback=_genre_word,
              help="basic, user, config, system or command.")  # fmt: skip
@click.option("--readonly", callback=_bool_word, metavar="BOOL", help="Send is_readonly [default true].")
@click.option(
    "--writeonly", callback=_bool_word, metavar="BOOL", help="Send is_writeonly: true writes --data."
)
@click.option("--index", type=click.IntRange(min=0), help="The instance index (not sent when omitted).")
@click.option("--type", "vtype", type=int, help="Accepted for compatibility; not sent, as in the original.")
@connection_options(3.0)
def compat_query(hadd: Hadd, uuid: str, data: str | None, cmdclass: int | None, genre: Genre,
                 readonly: bool | None, writeonly: bool | None, index: int | None, vtype: int | None,
                 host: str | None, port: int | None, timeout: float | None, myhadd: Hadd | None) -> None:  # fmt: skip
    """Read or write one value.

    \b
    Examples:
      jnt_query query --hadd 0121/0001 --uuid location --genre config
      jnt_query query --hadd 1118/0001 --uuid test_user --cmdclass 0 --data hello --writeonly true
    """
    settings = compat_settings(host, port, timeout, myhadd, 3.0)
    is_writeonly = bool(writeonly)
    is_readonly = (not is_writeonly) if readonly is None else readonly
    with protocol_errors(), settings.client() as client:
        if cmdclass is None:
            if genre in (Genre.CONFIG, Genre.SYSTEM):
                cmdclass = COMMAND_CONFIGURATION
            else:
                found = client.discover(
                    [GENRE_REQUESTS[genre]], timeout=settings.timeout, target=hadd, source="requests"
                )
                cmdclass = find_value(found, hadd, uuid, genre, settings)[1]
        request = ValueRequest(hadd=hadd, uuid=uuid, genre=int(genre), cmd_class=cmdclass, reply_hadd=client.reply_hadd,
                               data=data, is_writeonly=is_writeonly, is_readonly=is_readonly, index=index,
                               target=hadd)  # fmt: skip
        started = time.monotonic()
        reply = client.request(request, timeout=settings.timeout)
    value = reply.value  # type: ignore[union-attr]
    if _opt("debug"):
        click.echo(f"answer after {time.monotonic() - started:.3f} s: {value!r}", err=True)
    error = value.extra.get("error")
    if error:
        raise CliError(
            f"node {hadd} refused {'SET' if is_writeonly else 'GET'} of {uuid!r}: {error}", EXIT_REFUSED
        )
    if _opt("output") == "raw":
        import json

        click.echo(json.dumps(value.to_wire(), default=str))
        return
    rec = value_record(value)
    rec_list_items = value.list_items if value.wire_keys is None or "list_items" in value.wire_keys else None
    click.echo(uuid)
    click.echo(DASHES)
    click.echo(_fmt(QUERY_FORMAT, VALUE_HEADER))
    click.echo(_fmt(QUERY_FORMAT, {"hadd": rec["hadd"], "uuid": rec["uuid"], "index": rec["idx"] or 0,
                                   "data": rec["data"], "units": rec["units"], "type": rec["type"],
                                   "genre": rec["genre"], "cmd_class": rec["cmdclass"], "list_items": rec_list_items,
                                   "help": rec["help"]}))  # fmt: skip
    click.echo("")


def _code_command(kind: str) -> click.Command:
    enum_cls = CODE_TABLES[kind]

    @global_options
    def show() -> None:
        for member in enum_cls:
            click.echo(f"{int(member)} {member.label}")

    show.__doc__ = f"Print the {kind} code table as `code label` lines.\n\n\b\nExample:\n  jnt_query {kind}"
    return click.command(kind, context_settings=CONTEXT)(show)


for _kind in CODE_TABLES:
    jnt_query.add_command(_code_command(_kind))


# ---------------------------------------------------------------------------------------------- jnt_spy


class CompatCommand(OneLineErrors, click.Command):
    """A compatibility tool without subcommands: one-line errors."""


@click.command(cls=CompatCommand, name="jnt_spy", context_settings=CONTEXT)
@click.option("--host", help="Broker host [default 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Broker port [default 1883].")
@click.option("--topic", help="Topic filter [default /#, everything].")
@click.option(
    "--count", "-n", type=click.IntRange(min=1), help="Stop after N messages (not in the original)."
)
def jnt_spy(host: str | None, port: int | None, topic: str | None, count: int | None) -> None:
    """Print every message as `topic qos payload`, like the original jnt_spy. One Ctrl+C exits.

    \b
    Example:
      jnt_spy --host 192.168.1.10 --topic '/dhcp/#'
    """
    settings = get_settings(host=host, port=port)
    with protocol_errors():
        client = settings.client()
        client.connect()
    topic_filter = topic or client.topics.everything()
    try:
        click.echo(f">>>>>> Subscribe to {topic_filter}", err=True)
        inbox: queue.Queue[Envelope] = queue.Queue()
        client.subscribe(topic_filter, inbox.put)
        click.echo("!!!!!! Connect rc : 0", err=True)
        click.echo("!!!!!! Type Ctrl+C to exit !!!!!!", err=True)
        shown = 0
        with interruptible() as stop:
            while (count is None or shown < count) and not stop.is_set():
                try:
                    env = inbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                click.echo(f"{env.topic} {env.qos} {env.payload!r}")
                shown += 1
    finally:
        client.close()
