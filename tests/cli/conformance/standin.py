"""A stand-in for an original Janitoo controller, built from spec/original-wire-protocol.md, for `jnt check`.

It speaks as the original does, deviations included: it echoes every request key (§4.1), ignores the
request's `index` (§4.1), answers nothing it cannot serve (§4.3), has no read-only check, no type or range
check and no protected `hadd` (§4.3, §11.6), a `heartbeat` min of 0 (§8.1), heartbeats on a period other
than the advertised one (§5.2), components heartbeating OFFLINE (§5.1), polled command values under
`/values/user/` (§4.4), no last will (§1). As a controller manager (the DHCP server, §4.2 kind B) it
answers a bare node dict and 2-level values, not broadcasts, and as its primary it answers resolv for
nodes and systems only, with no epoch, and re-dispatches a FAILED node every second (§4.5, §5.3).
Knobs make it broken instead (no heartbeat, wrong reply shapes) or hostile (oversized, malformed replies).
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from typing import Any

from janitoo_protocol import Hadd
from janitoo_protocol.transport import Envelope, JanitooClient

COMMAND_DISCOVERY = 20480
KINDS = {
    "request_info_nodes": None,
    "request_info_users": 2,
    "request_info_configs": 3,
    "request_info_systems": 4,
    "request_info_basics": 1,
    "request_info_commands": 5,
}
WORDS = {1: "basic", 2: "user", 3: "config", 4: "system", 5: "command"}


@dataclass
class Knobs:
    """How the stand-in behaves; the defaults are the original node manager (JNTNodeMan)."""

    controller_manager: bool = False  # the DHCP server's JNTControllerManager (§4.2 kind B)
    advertised: float = 1.0  # the `heartbeat` its node dicts advertise
    heartbeat_every: float = 2.5  # what it really does (§5.2: the configured period is ignored)
    component_state: str = "OFFLINE"  # §5.1: components of a base bus heartbeat OFFLINE
    heartbeats: bool = True  # False: a broken node that never heartbeats
    broken_shapes: bool = False  # discovery replies without the envelope, data a list
    hostile: bool = False  # every answer oversized, malformed or full of control characters
    primary: bool = False  # (controller manager) the network's primary: resolv, dispatch storm


def value(
    hadd: str,
    node_uuid: str,
    uuid: str,
    genre: int,
    vtype: int,
    cmd_class: int,
    data: Any,
    *,
    index: int = 0,
    writable: bool = True,
    **more: Any,
) -> dict[str, Any]:
    v = {
        "uuid": uuid,
        "node_uuid": node_uuid,
        "hadd": hadd,
        "genre": genre,
        "type": vtype,
        "cmd_class": cmd_class,
        "index": index,
        "data": data,
        "label": uuid,
        "help": f"The {uuid}",
        "units": None,
        "min": None,
        "max": None,
        "list_items": None,
        "default": None,
        "is_readonly": not writable,
        "is_writeonly": False,
        "is_polled": False,
        "poll_delay": 0,
        "voice_uuid": None,
        "reply_hadd": None,
    }
    v.update(more)
    return v


class StandIn:
    """Controller `0225/0000` with a component `0225/0001` (a controller manager: the controller only)."""

    def __init__(self, host: str, port: int, prefix: str, knobs: Knobs | None = None, controller: int = 225):
        self.k = knobs or Knobs()
        self.ctrl = controller
        c = f"{controller:04d}"
        self.hadds = [f"{c}/0000"] if self.k.controller_manager else [f"{c}/0000", f"{c}/0001"]
        self.node_uuids = {self.hadds[0]: "dhcp" if self.k.controller_manager else "fakebus"}
        if len(self.hadds) > 1:
            self.node_uuids[self.hadds[1]] = "fakebus__sensor"
        self.values: dict[str, dict[str, dict[int, dict[str, Any]]]] = {
            h: self._values(h) for h in self.hadds
        }
        self.received: list[dict[str, Any]] = []
        self.client = JanitooClient(
            host, port, prefix=prefix, reply_hadd=self.hadds[0], client_id=f"standin-{id(self):x}"
        )
        self.t = self.client.topics
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _values(self, hadd: str) -> dict[str, dict[int, dict[str, Any]]]:
        nu = self.node_uuids[hadd]
        sys_min = 0  # §8.1: heartbeat and config_timeout 0..3000
        vs = [
            value(
                hadd, nu, "heartbeat", 4, 4, 112, self.k.advertised, units="seconds", min=sys_min, max=3000
            ),
            value(hadd, nu, "hadd", 4, 32, 112, hadd, units=""),
            value(hadd, nu, "config_timeout", 4, 4, 112, 3, units="seconds", min=0, max=3000),
            value(hadd, nu, "name", 3, 8, 112, f"Stand-in {hadd}"),
            value(hadd, nu, "location", 3, 8, 112, "Bench"),
        ]
        if self.k.controller_manager and self.k.primary:
            vs.append(value(hadd, nu, "network_controller", 4, 5, 0x1051, "primary", list_items=None))
        if hadd.endswith("/0001"):
            vs += [
                value(hadd, nu, "temperature", 2, 3, 49, 21.5, writable=False, is_polled=True, poll_delay=1),
                value(hadd, nu, "temperature_poll", 3, 4, 112, 1, units="seconds"),
                value(hadd, nu, "switch", 2, 5, 37, "off", list_items=["on", "off"]),
                value(
                    hadd,
                    nu,
                    "blink",
                    5,
                    5,
                    0x3203,
                    "off",
                    list_items=["on", "off"],
                    is_polled=True,
                    poll_delay=1,
                ),
                value(hadd, nu, "blink_poll", 3, 4, 112, 1, units="seconds"),
            ]
            vs += [
                value(
                    hadd,
                    nu,
                    "load",
                    1,
                    3,
                    49,
                    0.5 + i,
                    index=i,
                    writable=False,
                    is_polled=True,
                    poll_delay=30,
                )
                for i in range(3)
            ]
            vs.append(value(hadd, nu, "load_poll", 3, 4, 112, 30, units="seconds"))
            vs += [
                value(hadd, nu, "load_config", 3, 8, 112, str(m), index=i) for i, m in enumerate((1, 5, 15))
            ]
        out: dict[str, dict[int, dict[str, Any]]] = {}
        for v in vs:
            out.setdefault(v["uuid"], {})[v["index"]] = v
        return out

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> StandIn:
        self.client.connect()
        if not self.k.controller_manager:
            self.client.subscribe(self.t.broadcast_request(), self._on_request)
            self.client.subscribe(self.t.controller_nodes(self.ctrl), self._on_request)
        else:
            # §4.2 kind B: only its exact request topic.
            self.client.subscribe(self.t.node_request(Hadd.parse(self.hadds[0])), self._on_request)
            if self.k.primary:
                self.client.subscribe(self.t.resolv_request() + "#", self._on_resolv)
        loops = [self._heartbeat_loop, self._poll_loop]
        if self.k.primary:
            loops += [self._resolv_heartbeat_loop, self._storm_loop]
        for loop in loops:
            t = threading.Thread(target=loop, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def crash(self) -> None:
        """Gone without a word: the original has no last will (§1)."""
        self._stop.set()
        for t in self._threads:
            t.join(5)
        self.client.close()

    def stop(self) -> None:
        """A clean stop: OFFLINE for every node (§5.1), then gone."""
        self._stop.set()
        for t in self._threads:
            t.join(5)
        for h in self.hadds:
            self.client.publish_raw(self.t.heartbeat(Hadd.parse(h)), b"OFFLINE")
        self.client.close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if not self._stop.is_set():
            self.crash()

    # ------------------------------------------------------------------ unasked

    def _heartbeat_loop(self) -> None:
        if not self.k.heartbeats:
            return
        while not self._stop.is_set():
            for h in self.hadds:
                word = "ONLINE" if h.endswith("/0000") else self.k.component_state
                payload = b"\x1b[31mONLINE\x00" if self.k.hostile else word.encode()
                self.client.publish_raw(self.t.heartbeat(Hadd.parse(h)), payload)
            self._stop.wait(self.k.heartbeat_every)

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            for h in self.hadds:
                for uuid in ("temperature", "blink"):
                    v = self.values[h].get(uuid)
                    if v is None:
                        continue
                    # §4.4: polled system and command values go to /values/user/.
                    word = "user" if v[0]["genre"] in (4, 5) else WORDS[v[0]["genre"]]
                    self.client.publish_raw(f"{self.t.prefix}/values/{word}/{h}/{uuid}", json.dumps(v[0]))
            self._stop.wait(1.0)

    def _resolv_heartbeat_loop(self) -> None:
        c, n = self.hadds[0].split("/")
        while not self._stop.is_set():
            body = {"add_ctrl": c, "add_node": n, "state": "ONLINE"}  # §4.5: strings, no epoch
            self.client.publish_raw(self.t.resolv_heartbeat(), json.dumps(body))
            self._stop.wait(1.0)

    def _storm_loop(self) -> None:
        # §5.3: a FAILED hadd the map does not know is re-published every second.
        while not self._stop.is_set():
            body = {"add_ctrl": 77, "add_node": 1, "state": "FAILED"}
            self.client.publish_raw(self.t.heartbeat_dispatch(), json.dumps(body))
            self._stop.wait(1.0)

    # ------------------------------------------------------------------ requests

    def _on_request(self, env: Envelope) -> None:
        if not env.topic.endswith("/request"):
            return
        try:
            req = json.loads(env.payload)
        except (ValueError, RecursionError, UnicodeDecodeError):
            return  # logged and dropped by the original
        if not isinstance(req, dict):
            return
        with self._lock:
            self.received.append(req)
        try:
            if req.get("cmd_class") == COMMAND_DISCOVERY:
                self._discovery(req, "broadcast" in env.topic)
            else:
                self._value(req)
        except (TypeError, ValueError, KeyError, AttributeError):
            return  # the original's handler raises and the request is only logged (§1)

    def _send(self, topic: str, body: Any) -> None:
        if self.k.hostile:
            self.client.publish_raw(topic, hostile_payload(topic))
            return
        self.client.publish_raw(topic, json.dumps(body))

    def _discovery(self, req: dict[str, Any], broadcast: bool) -> None:
        kind = req.get("uuid")
        if kind not in KINDS or req.get("genre") != 4 or not req.get("reply_hadd"):
            return  # "Unknown request value"
        genre = KINDS[kind]
        reply = dict(req)  # the request echoed, unknown keys included
        if genre is None:
            nodes = {self.node_uuids[h]: self._node(h) for h in self.hadds}
            reply["data"] = next(iter(nodes.values())) if self.k.controller_manager else nodes
        else:
            data: dict[str, Any] = {}
            for h in self.hadds:
                for uuid, per_index in self.values[h].items():
                    if per_index[0]["genre"] != genre:
                        continue
                    if genre in (1, 2, 3) and not self.k.controller_manager:
                        data.setdefault(h, {})[uuid] = {str(i): v for i, v in per_index.items()}
                    else:
                        data.setdefault(h, {})[uuid] = per_index[0]
            reply["data"] = data
        if self.k.broken_shapes:
            reply = {"uuid": kind, "data": list(reply["data"])}
        route = self.t.broadcast_reply if broadcast else self.t.node_reply
        self._send(route(Hadd.parse(req["reply_hadd"])), reply)

    def _node(self, hadd: str) -> dict[str, Any]:
        v = self.values[hadd]
        return {
            "uuid": self.node_uuids[hadd],
            "oid": "fake.component",
            "hadd": hadd,
            "name": v["name"][0]["data"],
            "location": v["location"][0]["data"],
            "product_name": "Stand-in",
            "product_type": "Default product type",
            "product_manufacturer": "Janitoo",
            "capabilities": [4] if hadd.endswith("/0000") else [],
            "cmd_classes": [112, 0x1051] if "network_controller" in v else [112, 49],
            "heartbeat": self.k.advertised,
            "config_timeout": 3,
            "state": "ONLINE",
        }

    def _value(self, req: dict[str, Any]) -> None:
        hadd = req["hadd"]  # the node is looked up by this field (§4.1); a missing one raises
        per_uuid = self.values.get(hadd)
        uuid = req.get("uuid")
        if per_uuid is None or uuid not in per_uuid:
            return  # ignored with a warning: no error reply
        current = per_uuid[uuid][0]  # §4.1: the request's index is ignored
        is_set = bool(req.get("is_writeonly"))
        genre, cmd_class = req.get("genre"), req.get("cmd_class")
        if cmd_class == 112 and genre in (3, 4):
            if current["genre"] != genre:
                return
            if is_set:
                current["data"] = req.get("data")  # no read-only, type or range check
            reply = dict(req)
            reply["data"] = req.get("data") if (genre == 4 and is_set) else current["data"]
            reply.update(is_writeonly=False, is_readonly=True, label=current["label"], help=current["help"])
            self._send(f"{self.t.prefix}/values/{WORDS[genre]}/{hadd}/{uuid}", reply)
        elif cmd_class != 112 and genre in (1, 2, 5):
            if current["genre"] != genre or current["cmd_class"] != cmd_class:
                return  # "both conditions must hold", else ignored
            reply = copy.deepcopy(current)
            reply.update(req)
            if is_set:
                current["data"] = req.get("data")
            elif req.get("is_readonly", True):
                reply["data"] = current["data"]
            reply.update(is_writeonly=False, is_readonly=True, label=current["label"], help=current["help"])
            if req.get("reply_hadd"):
                self._send(self.t.node_reply(Hadd.parse(req["reply_hadd"])), reply)
            self._send(f"{self.t.prefix}/values/{WORDS[genre]}/{hadd}/{uuid}", reply)

    def _on_resolv(self, env: Envelope) -> None:
        try:
            req = json.loads(env.payload)
        except (ValueError, RecursionError, UnicodeDecodeError):
            return
        if not isinstance(req, dict) or req.get("uuid") not in ("request_info_nodes", "request_info_systems"):
            return  # §4.5: the other four crash the original primary
        reply = dict(req)
        if req["uuid"] == "request_info_nodes":
            reply["data"] = {h: self._node(h) for h in self.hadds}
        else:
            reply["data"] = {
                h: {u: pi[0] for u, pi in self.values[h].items() if pi[0]["genre"] == 4} for h in self.hadds
            }
        target = req.get("reply_hadd")
        topic = self.t.resolv_reply(Hadd.parse(target)) if target else self.t.resolv_broadcast()
        self.client.publish_raw(topic, json.dumps(reply))


def hostile_payload(topic: str) -> bytes:
    """What a hostile node answers: by turns oversized, deeply nested, not JSON, or poisoned text."""
    n = len(topic) % 4
    if n == 0:
        return b'{"uuid": "' + b"A" * 3_000_000 + b'", "data": {}}'
    if n == 1:
        return b"[" * 100_000
    if n == 2:
        return b"\xff\xfe not json \x00"
    text = "\x1b[2J\x00]]></failure><x>\u2028\ud800"
    return json.dumps(
        {
            "uuid": text,
            "cmd_class": text,
            "data": {text: [text] * 3},
            "error": text,
            "hadd": text,
            "index": text,
        }
    ).encode("utf-8", "surrogatepass")
