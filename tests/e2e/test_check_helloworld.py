"""`jnt check` against our HelloWorld V3 node (`jnt-node run`, sim backends, a real mosquitto): every
assertion passes or is n/a, nothing is left changed, and its clean stop and its will are seen."""

from __future__ import annotations

import signal
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from janitoo_cli.conformance.checks import Checker, Options
from janitoo_cli.conformance.results import Outcome
from janitoo_cli.conformance.session import Session
from janitoo_cli.main import cli
from janitoo_node.apps.demo import prepare_config
from janitoo_node.broker import MosquittoBroker
from janitoo_node.config import JanitooConfig
from janitoo_protocol import Hadd, ResolvHeartbeat
from janitoo_protocol.transport import JanitooClient
from tests.helpers import NodeProcess

PREFIX = "check"
SECTIONS = ("tutorial3", "tutorial3__ambiance", "tutorial3__temperature", "tutorial3__cpu", "tutorial3__led")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "JNT_HOST",
        "JNT_PORT",
        "JNT_PREFIX",
        "JNT_FORMAT",
        "JNT_TIMEOUT",
        "JNT_CONFIG",
        "JNT_MYHADD",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def helloworld(directory: Path, port: int, primary: bool) -> Path:
    """The tutorial's config on sim backends, every node heartbeating each second."""
    files = prepare_config(directory, port, prefix=PREFIX)
    cfg = JanitooConfig(files.conf)
    for section in SECTIONS:
        cfg.set(section, "heartbeat", 1)
    if primary:
        with files.conf.open("a", encoding="utf-8") as fh:
            fh.write("\n[network]\nis_primary = true\nresolv_heartbeat = 1\nresolv_timeout = 3\n")
    return files.conf


def wait_online(port: int, hadd: str, primary: bool) -> None:
    """Until the node heartbeats (and, as a network controller, is the primary)."""
    with JanitooClient("127.0.0.1", port, prefix=PREFIX) as client:
        if primary:
            sub = client.subscribe(client.topics.resolv_heartbeat())
            while (env := sub.get(20)) is not None:
                m = env.message
                if (
                    isinstance(m, ResolvHeartbeat)
                    and str(m.hadd) == hadd
                    and m.extra.get("role") == "primary"
                ):
                    return
            raise AssertionError("the node never became the primary")
        sub = client.subscribe(client.topics.heartbeat(Hadd.parse(hadd)))
        assert sub.get(20) is not None, "the node never heartbeat"


@pytest.fixture(scope="module")
def primary_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MosquittoBroker, Path]]:
    with MosquittoBroker() as broker:
        conf = helloworld(tmp_path_factory.mktemp("check"), broker.port, primary=True)
        with NodeProcess(conf) as node:
            wait_online(broker.port, "0225/0000", primary=True)
            yield broker, conf
            assert node.proc is not None and node.proc.poll() is None, node.output()[-3000:]


def test_helloworld_passes_every_assertion(
    primary_node: tuple[MosquittoBroker, Path], tmp_path: Path
) -> None:
    broker, conf = primary_node
    before = conf.read_text(encoding="utf-8")
    report = tmp_path / "conformance.xml"
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--hadd",
            "0225/0000",
            "--port",
            str(broker.port),
            "--prefix",
            PREFIX,
            "--timeout",
            "2",
            "--observe",
            "10",
            "--format",
            "junit",
            "--output",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "node 0225/0000 conforms" in result.stderr
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    cases = {c.get("name", "").split()[0]: c for c in suite.iter("testcase")}
    warned = [name for name, c in cases.items() if c.find("system-out") is not None]
    assert warned == []
    passed = {name for name, c in cases.items() if len(c) == 0}
    # The network controller duties were checked, not skipped; so were the SETs and refusals.
    assert {
        "JNT-CTL-01",
        "JNT-CTL-02",
        "JNT-CTL-03",
        "JNT-CTL-04",
        "JNT-CTL-05",
        "JNT-SET-01",
        "JNT-SET-02",
        "JNT-REF-01",
        "JNT-REF-02",
        "JNT-SAFE-02",
        "JNT-HB-03",
        "JNT-HB-05",
        "JNT-DISC-06",
    } <= passed
    # Nothing was left changed: location is back, and so is the config file (only the same key rewritten).
    with JanitooClient("127.0.0.1", broker.port, prefix=PREFIX) as client:
        assert client.get_value("0225/0000", "location", "config").data == "Rapsberry"
    assert conf.read_text(encoding="utf-8") == before


def test_helloworld_read_only_component(primary_node: tuple[MosquittoBroker, Path]) -> None:
    broker, _ = primary_node
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--hadd",
            "0225/0003",
            "--port",
            str(broker.port),
            "--prefix",
            PREFIX,
            "--timeout",
            "2",
            "--observe",
            "10",
            "--read-only",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {
        line.split()[0]: line.split()[2] for line in result.stdout.splitlines()[1:] if line.startswith("JNT-")
    }
    assert rows["JNT-SET-01"] == "N/A" and rows["JNT-REF-01"] == "PASS" and rows["JNT-CTL-01"] == "N/A"
    assert set(rows.values()) <= {"PASS", "N/A"}


@pytest.mark.parametrize(
    ("sig", "seen"),
    [(signal.SIGTERM, "JNT-HB-07"), (signal.SIGKILL, "JNT-LW-01")],
    ids=["clean-stop", "crash"],
)
def test_helloworld_going_offline(tmp_path: Path, sig: int, seen: str) -> None:
    with MosquittoBroker() as broker:
        node = NodeProcess(helloworld(tmp_path, broker.port, primary=False)).start()
        try:
            wait_online(broker.port, "0225/0000", primary=False)
            with JanitooClient("127.0.0.1", broker.port, prefix=PREFIX) as client:
                session = Session(client, Hadd.parse("0225/0000"))
                session.start()
                checker = Checker(session, Options(Hadd.parse("0225/0000"), timeout=2, until_offline=10))
                checker.check_discovery()
                mark = session.mark()
                node.send(sig)
                checker.check_offline(mark)
        finally:
            node.stop(signal.SIGKILL)
    got = {r.assertion.id: r for r in checker.r.results()}
    assert got[seen].outcome is Outcome.PASS, got[seen].message
    other = "JNT-LW-01" if seen == "JNT-HB-07" else "JNT-HB-07"
    assert got[other].outcome is Outcome.NA
