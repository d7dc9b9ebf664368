"""`jnt --help` lists its commands from a static table without importing them; the table cannot drift.

The summaries in janitoo_cli.main (COMMANDS, QUERY_COMMANDS) must be what the commands' own help says:
the listing is compared, at several widths, with the one click builds from the real commands.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from janitoo_cli.lazy import LazyCommand, LazyGroup
from janitoo_cli.main import COMMANDS, QUERY_COMMANDS, cli, query

from .conftest import subprocess_env

GROUPS: list[tuple[LazyGroup, dict[str, LazyCommand]]] = [(cli, COMMANDS), (query, QUERY_COMMANDS)]
TABLE = [(group.name, name, lazy) for group, table in GROUPS for name, lazy in sorted(table.items())]
WIDTHS = [30, 40, 60, 80, 100, 110, 200]

# What `jnt --help` must never import: every command's own module, and the heavy libraries.
COMMAND_MODULES = {"janitoo_cli.query", "janitoo_cli.codes", "janitoo_cli.web", "janitoo_cli.spy",
                   "janitoo_cli.netstate", "janitoo_cli.bridge", "janitoo_cli.conformance.command",
                   "janitoo_cli.render", "janitoo_cli.params"}  # fmt: skip
HEAVY = {"paho", "transitions", "tabulate", "janitoo_ha", "janitoo_web", "janitoo_protocol.transport",
         "janitoo_protocol.roles", "janitoo_protocol.decoding", "janitoo_protocol.codes"}  # fmt: skip


@pytest.mark.parametrize(("group", "name", "lazy"), TABLE, ids=[f"{g} {n}" for g, n, _ in TABLE])
def test_each_static_summary_is_the_first_sentence_of_the_real_help(
    group: str, name: str, lazy: LazyCommand
) -> None:
    command = lazy.load()
    assert isinstance(command, click.Command)
    assert command.name == name
    assert not command.hidden  # the table has no hidden commands; a hidden one would need a flag there
    assert command.get_short_help_str(10**6) == lazy.summary
    for limit in range(10, 120):  # shortened to the terminal's width exactly as click would
        assert click.Command(name, help=lazy.summary).get_short_help_str(limit) == command.get_short_help_str(
            limit
        ), limit


@pytest.fixture
def unloaded() -> Iterator[None]:
    """The groups as a fresh `jnt` has them: no lazy command imported yet."""
    saved = [dict(group.commands) for group, _ in GROUPS]
    for group, table in GROUPS:
        for name in table:
            group.commands.pop(name, None)
    try:
        yield
    finally:
        for (group, _), commands in zip(GROUPS, saved, strict=True):
            group.commands.clear()
            group.commands.update(commands)


def _help(args: list[str], width: int) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], terminal_width=width, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", [[], ["query"]], ids=["jnt", "jnt query"])
def test_the_listing_from_the_table_equals_the_listing_from_the_commands(
    unloaded: None, args: list[str], width: int
) -> None:
    group = cli if not args else query
    static = _help(args, width)
    assert not set(group.commands) & set(group.lazy)  # the listing imported nothing
    for name in group.lazy:
        group.get_command(click.Context(group), name)
    assert set(group.lazy) <= set(group.commands)
    assert _help(args, width) == static


def _command_paths(group: click.Group, prefix: list[str]) -> Iterator[list[str]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield [*prefix, name]
        if isinstance(command, click.Group):
            yield from _command_paths(command, [*prefix, name])


def test_every_command_and_subcommand_answers_help() -> None:
    paths = list(_command_paths(cli, []))
    assert ["query", "network"] in paths and ["bridge", "homeassistant"] in paths and ["check"] in paths
    for path in paths:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert result.output.startswith(f"Usage: jnt {' '.join(path)} "), path


def _loaded_by(code: str) -> set[str]:
    """The modules a fresh interpreter holds after `code` (which prints help to a pipe)."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('MODULES', *sys.modules, file=sys.stderr)"],
        capture_output=True, text=True, timeout=60, env=subprocess_env(),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Usage:" in out.stdout
    return set(out.stderr.split("MODULES", 1)[1].split())


def _heavy(loaded: set[str]) -> set[str]:
    return {m for m in loaded if m in COMMAND_MODULES or any(m == h or m.startswith(f"{h}.") for h in HEAVY)}


@pytest.mark.parametrize("args", [["--help"], ["query", "--help"], ["-h"]])
def test_help_imports_no_command_module_nor_heavy_library(args: list[str]) -> None:
    code = f"from janitoo_cli.main import cli\ncli.main({args!r}, standalone_mode=False)"
    assert _heavy(_loaded_by(code)) == set()


def test_a_command_imports_its_module_when_it_runs() -> None:
    code = "from janitoo_cli.main import cli\ncli.main(['query', 'network', '--help'], standalone_mode=False)"
    assert "janitoo_cli.query" in _loaded_by(code)


def test_jnt_node_help_imports_neither_the_config_reader_nor_the_protocol() -> None:
    code = "from janitoo_node.cli import main\nmain.main(['--help'], standalone_mode=False)"
    loaded = _loaded_by(code)
    assert not {
        m for m in loaded if m.startswith(("janitoo_node.config", "configupdater", "janitoo_protocol"))
    }


def test_a_lazy_entry_that_is_not_a_command_is_refused() -> None:
    with pytest.raises(TypeError, match="not a click command"):
        LazyCommand("janitoo_cli.main:CONTEXT", "Nothing.").load()
