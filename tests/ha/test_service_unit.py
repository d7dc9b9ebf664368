"""The systemd unit of `jnt bridge install-service`, checked by systemd's own `systemd-analyze verify`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from janitoo_cli.main import cli
from janitoo_ha.service import systemd_unit


def _verify(unit_text: str, directory: Path) -> list[str]:
    tool = shutil.which("systemd-analyze")
    assert tool is not None, "systemd-analyze is missing: sudo apt-get install systemd (as .ci/run does)"
    path = directory / "jnt-ha-bridge.service"
    path.write_text(unit_text)
    result = subprocess.run([tool, "verify", "--man=no", str(path)], capture_output=True, text=True, timeout=60,
                            check=False)  # fmt: skip
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if path.name in line]
    return complaints + ([f"exit status {result.returncode}"] if result.returncode else [])


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    unit = systemd_unit(tmp_path / "conf 50%" / "ha.env", "janitoo", exe=sys.executable)
    assert f"EnvironmentFile=-{tmp_path}/conf 50%%/ha.env\n" in unit
    assert _verify(unit, tmp_path) == []


def test_the_fallback_command_runs_the_cli_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    unit = systemd_unit(Path("/etc/janitoo/ha-bridge.env"))
    assert f"ExecStart={sys.executable} -m janitoo_cli bridge homeassistant\n" in unit


@pytest.mark.parametrize(("env_file", "user"), [("/e", "%n"), ("/e", "root\nExecStart=/x"), ("rel.env", "janitoo"),
                                                ("/a\nExecStart=/bin/sh", "janitoo")])  # fmt: skip
def test_what_would_change_the_unit_is_refused(env_file: str, user: str) -> None:
    with pytest.raises(ValueError, match="invalid user name|absolute path on one line"):
        systemd_unit(Path(env_file), user, exe="/usr/bin/jnt")


def test_install_service_writes_the_unit(tmp_path: Path) -> None:
    out = tmp_path / "jnt-ha-bridge.service"
    result = CliRunner().invoke(
        cli, ["bridge", "install-service", "-o", str(out), "--env-file", "/etc/j/ha.env"]
    )
    assert result.exit_code == 0, result.output
    assert "EnvironmentFile=-/etc/j/ha.env\n" in out.read_text()
    assert "systemctl enable --now jnt-ha-bridge" in result.output
