"""Checks by GET and SET: both reply routes, refusals, hostile requests, index handling."""

from __future__ import annotations

from typing import Any

from janitoo_protocol.codes import COMMAND_CONFIGURATION, COMMAND_DISCOVERY

from .probe import (
    ACTING_CLASSES,
    CORRELATION_KEY,
    PLAIN_TYPES,
    USER_GENRES,
    Prober,
    Value,
    about,
    named,
    same,
)


class ValueChecks(Prober):
    """GET/SET probes; every SET is undone, none is sent with read_only."""

    def check_values(self) -> None:
        for genre, uuid in ((3, "location"), (4, "heartbeat")):
            v = self.pick(named(uuid, genre)) or Value(
                self.h, uuid, genre, {"cmd_class": COMMAND_CONFIGURATION}, {}
            )
            rep, val, cid = self.get(v)
            self.judge_config_answer("JNT-VAL-01", v, val, rep, cid, is_set=False)
        user = self.pick(lambda x: x.genre in USER_GENRES and not x.writable) or self.pick(
            lambda x: x.genre in USER_GENRES
        )
        if user is None:
            self.r.record("JNT-VAL-02", None, f"{self.h} has no basic, user or command value")
            return
        rep, val, cid = self.get(user)
        self.judge_user_answer("JNT-VAL-02", user, rep, val, cid)

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
        self.s.send(
            self.t.node_request(self.hadd),
            {
                "cmd_class": COMMAND_DISCOVERY,
                "genre": 4,
                "uuid": "request_info_jnt_check",
                "reply_hadd": self.me,
                CORRELATION_KEY: cid,
            },
        )
        got = self.s.wait_for(
            lambda s: s.get(CORRELATION_KEY) == cid or s.get("uuid") == "request_info_jnt_check",
            self.o.quiet,
            mark,
        )
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
        base = {
            "cmd_class": COMMAND_CONFIGURATION,
            "uuid": "location",
            "genre": 3,
            "hadd": self.h,
            "reply_hadd": self.me,
        }
        for payload in (
            b"{not json",
            b"[1, 2, 3]",
            b"\xff\xfe",
            b"[" * 5000,
            {**base, "is_readonly": 5},
            {**base, "genre": "x"},
            {**base, "uuid": {"a": 1}},
            {**base, "pad": "x" * 70000},
        ):
            self.s.send(topic, payload)
        ok, _ = self.read(loc)
        if not ok:
            ok, _ = self.read(loc)  # one more chance: a rate limit may have dropped the first
        self.r.record(
            "JNT-SAFE-06",
            ok,
            "no answer to a GET after hostile requests"
            if not ok
            else "still answering after hostile requests",
        )

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
                if not self.expect_refusal(
                    "JNT-SAFE-02",
                    "SET of location to a text with a control character",
                    rep,
                    val,
                    cid,
                    "location",
                ):
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
                for aid, bad, what in (
                    ("JNT-REF-03", "jnt-check", "SET of heartbeat to a text"),
                    ("JNT-SAFE-03", 0, "SET of heartbeat to 0"),
                ):
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
            self.expect_refusal(
                "JNT-REF-02", f"SET of the read-only {ro.uuid} (to its current data)", rep, val, cid, ro.uuid
            )
        rw = self.pick(
            lambda x: (
                x.genre in USER_GENRES
                and x.writable
                and x.type in PLAIN_TYPES
                and x.cmd_class not in ACTING_CLASSES
            )
        )
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

    def check_index(self) -> None:
        loc = self.pick(lambda x: x.uuid == "location" and x.genre == 3)
        if loc is not None:
            rep, val, cid = self.get(loc, index=99)
            self.expect_refusal("JNT-IDX-02", "GET of location index 99", rep, val, cid, "location")
        # A writable one first: its SET shows whether the index is honoured.
        multi = (
            self.pick(lambda x: len(x.indexes) > 1 and x.writable)
            or self.pick(lambda x: len(x.indexes) > 1)
            or next((v for vals in self.values.values() for v in vals.values() if len(v.indexes) > 1), None)
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
        # A config value's instances do not change by themselves: the answer must be instance k's data.
        want, zero = (
            multi.indexes[k].get("data"),
            multi.indexes[0].get("data") if 0 in multi.indexes else None,
        )
        if multi.genre == 3 and not same(want, zero) and not same(ans.get("data"), want):
            self.r.record(
                "JNT-IDX-01",
                False,
                f"GET of {multi.uuid} index {k} answered {ans.get('data')!r}, "
                f"the data of index 0, not {want!r}",
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
        # Instance k first: a node that ignores the index writes index 0 again, which is restored next.
        self.restore(multi, dk, k)
        if not same(now0, d0):
            self.restore(multi, d0, 0)

    @staticmethod
    def other_number(v: Value, *avoid: Any) -> int | None:
        mn, mx = v.raw.get("min"), v.raw.get("max")
        lo = mn if isinstance(mn, int) else 0
        hi = mx if isinstance(mx, int) else lo + 100
        for n in range(lo, min(hi, lo + 100) + 1):
            if not any(same(n, a) for a in avoid):
                return n
        return None
