"""`jnt query network|node|value`: the network's nodes and values, asked or read from the retained state."""

from __future__ import annotations

import click

from janitoo_protocol import Genre, Hadd
from janitoo_protocol.codes import COMMAND_CONFIGURATION
from janitoo_protocol.events import GENRE_REQUESTS, REQUEST_GENRES
from janitoo_protocol.network import NetworkMap

from .errors import EXIT_FAILED, EXIT_USAGE, CliError, protocol_errors
from .params import CMDCLASS, GENRE, HADD, vuuid_option
from .progress import waiting
from .render import NODE_COLUMNS, VALUE_COLUMNS, Table, echo_tables, node_record, value_record
from .settings import COMMON_EPILOG, Settings, get_settings, leaf_options


def map_tables(
    network: NetworkMap, kinds: list[str], controller: int | None = None, node: Hadd | None = None
) -> list[Table]:
    """One table per request kind, rows sorted by hadd (then uuid, index); only `node`'s rows if given."""
    tables = []
    for kind in kinds:
        genre = REQUEST_GENRES[kind]
        if genre is None:
            nodes = [n for n in network.node_list(controller) if node is None or n.hadd == node]
            tables.append(Table(NODE_COLUMNS, [node_record(n) for n in nodes], kind))
        else:
            values = [v for v in network.value_list(genre, controller) if node is None or v.hadd == node]
            tables.append(Table(VALUE_COLUMNS, [value_record(v) for v in values], kind))
    return tables


def _where(settings: Settings) -> str:
    where = f"on {settings.broker}"
    if settings.prefix:
        where += f" under prefix {settings.prefix!r}"
    return where


@click.command("network", epilog=COMMON_EPILOG)
@vuuid_option
@click.option("--source", type=click.Choice(["auto", "retained", "requests"]), default="auto", show_default=True,
              help="Where from: the nodes' retained state on the broker (no request sent), requests to the "
                   "nodes, or the retained state and requests only when it is empty (the original's nodes).")  # fmt: skip
@leaf_options
@click.option("--complete", is_flag=True,
              help="Exit 1 when a controller known to exist (heartbeats, primary) did not answer.")  # fmt: skip
def query_network(vuuids: list[str], complete: bool, source: str) -> None:
    """Every node of the network, or their values of the asked genre(s).

    Reads the retained state our nodes leave on the broker (no request sent); when there is none (a
    network of the original's nodes), sends the discovery requests to every controller at once and prints
    as soon as all of them have answered (or --timeout passed). Controllers known to exist (heard in a
    heartbeat, listed by the primary) are waited for up to --timeout; any that stays silent is named in a
    warning. Node columns: hadd uuid name location product_type. Value columns: hadd node_uuid uuid idx
    data units type genre cmdclass help.

    \b
    Examples:
      jnt query network
      jnt query network --vuuid users,configs
      jnt query network --vuuid all --format json > network.json
      jnt query network --source requests      # ask every node, as the original did
    """
    settings = get_settings()
    with (
        protocol_errors(),
        settings.client() as client,
        waiting(f"waiting for the network {_where(settings)}"),
    ):
        network = client.discover(vuuids, timeout=settings.timeout, source=source)
    if not network.nodes and not network.values and not network.unanswered:
        raise CliError(
            f"no node answered {_where(settings)} (is the network up? right --prefix?)", EXIT_FAILED
        )
    echo_tables(map_tables(network, vuuids), settings.format)
    if network.unanswered:
        # Known to exist (heard in a heartbeat, listed by the primary) but silent: the list is partial.
        names = ", ".join(f"{c:04d}" for c in network.unanswered)
        message = f"controller(s) {names} did not answer within {settings.timeout:g} s: the list is partial"
        if complete:
            raise CliError(message, EXIT_FAILED)
        click.echo(f"jnt: warning: {message}", err=True)


@click.command("node", epilog=COMMON_EPILOG)
@click.option("--hadd", required=True, type=HADD, help="Any node of the controller to ask (e.g. 0225/0000).")
@vuuid_option
@leaf_options
def query_node(hadd: Hadd, vuuids: list[str]) -> None:
    """The nodes of one controller, or one node, or their values, asked directly to it.

    The request goes to /nodes/<hadd>/request; the controller answers for all its nodes, as the
    original did. A controller's hadd (NNNN/0000) shows them all, another hadd only that node's rows.
    Exits 1 when no node answers.

    \b
    Examples:
      jnt query node --hadd 0225/0000
      jnt query node --hadd 0225/0000 --vuuid all
      jnt query node --hadd 0225/0003 --vuuid systems --format csv
    """
    settings = get_settings()
    with protocol_errors(), settings.client() as client, waiting(f"waiting for {hadd} {_where(settings)}"):
        # Asked directly, as the command says (the retained state is `query network`'s).
        network = client.discover(vuuids, timeout=settings.timeout, target=hadd, source="requests")
    if not network.node_list(hadd.controller) and not any(
        h.controller == hadd.controller for h in network.values
    ):
        raise CliError(f"no node answered at {hadd} {_where(settings)}", EXIT_FAILED)
    # The controller answers for all its nodes (as the original did): a component's hadd shows its own rows.
    only = None if hadd.is_controller else hadd
    echo_tables(map_tables(network, vuuids, hadd.controller, only), settings.format)


def find_value(
    network: NetworkMap, hadd: Hadd, uuid: str, genre: Genre | None, settings: Settings
) -> tuple[Genre, int]:
    """The genre and cmd_class of `uuid` at `hadd`, from a discovery of its controller."""
    if not network.nodes and not network.values:
        raise CliError(f"no node answered at {hadd} {_where(settings)}", EXIT_FAILED)
    found = []
    for g, uuids in network.values.get(hadd, {}).items():
        if uuid in uuids and (genre is None or g == genre):
            first = next(iter(uuids[uuid].values()))
            found.append((g, first.cmd_class))
    if not found:
        known = sorted({u for g, uuids in network.values.get(hadd, {}).items()
                        if genre is None or g == genre for u in uuids})  # fmt: skip
        what = f"{genre.topic_word} value" if genre else "value"
        hint = f"; its values: {', '.join(known)}" if known else ""
        raise CliError(f"node {hadd} has no {what} {uuid!r}{hint}", EXIT_FAILED)
    if len(found) > 1:
        words = " and ".join(g.topic_word for g, _ in found)
        raise CliError(f"node {hadd} has {uuid!r} in genres {words}: choose one with --genre", EXIT_USAGE)
    return found[0]


def check_index(network: NetworkMap, hadd: Hadd, index: int, is_set: bool, force: bool) -> None:
    """An index above 0 to a node that does not say it honours it: a warning (GET, or SET with force), or
    a usage error (SET): the original's nodes use instance 0 whatever the index, and echo the index."""
    node = network.nodes.get(hadd)
    if node is not None and node.honours_index:
        return
    who = f"node {hadd} does not say it honours --index" + (
        " (an original node?)" if node else " (no answer)"
    )
    if is_set and not force:
        raise CliError(
            f"{who}: it would write instance 0, not {index}; add --force to send it anyway", EXIT_USAGE
        )
    what = "write" if is_set else "read"
    click.echo(f"jnt: warning: {who}: it may {what} instance 0 and still echo index {index}", err=True)


@click.command("value", epilog=COMMON_EPILOG)
@click.option("--hadd", required=True, type=HADD, help="The node holding the value (e.g. 0225/0003).")
@click.option("--uuid", required=True, help="The value's uuid (e.g. location, heartbeat, switch).")
@click.option(
    "--genre", type=GENRE, help="basic, user, config, system or command [default: found by asking the node]."
)
@click.option(
    "--cmdclass",
    type=CMDCLASS,
    help="The value's command class, number or name [default: 112 for config/system, else asked].",
)
@click.option(
    "--index", type=click.IntRange(min=0), help="The instance of a multi-instance value [default 0]."
)
@click.option(
    "--set", "data", metavar="DATA", help="Write DATA (as text; the node converts it) instead of reading."
)
@click.option(
    "--force",
    is_flag=True,
    help="Send a SET with --index even to a node that does not say it honours index (an original node).",
)
@leaf_options
def query_value(
    hadd: Hadd,
    uuid: str,
    genre: Genre | None,
    cmdclass: int | None,
    index: int | None,
    data: str | None,
    force: bool,
) -> None:
    """Read (GET) or write (SET) one value and print the node's answer.

    Without --genre or --cmdclass the node is asked first which genre and command class the value
    has. A SET prints the value the node acknowledged; a refused SET exits 5 with the node's reason,
    an unanswered one exits 4. An --index above 0 goes only to a node that says it honours index (ours,
    by the `jnt_index` key of its discovery answer): the original's nodes always read and write instance 0
    but echo the index back. A GET warns; a SET is refused (exit 2) unless --force.

    \b
    Examples:
      jnt query value --hadd 0225/0001 --uuid location
      jnt query value --hadd 0225/0001 --uuid location --genre config --set "Living room"
      jnt query value --hadd 0225/0004 --uuid switch --set on
      jnt query value --hadd 0225/0000 --uuid tutorial3_transition --set wakeup
      jnt query value --hadd 0225/0003 --uuid temperature --cmdclass SENSOR_MULTILEVEL --genre user
    """
    settings = get_settings()
    with protocol_errors(), settings.client() as client, waiting(f"waiting for {hadd} {_where(settings)}"):
        if cmdclass is None and genre in (Genre.CONFIG, Genre.SYSTEM):
            cmdclass = COMMAND_CONFIGURATION
        network: NetworkMap | None = None
        if genre is None or cmdclass is None:
            kinds = [GENRE_REQUESTS[genre]] if genre is not None else list(GENRE_REQUESTS.values())
            network = client.discover(kinds, timeout=settings.timeout, target=hadd)
            found_genre, found_cc = find_value(network, hadd, uuid, genre, settings)
            genre = found_genre
            cmdclass = found_cc if cmdclass is None else cmdclass
        if index:
            if network is None:  # the nodes request answers it (a discovery always makes it)
                network = client.discover(["request_info_nodes"], timeout=settings.timeout, target=hadd)
            check_index(network, hadd, index, data is not None, force)
        if data is not None:
            value = client.set_value(hadd, uuid, genre, data, cmdclass, index, timeout=settings.timeout)
        else:
            value = client.get_value(hadd, uuid, genre, cmdclass, index, timeout=settings.timeout)
    echo_tables([Table(VALUE_COLUMNS, [value_record(value)], uuid)], settings.format, keyed=False)
