"""tutorial3 around the machine: the example config and its packaged copy, fsm-graph, the demo's config."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import janitoo_node
from janitoo_node.apps import fsmgraph
from janitoo_node.apps.demo import example_config_text, prepare_config, try_commands
from janitoo_node.cli import main
from janitoo_node.config import JanitooConfig

# The repository's example, found from the package (an editable install runs from the checkout).
EXAMPLE = Path(janitoo_node.__file__).resolve().parent.parent / "examples" / "helloworldv3.conf"
needs_checkout = pytest.mark.skipif(not EXAMPLE.exists(), reason="not run from a checkout")


@needs_checkout
def test_the_packaged_config_is_the_example() -> None:
    assert example_config_text() == EXAMPLE.read_text(encoding="utf-8")


@needs_checkout
def test_the_example_loads_unchanged() -> None:
    result = CliRunner().invoke(main, ["check-config", "-c", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines[:5]] == [
        ["0225/0000", "tutorial3"],
        ["0225/0001", "tutorial3__ambiance"],
        ["0225/0002", "tutorial3__temperature"],
        ["0225/0003", "tutorial3__cpu"],
        ["0225/0004", "tutorial3__led"],
    ]
    assert JanitooConfig(EXAMPLE).get("tutorial3", "backend") == "auto"


@needs_checkout
def test_install_service_runs_the_example() -> None:
    result = CliRunner().invoke(main, ["install-service", "-c", str(EXAMPLE), "--print"])
    assert result.exit_code == 0, result.output
    exec_start = next(line for line in result.output.splitlines() if line.startswith("ExecStart="))
    assert exec_start.endswith(f" run -c {EXAMPLE.resolve()}")
    assert "Restart=on-failure" in result.output and "User=janitoo" in result.output
    assert "Description=Janitoo node jnt_tutorial" in result.output


def test_fsm_graph_mermaid_and_text() -> None:
    runner = CliRunner()
    mermaid = runner.invoke(main, ["fsm-graph", "--format", "mermaid"])
    assert mermaid.exit_code == 0
    lines = mermaid.output.splitlines()
    assert "stateDiagram-v2" in lines and "    [*] --> booting" in lines
    for edge in ("sleeping --> reporting: wakeup [nodes_ready]", "ringing --> reporting: report [nodes_ready]",
                 "booting --> sleeping: sleep", "reporting --> ringing: ring [nodes_ready]"):  # fmt: skip
        assert f"    {edge}" in lines
    assert not any("ringing --> ringing" in line or "sleeping --> ringing" in line for line in lines)
    text = runner.invoke(main, ["fsm-graph", "--format", "text"])
    assert text.exit_code == 0
    assert text.output.splitlines()[:5] == [
        "trigger  source     dest       condition",
        "wakeup   sleeping   reporting  nodes_ready",
        "report   *          reporting  nodes_ready",
        "sleep    *          sleeping   -",
        "ring     reporting  ringing    nodes_ready",
    ]
    assert "ringing    LED warning;" in text.output


def test_fsm_graph_without_graphviz(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fsmgraph, "graphviz_engine", lambda: None)
    runner = CliRunner()
    default = runner.invoke(main, ["fsm-graph"])
    assert default.exit_code == 0 and "stateDiagram-v2" in default.output
    png = runner.invoke(main, ["fsm-graph", "--format", "png", "-o", str(tmp_path / "fsm.png")])
    assert png.exit_code == 2
    assert png.output.strip().splitlines() == [
        "jnt-node: error: png needs graphviz: pip install graphviz (and apt-get install graphviz), "
        "or use --format mermaid or text"
    ]
    out = tmp_path / "fsm.mmd"
    written = runner.invoke(main, ["fsm-graph", "--format", "mermaid", "-o", str(out)])
    assert written.exit_code == 0 and out.read_text() == fsmgraph.mermaid()


def test_fsm_graph_draws_through_the_transitions_graph_extension(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:  # fmt: skip
    # No graphviz here: transitions' own mermaid engine stands in for it, through the same code path.
    monkeypatch.setattr(fsmgraph, "graphviz_engine", lambda: "mermaid")
    result = CliRunner().invoke(main, ["fsm-graph", "--format", "svg", "-o", str(tmp_path / "fsm.svg")])
    assert result.exit_code == 0, result.output
    drawn = (tmp_path / "fsm.svg").read_text()
    assert "tutorial3" in drawn and "reporting --> ringing: ring [nodes_ready]" in drawn


def test_the_demo_config(tmp_path: Path) -> None:
    files = prepare_config(tmp_path, 18999, prefix="p", timer_delay=4)
    cfg = JanitooConfig(files.conf)
    assert (cfg.get("system", "broker_port"), cfg.get("system", "topic_prefix")) == ("18999", "p")
    assert cfg.get("tutorial3", "backend") == "sim"
    assert cfg.get("tutorial3", "tutorial3_timer_delay_0") == "4"
    assert cfg.get("tutorial3__temperature", "sim_temperature") == f"file:{files.ds18b20.name}"
    assert cfg.get("tutorial3__cpu", "sim_temperature") == f"file:{files.cpu.name}"
    assert files.ds18b20.read_text() == "19.5\n" and files.cpu.read_text() == "45.0\n"
    # Logging goes to stderr only: no handler writes under /opt.
    assert cfg.get("handlers", "keys") == "console"
    assert cfg.get("logger_root", "handlers") == "console"
    assert all(cfg.get(f"logger_{name}", "handlers") == "" for name in ("janitoo", "sqlalchemy", "alembic"))
    # Everything else is the example's.
    assert cfg.get("tutorial3", "location") == "Rapsberry" and cfg.get("tutorial3__led", "pin_0") == "19"
    check = CliRunner().invoke(main, ["check-config", "-c", str(files.conf)])
    assert check.exit_code == 0, check.output


def test_the_demo_suggests_the_tutorial_commands() -> None:
    commands = try_commands(1234)
    # The port once, as a setting every jnt command reads: the commands themselves need no --port.
    assert commands[0] == "export JNT_PORT=1234" and commands[1] == "jnt web"
    assert "jnt query network" in commands and "jnt spy" in commands
    assert "jnt query node --hadd 0225/0000 --vuuid request_info_users" in commands
    assert "jnt query value --hadd 0225/0000 --uuid tutorial3_transition --set wakeup" in commands
    assert not [c for c in commands if "--port" in c or "--cmdclass" in c]
