"""Records and tables for the CLI: nodes and values as stable dicts, rendered as text tables, JSON or CSV."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import click

from .jsontext import dumps_indented

if TYPE_CHECKING:
    from janitoo_protocol import NodeInfo, ValueInfo

# The original jnt_query's columns (2016 layout, the one its tutorials show).
NODE_COLUMNS: tuple[str, ...] = ("hadd", "uuid", "name", "location", "product_type")
VALUE_COLUMNS: tuple[str, ...] = (
    "hadd", "node_uuid", "uuid", "idx", "data", "units", "type", "genre", "cmdclass", "help",
)  # fmt: skip

# Record key -> the wire key it comes from, when they differ.
_WIRE_NAMES = {"idx": "index", "cmdclass": "cmd_class"}
# A value record's keys that may be None because the node did not send them (all but uuid and idx).
_OPTIONAL_KEYS = ("hadd", "node_uuid", "data", "units", "type", "genre", "cmdclass", "help", "label",
                  "list_items", "default", "min", "max", "is_readonly", "is_writeonly", "is_polled",
                  "poll_delay")  # fmt: skip
# The record keys a set of wire keys leaves out: the same few key sets come for thousands of values.
_UNSENT: dict[tuple[str, ...], tuple[str, ...]] = {}
_UNSENT_MAX = 1024


def node_record(node: NodeInfo) -> dict[str, Any]:
    """A node as a JSON-ready dict: the table columns first, then the rest of its description."""
    return {
        "hadd": None if node.hadd is None else str(node.hadd),
        "uuid": node.uuid,
        "name": node.name,
        "location": node.location,
        "product_type": node.product_type,
        "product_name": node.product_name,
        "product_manufacturer": node.product_manufacturer,
        "oid": node.oid,
        "capabilities": list(node.capabilities),
        "cmd_classes": list(node.cmd_classes),
        "heartbeat": node.heartbeat,
        "config_timeout": node.config_timeout,
        "state": node.state,
    }


def value_record(value: ValueInfo) -> dict[str, Any]:
    """A value as a JSON-ready dict. A key the node did not send is None, as the original printed it
    (a config/system acknowledgement carries no type, units or node_uuid); a missing index is 0."""
    rec: dict[str, Any] = {
        "hadd": None if value.hadd is None else str(value.hadd),
        "node_uuid": value.node_uuid,
        "uuid": value.uuid,
        "idx": value.index,
        "data": value.data,
        "units": value.units,
        "type": value.type,
        "genre": value.genre,
        "cmdclass": value.cmd_class,
        "help": value.help,
        "label": value.label,
        "list_items": value.list_items,
        "default": value.default,
        "min": value.min,
        "max": value.max,
        "is_readonly": value.is_readonly,
        "is_writeonly": value.is_writeonly,
        "is_polled": value.is_polled,
        "poll_delay": value.poll_delay,
    }
    if value.wire_keys is not None:
        for key in _unsent(value.wire_keys):
            rec[key] = None
    return rec


def _unsent(wire_keys: tuple[str, ...]) -> tuple[str, ...]:
    unsent = _UNSENT.get(wire_keys)
    if unsent is None:
        sent = set(wire_keys)
        unsent = tuple(k for k in _OPTIONAL_KEYS if _WIRE_NAMES.get(k, k) not in sent)
        if len(_UNSENT) >= _UNSENT_MAX:  # key sets come from the wire: a hostile node may vary them
            _UNSENT.clear()
        _UNSENT[wire_keys] = unsent
    return unsent


@dataclass
class Table:
    """Rows (dicts) shown through `columns`; a title when several tables are printed together."""

    columns: Sequence[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    title: str | None = None


def cell(value: Any) -> str:
    """A value as the original printed it: str(), so None is `None` and lists look like Python's."""
    text = value if isinstance(value, str) else str(value)
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text


def color_enabled(stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    import os

    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def style(text: str, **kw: Any) -> str:
    return click.style(text, **kw) if color_enabled() else text


def text_table(table: Table) -> str:
    """An aligned table with its header (always, even with no rows)."""
    rows = [[cell(r.get(c)) for c in table.columns] for r in table.rows]
    body = _plain_table(list(table.columns), rows) if rows else "  ".join(table.columns)
    if body is None:
        body = _tabulate(list(table.columns), rows)
    if color_enabled():
        head, _, rest = body.partition("\n")
        body = click.style(head, bold=True) + ("\n" + rest if rest else "")
    return body


def _tabulate(headers: list[str], rows: list[list[str]]) -> str:
    import tabulate as _tabulate_module  # 40 ms of imports (wcwidth...): only for the tables that need it

    # tabulate pads headers by 2 by default, which widens short columns (idx, type) for nothing.
    saved = _tabulate_module.MIN_PADDING
    _tabulate_module.MIN_PADDING = 0
    try:
        return _tabulate_module.tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True,
                                         stralign="left")  # fmt: skip
    finally:
        _tabulate_module.MIN_PADDING = saved


def _plain_table(headers: list[str], rows: list[list[str]]) -> str | None:
    """tabulate's plain layout, written directly when every cell is printable Latin-1 (ASCII, °, µ, é...)
    with no space at either end: each character is then one column wide, and tabulate would strip
    nothing. None otherwise (wide or combining characters, colours, tabs...: tabulate's business).

    tabulate takes about 40 us a row (a 1,000-node network's values: a third of a second), this a tenth
    of it; tests/cli/test_text_table.py holds the two to the same text.
    """
    widths = []
    columns = zip(*rows, strict=True) if rows else [()] * len(headers)
    for header, column in zip(headers, columns, strict=True):
        # One check per column: a cell with a space at one end makes "| " or " |" here, or starts or ends it.
        joined = "|".join((header, *column))
        if not joined.isprintable() or max(joined) > "\xff" or " |" in joined or "| " in joined:
            return None
        if joined[:1] == " " or joined[-1:] == " ":
            return None
        widths.append(max(map(len, (header, *column))))
    line = "  ".join(f"{{:<{w}}}" for w in widths).format
    return "\n".join(line(*row).rstrip() for row in (headers, *rows))


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def csv_table(table: Table) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.columns)
    for r in table.rows:
        writer.writerow([_csv_cell(r.get(c)) for c in table.columns])
    return buf.getvalue().rstrip("\n")


def to_json(obj: Any) -> str:
    """`json.dumps(obj, indent=2, ensure_ascii=False, default=str)`, written faster (janitoo_cli.jsontext)."""
    return dumps_indented(obj)


def render(tables: Sequence[Table], fmt: str, keyed: bool | None = None) -> str:
    """Tables as text, CSV or JSON.

    JSON: one table is a list of records; several (`keyed`) an object of lists keyed by title.
    Text and CSV: several tables each come after their title line, separated by a blank line.
    """
    if keyed is None:
        keyed = len(tables) > 1
    if fmt == "json":
        if keyed:
            return to_json({t.title or str(i): t.rows for i, t in enumerate(tables)})
        return to_json(tables[0].rows if tables else [])
    parts: list[str] = []
    for t in tables:
        body = csv_table(t) if fmt == "csv" else text_table(t)
        if keyed and t.title:
            title = f"# {t.title}" if fmt == "csv" else style(t.title, bold=True, fg="cyan")
            body = f"{title}\n{body}"
        parts.append(body)
    return "\n\n".join(parts)


def echo_tables(tables: Sequence[Table], fmt: str, keyed: bool | None = None) -> None:
    click.echo(render(tables, fmt, keyed))
