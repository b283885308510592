"""Wall time of the checks, the self-test and a student's check, measured in one run.

Prints each figure in seconds and as a ratio to ``python -c "import torch"`` measured in the
same run (the machines are noisy; ratios travel better than seconds):
- the public + hidden checks against solutions/ (the suite),
- the self-test (tests/meta: every check against every kept implementation, and the rest),
- ``check`` on the untouched stubs (what a student's first run costs),
- each exercise's checks alone.
With ``--baseline REV`` the same three are measured on that revision too (a git worktree
under .bench/), alternating between the two so that both see the same machine, and the
ratio of the current tree to the baseline is printed. Targets (issue 9): no figure above
its baseline.

    python benchmarks/suite_time.py [--baseline REV] [--repeat N]
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

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def wall(command: list[str], cwd: Path, must_pass: bool = True) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if must_pass and done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def check_paths(tree: Path) -> list[str]:
    """Where a tree keeps its exercise checks: tests/public and tests/hidden (the layout before
    issue 9) or one folder per exercise."""
    if (tree / "tests" / "public").is_dir():
        return ["tests/public", "tests/hidden"]
    return [str(path.relative_to(tree)) for path in sorted((tree / "tests").iterdir())
            if (path / "test_public.py").is_file()]


def measures(tree: Path) -> dict[str, tuple[list[str], bool]]:
    paths = check_paths(tree)
    return {
        "suite (checks vs solutions)": (PYTEST + paths + ["--target=solutions"], True),
        "self-test (tests/meta)": (PYTEST + ["tests/meta"], True),
        "check on the stubs": (PYTEST + paths + ["--target=exercises", "-p", "grader.scoreboard", "--tb=no"], False),
    }


def worktree(rev: str) -> Path:
    path = ROOT / ".bench" / rev
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT, check=True, capture_output=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", metavar="REV", help="also measure this git revision, alternating with the current tree")
    parser.add_argument("--repeat", type=int, default=1, help="take the best of N runs of each")
    args = parser.parse_args()
    trees = {"current": ROOT} | ({"baseline": worktree(args.baseline)} if args.baseline else {})

    best: dict[tuple[str, str], float] = {}
    torch_import = min(wall([sys.executable, "-c", "import torch"], ROOT) for _ in range(max(args.repeat, 3)))
    for _ in range(args.repeat):
        for name in measures(ROOT):
            for label, tree in trees.items():  # alternate: the two trees see the same moment of the machine
                command, must_pass = measures(tree)[name]
                seconds = wall(command, tree, must_pass)
                best[label, name] = min(seconds, best.get((label, name), seconds))
    per_exercise = {e.name: min(wall(PYTEST + [f"tests/{e.name}", "--target=solutions"], ROOT) for _ in range(args.repeat))
                    for e in EXERCISES}

    print(f"machine: {subprocess.run(['uname', '-m'], capture_output=True, text=True).stdout.strip()}, "
          f"import torch {torch_import:.2f} s")
    header = f"{'what':<30}{'current s':>11}{'x torch':>9}"
    if args.baseline:
        header += f"{'baseline s':>12}{'x torch':>9}{'current / baseline':>20}"
    print(header)
    for name in measures(ROOT):
        now = best["current", name]
        line = f"{name:<30}{now:>11.2f}{now / torch_import:>9.1f}"
        if args.baseline:
            then = best["baseline", name]
            line += f"{then:>12.2f}{then / torch_import:>9.1f}{now / then:>20.2f}"
        print(line)
    for name, seconds in per_exercise.items():
        print(f"  {name:<28}{seconds:>11.2f}{seconds / torch_import:>9.1f}")


if __name__ == "__main__":
    main()
