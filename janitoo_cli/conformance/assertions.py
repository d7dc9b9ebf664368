"""The protocol's numbered assertions: one table that docs/protocol.md and the checker are built from."""

from __future__ import annotations

from dataclasses import dataclass

MUST = "MUST"
SHOULD = "SHOULD"
MAY = "MAY"

NODE = "node"
CONTROLLER = "controller"
CLIENT = "client"

# The extensions this implementation adds to the original's wire (docs/protocol.md "What we add").
EXT_CID = "correlation key jnt_cid"
EXT_ERROR = "error replies"
EXT_WILL = "last will"
EXT_INDEX = "index on GET/SET"
EXT_EPOCH = "epochs"
EXT_CHUNKS = "resolv chunk markers"
EXT_RETAINED = "retained state"
EXT_SAFETY = "safety limits"


@dataclass(frozen=True, slots=True)
class Assertion:
    """One requirement: who it binds, how strongly, what it says, and where the original breaks it."""

    id: str
    level: str  # MUST, SHOULD or MAY (RFC 2119)
    role: str  # node, controller or client
    area: str
    text: str
    extension: str | None = None  # None: the original's protocol; else which extension of ours
    deviation: str | None = None  # how the original breaks it (spec section), None when it conforms
    checked: bool = True  # does `jnt check` test it on a live node?


A = Assertion

ASSERTIONS: tuple[Assertion, ...] = (
    # ------------------------------------------------------------------ transport and encoding
    A(
        "JNT-WIRE-01",
        MUST,
        NODE,
        "Transport",
        "A node publishes every message with QoS 0 and retain false on the original's topics.",
        deviation=None,
    ),
    A(
        "JNT-WIRE-02",
        MUST,
        NODE,
        "Transport",
        "Every payload a node publishes is UTF-8 JSON (an object), except its own heartbeat, a bare word; "
        "receivers can decode it.",
    ),
    A(
        "JNT-WIRE-03",
        MUST,
        NODE,
        "Transport",
        'In every value dict, `genre`, `type`, `cmd_class` and `index` are JSON integers (never `"0x70"`).',
    ),
    A(
        "JNT-WIRE-04",
        MAY,
        NODE,
        "Transport",
        "A node MAY publish retained copies of its state, but only on a namespace of its own, never on the "
        "original's topics (legacy receivers take every message as fresh).",
        extension=EXT_RETAINED,
        checked=False,
    ),
    # ------------------------------------------------------------------ heartbeat
    A(
        "JNT-HB-01",
        MUST,
        NODE,
        "Heartbeat",
        "A node heartbeats on `/dhcp/heartbeat/<hadd>` with a bare ASCII state word (`ONLINE`), not JSON.",
    ),
    A(
        "JNT-HB-02",
        MUST,
        NODE,
        "Heartbeat",
        "The state word is one of ONLINE, OFFLINE, FAILED, BOOT, SYSTEM, CONFIG, INIT.",
    ),
    A(
        "JNT-HB-03",
        MUST,
        NODE,
        "Heartbeat",
        "Two heartbeats of a node are never further apart than 1.1 times its advertised period (the "
        "`heartbeat` of its node dict), the receivers' slack.",
        deviation="the configured period is ignored until someone reads the `heartbeat` system value: the "
        "node heartbeats every 30 s meanwhile (spec §5.2)",
    ),
    A(
        "JNT-HB-04",
        MUST,
        NODE,
        "Heartbeat",
        "A node's heartbeat period is between 1 and 3000 s, and the `min` of its `heartbeat` system value "
        "says 1.",
        extension=EXT_SAFETY,
        deviation="`heartbeat` min 0: a period of 0 floods the network (spec §8.1)",
    ),
    A(
        "JNT-HB-05",
        MUST,
        NODE,
        "Heartbeat",
        "Every node of a controller heartbeats, the controller node `NNNN/0000` included, each on its own "
        "period.",
    ),
    A(
        "JNT-HB-06",
        SHOULD,
        NODE,
        "Heartbeat",
        "A node that answers requests heartbeats ONLINE (FAILED when its device cannot be read), "
        "not OFFLINE.",
        deviation="components of a plain bus heartbeat OFFLINE while working (spec §5.1)",
    ),
    A(
        "JNT-HB-07",
        MUST,
        NODE,
        "Heartbeat",
        "On a clean stop, a node heartbeats OFFLINE for every node it holds (checked with --until-offline).",
    ),
    A(
        "JNT-HB-08",
        MUST,
        CONTROLLER,
        "Heartbeat",
        'A receiver takes `{"add_ctrl": C, "add_node": N, "state": S}` on `/dhcp/heartbeat/` as a '
        "heartbeat, `add_node` -1 meaning every node of controller C.",
        checked=False,
    ),
    A(
        "JNT-LW-01",
        SHOULD,
        NODE,
        "Heartbeat",
        'Each MQTT connection of a node registers a will `{"add_ctrl": C, "add_node": -1, "state": '
        '"OFFLINE"}` on `/dhcp/heartbeat/`, so a crash is seen at once (checked with --until-offline '
        "and a crash).",
        extension=EXT_WILL,
        deviation="no last will: a crashed node is only noticed after 3 missed periods (spec §1, §11.1)",
    ),
    # ------------------------------------------------------------------ discovery
    A(
        "JNT-DISC-01",
        MUST,
        NODE,
        "Discovery",
        "A node answers each of the six `request_info_*` requests sent to `/nodes/<hadd>/request` with one "
        "reply on `/nodes/<reply_hadd>/reply`.",
    ),
    A(
        "JNT-DISC-02",
        MUST,
        NODE,
        "Discovery",
        "A discovery reply is the request echoed (`cmd_class` 20480, `genre` 4, `uuid`, `reply_hadd`) plus "
        "`data`, a JSON object.",
    ),
    A(
        "JNT-DISC-03",
        MUST,
        NODE,
        "Discovery",
        "`request_info_nodes` data holds the node dicts keyed by node uuid, the addressed node among them, "
        "each with `uuid`, `hadd`, `name`, `location`, `product_name`, `product_type`, `capabilities`, "
        "`cmd_classes`, `heartbeat`, `config_timeout` and `state`.",
        deviation="controller managers (the DHCP server) answer one bare node dict (spec §4.2, kind B)",
    ),
    A(
        "JNT-DISC-04",
        MUST,
        NODE,
        "Discovery",
        "Users, configs and basics data is 3-level (hadd -> uuid -> index -> value), systems and commands "
        "2-level (hadd -> uuid -> value); the keys agree with the value dicts' `hadd`, `uuid` and `index`, "
        "and every value has the genre asked for.",
        deviation="controller managers answer 2-level data for every genre (spec §4.2, kind B)",
    ),
    A(
        "JNT-DISC-05",
        MUST,
        NODE,
        "Discovery",
        "Every value dict in discovery data has `uuid`, `hadd`, `genre`, `type`, `cmd_class`, `index`, "
        "`data`, `label`, `help`, `is_readonly`, `is_writeonly`.",
    ),
    A(
        "JNT-DISC-06",
        MUST,
        NODE,
        "Discovery",
        "A node manager answers `request_info_nodes` on `/broadcast/request` on "
        "`/broadcast/reply/<reply_hadd>`, once for its controller.",
        deviation="controller managers do not listen to broadcasts (spec §4.2, kind B)",
    ),
    A(
        "JNT-DISC-07",
        MUST,
        NODE,
        "Discovery",
        "A discovery request of an unknown kind gets no answer, and the node keeps answering.",
    ),
    A(
        "JNT-DISC-08",
        SHOULD,
        NODE,
        "Discovery",
        "A discovery reply carries the request's `jnt_cid`.",
        extension=EXT_CID,
    ),
    # ------------------------------------------------------------------ values every node has
    A(
        "JNT-SYS-01",
        MUST,
        NODE,
        "Required values",
        "Every node has the system values (genre 4, cmd_class 112) `heartbeat` (type 4, seconds), `hadd` "
        "(type 32) and `config_timeout` (type 4).",
    ),
    A(
        "JNT-SYS-02",
        MUST,
        NODE,
        "Required values",
        "Every node has the config values (genre 3, cmd_class 112, type 8) `name` and `location`.",
    ),
    A(
        "JNT-SYS-03",
        MUST,
        NODE,
        "Required values",
        "The `hadd` system value holds the node's own hadd, and `heartbeat` the period of its node dict.",
    ),
    # ------------------------------------------------------------------ GET and SET
    A(
        "JNT-VAL-01",
        MUST,
        NODE,
        "GET and SET",
        "A GET of a config or system value (cmd_class 112) is answered on `/values/<genre>/<hadd>/<uuid>`: "
        "the request echoed with the current `data`, `label`, `help`, `is_writeonly` false, `is_readonly` "
        "true.",
    ),
    A(
        "JNT-VAL-02",
        MUST,
        NODE,
        "GET and SET",
        "A GET of a basic, user or command value (with its own cmd_class) is answered on "
        "`/nodes/<reply_hadd>/reply` and on `/values/<genre>/<hadd>/<uuid>`, with the full value dict.",
    ),
    A(
        "JNT-VAL-03",
        SHOULD,
        NODE,
        "GET and SET",
        "Value replies carry the request's `jnt_cid`.",
        extension=EXT_CID,
    ),
    A(
        "JNT-SET-01",
        MUST,
        NODE,
        "GET and SET",
        "A SET of a writable config value is acknowledged on `/values/config/<hadd>/<uuid>` with the stored "
        "data, and a later GET returns it.",
    ),
    A(
        "JNT-SET-02",
        MUST,
        NODE,
        "GET and SET",
        "A SET of a writable system value is acknowledged on `/values/system/<hadd>/<uuid>`.",
    ),
    A(
        "JNT-SET-03",
        MUST,
        NODE,
        "GET and SET",
        "A SET of a writable basic, user or command value is acknowledged on `/nodes/<reply_hadd>/reply` "
        "and on `/values/<genre>/<hadd>/<uuid>`.",
    ),
    A(
        "JNT-IDX-01",
        SHOULD,
        NODE,
        "GET and SET",
        "A GET or SET carrying `index` acts on that instance of a multi-instance value.",
        extension=EXT_INDEX,
        deviation="the request's `index` is ignored: index 0 is read and written (spec §4.1, §11.8)",
    ),
    A(
        "JNT-IDX-02",
        SHOULD,
        NODE,
        "GET and SET",
        "A GET or SET naming an index the value does not have is refused with an error reply.",
        extension=EXT_INDEX,
        deviation="the index is ignored and index 0 answered (spec §4.1)",
    ),
    # ------------------------------------------------------------------ refusals
    A(
        "JNT-REF-01",
        MUST,
        NODE,
        "Refusals",
        "A GET or SET of an unknown value is answered on `/nodes/<reply_hadd>/reply` with the request's "
        "`uuid`, `hadd`, `jnt_cid` and a non-empty `error` text.",
        extension=EXT_ERROR,
        deviation="ignored with a log line: the client waits for nothing (spec §4.3)",
    ),
    A(
        "JNT-REF-02",
        MUST,
        NODE,
        "Refusals",
        "A SET of a read-only value is refused with an error reply and changes nothing.",
        extension=EXT_ERROR,
        deviation="no read-only check: the value is written (spec §4.3)",
    ),
    A(
        "JNT-REF-03",
        MUST,
        NODE,
        "Refusals",
        "A SET whose data does not convert to the value's type is refused with an error reply and changes "
        "nothing.",
        extension=EXT_ERROR,
        deviation="stored as sent, or a setter exception only logged (spec §4.3, §7)",
    ),
    A(
        "JNT-REF-04",
        MUST,
        NODE,
        "Refusals",
        "A GET with the wrong cmd_class for a basic, user or command value is refused with an error reply.",
        extension=EXT_ERROR,
        deviation="ignored with a warning: no answer (spec §4.3)",
    ),
    A(
        "JNT-REF-05",
        MUST,
        NODE,
        "Refusals",
        "A refusal never goes to `/values/...`: a value's topic carries values only.",
    ),
    # ------------------------------------------------------------------ where safety wins
    A(
        "JNT-SAFE-01",
        MUST,
        NODE,
        "Safety",
        "Replies carry the protocol's keys and a `jnt_cid` of at most 64 characters; an unknown request key "
        "or a longer `jnt_cid` is not echoed.",
        extension=EXT_SAFETY,
        deviation="every unknown request key is echoed back to any `reply_hadd` (amplification, spec §4.1)",
    ),
    A(
        "JNT-SAFE-02",
        MUST,
        NODE,
        "Safety",
        "A string SET holding a control character (C0, C1, DEL), U+2028/U+2029 or a lone surrogate, or over "
        "1,024 characters, is refused with an error reply and changes nothing.",
        extension=EXT_SAFETY,
        deviation="stored as sent: a SET could write new keys and sections into the INI file (spec §8.5)",
    ),
    A(
        "JNT-SAFE-03",
        MUST,
        NODE,
        "Safety",
        "A SET of `heartbeat` outside 1..3000 s is refused with an error reply.",
        extension=EXT_SAFETY,
        deviation="0 accepted: a heartbeat storm (spec §8.1)",
    ),
    A(
        "JNT-SAFE-04",
        MUST,
        NODE,
        "Safety",
        "A SET of a poll delay (`<uuid>_poll`) other than 0 (off) or 1 to 86,400 s is refused with an error "
        "reply.",
        extension=EXT_SAFETY,
        deviation="any number accepted (spec §8.3)",
    ),
    A(
        "JNT-SAFE-05",
        MUST,
        NODE,
        "Safety",
        "A request whose uuid is over 128 characters or holds a control character gets no answer.",
    ),
    A(
        "JNT-SAFE-06",
        MUST,
        NODE,
        "Safety",
        "A node survives hostile requests (broken JSON, wrong shapes, numbers as booleans, payloads over "
        "64 kB): it drops them and keeps answering.",
    ),
    A(
        "JNT-SAFE-07",
        SHOULD,
        NODE,
        "Safety",
        "`hadd` is read-only at run time: a SET of it is refused with an error reply.",
        extension=EXT_SAFETY,
        deviation="anyone can rewrite a node's address over the network (spec §11.6)",
    ),
    # ------------------------------------------------------------------ polls
    A(
        "JNT-POLL-01",
        SHOULD,
        NODE,
        "Polls",
        "A polled value has a `<uuid>_poll` config companion (genre 3, type 4, cmd_class 112) on the same "
        "node.",
    ),
    A(
        "JNT-POLL-02",
        MUST,
        NODE,
        "Polls",
        "A value is published under its own genre's topic `/values/<genre>/...`; an indexed publication's "
        "keys agree with its entries' `index`.",
        deviation="polled system and command values are published under `/values/user/` (spec §4.4)",
    ),
    # ------------------------------------------------------------------ network controllers
    A(
        "JNT-CTL-01",
        MUST,
        CONTROLLER,
        "Network controllers",
        "A network controller has the system value `network_controller` (type 5, cmd_class 4177) holding "
        "`primary` or `secondary`, and 4177 in its node's `cmd_classes`.",
    ),
    A(
        "JNT-CTL-02",
        MUST,
        CONTROLLER,
        "Network controllers",
        'A primary publishes `/dhcp/resolv/heartbeat` `{"add_ctrl", "add_node", "state"}` (address '
        "parts as zero-padded strings) at least every 5 s.",
        deviation="the DHCP server's sample config sends it every 15 s, its resolv_timeout (spec §4.5)",
    ),
    A(
        "JNT-CTL-03",
        MUST,
        CONTROLLER,
        "Network controllers",
        "A primary answers `request_info_nodes` and `request_info_systems` on `/dhcp/resolv/request/` on "
        "`/dhcp/resolv/reply/<reply_hadd>`, nodes keyed by hadd, at most 10 hadds a message.",
    ),
    A(
        "JNT-CTL-04",
        SHOULD,
        CONTROLLER,
        "Network controllers",
        "A primary answers resolv requests for configs, users, basics and commands too.",
        deviation="the primary crashes on these four (spec §4.5)",
    ),
    A(
        "JNT-CTL-05",
        SHOULD,
        CONTROLLER,
        "Network controllers",
        "A resolv heartbeat carries `epoch`, `priority` and `role`; resolv answers to a request with "
        "`jnt_cid` carry `jnt_chunk`/`jnt_chunks`.",
        extension=EXT_EPOCH,
        deviation="no epoch: every original primary counts as epoch 0 (spec §6.4)",
    ),
    A(
        "JNT-CTL-06",
        SHOULD,
        CONTROLLER,
        "Network controllers",
        "A primary dispatches each liveness change on `/dhcp/heartbeat/` once, not again every second.",
        deviation="FAILED nodes are re-published every second (dispatch storm, spec §5.3)",
    ),
    A(
        "JNT-CTL-07",
        MUST,
        CONTROLLER,
        "Network controllers",
        "A network controller tracks liveness per period: PENDING after 3 missed periods (1.1 x period "
        "each), FAILED after as many more, DEAD after `heartbeat_dead`; an OFFLINE heartbeat or will is "
        "taken at once.",
        checked=False,
        deviation="heartbeat_count applied at 1 Hz, and the dispatcher's loopback delays FAILED (spec §5.3)",
    ),
    # ------------------------------------------------------------------ clients
    A(
        "JNT-CLI-01",
        MUST,
        CLIENT,
        "Clients",
        "A client sends GET/SET with `hadd`, `uuid`, `genre`, `cmd_class` (112 for config and system values, "
        "the value's own otherwise), `reply_hadd`, and JSON booleans for `is_readonly`/`is_writeonly`.",
        checked=False,
    ),
    A(
        "JNT-CLI-02",
        MUST,
        CLIENT,
        "Clients",
        "A client accepts every reply shape the original emits: bare, 2-level and 3-level discovery data, "
        'single and indexed publications, index keys as `"0"` or 0, string booleans, `{"$date": ...}`.',
        checked=False,
    ),
    A(
        "JNT-CLI-03",
        MUST,
        CLIENT,
        "Clients",
        "A client listens for config and system acknowledgements on `/values/<genre>/<hadd>/<uuid>` and for "
        "the others on `/nodes/<reply_hadd>/reply` too; it matches replies by `jnt_cid`, else by `uuid` and "
        "`hadd` (a poll, `reply_hadd` null, is not an answer).",
        checked=False,
    ),
    A(
        "JNT-CLI-04",
        MUST,
        CLIENT,
        "Clients",
        "A client bounds every wait with a timeout (discovery has no end marker: a quiet period ends it) "
        "and survives any payload (malformed, oversized).",
        checked=False,
    ),
    A(
        "JNT-CLI-05",
        SHOULD,
        CLIENT,
        "Clients",
        "A client sends `jnt_cid` (at most 64 characters) with each request.",
        extension=EXT_CID,
        checked=False,
    ),
)

BY_ID: dict[str, Assertion] = {a.id: a for a in ASSERTIONS}
AREAS: tuple[str, ...] = tuple(dict.fromkeys(a.area for a in ASSERTIONS))


def get(assertion_id: str) -> Assertion:
    return BY_ID[assertion_id]
