"""`import janitoo_protocol` is cheap: each public name loads its submodule on first use (PEP 562)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import janitoo_protocol as jp


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return set(out.stdout.split())


def test_importing_the_package_loads_no_submodule_nor_paho_nor_transitions() -> None:
    loaded = _modules_after("import janitoo_protocol")
    assert {m for m in loaded if m.startswith("janitoo_protocol.")} == set()
    assert not {m for m in loaded if m.split(".")[0] in ("paho", "transitions")}


def test_a_light_name_loads_only_its_own_module() -> None:
    loaded = _modules_after("from janitoo_protocol import Hadd, ProtocolError")
    assert {m for m in loaded if m.startswith("janitoo_protocol.")} == {
        "janitoo_protocol.addressing", "janitoo_protocol.errors",
    }  # fmt: skip
    assert "paho" not in loaded and "transitions" not in loaded


def test_the_client_and_the_controller_load_on_first_use() -> None:
    loaded = _modules_after("import janitoo_protocol as jp\njp.JanitooClient\njp.NetworkController")
    assert {"janitoo_protocol.transport", "janitoo_protocol.roles", "paho", "transitions"} <= loaded


def test_every_public_name_has_a_home_and_resolves_to_what_it_defines() -> None:
    assert set(jp._HOME) == set(jp.__all__)
    for name, home in jp._HOME.items():
        module = importlib.import_module(f"janitoo_protocol.{home}")
        assert getattr(jp, name) is getattr(module, name), name


def test_dir_lists_every_public_name_even_before_first_use() -> None:
    names = subprocess.run(
        [sys.executable, "-c", "import janitoo_protocol as jp; print(' '.join(dir(jp)))"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()  # fmt: skip
    assert set(jp.__all__) <= set(names)
    assert "__version__" in names


def test_star_import_gives_the_whole_surface() -> None:
    namespace: dict[str, object] = {}
    exec("from janitoo_protocol import *", namespace)
    assert set(jp.__all__) <= set(namespace)


@pytest.mark.parametrize("name", ["Topics", "nothing_here", "_HOME_", "encoding_"])
def test_an_unknown_name_is_an_attribute_error(name: str) -> None:
    with pytest.raises(AttributeError, match=name):
        getattr(jp, name)
    assert not hasattr(jp, name)
