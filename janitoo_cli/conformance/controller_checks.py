"""Checks of a network controller's duties: its role value and its resolv answers."""

from __future__ import annotations

from janitoo_protocol.codes import COMMAND_DISCOVERY, NETWORK_REQUESTS

from .probe import CORRELATION_KEY, NETWORK_CONTROLLER_CLASS, Prober, first
from .results import clip
from .session import Seen


class ControllerChecks(Prober):
    """Network controller duties, when the checked node is one."""

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
            self.s.send(
                self.t.resolv_request(),
                {
                    "cmd_class": COMMAND_DISCOVERY,
                    "genre": 4,
                    "uuid": kind,
                    "reply_hadd": self.me,
                    CORRELATION_KEY: cids[kind],
                },
            )

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
