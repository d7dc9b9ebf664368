"""`jnt`: query, spy, network and codes, the everyday tools of a Janitoo network."""

from __future__ import annotations

import click

from . import __version__
from .errors import OneLineErrors
from .lazy import LazyCommand, LazyGroup
from .settings import broker_options

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


class JntGroup(OneLineErrors, LazyGroup):
    """The `jnt` groups: one-line errors, mosquitto_sub's `-h HOST` (`-h` alone is still help), and
    subcommands imported only when used."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, mosquitto_host_flag(args))


def mosquitto_host_flag(args: list[str]) -> list[str]:
    """`-h HOST` as mosquitto_sub writes it becomes `--host HOST`: `-h` followed by a value that is
    neither an option nor a jnt command. `jnt -h`, `jnt spy -h` stay help."""
    out = list(args)
    for i, arg in enumerate(out[:-1]):
        following = out[i + 1]
        if arg == "-h" and not following.startswith("-") and following not in _COMMAND_WORDS:
            out[i] = "--host"
    return out


# Words after which `-h` means help, not a host: every command and subcommand name.
_COMMAND_WORDS = frozenset({"query", "network", "node", "value", "spy", "codes", "web", "bridge", "check",
                            "homeassistant", "install-service", "genres", "types", "cmds", "caps"})  # fmt: skip


# ---------------------------------------------------------------------------------------------- commands

# Every command but `query` lives in its own module, imported only to run it or show its own help; the
# summary is the first sentence of its help, as `jnt --help` lists it (tests/cli/test_lazy_commands.py
# checks it against the command's real help).
COMMANDS = {
    "bridge": LazyCommand("janitoo_cli.bridge:bridge",
                          "Show a Janitoo network in another home-automation system."),
    "check": LazyCommand("janitoo_cli.conformance.command:check",
                         "Tell whether a node speaks Janitoo: probe it and judge each numbered assertion."),
    "codes": LazyCommand("janitoo_cli.codes:codes",
                         "The protocol's code tables: genres, value types, command classes or capabilities."),
    "network": LazyCommand("janitoo_cli.netstate:network",
                           "What the network looks like now: the primary and secondaries, every node's liveness "
                           "state."),
    "spy": LazyCommand("janitoo_cli.spy:spy", "Show every message of the network as it passes, one line each."),
    "web": LazyCommand("janitoo_cli.web:web",
                       "The web manager: the network, its nodes and its traffic, live in a browser."),
}  # fmt: skip

QUERY_COMMANDS = {
    "network": LazyCommand("janitoo_cli.query:query_network",
                           "Every node of the network, or their values of the asked genre(s)."),
    "node": LazyCommand("janitoo_cli.query:query_node",
                        "The nodes of one controller, or one node, or their values, asked directly to it."),
    "value": LazyCommand("janitoo_cli.query:query_value",
                         "Read (GET) or write (SET) one value and print the node's answer."),
}  # fmt: skip


@click.group(cls=JntGroup, name="jnt", context_settings=CONTEXT, lazy=COMMANDS)
@click.version_option(__version__, "--version", prog_name="jnt")
@broker_options
def cli() -> None:
    """Look at and drive a Janitoo home-automation network over MQTT.

    Connection and output options can be given here, after the command, as JNT_* environment
    variables, or in ~/.config/janitoo/jnt.conf ([jnt] section), in that order of precedence.

    The broker password is read from JNT_PASSWORD or from a file (--password-file FILE, or
    JNT_PASSWORD_FILE): no need to type it on a command line, where `ps` shows it to everyone.

    \b
    Examples:
      jnt query network                      every node of the network
      jnt query node --hadd 0225/0000 --vuuid all
      jnt query value --hadd 0225/0001 --uuid location --set "Living room"
      jnt spy --kind heartbeat               heartbeats as they arrive
      jnt network                            primary, secondaries and every node's state
      jnt codes genres                       the protocol's code tables
    """


@cli.group(cls=JntGroup, context_settings=CONTEXT, lazy=QUERY_COMMANDS)
def query() -> None:
    """Ask the network for its nodes and values, read a value or write one.

    \b
    Examples:
      jnt query network --vuuid all
      jnt query node --hadd 0225/0000 --vuuid configs
      jnt query value --hadd 0225/0003 --uuid heartbeat --genre system
    """


if __name__ == "__main__":  # pragma: no cover - `python -m janitoo_cli.main`
    cli()
