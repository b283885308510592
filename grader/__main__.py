"""``python -m grader grade SUBMISSION``: grade a submission and write its reports.

SUBMISSION is a directory of exercise modules named as in exercises/ (``exercises``,
``solutions`` and a student's folder all work), or a student's checkout holding one.

The checks of the isolated exercises run in one checker process that never imports the
submission: each exercise's code runs in a fresh sandboxed worker (grader/sandbox.py). An
exercise the catalog does not mark isolated yet runs in a pytest process of its own, so that
whatever its code does to that process cannot touch the other exercises' verdicts; the
report names it "in-process". A process that dies or hangs costs only its own exercises.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader import reports
from grader.catalog import BY_NAME, EXERCISES, ROOT
from grader.sandbox import mode as sandbox_mode

GRACE_S = 120  # beyond the exercises' own limits, for pytest and hypothesis themselves


def submission_dir(path: str) -> Path:
    """The directory holding the exercise modules: SUBMISSION, or its exercises/ when it is a checkout."""
    if path in ("exercises", "solutions"):
        return ROOT / path
    folder = Path(path).resolve()
    if not folder.is_dir():
        raise SystemExit(f"grade: {path} is not a directory (give a folder of exercise modules or a checkout)")
    if (folder / "exercises").is_dir() and not any((folder / f"{e.name}.py").exists() for e in EXERCISES):
        return folder / "exercises"
    return folder


def _groups(names: list[str], isolation: str) -> list[list[str]]:
    """Exercises graded together: the isolated ones in one checker, every other one alone."""
    isolated = [n for n in names if isolation == "worker" and BY_NAME[n].isolated]
    alone = [[n] for n in names if n not in isolated]
    return ([isolated] if isolated else []) + alone


def _run_group(names: list[str], target: Path, isolation: str, scratch: Path, extra: list[str], show: bool,
               limits: list[str]) -> dict:
    record_path = scratch / f"record-{'-'.join(names)}.json"
    command = [sys.executable, "-m", "pytest", *[str(BY_NAME[n].folder) for n in names], f"--target={target}",
               f"--isolation={isolation}", "-p", "grader.scoreboard", f"--record={record_path}", "-q", "--no-header",
               "-p", "no:cacheprovider", *limits, *(extra or ["--tb=no"])]
    budget = sum(BY_NAME[n].limits.exercise_s for n in names) + GRACE_S
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, timeout=budget, capture_output=not show, text=True,
                              start_new_session=True)
        ended = f"exit status {done.returncode}"
    except subprocess.TimeoutExpired:
        ended = f"it ran past {budget:g} s"
    if record_path.exists():
        try:
            return json.loads(record_path.read_text(encoding="utf-8"))["exercises"]
        except (ValueError, KeyError):
            pass
    return {n: _lost(n, f"the process grading it stopped without a result ({ended})") for n in names}


def _lost(name: str, why: str) -> dict:
    exercise = BY_NAME[name]
    return {"status": "error", "points": 0, "max_points": exercise.points, "passed": 0, "failed": 1,
            "isolation": "in-process" if not exercise.isolated else sandbox_mode()[0],
            "explanation": f"{name}: could not be graded: {why}",
            "checks": [{"nodeid": f"tests/{name}::grading", "property": "the exercise could be graded", "passed": False,
                        "tier": "public"}]}


def grade(target: Path, names: list[str], isolation: str, jobs: int, extra: list[str], limits: list[str] = ()) -> dict:
    show = bool(extra)
    with tempfile.TemporaryDirectory(prefix="d2l-grade-") as scratch:
        groups = _groups(names, isolation)
        results: dict[str, dict] = {}
        with ThreadPoolExecutor(max_workers=1 if show else jobs) as pool:
            futures = [pool.submit(_run_group, g, target, isolation, Path(scratch), extra, show, list(limits))
                       for g in groups]
            try:
                for future in futures:
                    results.update(future.result())
            except KeyboardInterrupt:
                for future in futures:
                    future.cancel()
                print("\ninterrupted: the scores below are those of the exercises that finished", file=sys.stderr)
    ordered = {n: results[n] for n in names if n in results}
    mode, why = sandbox_mode()
    return {"graded": str(target), "sandbox": mode if not why else f"{mode} ({why})", "exercises": ordered}


def print_scoreboard(record: dict) -> None:
    exercises = record["exercises"]
    print(f"scoreboard: {record['graded']} (sandbox: {record['sandbox']})")
    width = max([len(n) for n in exercises] + [5]) + 2
    for name, e in exercises.items():
        checks = f"{e['passed']}/{e['passed'] + e['failed']} checks"
        print(f"{name:<{width}}{e['points']:>3} / {e['max_points']:<4}{e['status']:<14}{checks:<16}"
              f"{e['isolation']:<12}d2l {BY_NAME[name].d2l}")
    print(f"{'total':<{width}}{sum(e['points'] for e in exercises.values()):>3} / "
          f"{sum(e['max_points'] for e in exercises.values())}")
    for e in exercises.values():
        if e["explanation"]:
            print(e["explanation"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader")
    commands = parser.add_subparsers(dest="command", required=True)
    g = commands.add_parser("grade", help="grade a submission and write its reports")
    g.add_argument("submission", help="a directory of exercise modules, or a checkout holding exercises/")
    g.add_argument("--exercises", nargs="+", choices=list(BY_NAME), default=list(BY_NAME), metavar="NAME")
    g.add_argument("--results", type=Path, help="write Gradescope's results.json here")
    g.add_argument("--junit", type=Path, help="write JUnit XML here")
    g.add_argument("--markdown", type=Path, help="write a Markdown summary here")
    g.add_argument("--record", type=Path, help="write the full record (every check) as JSON here")
    g.add_argument("--isolation", choices=("worker", "none"), default="worker")
    g.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help="override a catalog limit for every exercise (e.g. --limit call_s=2)")
    g.add_argument("--strict", action="store_true", help="exit with status 1 unless every exercise graded passed")
    g.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.epilog = "after --: options for pytest, whose output is then shown (-k NAME, --tb=short, -s)"
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    args.pytest_args = extra
    start = time.monotonic()
    limits = [f"--limit={item}" for item in args.limit]
    record = grade(submission_dir(args.submission), args.exercises, args.isolation, args.jobs, args.pytest_args, limits)
    elapsed = time.monotonic() - start
    print_scoreboard(record)
    results = reports.gradescope(record, elapsed)
    for path, text in ((args.results, json.dumps(results, indent=1)), (args.junit, reports.junit(record)),
                       (args.markdown, reports.markdown(record)), (args.record, json.dumps(record, indent=1))):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    statuses = [e["status"] for e in record["exercises"].values()]
    if "not gradable" in statuses:
        return 2
    return 1 if args.strict and any(status != "passed" for status in statuses) else 0


if __name__ == "__main__":
    sys.exit(main())
