"""The systemd unit of `jnt-node install-service`, checked by systemd's own `systemd-analyze verify`.

systemd-analyze comes with Debian's systemd package (.ci/run installs it when missing). This test is
never skipped: without the tool it fails and says how to get it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from janitoo_node.cli import main
from janitoo_node.service import systemd_unit

CONF = "[system]\nservice = jnt_pi\nbroker_ip = 127.0.0.1\n\n[fake]\nhadd = 0100/0000\n"


def _analyze() -> str:
    tool = shutil.which("systemd-analyze")
    assert tool is not None, "systemd-analyze is missing: sudo apt-get install systemd (as .ci/run does)"
    return tool


def _verify(unit_text: str, directory: Path, name: str = "jnt_pi.service") -> list[str]:
    """Run systemd-analyze verify on the unit; return its complaints about this unit (empty when clean)."""
    path = directory / name
    path.write_text(unit_text)
    result = subprocess.run(
        [_analyze(), "verify", "--man=no", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if name in line]
    if result.returncode != 0:
        complaints.append(f"exit status {result.returncode}")
    return complaints


def _settings(unit_text: str) -> dict[str, str]:
    pairs = (
        line.split("=", 1) for line in unit_text.splitlines() if "=" in line and not line.startswith("#")
    )
    return {key: value for key, value in pairs}


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    conf = tmp_path / "etc/janitoo/jnt_pi.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(CONF)
    unit = systemd_unit(conf, "jnt_pi", exe=f"{sys.executable} -m janitoo_node.cli", has_group=lambda g: True)
    assert _verify(unit, tmp_path) == []


def test_systemd_analyze_catches_a_broken_unit(tmp_path: Path) -> None:
    # The check above means something: the same tool refuses a unit with a bad setting.
    unit = systemd_unit(tmp_path / "x.conf", "jnt_pi", exe=sys.executable, has_group=lambda g: True)
    broken = unit.replace("ProtectHome=read-only", "ProtectHome=sometimes")
    assert any("protect home" in line.lower() for line in _verify(broken, tmp_path))


def test_what_the_node_needs_on_a_pi_is_in_the_unit(tmp_path: Path) -> None:
    conf = tmp_path / "conf dir/50%/node.conf"  # a space and a specifier character
    unit = systemd_unit(conf, "jnt_pi", exe="/opt/janitoo/bin/jnt-node", has_group=lambda g: True)
    settings = _settings(unit)
    assert settings["SupplementaryGroups"] == "gpio i2c spi video"
    assert settings["RuntimeDirectory"] == "jnt_pi" and settings["StateDirectory"] == "jnt_pi"
    assert settings["WorkingDirectory"] == "%t/jnt_pi"  # writable: lgpio's FIFO goes there
    assert settings["RestartPreventExitStatus"] == "2"
    assert settings["ProtectHome"] == "read-only"
    assert settings["ReadWritePaths"] == f'"{tmp_path}/conf dir/50%%"'
    assert settings["ExecStart"] == f'/opt/janitoo/bin/jnt-node run -c "{tmp_path}/conf dir/50%%/node.conf"'
    assert _verify(unit.replace("/opt/janitoo/bin/jnt-node", sys.executable), tmp_path) == []


def test_a_group_missing_on_this_machine_is_left_out_and_named(tmp_path: Path) -> None:
    # systemd refuses to start a unit whose SupplementaryGroups names an unknown group (216/GROUP).
    unit = systemd_unit(
        tmp_path / "n.conf", "jnt_pi", exe=sys.executable, has_group=lambda g: g in ("gpio", "video")
    )
    assert _settings(unit)["SupplementaryGroups"] == "gpio video"
    assert "# i2c spi. Create them (sudo groupadd <group>)" in unit
    none = systemd_unit(tmp_path / "n.conf", "jnt_pi", exe=sys.executable, has_group=lambda g: False)
    assert "SupplementaryGroups" not in _settings(none)
    assert _verify(none, tmp_path) == []


@pytest.mark.parametrize(
    ("service", "user"), [("../evil", "janitoo"), ("jnt pi", "janitoo"), ("jnt_pi", "%n")]
)
def test_a_service_or_user_name_that_is_not_a_name_is_refused(
    tmp_path: Path, service: str, user: str
) -> None:
    with pytest.raises(ValueError, match="invalid (service|user) name"):
        systemd_unit(tmp_path / "n.conf", service, user, exe=sys.executable)


def test_install_service_writes_a_unit_that_verifies(tmp_path: Path) -> None:
    conf = tmp_path / "jnt_pi.conf"
    conf.write_text(CONF)
    out = tmp_path / "jnt_pi.service"
    result = CliRunner().invoke(main, ["install-service", "-c", str(conf), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert f" run -c {conf.resolve()}" in text
    # Only the groups this machine has are listed (a missing one would stop the start).
    assert _verify(text, tmp_path) == []


def test_install_service_refuses_a_service_name_that_is_a_path(tmp_path: Path) -> None:
    conf = tmp_path / "evil.conf"
    conf.write_text(CONF.replace("service = jnt_pi", "service = ../../etc/evil"))
    result = CliRunner().invoke(main, ["install-service", "-c", str(conf), "--print"])
    assert result.exit_code == 2
    assert "invalid service name '../../etc/evil'" in result.output


def test_run_exits_2_on_a_config_error(tmp_path: Path) -> None:
    # RestartPreventExitStatus=2 relies on this: a broken config is not restarted every 5 s.
    conf = tmp_path / "broken.conf"
    conf.write_text("[system]\nservice = jnt_pi\n\n[fake]\nhadd = not-an-address\n")
    result = subprocess.run(
        [sys.executable, "-m", "janitoo_node.cli", "run", "-c", str(conf)],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("jnt-node: error:") and len(result.stderr.strip().splitlines()) == 1
    missing = subprocess.run(
        [sys.executable, "-m", "janitoo_node.cli", "run", "-c", str(tmp_path / "nowhere.conf")],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert missing.returncode == 2, missing.stderr
