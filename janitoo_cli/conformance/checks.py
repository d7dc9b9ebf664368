"""The probes of `jnt check`: discovery, GET/SET, refusals, hostile input, heartbeats, controller duties.

Every wait is bounded; every SET is undone (the original data written back and read again); with
`read_only` no SET is sent at all. Replies are judged on their raw JSON: a node's reply is hostile input.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from janitoo_protocol import COMMAND_CONFIGURATION, COMMAND_DISCOVERY, NETWORK_REQUESTS, Genre, Hadd

from .results import Recorder, Report, clip
from .session import Seen, Session

CORRELATION_KEY = "jnt_cid"
NETWORK_CONTROLLER_CLASS = 0x1051
HEARTBEAT_WORDS = frozenset({"ONLINE", "OFFLINE", "FAILED", "BOOT", "SYSTEM", "CONFIG", "INIT"})
NODE_KEYS = ("uuid", "hadd", "name", "location", "product_name", "product_type", "capabilities",
             "cmd_classes", "heartbeat", "config_timeout", "state")  # fmt: skip
VALUE_KEYS = ("uuid", "hadd", "genre", "type", "cmd_class", "index", "data", "label", "help",
              "is_readonly", "is_writeonly")  # fmt: skip
INDEXED_KINDS = {"request_info_users", "request_info_configs", "request_info_basics"}
KIND_GENRE = {"request_info_users": 2, "request_info_configs": 3, "request_info_systems": 4,
              "request_info_basics": 1, "request_info_commands": 5}  # fmt: skip
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


class Checker:
    """Runs every check against one node through a started Session and returns the Report."""

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

    # ------------------------------------------------------------------ plumbing

    def cid(self) -> str:
        self._n += 1
        return f"jntchk-{self._tag}-{self._n}"

    def value_topic(self, genre: int, uuid: str, hadd: str | None = None) -> str:
        return self.t.values(Genre(genre), Hadd.parse(hadd or self.h), uuid)

    def request(self, uuid: str, genre: int, cmd_class: int, *, data: Any = None, is_set: bool = False,
                index: int | None = None, cid: str | None = None, extra: dict[str, Any] | None = None,
                hadd: str | None = None) -> tuple[str | None, int]:  # fmt: skip
        """Send a GET or SET; returns its correlation id and the record position before it."""
        target = hadd or self.h
        body: dict[str, Any] = {"cmd_class": cmd_class, "uuid": uuid, "data": data, "reply_hadd": self.me,
                                "genre": genre, "is_writeonly": is_set, "is_readonly": not is_set,
                                "hadd": target}  # fmt: skip
        if index is not None:
            body["index"] = index
        if cid is not None:
            body[CORRELATION_KEY] = cid
        body.update(extra or {})
        mark = self.s.mark()
        self.s.send(self.t.node_request(Hadd.parse(target)), body)
        return cid, mark

    def answers(self, uuid: str, genre: int, cid: str | None, mark: int, *, want_reply: bool,
                want_values: bool, hadd: str | None = None) -> tuple[Seen | None, Seen | None]:  # fmt: skip
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
                return got == cid
            # Peers that drop the key: the original's matching by uuid, hadd and our reply_hadd.
            return s.body.get("uuid") == uuid and s.body.get("reply_hadd") == self.me and \
                s.body.get("hadd") in (target, None)  # fmt: skip

        def on_reply(s: Seen) -> bool:
            return s.topic == reply_topic and ours(s)

        def on_values(s: Seen) -> bool:
            return s.topic == values_topic and ours(s)

        if want_reply or want_values:
            first = self.s.wait_for(lambda s: (want_reply and on_reply(s)) or (want_values and on_values(s)),
                                    self.o.timeout, mark)  # fmt: skip
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
        rep, val = self.answers(v.uuid, v.genre, cid, mark, want_reply=not config_like,
                                want_values=config_like, hadd=v.hadd)  # fmt: skip
        return rep, val, cid

    def set(self, v: Value, data: Any, index: int | None = None) -> tuple[Seen | None, Seen | None, str]:
        cid = self.cid()
        _, mark = self.request(v.uuid, v.genre, self.class_for(v), data=data, is_set=True, index=index,
                               cid=cid, hadd=v.hadd)  # fmt: skip
        config_like = v.genre in (3, 4)
        rep, val = self.answers(v.uuid, v.genre, cid, mark, want_reply=True, want_values=config_like,
                                hadd=v.hadd)  # fmt: skip
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
            self.notes.append(clip(f"could not restore {v.hadd} {v.uuid}" +
                                   (f"[{index}]" if index is not None else "") +
                                   f": it was {original!r}, it is now {now!r}; set it back by hand"))  # fmt: skip

    # ------------------------------------------------------------------ the run

    def run(self) -> Report:
        self.check_discovery()
        self.check_broadcast()
        self.check_values()
        self.check_refusals()
        self.check_hostile()
        if self.o.read_only:
            for a in (
                "JNT-SET-01",
                "JNT-SET-02",
                "JNT-SET-03",
                "JNT-REF-02",
                "JNT-REF-03",
                "JNT-SAFE-02",
                "JNT-SAFE-03",
                "JNT-SAFE-04",
                "JNT-SAFE-07",
            ):
                self.r.record(a, None, "skipped: --read-only")
        else:
            self.check_sets()
        self.check_index()
        self.check_controller()
        self.observe()
        self.check_passive()
        if self.o.until_offline > 0:
            self.check_offline()
        else:
            self.r.record("JNT-HB-07", None, "needs --until-offline SECONDS (stop the node meanwhile)")
            self.r.record("JNT-LW-01", None, "needs --until-offline SECONDS (kill the node meanwhile)")
        report = Report(self.h, self.s.client.broker, self.r.results(), self.notes, self.restore_failed)
        if self.s.dropped:
            report.notes.append(f"{self.s.dropped} messages were not recorded (more than the checker keeps)")
        if self.s.client.oversized:
            report.notes.append(f"{self.s.client.oversized} oversized payloads were dropped unread")
        return report

    # ------------------------------------------------------------------ discovery

    def check_discovery(self) -> None:
        reply_topic = self.t.node_reply(self.s.reply_hadd)
        cids = {kind: self.cid() for kind in NETWORK_REQUESTS}
        mark = self.s.mark()
        for kind in NETWORK_REQUESTS:
            body = {"cmd_class": COMMAND_DISCOVERY, "genre": 4, "uuid": kind, "reply_hadd": self.me,
                    CORRELATION_KEY: cids[kind]}  # fmt: skip
            self.s.send(self.t.node_request(self.hadd), body)

        def answered(kind: str) -> Callable[[Seen], bool]:
            return lambda s: s.topic == reply_topic and s.get("uuid") == kind and \
                s.get(CORRELATION_KEY) in (cids[kind], None) and s.get("cmd_class") == COMMAND_DISCOVERY  # fmt: skip

        deadline = self.s.clock() + self.o.timeout
        self.s.wait_until(lambda: all(self.s.matching(answered(k), mark) for k in NETWORK_REQUESTS), deadline)
        for kind in NETWORK_REQUESTS:
            got = self.s.matching(answered(kind), mark)
            if got:
                self.replies[kind] = got[0]
        missing = [k for k in NETWORK_REQUESTS if k not in self.replies]
        self.r.record("JNT-DISC-01", not missing,
                      f"no reply to {', '.join(missing)} within {self.o.timeout:g} s" if missing
                      else "six replies on /nodes/<reply_hadd>/reply")  # fmt: skip
        for kind, seen in self.replies.items():
            self.check_envelope(kind, seen, "JNT-DISC-02")
            cid = seen.get(CORRELATION_KEY)
            self.r.record(
                "JNT-DISC-08", cid == cids[kind], f"{kind} reply without our jnt_cid", passed="jnt_cid echoed"
            )
        self.read_nodes()
        self.read_values()
        self.check_required()

    def check_envelope(self, kind: str, seen: Seen, aid: str) -> None:
        b = seen.body
        if not isinstance(b, dict):
            self.r.record(aid, False, f"{kind} reply is not a JSON object: {excerpt(seen)}")
            return
        wrong = [k for k, want in (("cmd_class", COMMAND_DISCOVERY), ("genre", 4), ("uuid", kind),
                                   ("reply_hadd", self.me)) if b.get(k) != want or isinstance(b.get(k), bool)]  # fmt: skip
        if wrong:
            self.r.record(aid, False, f"{kind} reply: {', '.join(f'{k}={b.get(k)!r}' for k in wrong)}")
        elif not isinstance(b.get("data"), dict):
            self.r.record(aid, False, f"{kind} reply: data is {type(b.get('data')).__name__}, not an object")
        else:
            self.r.record(aid, True, "request echoed with data")

    def read_nodes(self) -> None:
        seen = self.replies.get("request_info_nodes")
        if seen is None or not isinstance(seen.get("data"), dict):
            self.r.record(
                "JNT-DISC-03", False if seen is not None else None, "no usable request_info_nodes data"
            )
            return
        data = seen.get("data")
        if isinstance(data.get("uuid"), str) and "hadd" in data:
            self.r.record("JNT-DISC-03", False, "data is one bare node dict, not nodes keyed by uuid")
            data = {data["uuid"]: data}
        problems = []
        for key, node in list(data.items())[:1000]:
            if not isinstance(node, dict):
                problems.append(f"{key!r} is not a node dict")
                continue
            if node.get("uuid") != key:
                problems.append(f"key {key!r} is not its node's uuid {node.get('uuid')!r}")
            missing = [k for k in NODE_KEYS if k not in node]
            if missing:
                problems.append(f"node {key!r} lacks {', '.join(missing)}")
            h = node.get("hadd")
            if isinstance(h, str):
                self.nodes[h] = node
        if self.h not in self.nodes:
            problems.append(f"the addressed node {self.h} is not among the nodes")
        self.r.record(
            "JNT-DISC-03", not problems, "; ".join(problems) or f"{len(self.nodes)} nodes keyed by uuid"
        )
        node = self.nodes.get(self.h, {})
        p = node.get("heartbeat")
        if isinstance(p, int | float) and not isinstance(p, bool) and math.isfinite(p) and p > 0:
            self.period = float(p)
        cc = node.get("cmd_classes")
        if isinstance(cc, list) and NETWORK_CONTROLLER_CLASS in cc:
            self.role = "unknown"

    def read_values(self) -> None:
        shape_problems: list[str] = []
        key_problems: list[str] = []
        int_problems: list[str] = []
        for kind, genre in KIND_GENRE.items():
            seen = self.replies.get(kind)
            if seen is None or not isinstance(seen.get("data"), dict):
                continue
            for hadd, per_node in list(seen.get("data").items())[:1000]:
                if not isinstance(per_node, dict):
                    shape_problems.append(f"{kind} {hadd!r}: not an object")
                    continue
                for uuid, item in list(per_node.items())[:5000]:
                    if not isinstance(item, dict):
                        shape_problems.append(f"{kind} {hadd}/{uuid}: not an object")
                        continue
                    flat = isinstance(item.get("uuid"), str)
                    if kind in INDEXED_KINDS and flat:
                        shape_problems.append(f"{kind} is 2-level ({hadd}/{uuid} has no index level)")
                        entries = {str(item.get("index", 0)): item}
                    elif kind not in INDEXED_KINDS and not flat:
                        shape_problems.append(f"{kind} is 3-level ({hadd}/{uuid})")
                        entries = {k: e for k, e in item.items() if isinstance(e, dict)}
                    else:
                        entries = {str(item.get("index", 0)): item} if flat else item
                    for idx, v in list(entries.items())[:256]:
                        if not isinstance(v, dict):
                            shape_problems.append(f"{kind} {hadd}/{uuid}/{idx}: not an object")
                            continue
                        missing = [k for k in VALUE_KEYS if k not in v]
                        if missing:
                            key_problems.append(f"{hadd} {uuid}: no {', '.join(missing)}")
                        if (
                            v.get("hadd") != hadd
                            or v.get("uuid") != uuid
                            or str(v.get("index", 0)) != str(idx)
                        ):
                            shape_problems.append(f"{kind} keys {hadd}/{uuid}/{idx} disagree with the value's "
                                                  f"hadd {v.get('hadd')!r}, uuid {v.get('uuid')!r}, "
                                                  f"index {v.get('index')!r}")  # fmt: skip
                        if v.get("genre") != genre:
                            shape_problems.append(f"{kind} {hadd}/{uuid} has genre {v.get('genre')!r}")
                        for k in ("genre", "type", "cmd_class", "index"):
                            x = v.get(k)
                            if k in v and (not isinstance(x, int) or isinstance(x, bool)):
                                int_problems.append(f"{hadd} {uuid} {k}={x!r}")
                        try:
                            i = int(idx)
                        except ValueError:
                            continue
                        store = self.values.setdefault(str(hadd), {})
                        if uuid not in store:
                            store[uuid] = Value(str(hadd), str(uuid), genre, v, {})
                        store[uuid].indexes[i] = v
                        if i == 0:
                            store[uuid].raw = v
        if any(k in self.replies for k in KIND_GENRE):
            self.r.record(
                "JNT-DISC-04", not shape_problems, first(shape_problems, "every genre in its layout")
            )
            self.r.record("JNT-DISC-05", not key_problems, first(key_problems, "every value dict complete"))
            self.r.record(
                "JNT-WIRE-03", not int_problems, first(int_problems, "integers where integers belong")
            )

    def check_required(self) -> None:
        if "request_info_systems" not in self.replies or "request_info_configs" not in self.replies:
            return
        sys_problems: list[str] = []
        conf_problems: list[str] = []
        agree: list[str] = []
        hb_problems: list[str] = []
        for hadd in sorted(self.nodes) or [self.h]:
            vals = self.values.get(hadd, {})
            for uuid, vtype in (("heartbeat", 4), ("hadd", 32), ("config_timeout", 4)):
                v = vals.get(uuid)
                if v is None or v.genre != 4:
                    sys_problems.append(f"{hadd} has no system value {uuid}")
                elif v.type != vtype or v.cmd_class != COMMAND_CONFIGURATION:
                    sys_problems.append(
                        f"{hadd} {uuid}: type {v.raw.get('type')!r}, cmd_class {v.raw.get('cmd_class')!r}"
                    )
            for uuid in ("name", "location"):
                v = vals.get(uuid)
                if v is None or v.genre != 3:
                    conf_problems.append(f"{hadd} has no config value {uuid}")
                elif v.type != 8 or v.cmd_class != COMMAND_CONFIGURATION:
                    conf_problems.append(
                        f"{hadd} {uuid}: type {v.raw.get('type')!r}, cmd_class {v.raw.get('cmd_class')!r}"
                    )
            if "hadd" in vals and vals["hadd"].raw.get("data") != hadd:
                agree.append(f"{hadd}: hadd value holds {vals['hadd'].raw.get('data')!r}")
            node = self.nodes.get(hadd)
            if (
                "heartbeat" in vals
                and node is not None
                and not same(vals["heartbeat"].raw.get("data"), node.get("heartbeat"))
            ):
                agree.append(
                    f"{hadd}: heartbeat value {vals['heartbeat'].raw.get('data')!r}, node dict {node.get('heartbeat')!r}"
                )
            hb = vals.get("heartbeat")
            if hb is not None:
                mn, data = hb.raw.get("min"), hb.raw.get("data")
                if not isinstance(mn, int | float) or isinstance(mn, bool) or mn < 1:
                    hb_problems.append(f"{hadd}: heartbeat min is {mn!r}")
                if not isinstance(data, int | float) or isinstance(data, bool) or not 1 <= data <= 3000:
                    hb_problems.append(f"{hadd}: heartbeat is {data!r}")
        self.r.record(
            "JNT-SYS-01",
            not sys_problems,
            first(sys_problems, "heartbeat, hadd, config_timeout on every node"),
        )
        self.r.record(
            "JNT-SYS-02", not conf_problems, first(conf_problems, "name and location on every node")
        )
        self.r.record("JNT-SYS-03", not agree, first(agree, "hadd and heartbeat values agree with the nodes"))
        if hb_problems or any("heartbeat" in self.values.get(h, {}) for h in self.nodes):
            self.r.record("JNT-HB-04", not hb_problems, first(hb_problems, "periods within 1..3000 s, min 1"))
        poll_problems = []
        for hadd, vals in self.values.items():
            for uuid, v in vals.items():
                if v.raw.get("is_polled") is True and v.genre != 3:
                    comp = vals.get(f"{uuid}_poll")
                    if (
                        comp is None
                        or comp.genre != 3
                        or comp.type != 4
                        or comp.cmd_class != COMMAND_CONFIGURATION
                    ):
                        poll_problems.append(f"{hadd} {uuid} is polled but has no {uuid}_poll config value")
        self.r.record(
            "JNT-POLL-01", not poll_problems, first(poll_problems, "every polled value has its _poll")
        )

    def check_broadcast(self) -> None:
        cid = self.cid()
        topic = self.t.broadcast_reply(self.s.reply_hadd)
        mark = self.s.mark()
        self.s.send(self.t.broadcast_request(), {"cmd_class": COMMAND_DISCOVERY, "genre": 4,
                                                 "uuid": "request_info_nodes", "reply_hadd": self.me,
                                                 CORRELATION_KEY: cid})  # fmt: skip

        def mine(s: Seen) -> bool:
            data = s.get("data")
            if s.topic != topic or s.get("uuid") != "request_info_nodes" or not isinstance(data, dict):
                return False
            if isinstance(data.get("hadd"), str):
                return bool(data.get("hadd") == self.h)
            return any(isinstance(n, dict) and n.get("hadd") == self.h for n in data.values())

        got = self.s.wait_for(mine, self.o.timeout, mark)
        if got is None:
            self.r.record(
                "JNT-DISC-06", False, f"no answer on /broadcast/reply/{self.me} within {self.o.timeout:g} s"
            )
            return
        self.s.wait_for(lambda s: False, min(0.3, self.o.timeout), mark)
        n = len(self.s.matching(mine, mark))
        self.r.record(
            "JNT-DISC-06",
            n == 1,
            f"{n} broadcast answers from this controller" if n != 1 else "answered once",
        )

    # ------------------------------------------------------------------ GET

    def pick(self, pred: Callable[[Value], bool], hadd: str | None = None) -> Value | None:
        for v in self.values.get(hadd or self.h, {}).values():
            if pred(v):
                return v
        return None

    def check_values(self) -> None:
        for genre, uuid in ((3, "location"), (4, "heartbeat")):
            v = self.pick(named(uuid, genre)) or Value(
                self.h, uuid, genre, {"cmd_class": COMMAND_CONFIGURATION}, {}
            )
            rep, val, cid = self.get(v)
            self.judge_config_answer("JNT-VAL-01", v, val, rep, cid, is_set=False)
        user = self.pick(lambda x: x.genre in USER_GENRES and not x.writable) or \
            self.pick(lambda x: x.genre in USER_GENRES)  # fmt: skip
        if user is None:
            self.r.record("JNT-VAL-02", None, f"{self.h} has no basic, user or command value")
            return
        rep, val, cid = self.get(user)
        self.judge_user_answer("JNT-VAL-02", user, rep, val, cid)

    def judge_config_answer(self, aid: str, v: Value, val: Seen | None, rep: Seen | None, cid: str,
                            is_set: bool, data: Any = None) -> None:  # fmt: skip
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
        for k, want in (("uuid", v.uuid), ("hadd", v.hadd), ("genre", v.genre), ("cmd_class", COMMAND_CONFIGURATION),
                        ("is_writeonly", False), ("is_readonly", True)):  # fmt: skip
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

    def judge_user_answer(self, aid: str, v: Value, rep: Seen | None, val: Seen | None, cid: str,
                          is_set: bool = False, data: Any = None) -> None:  # fmt: skip
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
            for k, want in (("uuid", v.uuid), ("hadd", v.hadd), ("genre", v.genre), ("is_writeonly", False),
                            ("is_readonly", True)):  # fmt: skip
                if b.get(k) != want:
                    problems.append(f"{k}={b.get(k)!r}")
            if is_set and not same(b.get("data"), data):
                problems.append(f"data {b.get('data')!r} instead of {data!r}")
        self.r.record(aid, not problems, f"{what}: " + "; ".join(dict.fromkeys(problems)) if problems
                      else f"{what} answered on both routes")  # fmt: skip
        self.r.record("JNT-VAL-03", all(s is not None and s.get(CORRELATION_KEY) == cid for s in (rep, val)),
                      f"{what}: no jnt_cid in the answer", passed="jnt_cid echoed")  # fmt: skip

    # ------------------------------------------------------------------ refusals

    def expect_refusal(self, aid: str, what: str, rep: Seen | None, val: Seen | None, cid: str,
                       uuid: str) -> bool:  # fmt: skip
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
        problems = [f"{k}={b.get(k)!r}" for k, want in (("uuid", uuid), ("hadd", self.h), (CORRELATION_KEY, cid))
                    if b.get(k) != want]  # fmt: skip
        self.r.record(
            aid, not problems, f"{what}: error reply " + (", ".join(problems) if problems else f"{err!r}")
        )
        return True

    def check_refusals(self) -> None:
        ghost = Value(self.h, "jnt_check_no_such_value", 3, {"cmd_class": COMMAND_CONFIGURATION}, {})
        cid = self.cid()
        _, mark = self.request(ghost.uuid, 3, COMMAND_CONFIGURATION, cid=cid)
        rep, val = self.answers(ghost.uuid, 3, cid, mark, want_reply=True, want_values=False)
        self.expect_refusal("JNT-REF-01", f"GET of the unknown value {ghost.uuid}", rep, val, cid, ghost.uuid)
        user = self.pick(lambda x: x.genre in USER_GENRES)
        if user is None:
            self.r.record("JNT-REF-04", None, f"{self.h} has no basic, user or command value")
        else:
            wrong = 49 if user.cmd_class != 49 else 48
            cid = self.cid()
            _, mark = self.request(user.uuid, user.genre, wrong, cid=cid)
            rep, val = self.answers(user.uuid, user.genre, cid, mark, want_reply=True, want_values=False)
            self.expect_refusal(
                "JNT-REF-04", f"GET of {user.uuid} with cmd_class {wrong}", rep, val, cid, user.uuid
            )
        self.r.record("JNT-REF-05", True, "no refusal on /values/...")

    def check_hostile(self) -> None:
        # Unknown discovery kind, oversized and broken uuids: no answer at all.
        cid = self.cid()
        mark = self.s.mark()
        self.s.send(self.t.node_request(self.hadd), {"cmd_class": COMMAND_DISCOVERY, "genre": 4,
                                                     "uuid": "request_info_jnt_check", "reply_hadd": self.me,
                                                     CORRELATION_KEY: cid})  # fmt: skip
        got = self.s.wait_for(lambda s: s.get(CORRELATION_KEY) == cid or s.get("uuid") == "request_info_jnt_check",
                              self.o.quiet, mark)  # fmt: skip
        self.r.record(
            "JNT-DISC-07",
            got is None,
            "answered a discovery request of an unknown kind",
            passed="no answer to an unknown kind",
        )
        for uuid in ("j" * 200, "jnt\ncheck"):
            cid = self.cid()
            _, mark = self.request(uuid, 3, COMMAND_CONFIGURATION, cid=cid)
            got = self.s.wait_for(about(uuid, cid), self.o.quiet, mark)
            self.r.record(
                "JNT-SAFE-05",
                got is None,
                f"answered a request for the uuid {uuid[:20]!r}...",
                passed="no answer to oversized or broken uuids",
            )
        # Unknown keys and an overlong correlation id are not echoed.
        loc = Value(self.h, "location", 3, {"cmd_class": COMMAND_CONFIGURATION}, {})
        cid = self.cid()
        _, mark = self.request(
            "location", 3, COMMAND_CONFIGURATION, cid=cid, extra={"jnt_check_pad": "x" * 64}
        )
        _, val = self.answers("location", 3, cid, mark, want_reply=False, want_values=True)
        if val is None:
            self.r.record("JNT-SAFE-01", None, "no answer to a GET of location")
        else:
            self.r.record(
                "JNT-SAFE-01",
                "jnt_check_pad" not in (val.body or {}),
                "an unknown request key was echoed",
                passed="unknown keys and a long jnt_cid not echoed",
            )
        long_cid = "c" * 100
        _, mark = self.request("location", 3, COMMAND_CONFIGURATION, cid=long_cid)
        _, val = self.answers("location", 3, None, mark, want_reply=False, want_values=True)
        if val is not None:
            self.r.record(
                "JNT-SAFE-01",
                val.get(CORRELATION_KEY) != long_cid,
                "a 100-character jnt_cid was echoed",
                passed="unknown keys and a long jnt_cid not echoed",
            )
        # Broken payloads; then the node must still answer.
        topic = self.t.node_request(self.hadd)
        base = {"cmd_class": COMMAND_CONFIGURATION, "uuid": "location", "genre": 3, "hadd": self.h,
                "reply_hadd": self.me}  # fmt: skip
        for payload in (b"{not json", b"[1, 2, 3]", b"\xff\xfe", b"[" * 5000,
                        {**base, "is_readonly": 5}, {**base, "genre": "x"}, {**base, "uuid": {"a": 1}},
                        {**base, "pad": "x" * 70000}):  # fmt: skip
            self.s.send(topic, payload)
        ok, _ = self.read(loc)
        if not ok:
            ok, _ = self.read(loc)  # one more chance: a rate limit may have dropped the first
        self.r.record("JNT-SAFE-06", ok, "no answer to a GET after hostile requests" if not ok
                      else "still answering after hostile requests")  # fmt: skip

    # ------------------------------------------------------------------ SET

    def check_sets(self) -> None:
        loc = self.pick(lambda x: x.uuid == "location" and x.genre == 3)
        if loc is None:
            for a in ("JNT-SET-01", "JNT-SAFE-02"):
                self.r.record(a, None, f"{self.h} has no config value location")
        else:
            ok, original = self.read(loc)
            if not ok:
                self.r.record("JNT-SET-01", False, "no answer to a GET of location")
            else:
                new = f"jnt-check {self._tag}"
                rep, val, cid = self.set(loc, new)
                self.judge_config_answer("JNT-SET-01", loc, val, rep, cid, is_set=True, data=new)
                ok2, now = self.read(loc)
                if ok2 and not same(now, new):
                    self.r.record("JNT-SET-01", False, f"a GET after the SET returned {now!r}")
                self.restore(loc, original)
                rep, val, cid = self.set(loc, "jnt-check\x07bell")
                if not self.expect_refusal("JNT-SAFE-02", "SET of location to a text with a control character",
                                           rep, val, cid, "location"):  # fmt: skip
                    self.restore(loc, original)
                else:
                    self.unchanged("JNT-SAFE-02", loc, original)
        hb = self.pick(lambda x: x.uuid == "heartbeat" and x.genre == 4)
        if hb is None:
            for a in ("JNT-SET-02", "JNT-REF-03", "JNT-SAFE-03"):
                self.r.record(a, None, f"{self.h} has no system value heartbeat")
        else:
            ok, original = self.read(hb)
            if ok:
                rep, val, cid = self.set(hb, original)
                self.judge_config_answer("JNT-SET-02", hb, val, rep, cid, is_set=True, data=original)
                for aid, bad, what in (("JNT-REF-03", "jnt-check", "SET of heartbeat to a text"),
                                       ("JNT-SAFE-03", 0, "SET of heartbeat to 0")):  # fmt: skip
                    rep, val, cid = self.set(hb, bad)
                    if self.expect_refusal(aid, what, rep, val, cid, "heartbeat"):
                        self.unchanged(aid, hb, original)
                    else:
                        self.restore(hb, original)
            else:
                self.r.record("JNT-SET-02", False, "no answer to a GET of heartbeat")
        poll = self.pick(lambda x: x.uuid.endswith("_poll") and x.genre == 3 and x.writable)
        if poll is None:
            self.r.record("JNT-SAFE-04", None, f"{self.h} has no writable poll delay")
        else:
            ok, original = self.read(poll)
            rep, val, cid = self.set(poll, 86401)
            if not self.expect_refusal(
                "JNT-SAFE-04", f"SET of {poll.uuid} to 86401 s", rep, val, cid, poll.uuid
            ):
                self.restore(poll, original)
        hv = self.pick(lambda x: x.uuid == "hadd" and x.genre == 4)
        if hv is not None:
            # Its own address: harmless even where it is accepted.
            rep, val, cid = self.set(hv, self.h)
            self.expect_refusal("JNT-SAFE-07", "SET of hadd (to its own address)", rep, val, cid, "hadd")
        ro = self.pick(lambda x: x.genre in USER_GENRES and not x.writable)
        if ro is None:
            self.r.record("JNT-REF-02", None, f"{self.h} has no read-only basic, user or command value")
        else:
            ok, current = self.read(ro)
            rep, val, cid = self.set(ro, current)
            self.expect_refusal("JNT-REF-02", f"SET of the read-only {ro.uuid} (to its current data)", rep, val,
                                cid, ro.uuid)  # fmt: skip
        rw = self.pick(lambda x: x.genre in USER_GENRES and x.writable and x.type in PLAIN_TYPES
                       and x.cmd_class not in ACTING_CLASSES)  # fmt: skip
        if rw is None:
            self.r.record(
                "JNT-SET-03",
                None,
                f"{self.h} has no writable basic, user or command value that is safe to write",
            )
        else:
            ok, current = self.read(rw)
            if not ok or current is None:
                self.r.record("JNT-SET-03", None, f"{rw.uuid} could not be read")
            else:
                # Written back unchanged: the write path is exercised, nothing moves.
                rep, val, cid = self.set(rw, current)
                self.judge_user_answer("JNT-SET-03", rw, rep, val, cid, is_set=True, data=current)

    def unchanged(self, aid: str, v: Value, original: Any) -> None:
        ok, now = self.read(v)
        if ok and not same(now, original):
            self.r.record(aid, False, f"refused, but {v.uuid} changed from {original!r} to {now!r}")
            self.restore(v, original)

    # ------------------------------------------------------------------ index

    def check_index(self) -> None:
        loc = self.pick(lambda x: x.uuid == "location" and x.genre == 3)
        if loc is not None:
            rep, val, cid = self.get(loc, index=99)
            self.expect_refusal("JNT-IDX-02", "GET of location index 99", rep, val, cid, "location")
        multi = self.pick(lambda x: len(x.indexes) > 1) or next(
            (v for vals in self.values.values() for v in vals.values() if len(v.indexes) > 1), None
        )
        if multi is None:
            self.r.record("JNT-IDX-01", None, "no multi-instance value on this controller")
            return
        k = max(multi.indexes)
        rep, val, cid = self.get(multi, index=k)
        ans = rep or val
        if ans is None:
            self.r.record("JNT-IDX-01", False, f"no answer to a GET of {multi.uuid} index {k}")
            return
        self.r.record(
            "JNT-IDX-01",
            ans.get("index") == k,
            f"GET of {multi.uuid} index {k} answered index {ans.get('index')!r}",
        )
        if self.o.read_only or not multi.writable or multi.type not in (8, 4, 2, 7):
            return
        ok0, d0 = self.read(multi, 0)
        okk, dk = self.read(multi, k)
        if not (ok0 and okk):
            return
        new: Any = f"jnt-check {self._tag}" if multi.type == 8 else self.other_number(multi, d0, dk)
        if new is None:
            return
        self.set(multi, new, index=k)
        _, now0 = self.read(multi, 0)
        _, nowk = self.read(multi, k)
        good = same(nowk, new) and same(now0, d0)
        self.r.record(
            "JNT-IDX-01", good, f"SET of {multi.uuid} index {k}: index 0 is {now0!r}, index {k} is {nowk!r}"
        )
        if not same(now0, d0):
            self.restore(multi, d0, 0)
        self.restore(multi, dk, k)

    @staticmethod
    def other_number(v: Value, *avoid: Any) -> int | None:
        mn, mx = v.raw.get("min"), v.raw.get("max")
        lo = mn if isinstance(mn, int) else 0
        hi = mx if isinstance(mx, int) else lo + 100
        for n in range(lo, min(hi, lo + 100) + 1):
            if not any(same(n, a) for a in avoid):
                return n
        return None

    # ------------------------------------------------------------------ network controllers

    def check_controller(self) -> None:
        nc = self.values.get(self.h, {}).get("network_controller")
        if self.role is None and nc is None:
            for a in ("JNT-CTL-01", "JNT-CTL-02", "JNT-CTL-03", "JNT-CTL-04", "JNT-CTL-05", "JNT-CTL-06"):
                self.r.record(a, None, f"{self.h} is not a network controller")
            return
        problems = []
        if nc is None or nc.genre != 4:
            problems.append("no network_controller system value")
        else:
            if nc.type != 5 or nc.cmd_class != NETWORK_CONTROLLER_CLASS:
                problems.append(
                    f"network_controller type {nc.raw.get('type')!r}, cmd_class {nc.raw.get('cmd_class')!r}"
                )
            if nc.raw.get("data") not in ("primary", "secondary"):
                problems.append(f"network_controller holds {nc.raw.get('data')!r}")
            else:
                self.role = nc.raw.get("data")
        cc = self.nodes.get(self.h, {}).get("cmd_classes")
        if not isinstance(cc, list) or NETWORK_CONTROLLER_CLASS not in cc:
            problems.append("4177 is not in the node's cmd_classes")
        self.r.record("JNT-CTL-01", not problems, first(problems, f"a network controller ({self.role})"))
        if self.role != "primary":
            for a in ("JNT-CTL-02", "JNT-CTL-03", "JNT-CTL-04", "JNT-CTL-05", "JNT-CTL-06"):
                self.r.record(a, None, f"{self.h} is not the primary")
            return
        self.check_resolv()

    def check_resolv(self) -> None:
        topic = self.t.resolv_reply(self.s.reply_hadd)
        cids = {kind: self.cid() for kind in NETWORK_REQUESTS}
        mark = self.s.mark()
        for kind in NETWORK_REQUESTS:
            self.s.send(self.t.resolv_request(), {"cmd_class": COMMAND_DISCOVERY, "genre": 4, "uuid": kind,
                                                  "reply_hadd": self.me, CORRELATION_KEY: cids[kind]})  # fmt: skip

        def of(kind: str) -> list[Seen]:
            return self.s.matching(lambda s: s.topic == topic and s.get("uuid") == kind, mark)

        def complete() -> bool:
            for kind in NETWORK_REQUESTS:
                got = of(kind)
                n = got[0].get("jnt_chunks") if got else None
                if not got or not isinstance(n, int) or len(got) < n:
                    return False
            return True

        self.s.wait_until(complete, self.s.clock() + self.o.timeout)
        problems: list[str] = []
        later: list[str] = []
        ext: list[str] = []
        for kind in NETWORK_REQUESTS:
            got = of(kind)
            sink = problems if kind in ("request_info_nodes", "request_info_systems") else later
            if not got:
                sink.append(f"no resolv answer to {kind}")
                continue
            for s in got:
                data = s.get("data")
                if not isinstance(data, dict):
                    sink.append(f"{kind}: data is not an object")
                    continue
                if len(data) > 10:
                    sink.append(f"{kind}: {len(data)} hadds in one message")
                if kind == "request_info_nodes":
                    bad = [k for k, n in data.items() if not isinstance(n, dict) or n.get("hadd") != k]
                    if bad:
                        sink.append(f"nodes not keyed by hadd ({clip(str(bad[0]), 40)})")
                if not isinstance(s.get("jnt_chunks"), int) or not isinstance(s.get("jnt_chunk"), int):
                    ext.append(f"{kind} answer without jnt_chunk/jnt_chunks")
        self.r.record("JNT-CTL-03", not problems, first(problems, "nodes and systems answered by resolv"))
        self.r.record("JNT-CTL-04", not later, first(later, "every genre answered by resolv"))
        if ext:
            self.r.record("JNT-CTL-05", False, ext[0])

    # ------------------------------------------------------------------ observation

    def heartbeats(self, hadd: str) -> list[Seen]:
        topic = self.t.heartbeat(Hadd.parse(hadd))
        return self.s.matching(lambda s: s.topic == topic)

    def node_period(self, hadd: str) -> float:
        p = self.nodes.get(hadd, {}).get("heartbeat")
        if isinstance(p, int | float) and not isinstance(p, bool) and math.isfinite(p) and p > 0:
            return float(p)
        return self.period

    def resolv_heartbeats(self) -> list[Seen]:
        topic = self.t.resolv_heartbeat()
        ctrl, node = self.hadd.controller, self.hadd.node

        def mine(s: Seen) -> bool:
            try:
                return s.topic == topic and int(s.get("add_ctrl")) == ctrl and int(s.get("add_node")) == node
            except (TypeError, ValueError):
                return False

        return self.s.matching(mine)

    def observe(self) -> None:
        """Wait (within --observe from the start) until every heartbeat question is decided."""
        hadds = sorted(self.nodes) or [self.h]
        deadline = self.start + self.o.observe

        def decided() -> bool:
            now = self.s.clock()
            for h in hadds:
                limit = SLACK * self.node_period(h) + JITTER
                hbs = self.heartbeats(h)
                last = hbs[-1].at if hbs else self.start
                need = 2 if h == self.h else 1
                if len(hbs) < need and now - last <= limit:
                    return False
            return not (
                self.role == "primary" and not self.resolv_heartbeats() and now - self.start <= 5 + JITTER
            )

        self.s.wait_until(decided, deadline)
        self.end = self.s.clock()

    def check_passive(self) -> None:
        end = self.end
        observed = end - self.start
        # JNT-HB-01/02/03/06 on the addressed node.
        hbs = self.heartbeats(self.h)
        limit = SLACK * self.period + JITTER
        words = [s.payload for s in hbs]
        if not hbs:
            if observed > limit:
                self.r.record(
                    "JNT-HB-01", False, f"no heartbeat on /dhcp/heartbeat/{self.h} in {observed:.1f} s"
                )
                self.r.record(
                    "JNT-HB-03", False, f"no heartbeat in {observed:.1f} s (period {self.period:g} s)"
                )
            else:
                need = f"{limit:.1f} s"
                for a in ("JNT-HB-01", "JNT-HB-02", "JNT-HB-03"):
                    self.r.record(a, None, f"observed {observed:.1f} s, need {need}: raise --observe")
        else:
            bad = [w for w in words if parse_word(w) is None]
            self.r.record(
                "JNT-HB-01",
                not bad,
                f"heartbeat payload {clip(repr(bad[0]), 80)} is not a bare word" if bad else "bare words",
            )
            unknown = [w for w in words if parse_word(w) is not None and parse_word(w) not in HEARTBEAT_WORDS]
            self.r.record("JNT-HB-02", not unknown and not bad, f"unknown state {clip(repr(unknown[0] if unknown else bad[0]), 60)}"
                          if unknown or bad else "known states")  # fmt: skip
            times = [s.at for s in hbs]
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)] + [end - times[-1]]
            worst = max(gaps)
            if worst > limit:
                self.r.record("JNT-HB-03", False, f"{worst:.1f} s between heartbeats, advertised period "
                                                  f"{self.period:g} s (limit {limit:.1f} s)")  # fmt: skip
            elif len(hbs) >= 2:
                self.r.record("JNT-HB-03", True, f"{len(hbs)} heartbeats, longest gap {worst:.1f} s "
                                                 f"(period {self.period:g} s)")  # fmt: skip
            else:
                self.r.record(
                    "JNT-HB-03",
                    None,
                    f"one heartbeat in {observed:.1f} s; need {2 * limit:.1f} s: raise --observe",
                )
            offline = [s for s in hbs if parse_word(s.payload) == "OFFLINE"]
            if "request_info_nodes" in self.replies:
                self.r.record(
                    "JNT-HB-06",
                    not offline,
                    "heartbeats OFFLINE while it answers requests",
                    passed="ONLINE while answering",
                )
        # JNT-HB-05: every node of the controller.
        silent: list[str] = []
        unsure: list[str] = []
        for h in sorted(self.nodes):
            if not self.heartbeats(h):
                (silent if observed > SLACK * self.node_period(h) + JITTER else unsure).append(h)
        if silent:
            self.r.record(
                "JNT-HB-05", False, f"no heartbeat from {', '.join(silent[:5])} in {observed:.1f} s"
            )
        elif unsure:
            self.r.record("JNT-HB-05", None, f"{', '.join(unsure[:5])} not heard yet: raise --observe")
        elif self.nodes:
            self.r.record("JNT-HB-05", True, f"{len(self.nodes)} nodes heartbeat")
        self.check_wire()
        self.check_publications()
        if self.role == "primary":
            self.check_resolv_heartbeat(observed)

    def node_topic(self, s: Seen) -> bool:
        """Is this message the controller's own (a heartbeat, a value, a reply to us)?"""
        hb_prefix = self.t.heartbeat_dispatch()
        if s.topic.startswith(hb_prefix) and s.topic != hb_prefix:
            try:
                return Hadd.parse(s.topic[len(hb_prefix) :]).controller == self.hadd.controller
            except Exception:  # noqa: BLE001 - not a hadd: not this controller's
                return False
        return s.topic.startswith(f"{self.t.prefix}/values/") or s.topic in (
            self.t.node_reply(self.s.reply_hadd),
            self.t.broadcast_reply(self.s.reply_hadd),
        )

    def check_wire(self) -> None:
        own = self.s.matching(self.node_topic)
        retained = [s for s in own if s.retain]
        self.r.record("JNT-WIRE-01", not retained, f"retained message on {clip(retained[0].topic, 100)}" if retained
                      else f"{len(own)} messages, none retained")  # fmt: skip
        hb_prefix = self.t.heartbeat_dispatch()
        broken = [
            s
            for s in own
            if s.error is not None or (not s.topic.startswith(hb_prefix) and not isinstance(s.body, dict))
        ]
        self.r.record("JNT-WIRE-02", not broken, f"undecodable message on {clip(broken[0].topic, 100)}: "
                      f"{clip(broken[0].error or 'not a JSON object', 120)}" if broken else "every message decodes")  # fmt: skip

    def check_publications(self) -> None:
        vprefix = f"{self.t.prefix}/values/"
        pubs = self.s.matching(lambda s: s.topic.startswith(vprefix))
        words = {g.topic_word: int(g) for g in Genre}
        problems = []
        for s in pubs:
            word = s.topic[len(vprefix) :].split("/")[0]
            want = words.get(word)
            b = s.body
            if not isinstance(b, dict) or want is None:
                continue
            if b.get("error"):
                self.r.record("JNT-REF-05", False, f"an error reply was published on {clip(s.topic, 100)}")
            entries = [b] if "genre" in b or "uuid" in b else [e for e in b.values()]
            for key, e in [(None, b)] if entries == [b] else list(b.items()):
                if not isinstance(e, dict):
                    problems.append(f"{clip(s.topic, 80)}: index {clip(str(key), 20)} is not an object")
                    continue
                g = e.get("genre")
                if isinstance(g, int) and g != want:
                    problems.append(f"a genre {g} value published on {clip(s.topic, 80)}")
                if key is not None and str(e.get("index")) != str(key):
                    problems.append(
                        f"{clip(s.topic, 80)}: key {clip(str(key), 20)} holds index {e.get('index')!r}"
                    )
        if pubs:
            self.r.record(
                "JNT-POLL-02", not problems, first(problems, f"{len(pubs)} publications under their genre")
            )
        else:
            self.r.record("JNT-POLL-02", None, "no value publication observed")

    def check_resolv_heartbeat(self, observed: float) -> None:
        rhb = self.resolv_heartbeats()
        if not rhb:
            self.r.record("JNT-CTL-02", False if observed > 5 + JITTER else None,
                          f"no resolv heartbeat in {observed:.1f} s")  # fmt: skip
        else:
            b = rhb[-1].body
            ok = (
                all(isinstance(b.get(k), str) and len(b.get(k)) >= 4 for k in ("add_ctrl", "add_node"))
                and "state" in b
            )
            gaps = [y.at - x.at for x, y in zip(rhb, rhb[1:], strict=False)]
            ok = ok and all(g <= 5 + JITTER for g in gaps)
            self.r.record(
                "JNT-CTL-02", ok, "resolv heartbeats" if ok else f"resolv heartbeat {excerpt(rhb[-1])}"
            )
            ext = [k for k in ("epoch", "priority", "role") if k not in b]
            self.r.record(
                "JNT-CTL-05", not ext, f"resolv heartbeat without {', '.join(ext)}" if ext else "epochs"
            )
        dispatch = self.s.matching(lambda s: s.topic == self.t.heartbeat_dispatch() and isinstance(s.body, dict)
                                   and s.get("add_node") != -1)  # fmt: skip
        last: dict[tuple[Any, Any, Any], float] = {}
        storm = None
        for s in dispatch:
            key = (s.get("add_ctrl"), s.get("add_node"), s.get("state"))
            if key in last and s.at - last[key] < 2.0:
                storm = key
            last[key] = s.at
        if storm is not None:
            self.r.record("JNT-CTL-06", False, f"{storm} dispatched again within 2 s")
        elif dispatch:
            self.r.record("JNT-CTL-06", True, f"{len(dispatch)} dispatches, none repeated")
        else:
            self.r.record("JNT-CTL-06", None, "no liveness change observed")

    def check_offline(self) -> None:
        hb_topics = {self.t.heartbeat(Hadd.parse(h)): h for h in (self.nodes or {self.h: {}})}
        dispatch = self.t.heartbeat_dispatch()
        mark = self.s.mark()

        def will(s: Seen) -> bool:
            return s.topic == dispatch and s.get("add_node") == -1 and s.get("state") == "OFFLINE" and \
                str(s.get("add_ctrl")).lstrip("0") == str(self.hadd.controller).lstrip("0")  # fmt: skip

        def offline(s: Seen) -> bool:
            return s.topic in hb_topics and parse_word(s.payload) == "OFFLINE"

        limit = SLACK * self.period + JITTER
        deadline = self.s.clock() + self.o.until_offline

        def gone() -> bool:
            if self.s.matching(lambda s: will(s) or offline(s), mark):
                return True
            hbs = self.heartbeats(self.h)
            last = hbs[-1].at if hbs else self.start
            return self.s.clock() - last > limit

        self.s.wait_until(gone, deadline)
        self.s.wait_for(lambda s: False, min(1.0, max(0.0, deadline - self.s.clock())), mark)
        wills = self.s.matching(will, mark)
        offs = {hb_topics[s.topic] for s in self.s.matching(offline, mark)}
        hbs = self.heartbeats(self.h)
        silent = self.s.clock() - (hbs[-1].at if hbs else self.start) > limit
        if offs:
            missing = sorted(set(hb_topics.values()) - offs)
            self.r.record("JNT-HB-07", not missing, f"no OFFLINE from {', '.join(missing[:5])}" if missing
                          else f"OFFLINE from all {len(offs)} nodes")  # fmt: skip
            self.r.record(
                "JNT-LW-01",
                True if wills else None,
                "will published" if wills else "clean stop: no will expected",
            )
        elif wills:
            self.r.record("JNT-LW-01", True, "the will came at once")
            self.r.record("JNT-HB-07", None, "the node crashed (will): no clean stop to judge")
        elif silent:
            self.r.record("JNT-LW-01", False, "the node went silent without a will")
            self.r.record("JNT-HB-07", None, "the node went silent: no clean stop to judge")
        else:
            for a in ("JNT-HB-07", "JNT-LW-01"):
                self.r.record(a, None, f"the node did not stop within {self.o.until_offline:g} s")


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
    except (TypeError, ValueError):
        return a == b or (a is not None and b is not None and str(a) == str(b))


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
