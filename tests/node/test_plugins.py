"""Plugin registries: built-ins found by name, other packages' entry points found when a config names them,
a broken plugin reported and missing, and only the plugins a config names imported."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from janitoo_node import plugins
from janitoo_node.bus import Bus

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_in_table_is_what_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    for group in ("janitoo.threads", "janitoo.components"):
        assert dict(plugins.BUILTIN[group]) == declared[group], group
    assert set(plugins.BUILTIN) >= set(declared)


def _distribution(folder: Path, module: str, body: str, entry_points: str) -> None:
    """An installed distribution on sys.path: a module and a dist-info with its entry points."""
    (folder / f"{module}.py").write_text(textwrap.dedent(body))
    info = folder / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path where tests install distributions."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("jnt_plugin"):
            del sys.modules[name]


def test_another_packages_bus_is_found_through_its_entry_point(site: Path) -> None:
    _distribution(site, "jnt_plugin_bus", """
        from janitoo_node.bus import Bus

        class GardenBus(Bus):
            product_name = "Garden"

        class Impostor(Bus):
            product_name = "Not the GPIO bus"
    """, """
        [janitoo.threads]
        garden = jnt_plugin_bus:GardenBus
        rpigpio = jnt_plugin_bus:Impostor
    """)  # fmt: skip
    buses = plugins.bus_factories()
    garden = buses["garden"]
    assert issubclass(garden, Bus) and garden.product_name == "Garden"
    # A built-in name is never taken over by another package.
    assert buses["rpigpio"].__module__ == "janitoo_node.components.gpio"
    assert "garden" in set(buses) and "fake" in set(buses) and len(buses) == len(set(buses))
    assert buses.get("nothing") is None


def test_a_broken_plugin_is_reported_once_and_missing(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    _distribution(site, "jnt_plugin_broken", "raise ImportError('needs a library that is not installed')\n", """
        [janitoo.components]
        garden.pump = jnt_plugin_broken:Pump
    """)  # fmt: skip
    components = plugins.component_factories()
    with caplog.at_level(logging.ERROR, "janitoo.plugins"):
        assert components.get("garden.pump") is None
        assert components.get("garden.pump") is None
    errors = [r.getMessage() for r in caplog.records if r.name == "janitoo.plugins"]
    assert len(errors) == 1 and "garden.pump = jnt_plugin_broken:Pump" in errors[0]
    assert "needs a library that is not installed" in errors[0]
    assert components["rpigpio.led"].__name__ == "LedComponent"  # the others still load


def test_a_node_imports_only_the_plugins_its_config_names() -> None:
    # The appliance's buses and components, not every plugin installed (nor importlib.metadata to find them).
    code = """
        import sys
        from pathlib import Path
        from janitoo_node.config import JanitooConfig
        from janitoo_node.scheduler import ManualScheduler
        from janitoo_node.server import load_buses
        cfg = JanitooConfig(Path("examples/helloworldv3.conf"))
        load_buses(cfg, ManualScheduler(), lambda s: lambda m: None, threads=False, backend="sim")
        print(sorted(m for m in ("janitoo_node.buses.fake", "janitoo_node.components.i2c", "importlib.metadata")
                     if m in sys.modules))
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
