"""Checks of what a node publishes by itself: heartbeats, value publications, encoding, going offline."""

from __future__ import annotations

import math
from typing import Any

from janitoo_protocol import Genre, Hadd

from .probe import HEARTBEAT_WORDS, JITTER, SLACK, Prober, excerpt, first, parse_word
from .results import clip
from .session import Seen


class LiveChecks(Prober):
    """What the node says unasked, watched within the observation window."""

    def heartbeats(self, hadd: str) -> list[Seen]:
        return self.s.on_topic(self.t.heartbeat(Hadd.parse(hadd)))

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
                # Undecided until it heartbeats enough, or its silence is beyond doubt (3 periods).
                if len(hbs) < need and now - last <= 3 * limit:
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
            self.r.record(
                "JNT-HB-02",
                not unknown and not bad,
                f"unknown state {clip(repr(unknown[0] if unknown else bad[0]), 60)}"
                if unknown or bad
                else "known states",
            )
            times = [s.at for s in hbs]
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)] + [end - times[-1]]
            worst = max(gaps)
            if worst > limit:
                self.r.record(
                    "JNT-HB-03",
                    False,
                    f"{worst:.1f} s between heartbeats, advertised period "
                    f"{self.period:g} s (limit {limit:.1f} s)",
                )
            elif len(hbs) >= 2:
                self.r.record(
                    "JNT-HB-03",
                    True,
                    f"{len(hbs)} heartbeats, longest gap {worst:.1f} s (period {self.period:g} s)",
                )
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
        self.r.record(
            "JNT-WIRE-01",
            not retained,
            f"retained message on {clip(retained[0].topic, 100)}"
            if retained
            else f"{len(own)} messages, none retained",
        )
        hb_prefix = self.t.heartbeat_dispatch()
        broken = [
            s
            for s in own
            if s.error is not None or (not s.topic.startswith(hb_prefix) and not isinstance(s.body, dict))
        ]
        self.r.record(
            "JNT-WIRE-02",
            not broken,
            f"undecodable message on {clip(broken[0].topic, 100)}: "
            f"{clip(broken[0].error or 'not a JSON object', 120)}"
            if broken
            else "every message decodes",
        )

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
            self.r.record(
                "JNT-CTL-02",
                False if observed > 5 + JITTER else None,
                f"no resolv heartbeat in {observed:.1f} s",
            )
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
        dispatch = self.s.matching(
            lambda s: (
                s.topic == self.t.heartbeat_dispatch()
                and isinstance(s.body, dict)
                and s.get("add_node") != -1
            )
        )
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

    def check_offline(self, mark: int | None = None) -> None:
        """Wait up to until_offline for the node to go: OFFLINE heartbeats (a clean stop), its will (a
        crash), or silence; `mark` is where to start looking (default: now)."""
        hb_topics = {self.t.heartbeat(Hadd.parse(h)): h for h in (self.nodes or {self.h: {}})}
        dispatch = self.t.heartbeat_dispatch()
        mark = self.s.mark() if mark is None else mark

        def will(s: Seen) -> bool:
            return (
                s.topic == dispatch
                and s.get("add_node") == -1
                and s.get("state") == "OFFLINE"
                and str(s.get("add_ctrl")).lstrip("0") == str(self.hadd.controller).lstrip("0")
            )

        def offline(s: Seen) -> bool:
            return s.topic in hb_topics and parse_word(s.payload) == "OFFLINE"

        # Silence means "gone" past the longer of the advertised and the observed period (a node that
        # heartbeats slower than it says must not look crashed for it).
        times = [x.at for x in self.heartbeats(self.h)]
        observed_gap = max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)
        limit = SLACK * max(self.period, observed_gap) + JITTER
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
            self.r.record(
                "JNT-HB-07",
                not missing,
                f"no OFFLINE from {', '.join(missing[:5])}"
                if missing
                else f"OFFLINE from all {len(offs)} nodes",
            )
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
