"""Attacks from the wire on a node, in-process: each finding of the security review, refused."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from janitoo_node.config import ConfigError, JanitooConfig
from janitoo_node.guard import Gate, TokenBucket, limits_from_config
from janitoo_node.logconfig import MAX_FIELD, BoundedFields, setup_logging
from janitoo_node.nodeman import NodeManager
from janitoo_node.scheduler import ManualScheduler
from janitoo_node.server import load_buses
from janitoo_protocol import (
    DiscoveryReply,
    DiscoveryRequest,
    Hadd,
    Heartbeat,
    Message,
    ValuePublication,
    ValueReply,
    ValueRequest,
    decode,
    encode,
)
from tests.helpers import DATA

ME = Hadd(9999, 9990)
C4 = Hadd(1118, 1)
# Every character str.splitlines() breaks on, plus the rest of the C0/C1 controls we refuse.
LINE_BREAKERS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
OTHER_CONTROLS = ["\x00", "\t", "\x1b", "\x7f", "\x9f"]


class Node:
    """A node manager on a copy of the original's fake config, sans threads, its wire a list."""

    def __init__(self, conf: Path) -> None:
        self.conf = conf
        self.sent: list[Message] = []
        self.scheduler = ManualScheduler()
        self.config = JanitooConfig(conf)
        (rt,) = load_buses(self.config, self.scheduler, lambda s: self.sent.append, threads=False)
        self.manager: NodeManager = rt.manager
        self.manager.start()
        self.sent.clear()

    def wire(self, payload: str, hadd: Hadd = C4) -> list[Message]:
        """Deliver a raw request payload as it would arrive on /nodes/<hadd>/request; the answers."""
        msg = decode(f"/nodes/{hadd}/request", payload.encode())
        assert isinstance(msg, ValueRequest | DiscoveryRequest)
        self.manager.handle(msg)
        out, self.sent[:] = list(self.sent), []
        return out

    def set(self, uuid: str, data: Any, genre: int = 3, **extra: Any) -> list[Message]:
        body = {"cmd_class": 112, "genre": genre, "uuid": uuid, "hadd": str(C4), "data": data,
                "reply_hadd": str(ME), "is_writeonly": True, "is_readonly": False, **extra}  # fmt: skip
        return self.wire(json.dumps(body))

    def get(self, uuid: str, genre: int = 3) -> Any:
        body = {"cmd_class": 112, "genre": genre, "uuid": uuid, "hadd": str(C4), "reply_hadd": str(ME),
                "is_writeonly": False, "is_readonly": True}  # fmt: skip
        (reply, *_) = self.wire(json.dumps(body))
        assert isinstance(reply, ValueReply | ValuePublication)
        info = reply.value if isinstance(reply, ValueReply) else reply.values[0]
        return info.data

    def restart(self) -> Node:
        self.manager.stop()
        return Node(self.conf)


@pytest.fixture
def node(tmp_path: Path) -> Node:
    conf = tmp_path / "fake.conf"
    conf.write_text((DATA / "original-fake-node.conf").read_text())
    return Node(conf)


def _refusal(out: list[Message]) -> str:
    (reply,) = out
    assert isinstance(reply, ValueReply) and reply.error is not None, out
    return reply.error


# -- 1 and 2: a string value never becomes config structure


def test_the_reported_code_injection_is_refused_and_changes_nothing(node: Node, tmp_path: Path) -> None:
    before = node.conf.read_bytes()
    # The payload, byte for byte: \u000b (vertical tab) as line breaks for str.splitlines().
    payload = (
        '{"cmd_class":112,"genre":3,"uuid":"name","hadd":"1118/0001","reply_hadd":"9999/9990","data":"Led'
        '\\u000blocation = a\\u000b[DEFAULT]x\\u000bconfig_timeout = 9\\u000bkwargs = __import__(\\"os\\")'
        '.system(\\"id > pwned.txt\\") or {}","is_writeonly":true,"is_readonly":false}'
    )
    assert "U+000B" in _refusal(node.wire(payload))
    node.set("location", "Cellar")  # the second step of the attack: any later SET in that section
    text = node.conf.read_text()
    assert "[DEFAULT]" not in text and "kwargs" not in text and "pwned" not in text
    assert node.conf.read_bytes() != before  # the honest SET did land...
    again = node.restart()  # ...and the node boots on the file, with the name it had
    assert again.get("name") == "Fake component 1"
    setup_logging(again.config)
    assert not (tmp_path / "pwned.txt").exists()


@pytest.mark.parametrize("char", LINE_BREAKERS + OTHER_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_no_control_or_line_breaking_character_reaches_the_file(node: Node, char: str) -> None:
    before = node.conf.read_bytes()
    reason = _refusal(node.set("name", f"Led{char}[system]{char}heartbeat = 0"))
    assert f"U+{ord(char):04X}" in reason
    assert node.conf.read_bytes() == before
    assert node.get("name") == "Fake component 1"


def test_a_duplicate_section_cannot_be_written_and_the_node_still_boots(node: Node) -> None:
    for char in LINE_BREAKERS:
        node.set("location", f"x{char}[system]{char}service = evil")
    assert node.conf.read_text().count("[system]") == 1
    assert node.restart().get("location") == "Local"


def test_a_write_that_would_change_structure_is_refused_even_past_validation(node: Node) -> None:
    # The config writer proves its output: nothing that would not read back as exactly one key lands.
    before = node.conf.read_bytes()
    with pytest.raises(ConfigError, match="control character"):
        node.config.set("fake__component1", "name", "a\u2028[x]")
    assert node.conf.read_bytes() == before


@pytest.mark.parametrize(
    "data",
    ["x" * 1025, ["a"] * 65, {"a": 1}, [{"a": 1}], "\ud800"],
    ids=["long", "items", "object", "nested", "surrogate"],
)
def test_text_is_bounded_and_shaped(node: Node, data: Any) -> None:
    before = node.conf.read_bytes()
    _refusal(node.set("name", data))
    assert node.conf.read_bytes() == before


def test_a_kilobyte_of_plain_text_is_accepted_and_survives_a_restart(node: Node) -> None:
    text = "Pièce à vivre — " + "x" * 1000
    node.set("name", text)
    assert node.restart().get("name") == text


# -- 3: heartbeat floods


@pytest.mark.parametrize("data", [0, 0.5, "0.5", False, "false", "nan", "1e999", -1, "inf", True])
def test_heartbeat_below_a_second_or_not_a_number_is_refused(node: Node, data: Any) -> None:
    _refusal(node.set("heartbeat", data, genre=4))
    assert node.manager.nodes[C4].heartbeat == 15
    node.scheduler.advance(1)
    assert not [m for m in node.sent if isinstance(m, Heartbeat)]  # no faster schedule either
    assert node.restart().manager.nodes[C4].heartbeat == 15


def test_an_accepted_heartbeat_is_one_the_next_start_accepts(node: Node) -> None:
    node.set("heartbeat", 1, genre=4)
    assert node.restart().manager.nodes[C4].heartbeat == 1


def test_a_config_file_heartbeat_below_a_second_is_a_config_error(tmp_path: Path) -> None:
    conf = tmp_path / "fake.conf"
    conf.write_text(
        (DATA / "original-fake-node.conf").read_text().replace("heartbeat = 15", "heartbeat = 0.5", 1)
    )
    with pytest.raises(ConfigError, match="heartbeat: must be between 1 and 3000 seconds"):
        Node(conf)


@pytest.mark.parametrize("data", [0.5, 86401, "nan", -1])
def test_poll_delays_are_off_or_bounded(node: Node, data: Any) -> None:
    _refusal(node.set("counter_poll", data))


# -- 4: a refused SET changes nothing, in memory or on disk


def test_a_refused_set_leaves_memory_as_it_was(node: Node) -> None:
    _refusal(node.set("name", "Bad\x0bname"))
    assert node.get("name") == "Fake component 1"
    assert node.manager.nodes[C4].name == "Fake component 1"


def test_a_set_that_cannot_be_saved_leaves_memory_as_it_was(node: Node) -> None:
    node.conf.unlink()  # the file is gone: the write fails after validation passed
    reason = _refusal(node.set("name", "New name"))
    assert "cannot read before writing" in reason
    assert node.manager.nodes[C4].name == "Fake component 1"
    assert node.get("name") == "Fake component 1"


# -- 5: amplification


def test_unknown_request_keys_are_not_echoed(node: Node) -> None:
    out = node.set("location", "Attic", pad="A" * 100_000, jnt_cid="abc123")
    assert out
    for m in out:
        topic, payload = encode(m)
        assert b"AAAA" not in payload and len(payload) < 2000, topic
    (reply,) = [m for m in out if isinstance(m, ValuePublication)]
    assert reply.values[0].extra == {"jnt_cid": "abc123"}


def test_discovery_replies_do_not_echo_unknown_keys(node: Node) -> None:
    body = {
        "cmd_class": 0x5000,
        "genre": 4,
        "uuid": "request_info_nodes",
        "reply_hadd": str(ME),
        "pad": "A" * 50_000,
    }
    out = node.wire(json.dumps(body), hadd=Hadd(1118, 0))
    (reply,) = out
    assert isinstance(reply, DiscoveryReply)
    assert b"AAAA" not in encode(reply)[1]


def test_an_oversized_correlation_id_is_not_echoed(node: Node) -> None:
    (reply, *_) = node.set("location", "Attic", jnt_cid="c" * 10_000)
    assert isinstance(reply, ValuePublication)
    assert "jnt_cid" not in reply.values[0].extra


def test_a_huge_uuid_gets_no_answer_and_a_bounded_log_line(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"cmd_class": 112, "genre": 3, "uuid": "u" * 1_000_000, "hadd": str(C4), "reply_hadd": str(ME),
            "is_writeonly": False, "is_readonly": True}  # fmt: skip
    with caplog.at_level(logging.WARNING):
        assert node.wire(json.dumps(body)) == []
    assert caplog.records and max(len(r.getMessage()) for r in caplog.records) < 500


# -- ceilings


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=5, now=0.0)
    assert [bucket.take(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.take(0.1) and not bucket.take(0.1)  # one token per 1/rate seconds


def test_gate_bounds_the_backlog_and_counts_drops() -> None:
    now = [0.0]
    gate = Gate("requests", rate=1000, burst=1000, clock=lambda: now[0], max_pending=3)
    assert [gate.admit() for _ in range(5)] == [True, True, True, False, False]
    gate.done()
    assert gate.admit() and gate.dropped == 2 and gate.pending == 3


@pytest.mark.parametrize("line", ["max_payload = 0", "max_request_rate = nan", "max_publish_rate = -5",
                                  "max_pending_requests = lots"])  # fmt: skip
def test_ceilings_in_the_config_are_checked(tmp_path: Path, line: str) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text(f"[system]\n{line}\n")
    with pytest.raises(ConfigError, match=r"\[system\] max_"):
        limits_from_config(JanitooConfig(conf))


# -- logging without eval


@pytest.fixture
def clean_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
        if h not in saved[0]:
            h.close()
    for h in saved[0]:
        root.addHandler(h)
    root.setLevel(saved[1])
    for name in ("janitoo", "jnt_test"):
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            lg.removeHandler(h)
            h.close()
        lg.propagate = True
        lg.setLevel(logging.NOTSET)


LOGGING = """
[loggers]
keys = root,janitoo

[handlers]
keys = file

[formatters]
keys = generic

[logger_root]
level = INFO
handlers = file
qualname =

[logger_janitoo]
level = DEBUG
handlers = file
qualname = janitoo
propagate = 0

[handler_file]
class = FileHandler
level = DEBUG
formatter = generic
{args}

[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
"""


@pytest.mark.parametrize(
    "args",
    [
        "args = ('{log}', 'w')\nkwargs = __import__('os').system('touch {mark}') or {{}}",
        "args = (__import__('os').system('touch {mark}'),)",
        "args = ('{log}', 'a', open('{mark}', 'w'))",
        "args = [x for x in ().__class__.__base__.__subclasses__()]",
    ],
    ids=["kwargs", "args-call", "args-open", "comprehension"],
)
def test_logging_sections_are_never_evaluated(tmp_path: Path, clean_logging: None, args: str,
                                              caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    conf = tmp_path / "n.conf"
    mark = tmp_path / "pwned"
    conf.write_text(LOGGING.format(args=args.format(log=tmp_path / "n.log", mark=mark)))
    setup_logging(JanitooConfig(conf))
    assert not mark.exists()
    assert "logging sections unusable" in caplog.text and "not a literal" in caplog.text


def test_handler_classes_come_from_an_allow_list(tmp_path: Path, clean_logging: None,
                                                 caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    conf = tmp_path / "n.conf"
    conf.write_text(LOGGING.format(args="args = ()").replace("class = FileHandler", "class = os.system"))
    setup_logging(JanitooConfig(conf))
    assert "handler class 'os.system' is not allowed" in caplog.text


def test_the_original_logging_sections_append_rotate_and_cut_long_fields(
    tmp_path: Path, clean_logging: None
) -> None:
    log_path = tmp_path / "n.log"
    conf = tmp_path / "n.conf"
    conf.write_text(LOGGING.format(args=f"args = ('{log_path}', 'w')"))
    log_path.write_text("an earlier run\n")
    setup_logging(JanitooConfig(conf))
    janitoo = logging.getLogger("janitoo.test")
    janitoo.warning("uuid %s refused", "u" * 100_000)
    (handler,) = logging.getLogger("janitoo").handlers
    assert isinstance(handler, logging.handlers.RotatingFileHandler) and handler.maxBytes > 0
    handler.flush()
    text = log_path.read_text()
    assert text.startswith("an earlier run\n")  # 'w' no longer empties the log at every start
    (line,) = [x for x in text.splitlines() if "refused" in x]
    assert len(line) < MAX_FIELD + 100 and "(100000 characters)" in line


def test_bounded_fields_cut_objects_too() -> None:
    record = logging.LogRecord(
        "janitoo", logging.INFO, __file__, 1, "got %s", (ValueError("x" * 5000),), None
    )
    BoundedFields().filter(record)
    assert len(record.getMessage()) < MAX_FIELD + 50


def test_the_example_config_logs_each_line_once_to_stderr(clean_logging: None) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "helloworldv3.conf"
    setup_logging(JanitooConfig(example))
    root = logging.getLogger()
    (handler,) = [h for h in root.handlers if isinstance(h, logging.StreamHandler) and h.stream is sys.stderr]
    # Named loggers pass their records up: one handler on the way, so one line per record.
    assert logging.getLogger("janitoo").handlers == [] and logging.getLogger("janitoo").propagate
    assert not any(isinstance(h, logging.FileHandler) for h in root.handlers)


def test_a_plugin_that_fails_to_start_heartbeats_failed_and_the_others_go_on(tmp_path: Path) -> None:
    from janitoo_node.buses.fake import FakeBus, FakeComponent

    class BrokenComponent(FakeComponent):
        def start(self) -> None:
            raise OSError("cannot open /dev/gpiochip0")

    conf = tmp_path / "fake.conf"
    conf.write_text((DATA / "original-fake-node.conf").read_text())
    sent: list[Message] = []
    components = {"fake.component": BrokenComponent}
    (rt,) = load_buses(JanitooConfig(conf), ManualScheduler(), lambda s: sent.append, threads=False,
                       buses={"fake": FakeBus}, components=components)  # fmt: skip
    rt.manager.start()
    states = {str(m.hadd): m.state for m in sent if isinstance(m, Heartbeat)}
    assert states == {"1118/0000": "ONLINE", "1118/0001": "FAILED", "1118/0002": "FAILED"}
    assert rt.manager.nodes[C4].failure == "OSError: cannot open /dev/gpiochip0"
