"""The [system] broker keys: credentials, password file, TLS files, the clear-password warning, check-config."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from janitoo_node.brokerconf import BROKER_KEYS, broker_keys, clear_password_warning, is_loopback
from janitoo_node.cli import main
from janitoo_node.config import ConfigError, JanitooConfig
from janitoo_node.server import BrokerSettings
from janitoo_protocol.transport import TlsOptions
from tests.helpers import fake_conf

REPO = Path(__file__).resolve().parents[2]


def _conf(tmp_path: Path, system: str) -> JanitooConfig:
    conf = fake_conf(tmp_path / "node.conf", 1883)
    conf.write_text(conf.read_text().replace("slow_start = 0\n", "slow_start = 0\n" + system, 1))
    return JanitooConfig(conf)


def _one_line(exc: pytest.ExceptionInfo[ConfigError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_no_broker_keys_means_anonymous_plain_mqtt(tmp_path: Path) -> None:
    keys = broker_keys(_conf(tmp_path, ""))
    assert (keys.host, keys.port, keys.username, keys.password, keys.tls) == (
        "127.0.0.1",
        1883,
        None,
        None,
        None,
    )


def test_original_empty_user_and_password_keys_stay_anonymous(tmp_path: Path) -> None:
    keys = broker_keys(_conf(tmp_path, "broker_user = \nbroker_password = \n"))
    assert keys.username is None and keys.password is None


def test_password_file_first_line_is_the_password(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("  spaces kept: #;=  \nsecond line ignored\n")
    keys = broker_keys(_conf(tmp_path, f"broker_user = n1\nbroker_password_file = {secret}\n"))
    assert keys.username == "n1"
    assert keys.password == "  spaces kept: #;=  "


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "cannot read the password file"), (b"", "empty"), (b"\n", "empty"), (b"\xff\xfe", "not UTF-8"),
     (b"x" * 5000, "not a password file")],
)  # fmt: skip
def test_unusable_password_file_is_one_line_naming_the_key(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    secret = tmp_path / "pw"
    if content is not None:
        secret.write_bytes(content)
    cfg = _conf(tmp_path, f"broker_user = n1\nbroker_password_file = {secret}\n")
    with pytest.raises(ConfigError) as info:
        broker_keys(cfg)
    line = _one_line(info)
    assert line.startswith(f"{cfg.path} [system] broker_password_file: {secret}: ")
    assert reason in line


def test_password_and_password_file_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("x\n")
    with pytest.raises(ConfigError, match="not both"):
        broker_keys(
            _conf(tmp_path, f"broker_user = n\nbroker_password = y\nbroker_password_file = {secret}\n")
        )


def test_a_password_without_a_user_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[system\] broker_user: a password needs its broker_user"):
        broker_keys(_conf(tmp_path, "broker_password = y\n"))


@pytest.mark.parametrize("key", ["broker_tls_ca", "broker_tls_cert", "broker_tls_key"])
def test_missing_tls_file_is_one_line_naming_the_key(tmp_path: Path, key: str) -> None:
    cfg = _conf(tmp_path, f"{key} = {tmp_path / 'nope.pem'}\n")
    with pytest.raises(ConfigError) as info:
        broker_keys(cfg)
    assert _one_line(info) == f"{cfg.path} [system] {key}: {tmp_path / 'nope.pem'}: no such file"


def test_tls_keys_make_tls_options(tmp_path: Path) -> None:
    for name in ("ca.pem", "c.pem", "c.key"):
        (tmp_path / name).write_text("x")
    keys = broker_keys(_conf(tmp_path, f"broker_tls_ca = {tmp_path / 'ca.pem'}\nbroker_tls_cert = "
                                       f"{tmp_path / 'c.pem'}\nbroker_tls_key = {tmp_path / 'c.key'}\n"))  # fmt: skip
    assert keys.tls == TlsOptions(
        str(tmp_path / "ca.pem"), str(tmp_path / "c.pem"), str(tmp_path / "c.key"), False
    )


def test_broker_tls_alone_uses_the_system_cas_and_checks_host_names(tmp_path: Path) -> None:
    assert broker_keys(_conf(tmp_path, "broker_tls = true\n")).tls == TlsOptions(None, None, None, False)
    insecure = broker_keys(_conf(tmp_path, "broker_tls_insecure = true\n")).tls
    assert insecure is not None and insecure.insecure


def test_a_key_without_its_certificate_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.key").write_text("x")
    with pytest.raises(ConfigError, match="needs its broker_tls_cert"):
        broker_keys(_conf(tmp_path, f"broker_tls_key = {tmp_path / 'c.key'}\n"))


@pytest.mark.parametrize("prefix", ["site/#", "a/+/b"])
def test_a_wildcard_topic_prefix_is_refused(tmp_path: Path, prefix: str) -> None:
    conf = fake_conf(tmp_path / "node.conf", 1883, prefix=prefix)
    with pytest.raises(ConfigError, match=r"\[system\] topic_prefix: .*wildcards"):
        broker_keys(JanitooConfig(conf))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "LOCALHOST."])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["192.0.2.10", "broker.example", "10.0.0.1", "::ffff:192.0.2.1", ""])
def test_non_loopback_hosts(host: str) -> None:
    assert not is_loopback(host)


def test_clear_password_warning_only_for_a_password_in_clear_to_another_machine() -> None:
    assert clear_password_warning("192.0.2.10", 1883, None, None) is None
    assert clear_password_warning("127.0.0.1", 1883, "pw", None) is None
    assert clear_password_warning("192.0.2.10", 8883, "pw", TlsOptions()) is None
    warning = clear_password_warning("192.0.2.10", 1883, "pw", None)
    assert warning is not None and "192.0.2.10:1883" in warning and "pw" not in warning.split("(")[0]


def test_broker_settings_warn_once_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = _conf(tmp_path, "broker_user = n1\nbroker_password = hunter2\n")
    settings = BrokerSettings.from_config(cfg)
    settings.host = "192.0.2.10"
    with caplog.at_level(logging.WARNING, "janitoo.server"):
        settings.warn_if_clear()
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "in clear to 192.0.2.10:1883" in caplog.text and "hunter2" not in caplog.text


def test_check_config_reports_an_unreadable_password_file_in_one_line(tmp_path: Path) -> None:
    cfg = _conf(tmp_path, f"broker_user = n1\nbroker_password_file = {tmp_path / 'missing'}\n")
    result = CliRunner().invoke(main, ["check-config", "-c", str(cfg.path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"jnt-node: error: {cfg.path} [system] broker_password_file: {tmp_path / 'missing'}: "
        "cannot read the password file (No such file or directory)"
    ]


def test_run_refuses_an_unreadable_password_file_before_connecting(tmp_path: Path) -> None:
    cfg = _conf(tmp_path, f"broker_user = n1\nbroker_password_file = {tmp_path / 'missing'}\n")
    result = CliRunner().invoke(main, ["run", "-c", str(cfg.path)])
    assert result.exit_code == 2
    assert "broker_password_file" in result.output and len(result.output.strip().splitlines()) == 1


def test_check_config_shows_the_broker_and_warns_about_a_clear_password(tmp_path: Path) -> None:
    cfg = _conf(tmp_path, "broker_user = n1\nbroker_password = hunter2\n")
    conf = Path(cfg.path)
    conf.write_text(conf.read_text().replace("broker_ip = 127.0.0.1", "broker_ip = 192.0.2.10"))
    result = CliRunner().invoke(main, ["check-config", "-c", str(conf)])
    assert result.exit_code == 0, result.output
    assert "broker: 192.0.2.10:1883, no TLS, user n1" in result.output
    assert "jnt-node: warning: the broker password goes in clear to 192.0.2.10:1883" in result.output
    assert "hunter2" not in result.output


def test_every_broker_key_is_in_the_config_reference() -> None:
    reference = (REPO / "docs" / "config.md").read_text()
    assert [k for k in BROKER_KEYS if f"`{k}`" not in reference] == []
