"""bench/lecture_hall.py runs: two students, no think time, and every check it makes passes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.process import ROOT


@pytest.mark.parametrize("start", ["invitation", "surveys"])
def test_the_lecture_hall_benchmark_runs_and_its_checks_pass(tmp_path, start):
    """Two students take the whole pre survey on the real bot process while a broadcast runs,
    starting from the invitation the bot sends at start-up, or from /surveys.

    Tried: no think time and no start spread (nothing sleeps), no added latency, no flood
    limits (one question a second per chat would make the run long), no echo phase. The bench
    exits non-zero when a student stalls or the database check fails; its report must name the
    figures the issue asks for.
    """
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "lecture_hall.py"),
            "--students",
            "2",
            "--think",
            "0",
            "--spread",
            "0",
            "--broadcast-at",
            "0",
            "--latency",
            "0",
            "--no-limits",
            "--echo-concurrency",
            "--step-timeout",
            "60",
            "--start",
            start,
        ],
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}},
            "BENCH_KEEP": str(tmp_path / "kept"),
        },
        capture_output=True,
        text=True,
        timeout=300,  # a guard against a hang, not a speed target
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "finished: 2/2 students" in output and "stalled: 0" in output, output
    assert "tap -> next question on screen (answers):" in output
    assert "Submit: until the scores" in output and "Submit: until the chart" in output
    assert "ms/update" in output and "429s received:" in output
    assert "broadcast: 3/3 delivered" in output, output
    assert "error replies instead of the next screen: 0" in output, output
    assert "-> OK" in output, output
    assert "bot log: 0 ERROR" in output, output
