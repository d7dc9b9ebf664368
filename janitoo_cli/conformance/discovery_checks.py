"""Checks of the discovery replies: envelopes, the node and value layouts, the values every node has."""

from __future__ import annotations

import math
from collections.abc import Callable

from janitoo_protocol.codes import COMMAND_CONFIGURATION, COMMAND_DISCOVERY, NETWORK_REQUESTS

from .probe import (
    CORRELATION_KEY,
    INDEXED_KINDS,
    KIND_GENRE,
    NETWORK_CONTROLLER_CLASS,
    NODE_KEYS,
    VALUE_KEYS,
    Prober,
    Value,
    excerpt,
    first,
    hadd_of,
    same,
)
from .session import Seen


class DiscoveryChecks(Prober):
    """Discovery: the six kinds directly and by broadcast, and what their data says."""

    def check_discovery(self) -> None:
        reply_topic = self.t.node_reply(self.s.reply_hadd)
        cids = {kind: self.cid() for kind in NETWORK_REQUESTS}
        mark = self.s.mark()
        for kind in NETWORK_REQUESTS:
            body = {
                "cmd_class": COMMAND_DISCOVERY,
                "genre": 4,
                "uuid": kind,
                "reply_hadd": self.me,
                CORRELATION_KEY: cids[kind],
            }
            self.s.send(self.t.node_request(self.hadd), body)

        def answered(kind: str) -> Callable[[Seen], bool]:
            # Any answer naming the kind: a broken envelope is DISC-02's to judge, not "no answer".
            return lambda s: (
                s.topic == reply_topic
                and s.get("uuid") == kind
                and s.get(CORRELATION_KEY) in (cids[kind], None)
            )

        deadline = self.s.clock() + self.o.timeout
        self.s.wait_until(lambda: all(self.s.matching(answered(k), mark) for k in NETWORK_REQUESTS), deadline)
        for kind in NETWORK_REQUESTS:
            got = self.s.matching(answered(kind), mark)
            if got:
                self.replies[kind] = got[0]
        missing = [k for k in NETWORK_REQUESTS if k not in self.replies]
        self.r.record(
            "JNT-DISC-01",
            not missing,
            f"no reply to {', '.join(missing)} within {self.o.timeout:g} s"
            if missing
            else "six replies on /nodes/<reply_hadd>/reply",
        )
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
        wrong = [
            k
            for k, want in (
                ("cmd_class", COMMAND_DISCOVERY),
                ("genre", 4),
                ("uuid", kind),
                ("reply_hadd", self.me),
            )
            if b.get(k) != want or isinstance(b.get(k), bool)
        ]
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
            h = hadd_of(node.get("hadd"))
            if h is None or h.controller != self.hadd.controller:
                problems.append(
                    f"node {key!r} has the hadd {node.get('hadd')!r}, not one of {self.hadd.controller:04d}"
                )
            else:
                self.nodes[str(h)] = node
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
                            shape_problems.append(
                                f"{kind} keys {hadd}/{uuid}/{idx} disagree with the value's "
                                f"hadd {v.get('hadd')!r}, uuid {v.get('uuid')!r}, "
                                f"index {v.get('index')!r}"
                            )
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
                    f"{hadd}: heartbeat value {vals['heartbeat'].raw.get('data')!r}, "
                    f"node dict {node.get('heartbeat')!r}"
                )
            hb = vals.get("heartbeat")
            if hb is not None:
                mn, data = hb.raw.get("min"), hb.raw.get("data")
                if not isinstance(mn, int | float) or isinstance(mn, bool) or not mn >= 1:
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
        self.s.send(
            self.t.broadcast_request(),
            {
                "cmd_class": COMMAND_DISCOVERY,
                "genre": 4,
                "uuid": "request_info_nodes",
                "reply_hadd": self.me,
                CORRELATION_KEY: cid,
            },
        )

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
