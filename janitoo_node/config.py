"""The original INI configuration: reading with clear errors, validating, and atomic comment-keeping writes."""

from __future__ import annotations

import configparser
import os
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from janitoo_protocol import Hadd, ProtocolError

from .validation import line_break_in

# Sections that are not buses: the process, the network role, and logging.fileConfig's own.
RESERVED_SECTIONS = {"system", "network", "loggers", "handlers", "formatters", "database", "dhcp"}
_LOGGING_PREFIXES = ("logger_", "handler_", "formatter_")

SYSTEM_DEFAULTS: dict[str, str] = {
    "service": "jnt_generic",
    "user": "janitoo",
    "log_dir": "/tmp/jnt_logs",
    "home_dir": "/tmp/jnt_home",
    "pid_dir": "/tmp/jnt_run",
    "conf_dir": "/tmp/jnt_conf",
    "cache_dir": "/tmp/jnt_cache",
    "broker_ip": "127.0.0.1",
    "broker_port": "1883",
    "broker_user": "",
    "broker_password": "",
    "broker_keepalive": "60",
    "heartbeat_timeout": "60",
    "heartbeat_count": "3",
    "heartbeat_dead": "604800",
    "slow_start": "0.2",
    "retained_state": "true",
}


class ConfigError(Exception):
    """A config file problem, as one line: file, section, key (or line) and what is wrong."""

    def __init__(self, path: Path | str, what: str, section: str | None = None, key: str | None = None,
                 line: int | None = None) -> None:  # fmt: skip
        where = str(path)
        if line is not None:
            where += f":{line}"
        if section is not None:
            where += f" [{section}]"
        if key is not None:
            where += f" {key}"
        self.path = Path(path)
        self.section = section
        self.key = key
        super().__init__(f"{where}: {what}")


def bus_sections(parser: configparser.RawConfigParser) -> list[str]:
    """Sections that describe a bus (controller): not reserved, no `__`, not logging's."""
    return [
        s
        for s in parser.sections()
        if s not in RESERVED_SECTIONS and "__" not in s and not s.startswith(_LOGGING_PREFIXES)
    ]


class IniParser(configparser.RawConfigParser):
    """The parser of our INI files: strict, no interpolation, no inline comments, and small when large.

    A simulated network's config has a section per node: its key names are shared (interned), equal
    values are shared (`share_values`), and a section costs no per-section converter functions (the
    `getint`... of a section proxy, about 1 kB each, which nothing here uses: JanitooConfig reads with
    its own get_int, get_float...).
    """

    def __init__(self) -> None:
        super().__init__(strict=True, interpolation=None, inline_comment_prefixes=None)

    def optionxform(self, optionstr: str) -> str:
        return sys.intern(optionstr.lower())

    @property
    def converters(self) -> Mapping[str, object]:  # type: ignore[override]
        return _NO_CONVERTERS

    def share_values(self) -> None:
        """One string for equal values ("30", "Simulation"... in thousands of sections)."""
        shared: dict[str, str] = {}
        for section in self.sections():
            for key, value in self.items(section):
                first = shared.setdefault(value, value)
                if first is not value:
                    self.set(section, key, first)


_NO_CONVERTERS: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True)
class ComponentDecl:
    """One `components.<key> = <entry>` line of a bus section."""

    key: str
    entry: str
    section: str  # "<bus>__<key>"


class JanitooConfig:
    """One config file. Reads are from memory; `set` writes the file atomically and keeps comments."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.parser = self._read()

    # -- reading

    def _read(self) -> configparser.RawConfigParser:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(self.path, "no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(self.path, f"cannot read: {exc}") from None
        parser = IniParser()
        try:
            parser.read_string(text, source=str(self.path))
        except configparser.DuplicateSectionError as exc:
            raise ConfigError(self.path, "duplicate section", exc.section, line=exc.lineno) from None
        except configparser.DuplicateOptionError as exc:
            raise ConfigError(self.path, "duplicate key", exc.section, exc.option, line=exc.lineno) from None
        except configparser.MissingSectionHeaderError as exc:
            raise ConfigError(self.path, "a key before any [section]", line=exc.lineno) from None
        except configparser.ParsingError as exc:
            line = exc.errors[0][0] if exc.errors else None
            raise ConfigError(self.path, "line is neither [section] nor key = value", line=line) from None
        parser.share_values()
        return parser

    def reload(self) -> None:
        self.parser = self._read()

    def has(self, section: str, key: str) -> bool:
        return self.parser.has_option(section, key)

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        if self.parser.has_option(section, key):
            return self.parser.get(section, key)
        return default

    def system(self, key: str) -> str:
        value = self.get("system", key)
        return SYSTEM_DEFAULTS.get(key, "") if value is None else value

    def get_float(self, section: str, key: str, default: float) -> float:
        raw = self.get(section, key)
        if raw is None or raw.strip() == "":
            return default
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(self.path, f"must be a number, got {raw!r}", section, key) from None

    def get_int(self, section: str, key: str, default: int) -> int:
        raw = self.get(section, key)
        if raw is None or raw.strip() == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(self.path, f"must be an integer, got {raw!r}", section, key) from None

    def get_bool(self, section: str, key: str, default: bool) -> bool:
        raw = self.get(section, key)
        if raw is None or raw.strip() == "":
            return default
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off", "none"):
            return False
        raise ConfigError(self.path, f"must be true or false, got {raw!r}", section, key)

    def get_hadd(self, section: str, key: str = "hadd") -> Hadd:
        raw = self.get(section, key)
        if raw is None:
            raise ConfigError(self.path, "missing (every bus and component needs its hadd)", section, key)
        try:
            return Hadd.parse(raw)
        except ProtocolError as exc:
            raise ConfigError(self.path, exc.reason, section, key) from None

    def components(self, bus: str) -> list[ComponentDecl]:
        out = []
        for key, entry in self.parser.items(bus):
            if key.startswith("components."):
                ckey = key[len("components.") :]
                out.append(ComponentDecl(ckey, entry.strip(), f"{bus}__{ckey}"))
        return out

    def buses(self) -> list[str]:
        return bus_sections(self.parser)

    def indexed(self, section: str, stem: str) -> Iterator[tuple[int, str]]:
        """`<stem>_<index>` keys of a section, e.g. `load_config_0`, `load_config_1`, contiguous from 0."""
        i = 0
        while self.parser.has_option(section, f"{stem}_{i}"):
            yield i, self.parser.get(section, f"{stem}_{i}")
            i += 1

    # -- writing

    def set(self, section: str, key: str, value: object) -> None:
        """Set one key and persist the file atomically, keeping comments, order and other sections.

        The text is edited by configupdater (made for updating INI files in place), then proved: the
        new text must parse to exactly the old sections and keys with this one key changed or added,
        or nothing is written. The file is rewritten through a temporary file in the same folder,
        fsynced, then renamed over the original: a crash leaves the old or the new file, never half.
        """
        # configparser strips values on reading; storing the stripped text keeps memory and file equal.
        text_value = "" if value is None else str(value).strip()
        reason = line_break_in(text_value)
        if reason is not None:
            raise ConfigError(self.path, f"refused: {reason}", section, key)
        with self._lock:
            try:
                old_text = self.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(self.path, f"cannot read before writing: {exc}") from None
            new_text = _set_in_text(old_text, section, key, text_value)
            self._prove(old_text, new_text, section, key, text_value)
            _atomic_write(self.path, new_text)
            if not self.parser.has_section(section):
                self.parser.add_section(section)
            self.parser.set(section, key, text_value)

    def _prove(self, old_text: str, new_text: str, section: str, key: str, value: str) -> None:
        """Refuse a write whose text would not read back as the old config plus this one key."""
        old = _parse(old_text, self.path)
        new = _parse(new_text, self.path)
        expected = {s: dict(old.items(s)) for s in old.sections()}
        expected.setdefault(section, {})[new.optionxform(key)] = value
        actual = {s: dict(new.items(s)) for s in new.sections()}
        if actual != expected or old.defaults() != new.defaults():
            raise ConfigError(self.path, "refused: the write would change the file's structure", section, key)


def _parse(text: str, path: Path) -> configparser.RawConfigParser:
    parser = IniParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ConfigError(path, f"refused: the write would not parse ({type(exc).__name__})") from None
    return parser


def _set_in_text(text: str, section: str, key: str, value: str) -> str:
    """Replace or add `key = value` in `section` of an INI text, keeping everything else as it is."""
    # Imported on the first persisted SET, not at start: it (and the importlib.metadata it loads for its
    # version) would stay resident in every node, most of which never write their config.
    from configupdater import ConfigUpdater

    updater = ConfigUpdater(strict=True)
    try:
        updater.read_string(text)
    except configparser.Error as exc:
        raise ConfigError("config", f"cannot update: {type(exc).__name__}") from None
    if not updater.has_section(section):
        if text and not text.endswith("\n"):
            updater = ConfigUpdater(strict=True)
            updater.read_string(text + "\n")
        updater.add_section(section)
        # A blank line before a new section, as a person would write it.
        updater[section].add_before.space()
    target = updater[section]
    if target.has_option(key):
        target[key].value = value
    else:
        # After the section's last key, not after its trailing blank lines or comments.
        options = list(target.iter_options())
        if options:
            options[-1].add_after.option(key, value)
        else:
            target[key] = value
    return str(updater)


def _atomic_write(path: Path, text: str) -> None:
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    # The rename itself is made durable by syncing the folder.
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
