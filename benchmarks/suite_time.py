"""Wall time of the checks against the reference solutions, measured in one run.

Prints, each as seconds and as a ratio to the time of ``python -c "import torch"`` measured
in the same run (the machines are noisy; ratios travel better than seconds):
- importing torch,
- the whole public + hidden suite against solutions/,
- each exercise's checks alone.
Targets (issue 2): the whole suite under 60 s, one exercise under 10 s, on a 2-core machine.

    python benchmarks/suite_time.py [--repeat N]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from grader.catalog import EXERCISES  # noqa: E402


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def pytest(*paths: str) -> list[str]:
    return [sys.executable, "-m", "pytest", *paths, "--target=solutions", "-q", "-p", "no:cacheprovider"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1, help="take the best of N runs of each")
    repeat = parser.parse_args().repeat
    best = lambda command: min(wall(command) for _ in range(repeat))  # noqa: E731

    torch_import = best([sys.executable, "-c", "import torch"])
    rows = [("import torch", torch_import)]
    rows.append(("whole suite (public + hidden)", best(pytest("tests/public", "tests/hidden"))))
    for exercise in EXERCISES:
        files = [str(p.relative_to(ROOT)) for p in sorted(ROOT.glob(f"tests/*/test_{exercise.name}.py"))]
        rows.append((f"  {exercise.name}", best(pytest(*files))))
    print(f"{'what':<34}{'seconds':>9}{'x import torch':>16}")
    for name, seconds in rows:
        print(f"{name:<34}{seconds:>9.2f}{seconds / torch_import:>16.1f}")


if __name__ == "__main__":
    main()
