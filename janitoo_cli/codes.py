"""`jnt codes`: the protocol's code tables (genres, value types, command classes, capabilities)."""

from __future__ import annotations

from typing import Any

import click

from janitoo_protocol import Capability, CommandClass, Genre, ValueType
from janitoo_protocol.codes import CodedEnum

from .render import Table, echo_tables
from .settings import get_settings, output_options

CODE_TABLES: dict[str, type[CodedEnum]] = {
    "genres": Genre,
    "types": ValueType,
    "cmds": CommandClass,
    "caps": Capability,
}
CODE_COLUMNS = ("code", "hex", "label", "description")


def code_rows(kind: str) -> list[dict[str, Any]]:
    enum_cls = CODE_TABLES[kind]
    rows = []
    for member in enum_cls:
        row: dict[str, Any] = {"code": int(member), "hex": f"0x{int(member):04X}", "label": member.label,
                               "description": member.doc}  # fmt: skip
        if isinstance(member, Genre):
            row["word"] = member.topic_word
        rows.append(row)
    return rows


@click.command()
@click.argument("table", type=click.Choice(list(CODE_TABLES), case_sensitive=False))
@output_options
def codes(table: str) -> None:
    """The protocol's code tables: genres, value types, command classes or capabilities.

    No broker needed.

    \b
    Examples:
      jnt codes genres
      jnt codes cmds --format csv | grep SWITCH
    """
    settings = get_settings()
    echo_tables([Table(CODE_COLUMNS, code_rows(table.lower()), table)], settings.format, keyed=False)
