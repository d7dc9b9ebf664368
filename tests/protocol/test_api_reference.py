"""The API reference is generated from the docstrings by pdoc, without a warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_pdoc_builds_the_api_reference_of_the_public_surface(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pdoc", "-o", str(tmp_path), "janitoo_protocol", "janitoo_protocol.aio"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Warn" not in out.stderr, out.stderr
    top = (tmp_path / "janitoo_protocol.html").read_text()
    for name in ("JanitooClient", "NetworkMap", "NodeState", "UsageError", "decode"):
        assert f'id="{name}"' in top
    assert 'id="CORRELATION_KEY"' not in top  # internals stay out of the reference
    assert 'id="AsyncJanitooClient"' in (tmp_path / "janitoo_protocol" / "aio.html").read_text()
