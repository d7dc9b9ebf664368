"""Test kit for the broker's security: a throw-away PKI, a locked-down mosquitto, watched node processes."""

from __future__ import annotations

import datetime
import ipaddress
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from paho.mqtt.enums import CallbackAPIVersion

from janitoo_node.broker import MosquittoBroker, free_port

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------- PKI


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )  # fmt: skip
    )


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return key, cert


def _leaf(ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, cn: str, server: bool
          ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn)).issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )  # fmt: skip
    if server:
        # The broker is checked by address: the node connects to 127.0.0.1.
        san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


@dataclass
class Pki:
    """Files of a throw-away PKI: the CA, the broker's certificate, a client's, and an unrelated CA."""

    folder: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def make_pki(folder: Path) -> Pki:
    """Certificates for 127.0.0.1, written readable by anyone (mosquitto reads them as its own user)."""
    ca_key, ca = _ca("jnt-test-ca")
    pki = Pki(folder, folder / "ca.pem", folder / "server.pem", folder / "server.key", folder / "client.pem",
              folder / "client.key", folder / "other-ca.pem")  # fmt: skip
    _write_cert(pki.ca, ca)
    key, cert = _leaf(ca_key, ca, "127.0.0.1", server=True)
    _write_cert(pki.server_cert, cert)
    _write_key(pki.server_key, key)
    key, cert = _leaf(ca_key, ca, "jnt-node", server=False)
    _write_cert(pki.client_cert, cert)
    _write_key(pki.client_key, key)
    _write_cert(pki.other_ca, _ca("somebody-else")[1])
    for f in folder.iterdir():
        f.chmod(0o644)
    return pki


@contextmanager
def public_folder(prefix: str) -> Iterator[Path]:
    """A folder under /tmp that mosquitto, once it dropped root, can read (pytest's tmp_path is private)."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def make_readable(*paths: Path) -> None:
    for p in paths:
        p.chmod(0o644)


def secure_broker(password_file: Path, *, pki: Pki | None = None, acl_file: Path | None = None
                  ) -> tuple[MosquittoBroker, int | None]:  # fmt: skip
    """A mosquitto refusing anonymous clients, with users, an optional acl_file and an optional TLS listener
    (its port is returned) that asks every client for a certificate signed by the test CA."""
    extra = f"allow_anonymous false\npassword_file {password_file}\n"
    if acl_file is not None:
        extra += f"acl_file {acl_file}\n"
    tls_port = None
    if pki is not None:
        tls_port = free_port()
        extra += (
            f"listener {tls_port} 127.0.0.1\ncafile {pki.ca}\ncertfile {pki.server_cert}\n"
            f"keyfile {pki.server_key}\nrequire_certificate true\n"
        )
    return MosquittoBroker(extra_config=extra), tls_port


# ---------------------------------------------------------------------------------------------- processes


class WatchedProcess:
    """A child process whose output lines are read as they come, so a test waits for a line, not a time."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.args = args
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", **(env or {})},
        )  # fmt: skip
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    @classmethod
    def node(cls, conf: Path, *args: str) -> WatchedProcess:
        return cls([sys.executable, "-m", "janitoo_node.cli", "run", "-c", str(conf), *args])

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, needle: str, timeout: float = 15, count: int = 1) -> list[str]:
        """The lines holding `needle`, once `count` of them came; AssertionError with the output if not."""
        found = [line for line in self.lines if needle in line]
        deadline = time.monotonic() + timeout
        while len(found) < count:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no {count} x {needle!r} within {timeout} s:\n" + self.output())
            if needle in line:
                found.append(line)
        return found

    def output(self) -> str:
        return "\n".join(self.lines)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)
        return self.proc.returncode

    def __enter__(self) -> WatchedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_jnt(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`jnt ARGS` as a child process (no password on its command line: see `env`)."""
    return subprocess.run(
        [sys.executable, "-m", "janitoo_cli", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- raw MQTT


class RawClient:
    """A bare paho client for playing an attacker: QoS 1 publishes return once the broker has handled them
    (mosquitto acknowledges a refused QoS 1 publish too, after dropping it)."""

    def __init__(self, port: int, username: str | None, password: str | None) -> None:
        self.connack: queue.Queue[str] = queue.Queue()
        c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311,
                        client_id=f"jnt-raw-{os.getpid()}-{free_port()}")  # fmt: skip
        if username is not None:
            c.username_pw_set(username, password)
        c.on_connect = lambda client, userdata, flags, reason, props: self.connack.put(str(reason))
        self.client = c
        self.port = port

    def connect(self, timeout: float = 5) -> str:
        """Connect; returns the broker's CONNACK reason ("Success", "Not authorized", ...)."""
        self.client.connect("127.0.0.1", self.port, 30)
        self.client.loop_start()
        return self.connack.get(timeout=timeout)

    def publish(self, topic: str, payload: bytes | str, timeout: float = 5) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout)
        assert info.is_published(), f"no PUBACK for {topic} within {timeout} s"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
