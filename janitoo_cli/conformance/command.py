"""`jnt check`: run the conformance checks against one node, or list the assertions."""

from __future__ import annotations

from pathlib import Path

import click

from janitoo_protocol import Hadd

from ..errors import EXIT_FAILED, EXIT_USAGE, CliError, protocol_errors
from ..params import HADD
from ..settings import COMMON_EPILOG, get_settings, leaf_options
from .checks import Checker, Options
from .report import CHECK_FORMATS, LIST_FORMATS, render, render_list
from .session import Session

# Replies bigger than this are dropped unread: the checker must survive a hostile node.
MAX_REPLY = 4 * 1024 * 1024


@click.command("check", epilog=COMMON_EPILOG)
@click.option(
    "--hadd", type=HADD, help="The node to check (e.g. 0225/0000); its controller's nodes are checked too."
)
@click.option("--read-only", is_flag=True, help="Send no SET at all (the SET assertions are n/a).")
@click.option(
    "--observe",
    type=click.FloatRange(1, 3600),
    default=70.0,
    show_default=True,
    metavar="SECONDS",
    help="Longest observation of heartbeats, from the start (a 30 s period needs 66 s).",
)
@click.option(
    "--until-offline",
    type=click.FloatRange(0, 3600),
    default=0.0,
    metavar="SECONDS",
    help="Then wait this long while you stop the node (OFFLINE heartbeats) or kill it (its will).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Write the report to FILE instead of stdout.",
)
@click.option(
    "--list", "list_only", is_flag=True, help="Print the assertions (table, json or markdown) and exit."
)
@leaf_options
def check(
    hadd: Hadd | None,
    read_only: bool,
    observe: float,
    until_offline: float,
    output: str | None,
    list_only: bool,
) -> None:
    """Tell whether a node speaks Janitoo: probe it and judge each numbered assertion.

    Asks the node's controller for its nodes and values (the six discovery kinds, directly and by
    broadcast), reads and writes values on both reply routes, sends requests it must refuse or drop,
    and watches its heartbeats for their advertised period. Each assertion is reported as pass, fail
    (a MUST broken), warn (a SHOULD broken) or n/a. A SET it tries is undone (the original data written
    back and read again); --read-only sends no SET at all. Exit code 0 when every MUST passes, 1
    otherwise, with a one-line summary on stderr. --timeout bounds each answer (default 5 s).

    \b
    Examples:
      jnt check --hadd 0225/0000
      jnt check --hadd 0225/0003 --read-only --format junit --output conformance.xml
      jnt check --hadd 0225/0000 --until-offline 30      (stop or kill the node meanwhile)
      jnt check --list --format markdown
    """
    settings = get_settings()
    fmt = settings.format
    if list_only:
        if fmt not in LIST_FORMATS:
            raise CliError(f"--list prints {', '.join(LIST_FORMATS)}, not {fmt}", EXIT_USAGE)
        _emit(render_list(fmt), output)
        return
    if hadd is None:
        raise CliError("--hadd is required (the node to check), or --list", EXIT_USAGE)
    if fmt not in CHECK_FORMATS:
        raise CliError(f"a check report is {', '.join(CHECK_FORMATS)}, not {fmt}", EXIT_USAGE)
    options = Options(
        hadd,
        timeout=settings.timeout,
        observe=observe,
        read_only=read_only,
        until_offline=until_offline,
        quiet=min(1.0, settings.timeout),
    )
    with protocol_errors():
        client = settings.client()
        client.max_payload = MAX_REPLY
        with client:
            session = Session(client, hadd)
            session.start()
            try:
                report = Checker(session, options).run()
            finally:
                session.close()
    _emit(render(report, fmt), output)
    if not report.ok:
        raise CliError(report.summary(), EXIT_FAILED)
    click.echo(f"jnt check: {report.summary()}", err=True)


def _emit(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text)
        return
    try:
        Path(output).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write the report to {output}: {exc.strerror or exc}", EXIT_USAGE) from None


# The shared --format offers table/json/csv; a check report is table/json/junit, the list also markdown.
for _p in check.params:
    if isinstance(_p, click.Option) and _p.name == "format":
        _p.type = click.Choice(sorted(set(CHECK_FORMATS) | set(LIST_FORMATS)), case_sensitive=False)
        _p.help = "Report as a table, JSON or JUnit XML (--list: table, json or markdown) [default table]."
