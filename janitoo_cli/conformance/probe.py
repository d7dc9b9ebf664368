"""The checker's tools: sending GET/SET and discovery requests, collecting and judging their answers.

Every wait is bounded; a SET is undone with `restore` (the original data written back and read again).
Answers are judged on their raw JSON: a node's reply is hostile input.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from janitoo_protocol import Genre, Hadd, ProtocolError
from janitoo_protocol.codes import COMMAND_CONFIGURATION

from .results import Recorder, clip
from .session import Seen, Session

CORRELATION_KEY = "jnt_cid"
NETWORK_CONTROLLER_CLASS = 0x1051
HEARTBEAT_WORDS = frozenset({"ONLINE", "OFFLINE", "FAILED", "BOOT", "SYSTEM", "CONFIG", "INIT"})
NODE_KEYS = (
    "uuid",
    "hadd",
    "name",
    "location",
    "product_name",
    "product_type",
    "capabilities",
    "cmd_classes",
    "heartbeat",
    "config_timeout",
    "state",
)
VALUE_KEYS = (
    "uuid",
    "hadd",
    "genre",
    "type",
    "cmd_class",
    "index",
    "data",
    "label",
    "help",
    "is_readonly",
    "is_writeonly",
)
INDEXED_KINDS = {"request_info_users", "request_info_configs", "request_info_basics"}
KIND_GENRE = {
    "request_info_users": 2,
    "request_info_configs": 3,
    "request_info_systems": 4,
    "request_info_basics": 1,
    "request_info_commands": 5,
}
# Value types the checker may write back unchanged, and cmd_classes it never writes (they act: FSM
# transitions, buttons, blink, the undefined 0 and 1 of action values).
PLAIN_TYPES = {1, 2, 3, 4, 5, 7, 8}
ACTING_CLASSES = {0, 1, 0x10B0, 0x3000, 0x3001, 0x3002, 0x3203, 0x3204}
USER_GENRES = (1, 2, 5)
SLACK = 1.1  # the receivers' heartbeat slack (spec §5.3)
JITTER = 0.5  # seconds of scheduling and network jitter allowed on top of it


@dataclass
class Options:
    """What to check and how long to wait."""

    hadd: Hadd
    timeout: float = 3.0  # longest wait for one answer
    observe: float = 70.0  # longest observation of heartbeats (from the start of the run)
    read_only: bool = False
    until_offline: float = 0.0  # after the checks, wait this long for the node to stop or crash
    quiet: float = 1.0  # how long silence must last to count as "no answer"


@dataclass
class Value:
    """One value from the node's discovery data (raw dict kept)."""

    hadd: str
    uuid: str
    genre: int
    raw: dict[str, Any]
    indexes: dict[int, dict[str, Any]]

    @property
    def cmd_class(self) -> int:
        cc = self.raw.get("cmd_class")
        return cc if isinstance(cc, int) and not isinstance(cc, bool) else 0

    @property
    def type(self) -> int:
        t = self.raw.get("type")
        return t if isinstance(t, int) and not isinstance(t, bool) else 0

    @property
    def writable(self) -> bool:
        return self.raw.get("is_readonly") is False


class Prober:
    """The state of one run (what discovery told, the results so far) and the request/answer plumbing."""

    def __init__(self, session: Session, options: Options) -> None:
        self.s = session
        self.o = options
        self.r = Recorder()
        self.hadd = options.hadd
        self.h = str(options.hadd)
        self.me = str(session.reply_hadd)
        self.t = session.topics
        self.start = session.clock()
        self._n = 0
        self._tag = secrets.token_hex(3)
        self.notes: list[str] = []
        self.restore_failed = False
        # From discovery:
        self.replies: dict[str, Seen] = {}
        self.nodes: dict[str, dict[str, Any]] = {}  # hadd -> node dict
        self.values: dict[str, dict[str, Value]] = {}  # hadd -> uuid -> Value (every genre)
        self.period = 30.0
        self.role: str | None = None  # primary / secondary when a network controller

    def cid(self) -> str:
        self._n += 1
        return f"jntchk-{self._tag}-{self._n}"

    def value_topic(self, genre: int, uuid: str, hadd: str | None = None) -> str:
        return self.t.values(Genre(genre), Hadd.parse(hadd or self.h), uuid)

    def request(
        self,
        uuid: str,
        genre: int,
        cmd_class: int,
        *,
        data: Any = None,
        is_set: bool = False,
        index: int | None = None,
        cid: str | None = None,
        extra: dict[str, Any] | None = None,
        hadd: str | None = None,
    ) -> tuple[str | None, int]:
        """Send a GET or SET; returns its correlation id and the record position before it."""
        target = hadd or self.h
        body: dict[str, Any] = {
            "cmd_class": cmd_class,
            "uuid": uuid,
            "data": data,
            "reply_hadd": self.me,
            "genre": genre,
            "is_writeonly": is_set,
            "is_readonly": not is_set,
            "hadd": target,
        }
        if index is not None:
            body["index"] = index
        if cid is not None:
            body[CORRELATION_KEY] = cid
        body.update(extra or {})
        mark = self.s.mark()
        self.s.send(self.t.node_request(Hadd.parse(target)), body)
        return cid, mark

    def answers(
        self,
        uuid: str,
        genre: int,
        cid: str | None,
        mark: int,
        *,
        want_reply: bool,
        want_values: bool,
        hadd: str | None = None,
    ) -> tuple[Seen | None, Seen | None]:
        """The answer on /nodes/<me>/reply and the one on /values/<genre>/<hadd>/<uuid> (None if absent).

        Waits for the first wanted answer (up to the timeout), then a short while for the other route;
        with nothing wanted, waits the quiet period."""
        target = hadd or self.h
        reply_topic = self.t.node_reply(self.s.reply_hadd)
        values_topic = self.value_topic(genre, uuid, target) if genre in (1, 2, 3, 4, 5) else None

        def ours(s: Seen) -> bool:
            if not isinstance(s.body, dict):
                return False
            got = s.body.get(CORRELATION_KEY)
            if cid is not None and got is not None:
                return bool(got == cid)
            # Peers that drop the key: the original's matching by uuid, hadd and our reply_hadd.
            return (
                s.body.get("uuid") == uuid
                and s.body.get("reply_hadd") == self.me
                and s.body.get("hadd") in (target, None)
            )

        def on_reply(s: Seen) -> bool:
            return s.topic == reply_topic and ours(s)

        def on_values(s: Seen) -> bool:
            return s.topic == values_topic and ours(s)

        if want_reply or want_values:
            first = self.s.wait_for(
                lambda s: (want_reply and on_reply(s)) or (want_values and on_values(s)), self.o.timeout, mark
            )
            # The other route follows at once when there is one; nothing came: the timeout was the wait.
            settle = min(0.3, self.o.timeout) if first is not None else 0.0
        else:
            settle = self.o.quiet
        if settle:
            self.s.wait_for(lambda s: False, settle, mark)
        replies = self.s.matching(on_reply, mark)
        vals = self.s.matching(on_values, mark)
        return (replies[0] if replies else None), (vals[0] if vals else None)

    def get(self, v: Value, index: int | None = None) -> tuple[Seen | None, Seen | None, str]:
        cid = self.cid()
        _, mark = self.request(v.uuid, v.genre, self.class_for(v), index=index, cid=cid, hadd=v.hadd)
        config_like = v.genre in (3, 4)
        rep, val = self.answers(
            v.uuid, v.genre, cid, mark, want_reply=not config_like, want_values=config_like, hadd=v.hadd
        )
        return rep, val, cid

    def set(self, v: Value, data: Any, index: int | None = None) -> tuple[Seen | None, Seen | None, str]:
        cid = self.cid()
        _, mark = self.request(
            v.uuid, v.genre, self.class_for(v), data=data, is_set=True, index=index, cid=cid, hadd=v.hadd
        )
        config_like = v.genre in (3, 4)
        rep, val = self.answers(
            v.uuid, v.genre, cid, mark, want_reply=True, want_values=config_like, hadd=v.hadd
        )
        return rep, val, cid

    @staticmethod
    def class_for(v: Value) -> int:
        return COMMAND_CONFIGURATION if v.genre in (3, 4) else v.cmd_class

    def read(self, v: Value, index: int | None = None) -> tuple[bool, Any]:
        """(answered, data) of a GET."""
        rep, val, _ = self.get(v, index)
        ans = rep or val
        if ans is None or not isinstance(ans.body, dict) or ans.body.get("error"):
            return False, None
        return True, ans.body.get("data")

    def restore(self, v: Value, original: Any, index: int | None = None) -> None:
        """Write `original` back and read it again; a failure is a note and makes the run fail."""
        self.set(v, original, index)
        ok, now = self.read(v, index)
        if not ok or not same(now, original):
            self.restore_failed = True
            self.notes.append(
                clip(
                    f"could not restore {v.hadd} {v.uuid}"
                    + (f"[{index}]" if index is not None else "")
                    + f": it was {original!r}, it is now {now!r}; set it back by hand"
                )
            )

    def pick(self, pred: Callable[[Value], bool], hadd: str | None = None) -> Value | None:
        for v in self.values.get(hadd or self.h, {}).values():
            if pred(v):
                return v
        return None

    def expect_refusal(
        self, aid: str, what: str, rep: Seen | None, val: Seen | None, cid: str, uuid: str
    ) -> bool:
        """An error reply on /nodes/<reply_hadd>/reply, nothing on /values/...; returns whether it refused."""
        if val is not None and (val.get("error") or val.get(CORRELATION_KEY) == cid):
            bad = "an error" if val.get("error") else "an acknowledgement"
            if val.get("error"):
                self.r.record("JNT-REF-05", False, f"{what}: {bad} was published on {clip(val.topic, 120)}")
            else:
                self.r.record(aid, False, f"{what} was accepted (acknowledged on /values/...)")
                return False
        if rep is None:
            self.r.record(aid, False, f"{what}: no error reply within {self.o.timeout:g} s (silent refusal?)")
            return False
        b = rep.body if isinstance(rep.body, dict) else {}
        err = b.get("error")
        if not isinstance(err, str) or not err:
            self.r.record(aid, False, f"{what} was accepted: the reply has no error")
            return False
        problems = [
            f"{k}={b.get(k)!r}"
            for k, want in (("uuid", uuid), ("hadd", self.h), (CORRELATION_KEY, cid))
            if b.get(k) != want
        ]
        self.r.record(
            aid, not problems, f"{what}: error reply " + (", ".join(problems) if problems else f"{err!r}")
        )
        return True

    def judge_config_answer(
        self, aid: str, v: Value, val: Seen | None, rep: Seen | None, cid: str, is_set: bool, data: Any = None
    ) -> None:
        what = f"{'SET' if is_set else 'GET'} of {Genre(v.genre).topic_word} value {v.uuid}"
        if val is None:
            extra = " (it answered on /nodes/<reply_hadd>/reply only)" if rep is not None else ""
            self.r.record(
                aid, False, f"no answer to the {what} on /values/... within {self.o.timeout:g} s{extra}"
            )
            return
        b = val.body
        if not isinstance(b, dict):
            self.r.record(aid, False, f"{what}: answer is not a JSON object: {excerpt(val)}")
            return
        problems = []
        if b.get("error"):
            problems.append(f"refused: {b.get('error')!r}")
        for k, want in (
            ("uuid", v.uuid),
            ("hadd", v.hadd),
            ("genre", v.genre),
            ("cmd_class", COMMAND_CONFIGURATION),
            ("is_writeonly", False),
            ("is_readonly", True),
        ):
            if b.get(k) != want:
                problems.append(f"{k}={b.get(k)!r}")
        for k in ("data", "label", "help"):
            if k not in b:
                problems.append(f"no {k}")
        if is_set and "data" in b and not same(b.get("data"), data):
            problems.append(f"data {b.get('data')!r} instead of {data!r}")
        self.r.record(
            aid, not problems, f"{what}: " + ", ".join(problems) if problems else f"{what} answered"
        )
        self.r.record(
            "JNT-VAL-03",
            b.get(CORRELATION_KEY) == cid,
            f"{what}: no jnt_cid in the answer",
            passed="jnt_cid echoed",
        )

    def judge_user_answer(
        self,
        aid: str,
        v: Value,
        rep: Seen | None,
        val: Seen | None,
        cid: str,
        is_set: bool = False,
        data: Any = None,
    ) -> None:
        what = f"{'SET' if is_set else 'GET'} of {Genre(v.genre).topic_word} value {v.uuid}"
        missing = [r for r, s in (("/nodes/<reply_hadd>/reply", rep), ("/values/...", val)) if s is None]
        if missing:
            self.r.record(
                aid, False, f"{what}: no answer on {' nor '.join(missing)} within {self.o.timeout:g} s"
            )
            return
        problems = []
        for s in (rep, val):
            b = s.body if s is not None else None
            if not isinstance(b, dict):
                problems.append(f"answer is not a JSON object: {excerpt(s)}" if s else "no answer")
                continue
            if b.get("error"):
                problems.append(f"refused: {b.get('error')!r}")
            lacks = [k for k in VALUE_KEYS if k not in b]
            if lacks:
                problems.append(f"not a full value dict (no {', '.join(lacks)})")
            for k, want in (
                ("uuid", v.uuid),
                ("hadd", v.hadd),
                ("genre", v.genre),
                ("is_writeonly", False),
                ("is_readonly", True),
            ):
                if b.get(k) != want:
                    problems.append(f"{k}={b.get(k)!r}")
            if is_set and not same(b.get("data"), data):
                problems.append(f"data {b.get('data')!r} instead of {data!r}")
        self.r.record(
            aid,
            not problems,
            f"{what}: " + "; ".join(dict.fromkeys(problems))
            if problems
            else f"{what} answered on both routes",
        )
        self.r.record(
            "JNT-VAL-03",
            all(s is not None and s.get(CORRELATION_KEY) == cid for s in (rep, val)),
            f"{what}: no jnt_cid in the answer",
            passed="jnt_cid echoed",
        )

    def unchanged(self, aid: str, v: Value, original: Any) -> None:
        ok, now = self.read(v)
        if ok and not same(now, original):
            self.r.record(aid, False, f"refused, but {v.uuid} changed from {original!r} to {now!r}")
            self.restore(v, original)


# ---------------------------------------------------------------------------------------------- helpers


def parse_word(payload: bytes) -> str | None:
    """The heartbeat's bare state word, or None when the payload is not one (JSON, binary, spaces)."""
    try:
        text = payload.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not text or not text.isalpha() and not text.replace("_", "").isalpha() or not text.isupper():
        return None
    return text


def same(a: Any, b: Any) -> bool:
    """Equal data, as a node's config file may turn numbers into text and back."""
    if a == b and type(a) is type(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    try:
        return float(a) == float(b)
    except (TypeError, ValueError, OverflowError):
        return a == b or (a is not None and b is not None and str(a) == str(b))


def hadd_of(text: Any) -> Hadd | None:
    """The hadd a node's answer names, or None when it names none or garbage."""
    try:
        return Hadd.parse(text) if isinstance(text, str) else None
    except (ProtocolError, ValueError, OverflowError):
        return None


def named(uuid: str, genre: int) -> Callable[[Value], bool]:
    return lambda v: v.uuid == uuid and v.genre == genre


def about(uuid: str, cid: str) -> Callable[[Seen], bool]:
    """Any answer naming this uuid or carrying this correlation id."""
    return lambda s: s.get("uuid") == uuid or s.get(CORRELATION_KEY) == cid


def first(problems: Iterable[str], ok: str) -> str:
    items = list(problems)
    if not items:
        return ok
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    return clip(items[0], 240) + more


def excerpt(s: Seen | None) -> str:
    if s is None:
        return "nothing"
    return clip(repr(s.payload[:120]) + ("..." if len(s.payload) > 120 else ""), 160)
