"""Option types of the CLI: hadds, genres, command classes and discovery request names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from janitoo_protocol import CommandClass, Genre, Hadd, ProtocolError
from janitoo_protocol.codes import NETWORK_REQUESTS

if TYPE_CHECKING:
    # click types ParamType by the value it converts to (8.2 and later); at run time 8.1 is enough.
    _HaddParam = click.ParamType[Hadd]
    _GenreParam = click.ParamType[Genre]
    _IntParam = click.ParamType[int]
    _StrParam = click.ParamType[str]
else:
    _HaddParam = _GenreParam = _IntParam = _StrParam = click.ParamType


class HaddType(_HaddParam):
    """A home address, `CCCC/NNNN` (e.g. 0225/0003)."""

    name = "HADD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Hadd:
        try:
            hadd = Hadd.parse(value)
        except ProtocolError as exc:
            self.fail(exc.reason, param, ctx)
        # The codec reads wider and negative addresses (the original writes them), but no node has one:
        # a request to `/nodes/99999/0000/` would only wait for nobody.
        if not (0 <= hadd.controller <= 9999 and 0 <= hadd.node <= 9999):
            self.fail(f"invalid hadd {value!r}: each part must be from 0000 to 9999", param, ctx)
        return hadd


class GenreType(_GenreParam):
    """A genre word (basic, user, config, system, command) or its number (1-5)."""

    name = "GENRE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Genre:
        if isinstance(value, Genre):
            return value
        text = str(value).strip()
        try:
            return Genre(int(text)) if text.isdigit() else Genre.from_word(text)
        except ValueError:
            words = ", ".join(g.topic_word for g in Genre)
            self.fail(f"{text!r} is not a genre: use one of {words} or 1-5", param, ctx)


class CmdClassType(_IntParam):
    """A command class: a number (112, 0x70) or a name (CONFIGURATION, SWITCH_BINARY)."""

    name = "CMDCLASS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        try:
            return int(text, 0)
        except ValueError:
            pass
        name = text.upper().removeprefix("COMMAND_")
        try:
            return int(CommandClass[name])
        except KeyError:
            self.fail(f"{text!r} is not a command class number or name (see 'jnt codes cmds')", param, ctx)


HADD = HaddType()
GENRE = GenreType()
CMDCLASS = CmdClassType()


def _parse_vuuids(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    """`--vuuid` values: request names, their short forms (users), `all`, comma-separated or repeated."""
    if not values:
        return ["request_info_nodes"]
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            word = part.strip().lower()
            if word == "all":
                out.extend(NETWORK_REQUESTS)
            elif word in NETWORK_REQUESTS:
                out.append(word)
            elif f"request_info_{word}" in NETWORK_REQUESTS:
                out.append(f"request_info_{word}")
            else:
                raise click.BadParameter(
                    f"{part!r} is not one of {', '.join(NETWORK_REQUESTS)}, all", ctx=ctx, param=param
                )
    return list(dict.fromkeys(out))


def vuuid_option(f: Any) -> Any:
    return click.option(
        "--vuuid", "vuuids", multiple=True, callback=_parse_vuuids, metavar="REQUEST",
        help="What to ask: request_info_nodes (default), _users, _configs, _systems, _basics, _commands "
             "(or users, configs...), or all. Repeat or comma-separate for several.",
    )(f)  # fmt: skip


class TopicFilterType(_StrParam):
    """An MQTT topic filter: `#` only as the whole last level, `+` only as a whole level."""

    name = "FILTER"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not text or len(text.encode()) > 65535 or "\0" in text:
            self.fail(f"{text!r} is not a topic filter (empty, too long or with a NUL)", param, ctx)
        levels = text.split("/")
        for i, level in enumerate(levels):
            if "#" in level and (level != "#" or i != len(levels) - 1):
                self.fail(f"{text!r}: '#' must be a whole level, and the last (e.g. '/values/#')", param, ctx)
            if "+" in level and level != "+":
                self.fail(f"{text!r}: '+' must be a whole level (e.g. '/nodes/+/request')", param, ctx)
        return text


TOPIC_FILTER = TopicFilterType()
