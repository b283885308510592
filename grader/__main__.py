"""``python -m grader grade SUBMISSION``: grade a submission and write its reports.

SUBMISSION is a directory of exercise modules named as in exercises/ (``exercises``,
``solutions`` and a student's folder all work), or a student's checkout holding one.

The exercises are spread over checker processes (pytest runs, one per core), each a fork of
one forkserver that has imported torch, pytest and the checks (grader/checkers.py). No
checker imports the submission: every call of an isolated exercise runs in a fresh sandboxed
worker forked from one zygote (grader/sandbox.py), which grade launches first so that it
imports torch while the forkserver does, and which serves every checker. An exercise the
catalog does not mark isolated runs in a checker of its own, so that whatever its code does
to that process cannot touch the other exercises' verdicts; the report names it
"in-process". A process that dies or hangs costs only its own exercises.

``python -m grader batch`` and ``python -m grader merge`` grade a whole class through this
command, one process per student (grader/batch.py; not in the student release).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from grader import checkers, reports
from grader.catalog import BY_NAME, EXERCISES, ROOT
from grader.sandbox import SUBMISSION_ROOT, Sandbox
from grader.sandbox import mode as sandbox_mode
from grader.worker import SCENARIOS

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


def _groups(names: list[str], isolation: str, jobs: int) -> list[list[str]]:
    """Exercises graded together, the longest first: every exercise that is not isolated alone,
    and the isolated ones spread over the checker processes the other jobs leave (each has its
    own pre-warmed zygote), balanced by the catalog's ``check_s``."""
    isolated = [n for n in names if isolation == "worker" and BY_NAME[n].isolated]
    alone = [[n] for n in names if n not in isolated]
    bins: list[list[str]] = [[] for _ in range(min(len(isolated), max(1, jobs - len(alone))))]
    for name in sorted(isolated, key=lambda n: -BY_NAME[n].check_s):
        min(bins, key=_cost).append(name)
    return sorted([b for b in bins if b] + alone, key=lambda group: -_cost(group))


def _cost(group: list[str]) -> float:
    return sum(BY_NAME[n].check_s for n in group)


class _Running:
    """The pytest processes grading now, so that Ctrl-C can stop them all (each runs in a
    session of its own, which the terminal's SIGINT does not reach)."""

    def __init__(self):
        self.processes: set = set()
        self.lock = threading.Lock()
        self.stopped = False

    def add(self, process) -> None:
        with self.lock:
            self.processes.add(process)
            if self.stopped:
                _kill_group(process)

    def discard(self, process) -> None:
        with self.lock:
            self.processes.discard(process)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            for process in self.processes:
                _kill_group(process)


def _kill_group(process) -> None:
    """Kill a checker and its process group (it may not have made its own group yet)."""
    for kill in (os.killpg, os.kill):
        try:
            kill(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _run_group(names: list[str], target: Path, isolation: str, scratch: Path, extra: list[str], show: bool,
               limits: list[str], running: _Running, handed: dict | None) -> dict:
    record_path = scratch / f"record-{'-'.join(names)}.json"
    argv = [*[str(BY_NAME[n].folder) for n in names], f"--target={target}", f"--isolation={isolation}",
            "-p", "grader.scoreboard", f"--record={record_path}", "-q", "--no-header", "-p", "no:cacheprovider",
            *limits, *(extra or ["--tb=no"])]
    budget = sum(BY_NAME[n].limits.exercise_s for n in names) + GRACE_S
    process = checkers.start(argv, quiet=not show, handed=handed)
    running.add(process)
    try:
        process.join(timeout=budget)
        if process.is_alive():
            _kill_group(process)
            process.join()
            ended = f"it ran past {budget:g} s"
        else:
            ended = f"exit status {process.exitcode}"
    finally:
        running.discard(process)
    if running.stopped:
        return {n: _lost(n, "grading was interrupted (Ctrl-C) before this exercise finished") for n in names}
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
    """Grade ``names``; each group of exercises in a pytest process of its own, ``jobs`` at a time.
    A line on stderr as each group finishes; after Ctrl-C, the groups still running are stopped
    and their exercises reported as not graded, beside the scores of those that finished."""
    show = bool(extra)
    running, results, interrupted = _Running(), {}, False
    with tempfile.TemporaryDirectory(prefix="d2l-grade-") as scratch:
        groups = _groups(names, isolation, 1 if show else jobs)
        zygote = _zygote(groups, target, isolation)
        handed = [zygote.handover() if zygote and _isolated(g, isolation) else None for g in groups]
        checkers.warm_up()
        previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
        with ThreadPoolExecutor(max_workers=1 if show else jobs) as pool:
            futures = [pool.submit(_run_group, g, target, isolation, Path(scratch), extra, show, list(limits), running, h)
                       for g, h in zip(groups, handed)]
            try:
                for future in as_completed(futures):
                    _progress(future.result())
                    results.update(future.result())
            except KeyboardInterrupt:
                interrupted = True
                running.stop()
                for future in futures:
                    future.cancel()
                print("\ninterrupted: the scores below are those of the exercises that finished", file=sys.stderr)
        signal.signal(signal.SIGTERM, previous)
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is None:
                results.update({n: e for n, e in future.result().items() if n not in results})
        if zygote is not None:
            zygote.close()
    for name in names:
        results.setdefault(name, _lost(name, "grading was interrupted (Ctrl-C) before this exercise started"))
    mode, why = sandbox_mode()
    return {"graded": str(target), "sandbox": mode if not why else f"{mode} ({why})",
            "exercises": {n: results[n] for n in names}, "interrupted": interrupted}


def _terminate_as_interrupt(signum, frame) -> None:
    """SIGTERM ends grading as Ctrl-C does: the checkers (each in a session of its own) are
    stopped, and the scores of the exercises that finished are reported."""
    raise KeyboardInterrupt


def _isolated(group: list[str], isolation: str) -> bool:
    return any(isolation == "worker" and BY_NAME[n].isolated for n in group)


def _zygote(groups: list[list[str]], target: Path, isolation: str) -> Sandbox | None:
    """The one zygote every checker forks its workers from, launched now, so that it imports
    torch (and the exercises' scenarios) while the checkers' forkserver imports the checks."""
    if not any(_isolated(g, isolation) for g in groups):
        return None
    zygote = Sandbox({target: SUBMISSION_ROOT}, prepare=tuple(n for g in groups for n in g if n in SCENARIOS))
    zygote.launch()
    return zygote


def _progress(group: dict) -> None:
    for name, entry in group.items():
        print(f"graded {name}: {entry['points']} / {entry['max_points']} ({entry['status']})", file=sys.stderr, flush=True)


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
                   help="override a catalog limit for every exercise (--limit call_s=2) or one (--limit vgg.call_s=30)")
    g.add_argument("--strict", action="store_true", help="exit with status 1 unless every exercise graded passed")
    g.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    add_class_commands(commands)
    parser.epilog = "after --: options for pytest, whose output is then shown (-k NAME, --tb=short, -s)"
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    args.pytest_args = extra
    if args.command != "grade":
        return args.run(args)
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
    if record.get("interrupted"):
        return 130  # the shell's convention for a command stopped by SIGINT
    if "not gradable" in statuses:
        return 2
    return 1 if args.strict and any(status != "passed" for status in statuses) else 0


def add_class_commands(commands) -> None:
    """The instructors' ``batch`` and ``merge`` subcommands (grader/batch.py); where that file is
    absent, as in the student release, each answers that it is not part of it."""
    try:
        import grader.batch as batch
    except ModuleNotFoundError as error:
        if error.name != "grader.batch":
            raise
        for name in ("batch", "merge"):
            # No option at all (no argument can hold a NUL), so that any words, --help too, reach the answer.
            absent = commands.add_parser(name, add_help=False, prefix_chars="\0",
                                         help="instructors only: not in the student release")
            absent.add_argument("words", nargs="*")
            absent.set_defaults(run=_not_in_release)
        return
    batch.add_commands(commands)


def _not_in_release(args) -> int:
    print(f"python -m grader {args.command}: batch grading (batch, merge) is an instructor command, not part of the "
          "student release; check your own exercises with `nox -s check`", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
