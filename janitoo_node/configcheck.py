"""Warnings about a config file that loads: unknown keys, with the closest known name (typos)."""

from __future__ import annotations

from .brokerconf import BROKER_KEYS
from .config import SYSTEM_DEFAULTS, JanitooConfig, bus_sections

# Every [system] key this runtime reads, and the original's that it accepts and ignores.
SYSTEM_KEYS = (
    frozenset(SYSTEM_DEFAULTS)
    | frozenset(BROKER_KEYS)
    | {
        "max_payload",
        "max_request_rate",
        "max_request_burst",
        "max_pending_requests",
        "max_publish_rate",
        "max_publish_burst",
    }
)
NETWORK_KEYS = frozenset({
    "is_primary", "is_secondary", "priority", "resolv_heartbeat", "resolv_timeout", "take_back",
    "do_heartbeat_dispatch", "request_retry", "election_step", "listen_timeout", "sync_timeout",
})  # fmt: skip
# Keys every bus or component section may have. Their other keys belong to the component (pin_0,
# hexadd_0, ...) or store its values, so only near-misses of these are reported there.
NODE_KEYS = frozenset(
    {"auto_start", "hadd", "name", "location", "uuid", "backend", "heartbeat", "config_timeout"}
)
BACKENDS = ("auto", "real", "sim")


def config_warnings(cfg: JanitooConfig) -> list[str]:
    """One line per suspicious key: `file [section] key: unknown key; did you mean X?`."""
    out: list[str] = []
    for section, known, strict in (("system", SYSTEM_KEYS, True), ("network", NETWORK_KEYS, True)):
        if cfg.parser.has_section(section):
            out.extend(_unknown(cfg, section, known, strict))
    for bus in bus_sections(cfg.parser):
        out.extend(_unknown(cfg, bus, NODE_KEYS, strict=False))
        for decl in cfg.components(bus):
            if cfg.parser.has_section(decl.section):
                out.extend(_unknown(cfg, decl.section, NODE_KEYS, strict=False))
    return out


def _unknown(cfg: JanitooConfig, section: str, known: frozenset[str], strict: bool) -> list[str]:
    out = []
    for key in cfg.parser.options(section):
        if key in known or key.startswith("components."):
            continue
        import difflib  # only for a key that is not known: most configs have none

        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
        if close:
            out.append(f"{cfg.path} [{section}] {key}: unknown key; did you mean {close[0]}?")
        elif strict:
            out.append(f"{cfg.path} [{section}] {key}: unknown key (ignored)")
    return out
