"""A sample of the hostile-request fuzzing (benchmarks/fuzz_requests.py runs a million): no crash, config intact."""

from __future__ import annotations

from pathlib import Path

from benchmarks.fuzz_requests import run


def test_hostile_requests_crash_nothing_and_leave_the_config_loadable(tmp_path: Path) -> None:
    result = run(3000, seed=7, workdir=tmp_path)
    assert result.crashes == []
    # The sample reaches every path: dropped for size, refused by the codec, and handled by the node.
    assert result.oversized > 0 and result.undecodable > 0 and result.handled > 500
