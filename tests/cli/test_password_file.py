"""`jnt` reads its broker password from the environment or a file, never needing it on the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from janitoo_cli.errors import CliError
from janitoo_cli.settings import resolve

from .conftest import one_error_line

Jnt = Callable[..., Result]


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "none"), **more}


def test_password_file_from_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3 cret:#\nignored\n")
    s = resolve({}, _env(tmp_path, JNT_USERNAME="op", JNT_PASSWORD_FILE=str(secret)))
    assert (s.username, s.password) == ("op", "s3 cret:#")
    assert s.origin is not None and s.origin["password"] == "JNT_PASSWORD_FILE"


def test_password_file_flag_beats_a_password_in_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    s = resolve({"password_file": str(secret)}, _env(tmp_path, JNT_PASSWORD="from-env"))
    assert s.password == "from-file"


def test_password_at_the_same_level_beats_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    s = resolve({}, _env(tmp_path, JNT_PASSWORD="from-env", JNT_PASSWORD_FILE=str(secret)))
    assert s.password == "from-env"


def test_password_file_from_the_config_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-conf-file\n")
    conf = tmp_path / "jnt.conf"
    conf.write_text(f"[jnt]\nusername = op\npassword_file = {secret}\n")
    assert resolve({}, {"JNT_CONFIG": str(conf)}).password == "from-conf-file"


@pytest.mark.parametrize(
    ("content", "reason"), [(None, "cannot read it"), (b"", "empty"), (b"\xff", "not a password file")]
)
def test_unusable_password_file_is_one_line(tmp_path: Path, content: bytes | None, reason: str) -> None:
    secret = tmp_path / "pw"
    if content is not None:
        secret.write_bytes(content)
    with pytest.raises(CliError) as info:
        resolve({}, _env(tmp_path, JNT_PASSWORD_FILE=str(secret)))
    message = str(info.value)
    assert message.startswith(f"password file {secret} (from JNT_PASSWORD_FILE): ") and reason in message
    assert "\n" not in message


def test_unreadable_password_file_through_the_command(jnt: Jnt, tmp_path: Path) -> None:
    result = jnt("query", "network", "--password-file", str(tmp_path / "missing"), env=_env(tmp_path))
    assert result.exit_code == 2
    assert one_error_line(result).startswith(
        f"jnt: error: password file {tmp_path / 'missing'}: cannot read it"
    )


def test_help_says_where_the_password_comes_from(jnt: Jnt) -> None:
    text = " ".join(jnt("--help").stdout.split())
    assert "JNT_PASSWORD" in text and "--password-file" in text and "JNT_PASSWORD_FILE" in text
    leaf = " ".join(jnt("query", "network", "--help").stdout.split())
    assert "--password-file" in leaf
