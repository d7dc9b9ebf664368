"""`jnt spy`: every message of the network as one readable line (or raw, or JSON), and per-node statistics."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import click

from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Genre,
    Hadd,
    Heartbeat,
    HeartbeatDispatch,
    ProtocolError,
    ResolvHeartbeat,
    ValueInfo,
    ValuePublication,
    ValueReply,
    ValueRequest,
)
from janitoo_protocol.events import REQUEST_GENRES, LeaseMessage
from janitoo_protocol.retained import (
    Cleared,
    RetainedController,
    RetainedStatus,
    RetainedTopics,
    parse_retained,
)
from janitoo_protocol.topics import TopicKind, Topics
from janitoo_protocol.transport import Envelope, JanitooClient

from .errors import EXIT_USAGE, CliError, protocol_errors
from .interrupt import interruptible
from .params import GENRE, HADD, TOPIC_FILTER
from .render import Table, color_enabled, echo_tables
from .settings import COMMON_EPILOG, Settings, get_settings, leaf_options

KINDS = ("heartbeat", "values", "requests", "replies", "resolv")
LABELS = {
    "heartbeat": "HEARTBEAT",
    "values": "VALUE",
    "requests": "REQUEST",
    "replies": "REPLY",
    "resolv": "RESOLV",
    "other": "OTHER",
}
_COLORS = {
    "heartbeat": "green",
    "values": "cyan",
    "requests": "magenta",
    "replies": "blue",
    "resolv": "yellow",
}

_TOPIC_KINDS = {
    TopicKind.HEARTBEAT: "heartbeat",
    TopicKind.HEARTBEAT_DISPATCH: "heartbeat",
    TopicKind.VALUES: "values",
    TopicKind.BROADCAST_REQUEST: "requests",
    TopicKind.NODE_REQUEST: "requests",
    TopicKind.BROADCAST_REPLY: "replies",
    TopicKind.NODE_REPLY: "replies",
    TopicKind.RESOLV_HEARTBEAT: "resolv",
    TopicKind.RESOLV_REQUEST: "resolv",
    TopicKind.RESOLV_REPLY: "resolv",
    TopicKind.RESOLV_BROADCAST: "resolv",
    TopicKind.LEASE: "resolv",
    TopicKind.RPC_REPLY: "resolv",
}

MAX_PAYLOAD = 200


@dataclass
class Seen:
    """One received message, classified and described."""

    wall: float
    topic: str
    qos: int
    retain: bool
    payload: bytes
    kind: str
    hadd: str  # the line's hadd column: an address, "*" for a broadcast or several controllers, "-" for none
    text: str
    fields: dict[str, Any] = field(default_factory=dict)
    genre: Genre | None = None
    involved: set[Hadd] = field(default_factory=set)
    state: str | None = None
    undecodable: str | None = None


# ---------------------------------------------------------------------------------------------- describing


def payload_text(payload: bytes, limit: int | None = None) -> str:
    text = payload.decode("utf-8", errors="backslashreplace")
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return text


def _genre(code: Any) -> Genre | None:
    try:
        return Genre(code)
    except (ValueError, TypeError):
        return None


def _genre_word(code: Any) -> str:
    g = _genre(code)
    return g.topic_word if g is not None else f"genre {code}"


def _data(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _jsonable(value: Any) -> Any:
    if value is None or type(value) in _PLAIN:
        return value
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)


_PLAIN = (str, int, float, bool)


def _value_text(v: ValueInfo, indexed: bool = False) -> str:
    name = f"{v.uuid}[{v.index}]" if indexed else v.uuid
    units = f" {v.units}" if v.units else ""
    return f"{name}={_data(v.data)}{units}"


def _h(hadd: Hadd | None) -> str | None:
    return None if hadd is None else str(hadd)


def describe(message: Any) -> tuple[str, str, dict[str, Any], Genre | None, set[Hadd], str | None]:
    """(hadd column, text, JSON fields, genre, hadds involved, heartbeat state) of a decoded message."""
    m = message
    if isinstance(m, Heartbeat):
        return str(m.hadd), m.state, {"state": m.state}, None, {m.hadd}, m.state
    if isinstance(m, HeartbeatDispatch):
        # A whole-controller message is a node process's own last will (the original sets no will and
        # never sends this form; primaries dispatch node by node): nobody dispatched it.
        note = "last will of the controller's process, all its nodes" if m.whole_controller else "dispatched"
        fields = {
            "state": m.state,
            "dispatched": not m.whole_controller,
            "whole_controller": m.whole_controller,
        }
        return str(m.hadd), f"{m.state} ({note})", fields, None, {m.hadd}, m.state
    if isinstance(m, ResolvHeartbeat):
        extras = " ".join(f"{k}={_data(v)}" for k, v in m.extra.items())
        role = str(m.extra.get("role") or "primary")
        fields = {"state": m.state, **{k: _jsonable(v) for k, v in m.extra.items()}, "role": role}
        if m.state == "ONLINE":
            text = f"primary {m.state}" + (f" {extras}" if extras else "")
        else:
            # A network controller's last will ("offline") or goodbye ("stopped"), on the resolv topic.
            why = {"offline": "its last will", "stopped": "its goodbye"}.get(role, "gone")
            text = f"network controller {m.state} ({why})" + (f" {extras}" if extras else "")
        return str(m.hadd), text, fields, None, {m.hadd}, None
    if isinstance(m, DiscoveryRequest):
        col = str(m.target) if m.target is not None else "*"
        text = f"{'resolv ' if m.resolv else ''}{m.kind} from {m.reply_hadd}"
        fields = {
            "request": m.kind,
            "reply_hadd": _h(m.reply_hadd),
            "target": _h(m.target),
            "resolv": m.resolv,
        }
        involved = {h for h in (m.target, m.reply_hadd) if h is not None}
        return col, text, fields, REQUEST_GENRES.get(m.kind), involved, None
    if isinstance(m, ValueRequest):
        verb = "SET" if m.is_set else "GET"
        name = m.uuid if m.index is None else f"{m.uuid}[{m.index}]"
        data = f"={_data(m.data)}" if m.is_set else ""
        text = f"{verb} {_genre_word(m.genre)} {name}{data} from {m.reply_hadd}"
        fields = {"request": verb, "uuid": m.uuid, "genre": m.genre, "cmd_class": m.cmd_class, "index": m.index,
                  "data": _jsonable(m.data), "reply_hadd": _h(m.reply_hadd)}  # fmt: skip
        involved = {h for h in (m.hadd, m.reply_hadd) if h is not None}
        return str(m.hadd), text, fields, _genre(m.genre), involved, None
    if isinstance(m, DiscoveryReply):
        hadds = m.hadds()
        controllers = {h.controller_hadd for h in hadds}
        if len(controllers) == 1:
            col = str(next(iter(controllers)))
        elif controllers:
            col = "*"  # several controllers (a resolv answer)
        else:
            col = _h(m.reply_hadd) or _h(m.topic_hadd) or "*"  # an empty answer: the requester it goes to
        if m.nodes or m.genre is None:
            count, what = len(m.nodes), "node"
        else:
            count, what = len(m.values), "value"
        text = f"{m.kind}: {count} {what}{'' if count == 1 else 's'} to {m.reply_hadd}"
        fields = {"reply": m.kind, f"{what}s": count, "reply_hadd": _h(m.reply_hadd),
                  "hadds": sorted(str(h) for h in hadds)}  # fmt: skip
        involved = hadds | ({m.reply_hadd} if m.reply_hadd is not None else set())
        return col, text, fields, m.genre, involved, None
    if isinstance(m, ValueReply):
        v = m.value
        name = f"{_genre_word(v.genre)} {v.uuid}"
        if m.error:
            text = f"{name} refused: {m.error} (to {m.reply_hadd})"
        else:
            text = f"{_genre_word(v.genre)} {_value_text(v)} to {m.reply_hadd}"
        fields = {"uuid": v.uuid, "genre": v.genre, "index": v.index, "data": _jsonable(v.data),
                  "units": v.units, "reply_hadd": str(m.reply_hadd), "error": m.error}  # fmt: skip
        involved = {h for h in (v.hadd, m.reply_hadd) if h is not None}
        return _h(v.hadd) or "-", text, fields, _genre(v.genre), involved, None
    if isinstance(m, ValuePublication):
        word = m.genre.topic_word
        if m.error:
            text = f"{word} {m.uuid} refused: {m.error}"
        else:
            text = f"{word} " + ", ".join(_value_text(v, m.indexed) for v in m.values)
        answer = m.value.reply_hadd
        if answer is not None:
            text += f" (answer to {answer})"
        fields = {"genre": int(m.genre), "uuid": m.uuid, "error": m.error, "reply_hadd": _h(answer),
                  "values": [{"index": v.index, "data": _jsonable(v.data), "units": v.units} for v in m.values]}  # fmt: skip
        involved = {m.hadd} | ({answer} if answer is not None else set())
        return str(m.hadd), text, fields, m.genre, involved, None
    if isinstance(m, LeaseMessage):
        body = json.dumps(dict(m.payload), default=str, separators=(",", ":"))
        if len(body) > MAX_PAYLOAD:
            body = body[:MAX_PAYLOAD] + "..."
        what = f"rpc reply {m.rep_uuid}" if m.action == "reply" else f"lease {m.action}"
        fields = {"action": m.action, "rep_uuid": m.rep_uuid, "payload": _jsonable(dict(m.payload))}
        return "-", f"{what} {body}", fields, None, set(), None
    return "-", type(m).__name__, {}, None, set(), None  # pragma: no cover - every message type is above


def inspect(env: Envelope, topics: Topics, wall: float | None = None) -> Seen:
    """Classify and describe one received message; undecodable ones keep their reason."""
    if wall is None:
        wall = time.time() - max(0.0, time.monotonic() - env.received_at)
    topic_hadd: Hadd | None = None
    try:
        info = topics.parse(env.topic)
        kind = _TOPIC_KINDS.get(info.kind, "other")
        topic_hadd = info.hadd
    except ValueError:
        kind = "other"
    retained_root = RetainedTopics(topics.prefix).root
    if env.topic.startswith(retained_root):
        return _retained_seen(env, RetainedTopics(topics.prefix), wall)
    message = env.message
    if message is None:
        err = env.error
        reason = err.reason if err is not None else "unknown reason"
        text = f"!! undecodable ({reason}) {env.topic} {payload_text(env.payload, MAX_PAYLOAD)}"
        involved = {topic_hadd} if topic_hadd is not None else set()
        return Seen(wall, env.topic, env.qos, env.retain, env.payload, kind, _h(topic_hadd) or "-", text,
                    {"undecodable": reason, "payload": payload_text(env.payload)}, involved=involved,
                    undecodable=reason)  # fmt: skip
    col, text, fields, genre, involved, state = describe(message)
    if env.retain:
        text += " (retained)"
    return Seen(
        wall, env.topic, env.qos, env.retain, env.payload, kind, col, text, fields, genre, involved, state
    )


def _retained_seen(env: Envelope, rtopics: RetainedTopics, wall: float) -> Seen:
    """A message of the retained-state extension (docs/protocol.md), described in one line."""
    try:
        r = parse_retained(rtopics, env.topic, env.payload)
    except ProtocolError as exc:
        text = f"!! undecodable ({exc.reason}) {env.topic} {payload_text(env.payload, MAX_PAYLOAD)}"
        return Seen(wall, env.topic, env.qos, env.retain, env.payload, "other", "-", text,
                    {"undecodable": exc.reason}, undecodable=exc.reason)  # fmt: skip
    hadd = "-"
    if isinstance(r, RetainedController):
        hadd, text = (
            f"{r.controller:04d}/0000",
            f"retained state: {len(r.nodes)} nodes, {len(r.values)} values",
        )
    elif isinstance(r, RetainedStatus):
        ctrls = ", ".join(f"{c:04d}" for c in sorted(r.controllers))
        hadd, text = f"{r.controller:04d}/0000", f"retained status {r.state} for {ctrls}"
    elif isinstance(r, Cleared):
        hadd, text = (
            f"{r.controller:04d}/0000",
            "retained " + ("status" if r.status else "state") + " cleared",
        )
    else:
        text = f"retained-state sync marker of {r.token}"
    return Seen(wall, env.topic, env.qos, env.retain, env.payload, "other", hadd, text, {"retained": True})


def clock(wall: float) -> str:
    """HH:MM:SS.mmm in local time."""
    ms = int(round(wall * 1000)) % 1000
    return time.strftime("%H:%M:%S", time.localtime(int(wall))) + f".{ms:03d}"


def line(seen: Seen, color: bool = False) -> str:
    label = f"{LABELS[seen.kind]:<9}"
    text = seen.text
    if color:
        label = click.style(label, fg=_COLORS.get(seen.kind))
        if seen.undecodable is not None or " refused: " in text:
            text = click.style(text, fg="red")
    return f"{clock(seen.wall)}  {label}  {seen.hadd:<9}  {text}"


def raw_line(seen: Seen) -> str:
    return f"{seen.topic} {seen.qos} {payload_text(seen.payload)}"


CSV_COLUMNS = ("time", "topic", "qos", "retain", "kind", "hadd", "text")


def csv_line(seen: Seen) -> str:
    """One CSV row (the columns of CSV_COLUMNS), for `--format csv`."""
    when = _dt.datetime.fromtimestamp(seen.wall).astimezone().isoformat(timespec="milliseconds")
    hadd = seen.hadd if seen.hadd not in ("-", "*") else ""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([when, seen.topic, seen.qos, seen.retain, seen.kind, hadd,
                                                 seen.text])  # fmt: skip
    return buf.getvalue()


def json_line(seen: Seen) -> str:
    when = _dt.datetime.fromtimestamp(seen.wall).astimezone().isoformat(timespec="milliseconds")
    hadd = seen.hadd if seen.hadd not in ("-", "*") else None
    obj: dict[str, Any] = {"time": when, "topic": seen.topic, "qos": seen.qos, "retain": seen.retain,
                           "kind": seen.kind, "hadd": hadd, "text": seen.text}  # fmt: skip
    obj.update(seen.fields)
    return json.dumps(obj, ensure_ascii=False, default=str)


# ---------------------------------------------------------------------------------------------- stats

STATS_COLUMNS = ("hadd", "messages", "per_min", "heartbeat", "values", "requests", "replies", "resolv",
                 "other", "states", "last_state")  # fmt: skip


@dataclass
class _NodeStats:
    counts: Counter[str] = field(default_factory=Counter)
    states: list[str] = field(default_factory=list)
    last_state: str | None = None


class SpyStats:
    """Per-hadd message counts, rates and heartbeat states seen."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.nodes: dict[str, _NodeStats] = {}
        self.total = 0

    def add(self, seen: Seen) -> None:
        st = self.nodes.setdefault(seen.hadd, _NodeStats())
        st.counts[seen.kind] += 1
        self.total += 1
        if seen.state is not None:
            st.last_state = seen.state
            if seen.state not in st.states:
                st.states.append(seen.state)

    def table(self, now: float) -> Table:
        minutes = max(now - self.started, 1e-3) / 60.0

        def order(h: str) -> tuple[int, str]:
            return (1 if h in ("*", "-") else 0, h)

        rows = []
        for hadd in sorted(self.nodes, key=order):
            st = self.nodes[hadd]
            total = sum(st.counts.values())
            row: dict[str, Any] = {"hadd": hadd, "messages": total, "per_min": round(total / minutes, 1)}
            for k in (*KINDS, "other"):
                row[k] = st.counts.get(k, 0)
            row["states"] = ",".join(st.states) or None
            row["last_state"] = st.last_state
            rows.append(row)
        return Table(STATS_COLUMNS, rows, f"{self.total} messages in {now - self.started:.1f} s")


# ---------------------------------------------------------------------------------------------- command


def _no_undecodable_warning(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("undecodable message")


def passes(seen: Seen, kinds: tuple[str, ...], hadd: Hadd | None, genre: Genre | None) -> bool:
    if kinds and seen.kind not in kinds:
        return False
    if hadd is not None and hadd not in seen.involved:
        return False
    return genre is None or seen.genre == genre


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def announce(settings: Settings, topic: str, verbose: bool) -> None:
    """Tell a person (not a pipe) that we listen; with --verbose, always (tests wait for it)."""
    if verbose or _isatty(sys.stderr):
        click.echo(f"jnt spy: listening to {topic} on {settings.broker}; Ctrl+C to stop", err=True)
        # A quiet network shows nothing until its next heartbeat: say so, and how to see it now.
        click.echo("jnt spy: messages show as they pass (nodes heartbeat every 30 s or so); "
                   "'jnt query network' asks for the current state", err=True)  # fmt: skip


@click.command(epilog=COMMON_EPILOG)
@click.option(
    "--topic", type=TOPIC_FILTER, help="MQTT topic filter to listen to [default: everything, <prefix>/#]."
)
@click.option("--hadd", type=HADD, help="Only messages about or for this node (e.g. 0225/0003).")
@click.option("--genre", type=GENRE, help="Only messages about values (and requests) of this genre.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS, case_sensitive=False),
    help="Only this kind of message; repeat for several.",
)
@click.option("--raw", is_flag=True, help="Print `topic qos payload`, like the original jnt_spy.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object per message (JSON lines); also with --format json.",
)
@click.option(
    "--stats",
    is_flag=True,
    help="Print per-node message counts, rates and heartbeat states at exit instead of the messages.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="With --stats: also print the statistics every SECONDS.",
)
@click.option("--count", "-n", type=click.IntRange(min=1), metavar="N", help="Stop after N (shown) messages.")
@click.option(
    "--duration", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS", help="Stop after SECONDS."
)
@leaf_options
def spy(
    topic: str | None,
    hadd: Hadd | None,
    genre: Genre | None,
    kinds: tuple[str, ...],
    raw: bool,
    as_json: bool,
    stats: bool,
    interval: float | None,
    count: int | None,
    duration: float | None,
) -> None:
    """Show every message of the network as it passes, one line each.

    Line format: HH:MM:SS.mmm  KIND  HADD  what it says. Messages that cannot be decoded are shown raw
    and flagged `!! undecodable (reason)`. Ctrl+C stops it (exit 0).

    \b
    Examples:
      jnt spy
      jnt spy --kind heartbeat --kind resolv
      jnt spy --hadd 0225/0003 --genre user
      jnt spy --raw --topic '/values/#'
      jnt spy --json | jq .
      jnt spy --stats --interval 60
    """
    if raw and as_json:
        raise CliError("--raw and --json are exclusive: choose one", EXIT_USAGE)
    if interval is not None and not stats:
        raise CliError("--interval goes with --stats", EXIT_USAGE)
    settings = get_settings()
    # --format json (or JNT_FORMAT=json) means JSON lines too, unless --raw is asked for.
    as_json = as_json or (settings.format == "json" and not raw)
    ctx = click.get_current_context()
    verbose = bool(ctx.find_root().meta.get("jnt.verbose"))
    kinds = tuple(k.lower() for k in kinds)
    with protocol_errors():
        client = settings.client()
        client.connect()
    collected = SpyStats(time.monotonic()) if stats else None
    # Undecodable messages are shown in the output, flagged: the transport's warning would say it twice.
    transport_log = logging.getLogger("janitoo.transport")
    transport_log.addFilter(_no_undecodable_warning)
    try:
        run_spy(client, topic, settings, verbose, kinds, hadd, genre, raw, as_json, collected, interval, count,
                duration)  # fmt: skip
    except KeyboardInterrupt:
        pass  # Ctrl+C is the normal way to stop a spy: exit 0, with the statistics
    finally:
        transport_log.removeFilter(_no_undecodable_warning)
        client.close()
    if collected is not None:
        echo_tables([collected.table(time.monotonic())], settings.format, keyed=settings.format == "table")


def run_spy(
    client: JanitooClient,
    topic: str | None,
    settings: Settings,
    verbose: bool,
    kinds: tuple[str, ...],
    hadd: Hadd | None,
    genre: Genre | None,
    raw: bool,
    as_json: bool,
    stats: SpyStats | None,
    interval: float | None,
    count: int | None,
    duration: float | None,
) -> None:
    topic_filter = topic or client.topics.everything()
    sub = client.subscribe(topic_filter, None)
    with interruptible(on_interrupt=sub.closed.set):
        announce(settings, topic_filter, verbose)
        color = color_enabled()
        out = sys.stdout
        # --format csv: one CSV row per message, after a header (statistics are CSV tables already).
        as_csv = settings.format == "csv" and not raw and not as_json and stats is None
        if as_csv:
            out.write(",".join(CSV_COLUMNS) + "\n")
        started = time.monotonic()
        end = started + duration if duration else None
        next_stats = started + interval if interval and stats is not None else None
        shown = 0
        while True:
            now = time.monotonic()
            if end is not None and now >= end:
                return
            if next_stats is not None and now >= next_stats:
                assert stats is not None
                echo_tables([stats.table(now)], settings.format, keyed=settings.format == "table")
                click.echo("")
                next_stats += interval or 0
                continue
            deadlines = [d for d in (end, next_stats) if d is not None]
            env = sub.get(None if not deadlines else max(0.0, min(deadlines) - now))
            if env is None:
                if sub.closed.is_set():
                    return
                continue
            seen = inspect(env, client.topics)
            if not passes(seen, kinds, hadd, genre):
                continue
            shown += 1
            if stats is not None:
                stats.add(seen)
            else:
                if raw:
                    text = raw_line(seen)
                elif as_json:
                    text = json_line(seen)
                elif as_csv:
                    text = csv_line(seen)
                else:
                    text = line(seen, color)
                # One write per line, but a flush only when no message is waiting: a busy network is shown
                # in batches instead of one system call per line, an idle one at once.
                out.write(text + "\n")
                if sub.queue is None or sub.queue.empty():
                    out.flush()
            if count is not None and shown >= count:
                out.flush()
                return
