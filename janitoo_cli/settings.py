"""Connection and output settings: command-line flags over JNT_* environment variables over the config file.

The config file is `$JNT_CONFIG`, else `$XDG_CONFIG_HOME/janitoo/jnt.conf` (`~/.config/janitoo/jnt.conf`),
an INI file with one `[jnt]` section whose keys are the long option names (`host`, `port`, `tls_ca`...).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import errors
from .errors import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from janitoo_protocol.transport import JanitooClient, TlsOptions

FORMATS = ("table", "json", "csv")
SECTION = "jnt"
# The client's DEFAULT_REPLY_HADD, written out so that `jnt --help` need not import the client (a test
# keeps them equal).
DEFAULT_MYHADD = "9999/9990"


@dataclass
class Settings:
    """Everything a command needs to reach the broker and to print."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    password_file: str | None = None
    prefix: str = ""
    timeout: float = 5.0
    format: str = "table"
    tls: bool = False
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_insecure: bool = False
    myhadd: str = DEFAULT_MYHADD
    # `jnt web`: where the web manager listens and its password (required off loopback).
    web_bind: str = "127.0.0.1"
    web_port: int = 8080
    web_password: str | None = None
    # Where each setting came from ("flag", "JNT_PORT", the config file, "default"), for --verbose.
    origin: dict[str, str] | None = None

    @property
    def broker(self) -> str:
        return f"{self.host}:{self.port}"

    def tls_options(self) -> TlsOptions | None:
        if not (self.tls or self.tls_ca or self.tls_cert or self.tls_key or self.tls_insecure):
            return None
        from janitoo_protocol.transport import TlsOptions  # paho and ssl: only for a command that connects

        return TlsOptions(self.tls_ca, self.tls_cert, self.tls_key, self.tls_insecure)

    def client(self, timeout: float | None = None) -> JanitooClient:
        """A client for these settings (not connected yet: use it as a context manager)."""
        from janitoo_protocol.transport import JanitooClient  # paho and ssl: only for a command that connects

        return JanitooClient(
            self.host, self.port, username=self.username, password=self.password, tls=self.tls_options(),
            prefix=self.prefix, reply_hadd=self.myhadd,
            # The CONNACK wait: at least 3 s even for a short --timeout, at most 10 s.
            connect_timeout=min(max(timeout if timeout is not None else self.timeout, 3.0), 10.0),
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------- parsing


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a port number") from None
    if not 0 < port < 65536:
        raise ValueError(f"{port} is not a port number (1-65535)")
    return port


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise ValueError(f"{text!r} must be a positive number of seconds")
    return value


def _format(text: str) -> str:
    word = text.strip().lower()
    if word not in FORMATS:
        raise ValueError(f"{text!r} is not one of {', '.join(FORMATS)}")
    return word


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{text!r} is not a boolean (true/false)")


def _hadd(text: str) -> str:
    from janitoo_protocol import Hadd, ProtocolError

    try:
        return str(Hadd.parse(text))
    except ProtocolError as exc:
        raise ValueError(str(exc)) from None


def _text(text: str) -> str:
    return text


def _path(text: str) -> str:
    return os.path.expanduser(text)


PARSERS: dict[str, Callable[[str], Any]] = {
    "host": _text,
    "port": _port,
    "username": _text,
    "password": _text,
    "password_file": _path,
    "prefix": _text,
    "timeout": _seconds,
    "format": _format,
    "tls": parse_bool,
    "tls_ca": _path,
    "tls_cert": _path,
    "tls_key": _path,
    "tls_insecure": parse_bool,
    "myhadd": _hadd,
    "web_bind": _text,
    "web_port": _port,
    "web_password": _text,
}
ENV_VARS: dict[str, str] = {name: f"JNT_{name.upper()}" for name in PARSERS}


def default_config_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "janitoo" / "jnt.conf"


def read_config_file(path: Path, required: bool) -> dict[str, str]:
    """The `[jnt]` section of `path` (empty when the file is absent and not required)."""
    import configparser

    if not path.exists():
        if required:
            raise CliError(f"config file {path} does not exist", EXIT_USAGE)
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as fh:
            parser.read_file(fh)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        reason = " ".join(str(exc).split())
        raise CliError(f"config file {path}: cannot read it: {reason}", EXIT_USAGE) from None
    if not parser.has_section(SECTION):
        return {}
    out = dict(parser.items(SECTION))
    unknown = sorted(set(out) - set(PARSERS))
    if unknown:
        raise CliError(
            f"config file {path} [{SECTION}]: unknown setting {unknown[0]!r} (known: {', '.join(PARSERS)})",
            EXIT_USAGE,
        )
    return out


MAX_PASSWORD_FILE = 4096


def read_password_file(path: str, origin: str) -> str:
    """The first line of a password file; CliError (one line, naming the file) when it is unusable."""
    where = f"password file {path}" + ("" if origin == "flag" else f" (from {origin})")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PASSWORD_FILE + 1)
    except OSError as exc:
        raise CliError(f"{where}: cannot read it: {exc.strerror or exc}", EXIT_USAGE) from None
    try:
        lines = raw.decode("utf-8").splitlines() if len(raw) <= MAX_PASSWORD_FILE else None
    except UnicodeDecodeError:
        lines = None
    if lines is None:
        raise CliError(
            f"{where}: not a password file (UTF-8 text, under {MAX_PASSWORD_FILE} bytes)", EXIT_USAGE
        )
    if not lines or not lines[0]:
        raise CliError(f"{where}: empty (its first line is the password)", EXIT_USAGE)
    return lines[0]


def resolve(
    flags: Mapping[str, Any], env: Mapping[str, str], config: str | os.PathLike[str] | None = None
) -> Settings:
    """Settings from flags (already typed) > environment > config file > defaults."""
    if config is not None:
        path, required = Path(config), True
    elif env.get("JNT_CONFIG"):
        path, required = Path(env["JNT_CONFIG"]), True
    else:
        path, required = default_config_path(env), False
    from_file = read_config_file(path, required)
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, parse in PARSERS.items():
        if flags.get(name) is not None:
            values[name], origin[name] = flags[name], "flag"
            continue
        var = ENV_VARS[name]
        if var in env:
            try:
                values[name] = parse(env[var])
            except ValueError as exc:
                raise CliError(f"environment variable {var}: {exc}", EXIT_USAGE) from None
            origin[name] = var
            continue
        if name in from_file:
            try:
                values[name] = parse(from_file[name])
            except ValueError as exc:
                raise CliError(f"config file {path} [{SECTION}] {name}: {exc}", EXIT_USAGE) from None
            origin[name] = str(path)
            continue
        origin[name] = "default"

    def rank(name: str) -> int:  # flags 0, environment 1, config file 2
        o = origin[name]
        return 0 if o == "flag" else 1 if o.startswith("JNT_") else 2

    # A password file given at a higher level (flag over environment over file) wins over a password.
    if values.get("password_file") and (
        values.get("password") is None or rank("password_file") < rank("password")
    ):
        values["password"] = read_password_file(values["password_file"], origin["password_file"])
        origin["password"] = origin["password_file"]
    known = {f.name for f in fields(Settings)}
    settings = Settings(**{k: v for k, v in values.items() if k in known})
    settings.origin = origin
    return settings


# ---------------------------------------------------------------------------------------------- options

_FLAGS_KEY = "jnt.flags"


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Keep a flag typed on the command line; the deepest command's flag wins.

    Absent options are None and absent switches False: click only tells a value's source after the
    callback has run.
    """
    if param.name is None or value is None or value is False:
        return value
    ctx.find_root().meta.setdefault(_FLAGS_KEY, {})[param.name] = value
    return value


def _remember_verbose(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value:
        ctx.find_root().meta["jnt.verbose"] = True
        errors.VERBOSE = True
    return value


def _remember_hadd(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is None:
        return value
    try:
        value = _hadd(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return _remember(ctx, param, value)


# Shown in a leaf command's --help; the others are listed once, by `jnt --help`.
LEAF_VISIBLE = {"format", "timeout", "host", "port", "prefix"}

COMMON_EPILOG = (
    "Also accepted here: --username, --password, --password-file, --tls, --tls-ca, --tls-cert, --tls-key, --tls-insecure, "
    "--myhadd, --config, --verbose (see 'jnt --help'), and the JNT_* environment variables."
)


def leaf_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The common options on a subcommand, the rarely used ones hidden from its --help."""
    f = broker_options(f)
    for p in getattr(f, "__click_params__", []):
        if isinstance(p, click.Option) and p.name not in LEAF_VISIBLE:
            p.hidden = True
    return f


def broker_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--host, --port, credentials, TLS, --prefix, --myhadd and --timeout."""
    opts = [
        click.option("--host", metavar="HOST", help="MQTT broker host [env JNT_HOST; default 127.0.0.1]."),
        click.option("--port", "-p", metavar="PORT", type=click.IntRange(1, 65535),
                     help="MQTT broker port [env JNT_PORT; default 1883]."),
        click.option("--username", "-u", metavar="USER", help="Broker user name [env JNT_USERNAME]."),
        click.option("--password", metavar="SECRET",
                     help="Broker password [env JNT_PASSWORD]; visible to other users in `ps`: prefer "
                          "JNT_PASSWORD or --password-file."),
        click.option("--password-file", metavar="FILE",
                     help="Read the broker password from FILE's first line [env JNT_PASSWORD_FILE]."),
        click.option("--tls", is_flag=True, default=None,
                     help="Use TLS, checking the broker against the system's CAs [env JNT_TLS]."),
        click.option("--tls-ca", metavar="FILE", help="CA certificate file (implies --tls) [env JNT_TLS_CA]."),
        click.option("--tls-cert", metavar="FILE", help="Client certificate file [env JNT_TLS_CERT]."),
        click.option("--tls-key", metavar="FILE", help="Client private key file [env JNT_TLS_KEY]."),
        click.option("--tls-insecure", is_flag=True, default=None,
                     help="Do not check the broker's host name (test brokers) [env JNT_TLS_INSECURE]."),
        click.option("--prefix", metavar="PREFIX",
                     help="Topic prefix of the network (default none: the original /nodes/... topics) "
                          "[env JNT_PREFIX]."),
        click.option("--myhadd", metavar="HADD",
                     help="The hadd replies are sent to [env JNT_MYHADD; default 9999/9990]."),
        click.option("--timeout", "-t", metavar="SECONDS", type=click.FloatRange(min=0, min_open=True),
                     help="Longest wait for the network [env JNT_TIMEOUT; default 5]."),
    ]  # fmt: skip
    for opt in reversed(opts):
        f = opt(f)
    return output_options(f)


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--format, --config and --verbose."""
    opts = [
        click.option("--format", "-f", "format", type=click.Choice(FORMATS, case_sensitive=False),
                     help="Output as an aligned table, JSON or CSV [env JNT_FORMAT; default table]."),
        click.option("--config", metavar="FILE", type=click.Path(dir_okay=False),
                     help="Settings file ([jnt] section) [env JNT_CONFIG; default ~/.config/janitoo/jnt.conf]."),
        click.option("--verbose", "-v", is_flag=True, expose_value=False, is_eager=True,
                     callback=_remember_verbose, help="Log what happens, on stderr."),
    ]  # fmt: skip
    for opt in reversed(opts):
        f = opt(f)
    return _hide_common(f)


def _hide_common(f: Callable[..., Any]) -> Callable[..., Any]:
    """The common options are remembered in the context, not passed to the command function."""
    params: list[click.Parameter] = getattr(f, "__click_params__", [])
    for p in params:
        if p.name in PARSERS or p.name == "config":
            p.expose_value = False
            p.callback = _remember_hadd if p.name == "myhadd" else _remember
    return f


def get_settings(ctx: click.Context | None = None, **overrides: Any) -> Settings:
    """The settings of this invocation; `overrides` are flags of a compatibility command."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    cached = root.meta.get("jnt.settings")
    if cached is not None and not overrides:
        return cached  # type: ignore[no-any-return]
    flags = dict(root.meta.get(_FLAGS_KEY, {}))
    flags.update({k: v for k, v in overrides.items() if v is not None})
    config = flags.pop("config", None)
    settings = resolve(flags, os.environ, config)
    root.meta["jnt.settings"] = settings
    if not root.meta.get("jnt.logging"):
        root.meta["jnt.logging"] = True
        from .logs import setup_logging

        root.call_on_close(setup_logging(bool(root.meta.get("jnt.verbose"))))
    return settings
