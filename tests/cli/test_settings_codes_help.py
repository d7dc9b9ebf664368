"""Settings precedence (flags > JNT_* > config file > defaults), `jnt codes`, and `--help` everywhere."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import Result

from janitoo_cli.compat import jnt_query, jnt_spy
from janitoo_cli.errors import CliError
from janitoo_cli.main import cli
from janitoo_cli.settings import Settings, resolve
from janitoo_protocol import CommandClass

from .conftest import FakeNetwork, golden, one_error_line, run_module

Jnt = Callable[..., Result]


# ---------------------------------------------------------------------------------------------- resolve


def test_defaults(tmp_path: Path) -> None:
    s = resolve({}, {"XDG_CONFIG_HOME": str(tmp_path)})
    assert (s.host, s.port, s.prefix, s.timeout, s.format, s.myhadd) == ("127.0.0.1", 1883, "", 5.0, "table",
                                                                         "9999/9990")  # fmt: skip
    assert s.tls_options() is None
    assert s.origin is not None and set(s.origin.values()) == {"default"}


def test_precedence_flag_over_env_over_file(tmp_path: Path) -> None:
    conf = tmp_path / "janitoo" / "jnt.conf"
    conf.parent.mkdir()
    conf.write_text("[jnt]\nhost = filehost\nport = 1000\nprefix = fileprefix\ntimeout = 7\nformat = csv\n")
    env = {"XDG_CONFIG_HOME": str(tmp_path), "JNT_PORT": "2000", "JNT_PREFIX": "envprefix"}
    s = resolve({"prefix": "flagprefix"}, env)
    assert (s.host, s.port, s.prefix, s.timeout, s.format) == ("filehost", 2000, "flagprefix", 7.0, "csv")
    assert s.origin is not None
    assert (s.origin["host"], s.origin["port"], s.origin["prefix"]) == (str(conf), "JNT_PORT", "flag")


def test_config_from_jnt_config_and_tls_settings(tmp_path: Path) -> None:
    conf = tmp_path / "my.conf"
    conf.write_text("[jnt]\ntls_ca = ~/ca.pem\ntls_insecure = yes\nusername = bob\npassword = secret\n")
    s = resolve({}, {"JNT_CONFIG": str(conf)})
    tls = s.tls_options()
    assert tls is not None and tls.insecure and tls.ca_file is not None and tls.ca_file.endswith("/ca.pem")
    assert "~" not in tls.ca_file
    assert (s.username, s.password) == ("bob", "secret")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JNT_PORT": "http"}, "environment variable JNT_PORT: 'http' is not a port number"),
        ({"JNT_PORT": "70000"}, "environment variable JNT_PORT: 70000 is not a port number (1-65535)"),
        (
            {"JNT_TIMEOUT": "-1"},
            "environment variable JNT_TIMEOUT: '-1' must be a positive number of seconds",
        ),
        ({"JNT_FORMAT": "xml"}, "environment variable JNT_FORMAT: 'xml' is not one of table, json, csv"),
        ({"JNT_MYHADD": "x"}, "environment variable JNT_MYHADD: invalid hadd 'x'"),
        ({"JNT_TLS": "maybe"}, "environment variable JNT_TLS: 'maybe' is not a boolean"),
    ],
)
def test_bad_environment_values(env: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(CliError) as info:
        resolve({}, {"XDG_CONFIG_HOME": str(tmp_path), **env})
    assert info.value.exit_code == 2
    assert info.value.message.startswith(message)


def test_bad_config_files(tmp_path: Path) -> None:
    conf = tmp_path / "jnt.conf"
    conf.write_text("[jnt]\nhots = x\n")
    with pytest.raises(CliError, match=r"jnt.conf \[jnt\]: unknown setting 'hots' \(known: host, port"):
        resolve({}, {"JNT_CONFIG": str(conf)})
    conf.write_text("[jnt]\nport = 0\n")
    with pytest.raises(CliError, match=r"jnt.conf \[jnt\] port: 0 is not a port number"):
        resolve({}, {"JNT_CONFIG": str(conf)})
    conf.write_text("port = 1\n")
    with pytest.raises(CliError, match="cannot read it: File contains no section headers"):
        resolve({}, {"JNT_CONFIG": str(conf)})
    with pytest.raises(CliError, match="does not exist"):
        resolve({}, {"JNT_CONFIG": str(tmp_path / "missing.conf")})
    # The default file may be absent, or lack the [jnt] section.
    assert resolve({}, {"XDG_CONFIG_HOME": str(tmp_path / "none")}).port == Settings().port
    (tmp_path / "janitoo").mkdir()
    (tmp_path / "janitoo" / "jnt.conf").write_text("[other]\nport = 1\n")
    assert resolve({}, {"XDG_CONFIG_HOME": str(tmp_path)}).port == 1883


def test_config_file_flag_env_precedence_end_to_end(
    jnt: Jnt, fake_network: FakeNetwork, tmp_path: Path, refused_port: int
) -> None:
    conf = tmp_path / "xdg" / "janitoo" / "jnt.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(
        f"[jnt]\nport = {fake_network.broker.port}\nprefix = {fake_network.prefix}\nformat = json\n"
    )
    result = jnt("query", "network")  # everything from the default config file
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["hadd"] == "1118/0000"
    result = jnt("query", "network", env={"JNT_FORMAT": "csv"})  # env over file
    assert result.stdout.startswith("hadd,uuid,name,location,product_type\n")
    result = jnt("query", "network", "--format", "table", env={"JNT_FORMAT": "csv"})  # flag over env
    assert result.stdout == golden("query-network-nodes.txt")
    result = jnt("--format", "csv", "query", "network", "--format", "table")  # the subcommand's flag wins
    assert result.stdout == golden("query-network-nodes.txt")
    result = jnt("query", "network", env={"JNT_PORT": str(refused_port)})
    assert result.exit_code == 3
    other = tmp_path / "other.conf"
    other.write_text(f"[jnt]\nport = {fake_network.broker.port}\nprefix = nothing-here\n")
    result = jnt("query", "network", "--config", str(other), "--timeout", "0.5")
    assert result.exit_code == 1
    assert "under prefix 'nothing-here'" in one_error_line(result)


def test_bad_setting_is_one_line(jnt: Jnt) -> None:
    result = jnt("query", "network", env={"JNT_PORT": "abc"})
    assert result.exit_code == 2
    assert one_error_line(result) == "jnt: error: environment variable JNT_PORT: 'abc' is not a port number"


# ---------------------------------------------------------------------------------------------- codes


def test_codes_genres_table(jnt: Jnt) -> None:
    result = jnt("codes", "genres")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == golden("codes-genres.txt")


def test_codes_json_and_csv(jnt: Jnt) -> None:
    result = jnt("codes", "cmds", "--format", "json")
    rows = json.loads(result.stdout)
    assert len(rows) == len(CommandClass)
    assert {"code": 112, "hex": "0x0070", "label": "CONFIGURATION"}.items() <= next(
        r for r in rows if r["code"] == 112
    ).items()
    result = jnt("-f", "csv", "codes", "caps")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["code", "hex", "label", "description"]
    assert rows[2][:3] == ["1", "0x0001", "PRIMARY_CONTROLLER"]
    result = jnt("codes", "types")
    assert "32    0x0020  HADD" in result.stdout


def test_codes_needs_no_broker_and_rejects_unknown_tables(jnt: Jnt) -> None:
    assert jnt("codes", "genres", "--port", "1").exit_code != 0  # --port is not an option of codes
    result = jnt("codes", "colours")
    assert result.exit_code == 2
    assert "'colours' is not one of" in one_error_line(result)


def test_subprocess_codes() -> None:
    proc = run_module("janitoo_cli.main", "codes", "genres")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == golden("codes-genres.txt")
    proc = run_module("janitoo_cli", "codes", "types", "-f", "json")
    assert json.loads(proc.stdout)[0]["label"] == "Bool"


# ---------------------------------------------------------------------------------------------- help


def _commands(group: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path]
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):  # `jnt`'s commands are imported when asked for
            sub = group.get_command(ctx, name)
            assert sub is not None, name
            out.extend(_commands(sub, (*path, name)))
    return out


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(("jnt", *p)))
def test_every_jnt_help_teaches_with_an_example(jnt: Jnt, path: tuple[str, ...]) -> None:
    result = jnt(*path, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert f"jnt {' '.join(path)}".strip() in result.stdout.split("Example", 1)[1]


@pytest.mark.parametrize("path", _commands(jnt_query), ids=lambda p: " ".join(("jnt_query", *p)))
def test_every_compat_help_has_an_example(jnt: Jnt, path: tuple[str, ...]) -> None:
    result = jnt(*path, "--help", cmd=jnt_query)
    assert result.exit_code == 0
    assert "Example" in result.stdout


def test_jnt_spy_help(jnt: Jnt) -> None:
    result = jnt("--help", cmd=jnt_spy)
    assert result.exit_code == 0 and "Example" in result.stdout and "--topic" in result.stdout


def test_no_colour_when_piped(jnt: Jnt) -> None:
    result = jnt("codes", "genres")
    assert "\x1b[" not in result.stdout


def test_version(jnt: Jnt) -> None:
    result = jnt("--version")
    assert result.exit_code == 0 and result.stdout.startswith("jnt, version ")


def test_bare_group_shows_its_help(jnt: Jnt) -> None:
    result = jnt("query")
    assert result.exit_code == 2
    assert "Usage: jnt query [OPTIONS] COMMAND" in result.stderr
    assert "value    Read (GET) or write (SET) one value" in result.stderr


def test_verbose_logs_on_stderr(jnt: Jnt, fake_network: FakeNetwork) -> None:
    result = jnt("-v", "query", "network", *fake_network.args)
    assert result.exit_code == 0
    assert f"connected to MQTT broker 127.0.0.1:{fake_network.broker.port}" in result.stderr
    assert result.stdout == golden("query-network-nodes.txt")


def test_a_bug_is_one_line_and_exit_70(jnt: Jnt, monkeypatch: pytest.MonkeyPatch) -> None:
    import janitoo_cli.codes

    def broken(kind: str) -> list[dict[str, object]]:
        raise RuntimeError("boom")

    monkeypatch.setattr(janitoo_cli.codes, "code_rows", broken)
    result = jnt("codes", "genres")
    assert result.exit_code == 70
    assert one_error_line(result) == (
        "jnt: error: internal error: RuntimeError: boom (run with --verbose for details)"
    )


def test_ctrl_c_during_a_query_exits_130(
    jnt: Jnt, fake_network: FakeNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    from janitoo_protocol.transport import JanitooClient

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(JanitooClient, "discover", interrupted)
    result = jnt("query", "network", *fake_network.args)
    assert result.exit_code == 130
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_mosquitto_sub_habits_h_host_and_p_port(jnt: Jnt, refused_port: int) -> None:
    result = jnt("query", "network", "-h", "127.0.0.1", "-p", str(refused_port))
    assert result.exit_code == 3
    assert f"MQTT broker 127.0.0.1:{refused_port}: connection refused" in one_error_line(result)
    for args in (["-h"], ["spy", "-h"], ["query", "-h"]):  # -h alone is still help
        result = jnt(*args)
        assert result.exit_code == 0 and result.stdout.startswith("Usage:"), args


def test_the_default_reply_hadd_is_the_clients() -> None:
    # Written out in settings so that `jnt --help` need not import the client.
    from janitoo_protocol.transport import DEFAULT_REPLY_HADD

    assert Settings().myhadd == str(DEFAULT_REPLY_HADD)
