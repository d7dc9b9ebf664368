"""`jnt-node` as a newcomer meets it: --version, JNT_* settings, fsm-graph's output rules."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from janitoo_node.apps import fsmgraph
from janitoo_node.cli import main


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("jnt-node 0.")


def test_run_takes_the_broker_from_jnt_variables(tmp_path: Path) -> None:
    # A bad JNT_PORT is reported as the --port it stands for: proof that run reads the variable.
    result = CliRunner().invoke(main, ["run", "-c", str(tmp_path / "x.conf")], env={"JNT_PORT": "70000"})
    assert result.exit_code == 2 and "'--port'" in result.output and "70000" in result.output


def test_fsm_graph_refuses_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "fsm.svg"
    result = CliRunner().invoke(main, ["fsm-graph", "--format", "mermaid", "-o", str(target)])
    assert result.exit_code == 2 and "folder" in result.output and "does not exist" in result.output
    assert not target.parent.exists()


def test_fsm_graph_says_why_it_falls_back_to_mermaid(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["fsm-graph", "-o", str(tmp_path / "fsm.md")])
    assert result.exit_code == 0
    if fsmgraph.graphviz_engine() is None:
        assert "no graphviz binding installed" in result.output
        assert (tmp_path / "fsm.md").read_text().startswith("---\ntitle: tutorial3")
    else:
        assert (tmp_path / "fsm.md").exists()
