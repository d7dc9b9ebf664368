"""TLS options against a mosquitto TLS listener with a throw-away CA."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from janitoo_node.broker import MosquittoBroker, free_port

from .conftest import one_error_line

Jnt = Callable[..., Result]

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl is needed to make certificates"
)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def tls_broker() -> Iterator[tuple[MosquittoBroker, int, Path]]:
    """A broker with a TLS listener whose certificate names another host (CN=wronghost, signed by ca.pem)."""
    # mosquitto started as root reads its certificates after dropping to its own user: they must be
    # readable by anyone, outside pytest's private temporary tree.
    d = Path(tempfile.mkdtemp(prefix="jnt-tls-"))
    d.chmod(0o755)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=jnt-test-ca", cwd=d)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=wronghost", cwd=d)  # fmt: skip
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", cwd=d)  # fmt: skip
    for f in d.iterdir():
        f.chmod(0o644)
    tls_port = free_port()
    extra = f"listener {tls_port} 127.0.0.1\ncertfile {d / 'server.pem'}\nkeyfile {d / 'server.key'}\n"
    try:
        with MosquittoBroker(extra_config=extra) as broker:
            yield broker, tls_port, d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_tls_with_ca_and_insecure_connects(jnt: Jnt, tls_broker: tuple[MosquittoBroker, int, Path]) -> None:
    _, port, d = tls_broker
    result = jnt("query", "network", "--port", str(port), "--tls-ca", str(d / "ca.pem"), "--tls-insecure",
                 "--prefix", "tls-empty")  # fmt: skip
    # Connected: the (empty) network simply did not answer.
    assert result.exit_code == 1
    assert one_error_line(result).startswith(f"jnt: error: no node answered on 127.0.0.1:{port}")


def test_tls_settings_from_the_environment(jnt: Jnt, tls_broker: tuple[MosquittoBroker, int, Path]) -> None:
    _, port, d = tls_broker
    env = {
        "JNT_PORT": str(port),
        "JNT_TLS_CA": str(d / "ca.pem"),
        "JNT_TLS_INSECURE": "true",
        "JNT_PREFIX": "x",
    }
    result = jnt("query", "network", env=env)
    assert result.exit_code == 1, result.stderr


def test_tls_checks_the_host_name(jnt: Jnt, tls_broker: tuple[MosquittoBroker, int, Path]) -> None:
    _, port, d = tls_broker
    result = jnt("query", "network", "--port", str(port), "--tls-ca", str(d / "ca.pem"))
    assert result.exit_code == 3
    line = one_error_line(result)
    assert line.startswith(f"jnt: error: MQTT broker 127.0.0.1:{port}: TLS handshake failed")


def test_tls_missing_ca_file(jnt: Jnt, tls_broker: tuple[MosquittoBroker, int, Path], tmp_path: Path) -> None:
    _, port, _ = tls_broker
    result = jnt("query", "network", "--port", str(port), "--tls-ca", str(tmp_path / "nope.pem"))
    assert result.exit_code == 3
    assert one_error_line(result).startswith(f"jnt: error: MQTT broker 127.0.0.1:{port}: TLS setup failed")


def test_plain_mqtt_to_a_tls_port_fails_in_one_line(
    jnt: Jnt, tls_broker: tuple[MosquittoBroker, int, Path]
) -> None:
    _, port, _ = tls_broker
    result = jnt("query", "network", "--port", str(port), "--timeout", "1")
    assert result.exit_code == 3
    assert f"MQTT broker 127.0.0.1:{port}" in one_error_line(result)
