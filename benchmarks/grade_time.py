"""What isolation costs, measured in one run (issue 10's targets).

Prints, in seconds and as ratios measured in the same run:
- ``python -c "import torch"`` (the unit: the machines are noisy, ratios travel better);
- ``python -m grader grade solutions``: one full submission graded in isolation;
- the same checks in-process: one ``pytest`` run over every exercise with ``--isolation=none``
  (every exercise's code imported into the one process that checks it);
- their ratio (target: 1.5x at most) and the isolated time in units of ``import torch``
  (target: 5x at most);
- the self-test's kill-matrix run (every kept implementation of every exercise), through the
  worker and in-process (target: 2x at most).
Each pair is measured alternately, ``--repeat`` times, and the medians are compared.

    python benchmarks/grade_time.py [--repeat N]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from grader.catalog import EXERCISES  # noqa: E402

FOLDERS = [str(e.folder.relative_to(ROOT)) for e in EXERCISES]


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - start


def kill_matrix(isolation: str) -> list[str]:
    out = Path(tempfile.mkdtemp(prefix="d2l-bench-")) / "matrix.json"
    return [sys.executable, "-m", "pytest", *FOLDERS, "--candidates", f"--kill-matrix={out}", "-n", "2", "-q",
            "--tb=no", "-p", "no:cacheprovider", f"--isolation={isolation}"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    grade = [sys.executable, "-m", "grader", "grade", "solutions"]
    in_process = [sys.executable, "-m", "pytest", *FOLDERS, "--target=solutions", "--isolation=none", "-q", "--tb=no",
                  "-p", "no:cacheprovider"]
    pairs = {
        "grade solutions": (grade, in_process),
        "self-test (kill matrix)": (kill_matrix("worker"), kill_matrix("none")),
    }
    torch_times = [wall([sys.executable, "-c", "import torch"]) for _ in range(repeat)]
    unit = statistics.median(torch_times)
    print(f"import torch: {unit:.2f} s (median of {repeat})")
    for name, (isolated, in_process) in pairs.items():
        a, b = [], []
        for _ in range(repeat):
            a.append(wall(isolated))
            b.append(wall(in_process))
        ia, ib = statistics.median(a), statistics.median(b)
        print(f"{name}: isolated {ia:.2f} s ({ia / unit:.1f}x import torch), in-process {ib:.2f} s "
              f"({ib / unit:.1f}x); isolated / in-process = {ia / ib:.2f}")


if __name__ == "__main__":
    main()
