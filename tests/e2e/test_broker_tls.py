"""A node process and `jnt` against a mosquitto with a TLS listener, client certificates and a password_file."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from janitoo_node.acl import BrokerUser, password_text
from janitoo_node.broker import MosquittoBroker
from tests.brokerkit import (
    Pki,
    WatchedProcess,
    make_pki,
    make_readable,
    public_folder,
    run_jnt,
    secure_broker,
)
from tests.helpers import fake_conf

NODE_USER, NODE_PASSWORD = "node-1118", "n0de: with spaces & symbols"
OPERATOR, OPERATOR_PASSWORD = "alice", "op-secret"
NODES = {"1118/0000", "1118/0001", "1118/0002"}


@dataclass
class TlsBroker:
    broker: MosquittoBroker
    tls_port: int
    pki: Pki


@pytest.fixture(scope="module")
def tls_broker() -> Iterator[TlsBroker]:
    with public_folder("jnt-tls-auth-") as d:
        pki = make_pki(d)
        passwd = d / "passwd"
        if shutil.which("mosquitto_passwd"):
            # mosquitto's own tool, so the test does not depend on our hashing (tested in tests/node/test_acl.py).
            passwd.touch()
            for user, password in ((NODE_USER, NODE_PASSWORD), (OPERATOR, OPERATOR_PASSWORD)):
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwd), user, password], check=True, timeout=10
                )
        else:
            users = [BrokerUser(NODE_USER, "node", "test", password=NODE_PASSWORD),
                     BrokerUser(OPERATOR, "operator", "test", password=OPERATOR_PASSWORD)]  # fmt: skip
            passwd.write_text(password_text(users))
        make_readable(passwd)
        broker, tls_port = secure_broker(passwd, pki=pki)
        assert tls_port is not None
        with broker:
            yield TlsBroker(broker, tls_port, pki)


def _conf(tmp_path: Path, port: int, pki: Pki, *, password: str = NODE_PASSWORD, ca: Path | None = None,
          primary: bool = False) -> Path:  # fmt: skip
    pw = tmp_path / "node.password"
    pw.write_text(password + "\n")
    pw.chmod(0o600)
    system = (
        f"broker_user = {NODE_USER}\nbroker_password_file = {pw}\nbroker_tls_ca = {ca or pki.ca}\n"
        f"broker_tls_cert = {pki.client_cert}\nbroker_tls_key = {pki.client_key}\n"
    )
    conf = fake_conf(
        tmp_path / "node.conf", port, heartbeat=5, extra="\n[network]\nis_primary = True\n" if primary else ""
    )
    conf.write_text(conf.read_text().replace("slow_start = 0\n", "slow_start = 0\n" + system, 1))
    return conf


def _operator_env(tmp_path: Path, pki: Pki) -> dict[str, str]:
    secret = tmp_path / "alice.password"
    secret.write_text(OPERATOR_PASSWORD + "\n")
    return {"JNT_USERNAME": OPERATOR, "JNT_PASSWORD_FILE": str(secret), "JNT_TLS_CA": str(pki.ca),
            "JNT_TLS_CERT": str(pki.client_cert), "JNT_TLS_KEY": str(pki.client_key)}  # fmt: skip


def test_node_over_tls_with_a_password_file_comes_online_and_answers_jnt(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    conf = _conf(tmp_path, tls_broker.tls_port, tls_broker.pki, primary=True)
    with WatchedProcess.node(conf) as node:
        node.wait_for("all buses online")
        # The network controller's own connection uses the same user, password and TLS.
        node.wait_for("network controller 1118/0000 starting")
        env = _operator_env(tmp_path, tls_broker.pki)
        result = run_jnt("query", "network", "--port", str(tls_broker.tls_port), "--format", "json", env=env)
        assert result.returncode == 0, result.stderr + node.output()
        assert {row["hadd"] for row in json.loads(result.stdout)} == NODES
        # TLS to a loopback broker: nothing to warn about, and no secret in the log.
        assert "in clear" not in node.output()
        assert NODE_PASSWORD not in node.output()
        assert node.running
    assert node.proc.returncode == 0, node.output()


def test_jnt_without_the_password_is_refused_in_one_line(tls_broker: TlsBroker, tmp_path: Path) -> None:
    env = _operator_env(tmp_path, tls_broker.pki)
    del env["JNT_PASSWORD_FILE"]
    result = run_jnt("query", "network", "--port", str(tls_broker.tls_port), env=env)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        f"jnt: error: MQTT broker 127.0.0.1:{tls_broker.tls_port}: connection refused: Not authorized"
    ]


@pytest.mark.parametrize(
    ("case", "expected"),
    [("wrong password", "connection refused: Not authorized"), ("wrong CA", "TLS handshake failed")],
)
def test_a_refused_node_logs_one_line_per_attempt_and_keeps_retrying(
    tls_broker: TlsBroker, tmp_path: Path, case: str, expected: str
) -> None:
    pki = tls_broker.pki
    if case == "wrong password":
        conf = _conf(tmp_path, tls_broker.tls_port, pki, password="not-the-password")
    else:
        conf = _conf(tmp_path, tls_broker.tls_port, pki, ca=pki.other_ca)
    with WatchedProcess.node(conf) as node:
        lines = node.wait_for(expected, count=2)
        assert all("retrying in" in line for line in lines), lines
        assert node.running
        assert "Traceback" not in node.output()
        assert "all buses online" not in node.output()
    # A clean stop even while still trying to connect.
    assert node.proc.returncode == 0, node.output()
