"""The config file: the original format loads, errors are one line with file/section/key, writes are atomic."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from janitoo_node.config import ConfigError, JanitooConfig
from janitoo_node.scheduler import ManualScheduler
from janitoo_node.server import load_buses

DATA = Path(__file__).parent.parent / "data" / "original"


def _load(path: Path) -> list:
    return load_buses(JanitooConfig(path), ManualScheduler(), lambda s: lambda m: None, threads=False)


def test_original_fake_config_loads_unchanged() -> None:
    runtimes = _load(DATA / "original-fake-node.conf")
    nodes = runtimes[0].manager.nodes
    assert sorted(str(h) for h in nodes) == ["1118/0000", "1118/0001", "1118/0002"]
    assert nodes[next(h for h in nodes if h.node == 1)].heartbeat == 15


def test_system_defaults_and_typed_reads(tmp_path: Path) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text("[system]\nbroker_port = 18883\n\n[fake]\nhadd = 0001/0000\nauto_start = yes\n")
    cfg = JanitooConfig(conf)
    assert cfg.system("broker_ip") == "127.0.0.1"
    assert cfg.get_int("system", "broker_port", 1883) == 18883
    assert cfg.get_bool("fake", "auto_start", False) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[fake]\nhadd = 12/ab\n", "c.conf [fake] hadd: invalid hadd '12/ab': both parts must be integers"),
        (
            "[fake]\nname = x\ncomponents.a = fake.component\n",
            "c.conf [fake] hadd: missing (every bus needs its hadd)",
        ),
        (
            "[fake]\nhadd = 0001/0000\ncomponents.a = fake.nothing\n[fake__a]\nhadd = 0001/0001\n",
            "c.conf [fake] components.a: unknown component entry 'fake.nothing'",
        ),
        (
            "[fake]\nhadd = 0001/0000\ncomponents.a = fake.component\n",
            "c.conf: missing section [fake__a] for components.a",
        ),
        (
            "[fake]\nhadd = 0001/0000\ncomponents.a = fake.component\n[fake__a]\nhadd = 0001/0000\n",
            "c.conf [fake__a] hadd: hadd 0001/0000 is already used by fake",
        ),
        (
            "[fake]\nhadd = 0001/0001\n",
            "c.conf [fake] hadd: a bus is a controller: its hadd must end in /0000, got 0001/0001",
        ),
        (
            "[fake]\nhadd = 0001/0000\nheartbeat = often\n",
            "c.conf [fake] heartbeat: must be a number, got 'often'",
        ),
        ("[nosuchbus]\nhadd = 0001/0000\n", "c.conf [nosuchbus]: unknown bus 'nosuchbus'"),
        ("hadd = 1\n[fake]\n", "c.conf:1: a key before any [section]"),
        ("[fake]\nhadd = 0001/0000\n[fake]\n", "c.conf:3 [fake]: duplicate section"),
        ("[system]\nservice = x\n", "c.conf: no bus to start"),
    ],
)
def test_config_errors_are_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text(text)
    with pytest.raises(ConfigError) as info:
        _load(conf)
    message = str(info.value)
    assert "\n" not in message
    assert message.replace(str(tmp_path) + "/", "").startswith(expected)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.conf: no such file"):
        JanitooConfig(tmp_path / "nope.conf")


def test_set_keeps_comments_order_and_other_sections(tmp_path: Path) -> None:
    conf = tmp_path / "c.conf"
    original = (
        "# my node\n[system]\nservice = x  ; not a comment for configparser\n\n"
        "[fake]\n# the controller\nhadd = 0001/0000\nLocation = Attic\n\n[other]\nkey = v\n"
    )
    conf.write_text(original)
    cfg = JanitooConfig(conf)
    cfg.set("fake", "location", "Cellar")
    cfg.set("fake", "name", "Box")
    cfg.set("newsection", "a", "1")
    text = conf.read_text()
    assert text.startswith("# my node\n[system]\nservice = x  ; not a comment for configparser\n")
    assert "# the controller\nhadd = 0001/0000\nLocation = Cellar\nname = Box\n\n[other]\nkey = v\n" in text
    assert text.endswith("[newsection]\na = 1\n")
    assert JanitooConfig(conf).get("fake", "location") == "Cellar"
    assert cfg.get("fake", "name") == "Box"


def test_set_is_atomic_when_killed_mid_write(tmp_path: Path) -> None:
    """A writer killed at any moment leaves either the old or the new file, never half of one."""
    conf = tmp_path / "c.conf"
    body = "[fake]\nhadd = 0001/0000\n" + "".join(f"key{i} = {'x' * 50}\n" for i in range(2000))
    conf.write_text(body)
    script = (
        "import sys\nfrom janitoo_node.config import JanitooConfig\n"
        "cfg = JanitooConfig(sys.argv[1])\nprint('go', flush=True)\ni = 0\n"
        "while True:\n    i += 1\n    cfg.set('fake', 'counter', i)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(conf)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "go\n"
    # Let it write a few hundred times, then kill it without warning.
    seen = 0
    while seen < 50:
        seen = int(JanitooConfig(conf).get("fake", "counter", "0") or 0)
    proc.kill()
    proc.wait(5)
    final = JanitooConfig(conf)
    assert final.get("fake", "hadd") == "0001/0000"
    assert final.get("fake", "key1999") == "x" * 50
    assert int(final.get("fake", "counter") or 0) >= 50
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    # At most the one temp file the killed writer was filling; never a broken config.
    assert len(leftovers) <= 1


def test_check_config_command_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("[fake]\nhadd = nope\n")
    exe = shutil.which("jnt-node")
    cmd = [exe] if exe else [sys.executable, "-m", "janitoo_node.cli"]
    result = subprocess.run(
        [*cmd, "check-config", "-c", str(conf)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "bad.conf [fake] hadd: invalid hadd 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_validates_the_network_section(tmp_path: Path) -> None:
    conf = tmp_path / "net.conf"
    conf.write_text(
        "[network]\nis_primary = true\nis_secondary = true\n\n"
        + (DATA / "original-fake-node.conf").read_text()
    )
    exe = shutil.which("jnt-node")
    cmd = [exe] if exe else [sys.executable, "-m", "janitoo_node.cli"]
    result = subprocess.run(
        [*cmd, "check-config", "-c", str(conf)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "net.conf [network]: is_primary and is_secondary cannot both be true" in result.stderr


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("broker_port = 18883", "broker_port = abc"), "[system] broker_port: must be an integer, got 'abc'"),
        (("[fake]\n", "[fake]\nbackend = simulated\n"), "[fake] backend: must be one of auto, real, sim"),
        (("heartbeat_count = 3", "heartbeat_count = 3\nmax_payload = 0"), "[system] max_payload: must be"),
        (
            ("[fake__component1]\n", "[fake__component1]\ncounter_poll_0 = 0.5\n"),
            "[fake__component1] counter_poll_0: poll delay 0.5 must be 0 (off) or between 1 and 86400 s",
        ),
    ],
    ids=["port", "backend", "ceiling", "stored-value"],
)
def test_check_config_refuses_what_run_refuses(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    conf = tmp_path / "c.conf"
    text = (DATA / "original-fake-node.conf").read_text()
    assert edit[0] in text
    conf.write_text(text.replace(edit[0], edit[1], 1))
    for command in ("check-config", "run"):
        result = subprocess.run(
            [*_jnt_node(), command, "-c", str(conf)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2, (command, result.stderr)
        assert expected in result.stderr, (command, result.stderr)


def test_check_config_warns_of_typos_with_the_closest_name(tmp_path: Path) -> None:
    conf = tmp_path / "c.conf"
    text = (DATA / "original-fake-node.conf").read_text()
    conf.write_text(text.replace("broker_port", "broker_prot", 1).replace("auto_start", "auto_strat", 1))
    result = subprocess.run(
        [*_jnt_node(), "check-config", "-c", str(conf)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "[system] broker_prot: unknown key; did you mean broker_port?" in result.stderr
    assert "[fake] auto_strat: unknown key; did you mean auto_start?" in result.stderr


def _jnt_node() -> list[str]:
    exe = shutil.which("jnt-node")
    return [exe] if exe else [sys.executable, "-m", "janitoo_node.cli"]
