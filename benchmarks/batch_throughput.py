"""Batch grading throughput, measured in one run (issue 11).

Prints:
- the machine (CPU model, cores, load average before the run);
- the wall time of one ``python -m grader grade`` of one submission, alone;
- ``python -m grader batch`` on the same generated class with ``--jobs 1`` and ``--jobs 2``
  (fresh output folders, so nothing is skipped): submissions per minute;
- their ratio, jobs-2 over jobs-1 (target: 1.7x at least on a 2-core machine).

The class is ``--students`` submissions, a third each solutions, stubs and solutions with one
kept mutant; by default graded on the three fast isolated exercises (``--exercises``), as the
tests do; ``--exercises all`` grades every exercise.

    python benchmarks/batch_throughput.py [--students 8] [--exercises NAME ... | all]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from grader.catalog import BY_NAME  # noqa: E402

FAST = ["conv_output_size", "log_rmse", "softmax"]


def make_class(folder: Path, students: int, exercises: list[str]) -> None:
    """Solutions, stubs, and solutions with one exercise replaced by a kept mutant, in turn."""
    mutants = [path for name in exercises for path in sorted((ROOT / "tests" / name / "mutants").glob("*.py"))]
    for number in range(students):
        student = folder / f"student-{number:03d}"
        source = ROOT / ("exercises" if number % 3 == 1 else "solutions")
        shutil.copytree(source, student, ignore=shutil.ignore_patterns("__pycache__"))
        if number % 3 == 2:
            mutant = mutants[number % len(mutants)]
            shutil.copy(mutant, student / f"{mutant.parent.parent.name}.py")


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return f"{model}, {os.cpu_count()} cores, load average {load}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--exercises", nargs="+", default=FAST)
    args = parser.parse_args()
    exercises = list(BY_NAME) if args.exercises == ["all"] else args.exercises
    print(f"machine: {machine()}")
    print(f"class: {args.students} submissions, exercises: {', '.join(exercises)}")
    with tempfile.TemporaryDirectory(prefix="d2l-batch-bench-") as scratch:
        submissions = Path(scratch) / "class"
        submissions.mkdir()
        make_class(submissions, args.students, exercises)
        one = submissions / "student-000"
        alone = timed([sys.executable, "-m", "grader", "grade", str(one), "--jobs", "1", "--exercises", *exercises])
        print(f"one submission alone (grader grade): {alone:.1f} s")
        rates = {}
        for jobs in (1, 2):
            out = Path(scratch) / f"out-{jobs}"
            seconds = timed([sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out),
                             "--jobs", str(jobs), "--exercises", *exercises])
            rates[jobs] = args.students / seconds * 60
            print(f"batch --jobs {jobs}: {seconds:.1f} s, {rates[jobs]:.1f} submissions/min")
    print(f"throughput jobs-2 / jobs-1: {rates[2] / rates[1]:.2f}x (target: 1.7x at least on 2 cores)")


if __name__ == "__main__":
    main()
