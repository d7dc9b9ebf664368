"""Logging from the original's [loggers]/[handlers]/[formatters] sections, read as data and never evaluated.

`logging.config.fileConfig` evaluates a handler's `args` and `kwargs` (and imports its `class`): a
config file that a SET could ever touch would run code at the next start. Here the same sections are
read as data: handler classes from an allow-list, arguments parsed as literals (plus the two names
`sys.stderr` and `sys.stdout`), files appended to and rotated, and every record's user-supplied fields
cut to a bounded length.
"""

from __future__ import annotations

import ast
import logging
import sys
from collections.abc import Callable
from typing import Any, Final

from .config import ConfigError, JanitooConfig

# A log argument longer than this is cut: wire data (a uuid, a payload) never fills a log.
MAX_FIELD: Final = 300
# A whole message (format string included) is cut at this length.
MAX_MESSAGE: Final = 2000
# Rotation when the config names none (the original's FileHandler grew without bound).
DEFAULT_MAX_BYTES: Final = 1024 * 1024
DEFAULT_BACKUPS: Final = 5

FORMAT: Final = "%(asctime)s %(levelname)-7s [%(name)s] %(message)s"
_STREAMS: Final = {"sys.stderr": "stderr", "sys.stdout": "stdout"}
_LEVELS: Final = {"CRITICAL", "FATAL", "ERROR", "WARN", "WARNING", "INFO", "DEBUG", "NOTSET"}


class BoundedFields(logging.Filter):
    """Cuts long arguments and messages of every record the handler sees, whatever logger made it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_cut(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _cut(v) for k, v in record.args.items()}
        if isinstance(record.msg, str) and len(record.msg) > MAX_MESSAGE:
            record.msg = _cut_text(record.msg, MAX_MESSAGE)
        return True


def _cut(arg: object) -> object:
    if isinstance(arg, str) and len(arg) > MAX_FIELD:
        return _cut_text(arg, MAX_FIELD)
    if isinstance(arg, bytes | bytearray) and len(arg) > MAX_FIELD:
        return bytes(arg[:MAX_FIELD]) + f"... ({len(arg)} bytes)".encode()
    if isinstance(arg, str | int | float | bool | None):
        return arg
    # Objects (exceptions, dicts, messages) may hold wire data: bound their text too.
    text = str(arg)
    return _cut_text(text, MAX_FIELD) if len(text) > MAX_FIELD else arg


def _cut_text(text: str, limit: int) -> str:
    return f"{text[:limit]}... ({len(text)} characters)"


def setup_logging(cfg: JanitooConfig, verbose: bool = False) -> None:
    """The config file's logging sections when they work, else one line on stderr and plain logging."""
    level = logging.DEBUG if verbose else logging.INFO
    if cfg.parser.has_section("loggers"):
        try:
            configure_from_sections(cfg)
        except (ConfigError, OSError) as exc:
            _basic(level)
            logging.getLogger("janitoo.server").warning(
                "logging sections unusable (%s); logging to stderr", exc
            )
            return
        if verbose:
            logging.getLogger().setLevel(logging.DEBUG)
        return
    _basic(level)


def _basic(level: int) -> None:
    """Plain logging to stderr, as logging.basicConfig: nothing changes where handlers exist already."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(BoundedFields())
        root.addHandler(handler)
    root.setLevel(level)


def configure_from_sections(cfg: JanitooConfig) -> None:
    """Build formatters, handlers and loggers from the sections; ConfigError (file, section, key) on a problem.

    Everything is built before anything is installed, so a bad section leaves logging as it was.
    """
    formatters = {name: _formatter(cfg, name) for name in _keys(cfg, "formatters")}
    handlers: dict[str, logging.Handler] = {}
    try:
        for name in _keys(cfg, "handlers"):
            handlers[name] = _handler(cfg, name, formatters)
        loggers = [_logger_decl(cfg, name, handlers) for name in _keys(cfg, "loggers")]
    except BaseException:
        for handler in handlers.values():
            handler.close()
        raise
    for qualname, level, chosen, propagate in loggers:
        logger = logging.getLogger(qualname or None)
        for old in list(logger.handlers):
            logger.removeHandler(old)
            old.close()
        logger.setLevel(level)
        for handler in chosen:
            logger.addHandler(handler)
        if qualname:
            logger.propagate = propagate
            logger.disabled = False


def _keys(cfg: JanitooConfig, section: str) -> list[str]:
    raw = cfg.get(section, "keys", "") or ""
    return [k.strip() for k in raw.split(",") if k.strip()]


def _formatter(cfg: JanitooConfig, name: str) -> logging.Formatter:
    section = f"formatter_{name}"
    cls = (cfg.get(section, "class", "") or "").strip()
    if cls not in ("", "logging.Formatter", "Formatter"):
        raise ConfigError(
            cfg.path, f"formatter class {cls!r} is not allowed (only logging.Formatter)", section, "class"
        )
    fmt = cfg.get(section, "format", None)
    try:
        return logging.Formatter(fmt, cfg.get(section, "datefmt", None) or None)
    except ValueError as exc:
        raise ConfigError(cfg.path, f"bad format: {exc}", section, "format") from None


def _handler(cfg: JanitooConfig, name: str, formatters: dict[str, logging.Formatter]) -> logging.Handler:
    section = f"handler_{name}"
    if not cfg.parser.has_section(section):
        raise ConfigError(cfg.path, f"[handlers] keys names {name!r} but there is no [{section}]")
    cls = _handler_class(cfg, section)
    args = _literal(cfg, section, "args", "()")
    kwargs = _literal(cfg, section, "kwargs", "{}")
    if not isinstance(args, tuple | list) or not isinstance(kwargs, dict):
        raise ConfigError(cfg.path, "args must be a tuple and kwargs a dict", section)
    try:
        handler = _BUILDERS[cls](list(args), {str(k): v for k, v in kwargs.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(cfg.path, f"bad arguments for {cls}: {exc}", section, "args") from None
    except OSError as exc:
        raise ConfigError(
            cfg.path, f"cannot open the log file: {exc.strerror or exc}", section, "args"
        ) from None
    level = cfg.get(section, "level", "NOTSET") or "NOTSET"
    handler.setLevel(_level(cfg, section, level))
    formatter = (cfg.get(section, "formatter", "") or "").strip()
    if formatter:
        if formatter not in formatters:
            handler.close()
            raise ConfigError(cfg.path, f"unknown formatter {formatter!r}", section, "formatter")
        handler.setFormatter(formatters[formatter])
    handler.addFilter(BoundedFields())
    return handler


def _handler_class(cfg: JanitooConfig, section: str) -> str:
    raw = (cfg.get(section, "class", "") or "").strip()
    name = raw
    for prefix in ("logging.handlers.", "logging.", "handlers."):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if name not in _BUILDERS:
        allowed = ", ".join(sorted(_BUILDERS))
        raise ConfigError(
            cfg.path, f"handler class {raw!r} is not allowed (one of: {allowed})", section, "class"
        )
    return name


def _literal(cfg: JanitooConfig, section: str, key: str, default: str) -> Any:
    """A Python literal (tuples, lists, dicts, strings, numbers, True/False/None) or sys.stderr/stdout."""
    text = cfg.get(section, key, default) or default
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _literal_node(tree.body)
    except (SyntaxError, ValueError, RecursionError) as exc:
        raise ConfigError(cfg.path, f"not a literal: {exc}", section, key) from None


def _literal_node(node: ast.expr) -> Any:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        dotted = f"{node.value.id}.{node.attr}"
        if dotted in _STREAMS:
            return _Stream(_STREAMS[dotted])
        raise ValueError(f"{dotted} is not allowed (only sys.stderr and sys.stdout)")
    if isinstance(node, ast.Tuple):
        return tuple(_literal_node(e) for e in node.elts)
    if isinstance(node, ast.List):
        return [_literal_node(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise ValueError("** in a dict is not allowed")
        return {_literal_node(k): _literal_node(v) for k, v in zip(node.keys, node.values, strict=True) if k}
    # Constants, and negative numbers; literal_eval refuses calls, names and everything else.
    return ast.literal_eval(node)


class _Stream:
    """`sys.stderr` or `sys.stdout` as named in the config, resolved when the handler is built."""

    def __init__(self, name: str) -> None:
        self.name = name

    def resolve(self) -> Any:
        return getattr(sys, self.name)


def _level(cfg: JanitooConfig, section: str, raw: str) -> int:
    text = raw.strip().upper()
    if text in _LEVELS:
        level: int = getattr(logging, text)
        return level
    if text.isdigit():
        return int(text)
    raise ConfigError(cfg.path, f"unknown level {raw!r}", section, "level")


def _logger_decl(
    cfg: JanitooConfig, name: str, handlers: dict[str, logging.Handler]
) -> tuple[str, int, list[logging.Handler], bool]:
    section = f"logger_{name}"
    if not cfg.parser.has_section(section):
        raise ConfigError(cfg.path, f"[loggers] keys names {name!r} but there is no [{section}]")
    level = _level(cfg, section, cfg.get(section, "level", "NOTSET") or "NOTSET")
    chosen = []
    for h in (cfg.get(section, "handlers", "") or "").split(","):
        if h.strip():
            if h.strip() not in handlers:
                raise ConfigError(cfg.path, f"unknown handler {h.strip()!r}", section, "handlers")
            chosen.append(handlers[h.strip()])
    qualname = "" if name == "root" else (cfg.get(section, "qualname", name) or name)
    propagate = cfg.get_bool(section, "propagate", True)
    return qualname, level, chosen, propagate


# -- the allowed handler classes, each built from literal arguments


def _stream(args: list[Any], kwargs: dict[str, Any]) -> logging.Handler:
    stream = kwargs.pop("stream", args[0] if args else _Stream("stderr"))
    if not isinstance(stream, _Stream) or kwargs or len(args) > 1:
        raise ValueError("a StreamHandler takes sys.stderr or sys.stdout only")
    return logging.StreamHandler(stream.resolve())


def _file_args(args: list[Any], kwargs: dict[str, Any]) -> tuple[str, str | None]:
    filename = kwargs.pop("filename", args[0] if args else None)
    if not isinstance(filename, str) or not filename:
        raise ValueError("the first argument is the log file's name")
    # Mode 'w' (the original's example) emptied the log at every start: logs are always appended.
    kwargs.pop("mode", None)
    encoding = kwargs.pop("encoding", "utf-8")
    if not isinstance(encoding, str):
        raise ValueError("encoding must be a string")
    return filename, encoding


def _rotating(args: list[Any], kwargs: dict[str, Any]) -> logging.Handler:
    filename, encoding = _file_args(args, kwargs)
    rest = args[2:]  # (filename, mode, maxBytes, backupCount)
    max_bytes = int(kwargs.pop("maxBytes", rest[0] if rest else 0) or DEFAULT_MAX_BYTES)
    backups = int(kwargs.pop("backupCount", rest[1] if len(rest) > 1 else 0) or DEFAULT_BACKUPS)
    _no_more(kwargs)
    import logging.handlers  # (and pickle, which it loads) only for a config that logs to a file

    return logging.handlers.RotatingFileHandler(
        filename, mode="a", maxBytes=max_bytes, backupCount=backups, encoding=encoding
    )


def _file(args: list[Any], kwargs: dict[str, Any]) -> logging.Handler:
    # A FileHandler grows without bound: it rotates like the original's RotatingFileHandler default.
    return _rotating(args[:2], kwargs)


def _timed(args: list[Any], kwargs: dict[str, Any]) -> logging.Handler:
    filename, encoding = _file_args(args[:1], kwargs)
    rest = args[1:]  # (filename, when, interval, backupCount)
    when = str(kwargs.pop("when", rest[0] if rest else "midnight"))
    interval = int(kwargs.pop("interval", rest[1] if len(rest) > 1 else 1))
    backups = int(kwargs.pop("backupCount", rest[2] if len(rest) > 2 else 0) or DEFAULT_BACKUPS)
    _no_more(kwargs)
    import logging.handlers

    return logging.handlers.TimedRotatingFileHandler(
        filename, when=when, interval=interval, backupCount=backups, encoding=encoding
    )


def _null(args: list[Any], kwargs: dict[str, Any]) -> logging.Handler:
    return logging.NullHandler()


def _no_more(kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise ValueError(f"unknown arguments: {', '.join(sorted(kwargs))}")


_BUILDERS: Final[dict[str, Callable[[list[Any], dict[str, Any]], logging.Handler]]] = {
    "StreamHandler": _stream,
    "FileHandler": _file,
    "RotatingFileHandler": _rotating,
    "TimedRotatingFileHandler": _timed,
    "NullHandler": _null,
}
