"""A pytest plugin that ends a run with one line per exercise (points, status, checks) and,
for each exercise that did not pass, its first failing property in plain words: what was
expected, the small input that broke it, the likely mistake when a check reproduced one,
what the code printed, and the command that shows the details.

Used by ``nox -s check`` and ``nox -s solutions`` as ``-p grader.scoreboard``. An exercise
earns its points only when every one of its checks passes. Failures are read from their
fields (grader.failures.CheckFailure), never parsed back from text.
"""
from __future__ import annotations

import ast
import json
import textwrap
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader import loading
from grader.catalog import BY_NAME, EXERCISES, exercise_of, tier_of
from grader.failures import CheckFailure, ForbiddenCall, is_stub
from grader.reports import printable
from grader.remote import WorkerFault
from grader.sandbox import SandboxError
from grader.sandbox import mode as sandbox_mode

MORE = 4          # other failing properties listed under the first failure
PRINTED_LINES = 15  # lines of a failing check's own output shown
STATUSES = ("passed", "failed", "not started", "error", "timeout", "forbidden", "not gradable", "no checks ran")
STATUS_WIDTH = max(len(s) for s in STATUSES)


@dataclass
class Failure:
    check: str                 # the test's name
    nodeid: str
    property: str              # first line of its docstring
    kind: str                  # "check", "not implemented", "import", "crash"
    summary: str               # one sentence (or the exception's first lines)
    shown: dict[str, str] = field(default_factory=dict)
    advice: str | None = None  # the reproduced mistake's advice
    example: dict[str, str] = field(default_factory=dict)
    where: str | None = None   # for a crash: the line of the code under test that raised
    printed: str = ""          # what the check's run printed


@dataclass
class Record:
    passed: int = 0
    failures: list[Failure] = field(default_factory=list)
    checks: list[tuple[str, str, bool]] = field(default_factory=list)  # (node id, property, passed) in run order

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def status(self) -> str:
        if self.passed + self.failed == 0:
            return "no checks ran"
        if not self.failures:
            return "passed"
        kinds = {f.kind for f in self.failures}
        if "not gradable" in kinds:
            return "not gradable"
        if "import" in kinds:
            return "error"
        if "timeout" in kinds:
            return "timeout"
        if "forbidden" in kinds:
            return "forbidden"
        return "not started" if kinds == {"not implemented"} else "failed"


def _property(item) -> str:
    doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else item.name


def _where(excinfo, target: Path | None) -> str | None:
    """``file, line N, in f: source`` of the deepest frame in the code under test."""
    remote = getattr(excinfo.value, "_d2l_where", None)
    if remote:
        return remote
    if target is None:
        return None
    frames = [frame for frame in traceback.extract_tb(excinfo.tb) if Path(frame.filename) == target]
    if not frames:
        return None
    frame = frames[-1]
    return f"{target.name}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"


def _failure(item, excinfo, target: Path | None) -> Failure:
    error = excinfo.value
    example = getattr(error, "example", None)
    base = dict(check=item.name, nodeid=item.nodeid, property=_property(item),
                example=(example() if callable(example) else example) or {})
    if isinstance(error, ForbiddenCall):
        return Failure(kind="forbidden", summary=error.summary, **base)
    if isinstance(error, CheckFailure):
        advice = error.mistake.advice if error.mistake else None
        return Failure(kind="check", summary=error.summary, shown=error.shown, advice=advice, **base)
    if isinstance(error, loading.SubmissionError):
        return Failure(kind="import", summary=str(error), **base)
    if isinstance(error, WorkerFault):
        return Failure(kind="timeout" if error.kind == "timeout" else "crash", summary=str(error), **base)
    if isinstance(error, SandboxError):
        return Failure(kind="not gradable", summary=f"the grader could not run this exercise: {error}", **base)
    if is_stub(error):
        return Failure(kind="not implemented", summary=str(error), where=_where(excinfo, target), **base)
    text = "\n".join(str(error).strip().splitlines()[:6])
    return Failure(kind="crash", summary=f"{type(error).__name__}: {text}" if text else type(error).__name__,
                   where=_where(excinfo, target), **base)


def stub_hints(path: Path) -> list[str]:
    """The messages of every ``raise NotImplementedError("...")`` left in a file, in order."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    hints = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and getattr(node.exc.func, "id", "") == "NotImplementedError":
            args = node.exc.args
            if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                hints.append((node.lineno, args[0].value))
    return [hint for _, hint in sorted(hints)]


def details_command(failure: Failure, exercise: str) -> str:
    """A command that reruns just this check with its traceback (split_exercises parses it)."""
    return f"nox -s check -- {exercise} -k {failure.check.split('[')[0]} --tb=short"


class Scoreboard:
    def __init__(self, config):
        self.config = config
        self.records = {exercise.name: Record() for exercise in EXERCISES}
        self._pending: dict[str, Failure] = {}
        self._properties: dict[str, str] = {}

    def _target(self, exercise: str) -> Path | None:
        if self.config.getoption("--candidates", False):
            return None
        try:
            return loading.target_candidate(self.config.getoption("--target", "exercises"), exercise).path
        except loading.SubmissionError:
            return None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        exercise = exercise_of(item.nodeid)
        self._properties.setdefault(item.nodeid, _property(item))
        if exercise is not None and call.excinfo is not None and report.failed and item.nodeid not in self._pending:
            self._pending[item.nodeid] = _failure(item, call.excinfo, self._target(exercise))
        return report

    def pytest_runtest_logreport(self, report):
        exercise = exercise_of(report.nodeid)
        if exercise is None or report.when != "teardown":
            return
        record = self.records[exercise]
        failure = self._pending.pop(report.nodeid, None)
        record.checks.append((report.nodeid, self._properties.pop(report.nodeid, report.nodeid), failure is None))
        if failure is None:
            record.passed += 1
            return
        failure.printed = "\n".join(text for name, text in report.sections if name.startswith("Captured std")).strip()
        record.failures.append(failure)

    def pytest_terminal_summary(self, terminalreporter):
        write = terminalreporter.write_line
        ran = {name: rec for name, rec in self.records.items() if rec.passed + rec.failed}
        if not ran:
            return
        terminalreporter.section(f"scoreboard: {self._graded()}")
        earned = total = 0
        name_width = max(len(name) for name in ran) + 2
        checks = {name: f"{rec.passed}/{rec.passed + rec.failed} checks" for name, rec in ran.items()}
        checks_width = max(len(text) for text in checks.values())
        for name, record in ran.items():
            exercise = BY_NAME[name]
            points = exercise.points if record.status == "passed" else 0
            earned, total = earned + points, total + exercise.points
            write(f"{name:<{name_width}}{points:>3} / {exercise.points:<4}{record.status:<{STATUS_WIDTH + 2}}"
                  f"{checks[name]:<{checks_width + 3}}d2l {exercise.d2l}")
        write(f"{'total':<{name_width}}{earned:>3} / {total}")
        for name, record in ran.items():
            if record.failures:
                self._explain(lambda text: write(printable(text)), name, record)

    def _graded(self) -> str:
        if self.config.getoption("--candidates", False):
            return "the kept implementations (self-test)"
        target = self.config.getoption("--target", "exercises")
        try:
            path = loading.target_dir(target)
        except loading.SubmissionError:
            return target
        return f"{target} ({path})" if target in loading.NAMED_TARGETS else str(path)

    def _explain(self, write, name: str, record: Record) -> None:
        write("")
        if record.status == "not gradable":
            first = next(f for f in record.failures if f.kind == "not gradable")
            write(f"{name}: not gradable (a fault of the grader, not of your code; tell the course staff):")
            write(f"  {first.summary}")
            return
        if record.status == "error":
            first = next(f for f in record.failures if f.kind == "import")
            write(f"{name}: could not be graded, so every check failed:")
            write(f"  {first.summary}")
            return
        if record.status == "not started":
            target = self._target(name)
            hints = stub_hints(target) if target else []
            hints = hints or list(dict.fromkeys(f.summary for f in record.failures))
            write(f"{name}: not started; to do:")
            for hint in hints:
                write(f"  - {hint}")
            return
        first = next((f for f in record.failures if f.kind in ("timeout", "forbidden")), record.failures[0])
        count = record.failed
        write(f"{name}: {count} check{'s' if count > 1 else ''} failed; the first: {first.check}")
        write(f"  property: {first.property}")
        write(textwrap.indent(first.summary, "  | "))
        for label, value in first.shown.items():
            write(textwrap.indent(f"{label}: {value}", "  |   "))
        if first.where:
            write(f"  raised at {first.where}")
        example = {label: value for label, value in first.example.items() if first.shown.get(label) != value}
        if example:
            write("  smallest input found:")
            for label, value in example.items():
                write(textwrap.indent(f"{label} = {value}", "    "))
        if first.advice:
            write(f"  Likely mistake: {first.advice}")
        self._printed(write, first)
        self._others(write, [f for f in record.failures if f is not first])
        write(f"  details: {details_command(first, name)}")

    @staticmethod
    def _printed(write, failure: Failure) -> None:
        if not failure.printed:
            return
        lines = failure.printed.splitlines()
        write("  your code printed:")
        for line in lines[:PRINTED_LINES]:
            write(f"    {line[:200]}")
        if len(lines) > PRINTED_LINES:
            write(f"    ... ({len(lines) - PRINTED_LINES} more lines; run the details command with -s to see all)")

    @staticmethod
    def _others(write, others: list[Failure]) -> None:
        by_property: dict[str, int] = {}
        for failure in others:
            by_property[failure.property] = by_property.get(failure.property, 0) + 1
        listed = list(by_property.items())[:MORE]
        for prop, n in listed:
            write(f"  also failed: {prop}" + (f" ({n} checks)" if n > 1 else ""))
        rest = len(others) - sum(n for _, n in listed)
        if rest:
            write(f"  ... and {rest} more failed check{'s' if rest > 1 else ''}")


    def isolation(self, exercise: str) -> str:
        """Where the exercise's code ran: "bwrap" or "rlimits" (a sandboxed worker) or "in-process"."""
        if self.config.getoption("--isolation", "none") != "worker" or not BY_NAME[exercise].isolated:
            return "in-process"
        return sandbox_mode()[0]

    def as_record(self) -> dict:
        """Every exercise that ran, as plain data (what ``--record`` writes and the reports read)."""
        out = {}
        for name, record in self.records.items():
            if not record.passed + record.failed:
                continue
            lines: list[str] = []
            if record.failures:
                self._explain(lambda text: lines.append(printable(text)), name, record)
            exercise = BY_NAME[name]
            out[name] = {
                "status": record.status, "points": exercise.points if record.status == "passed" else 0,
                "max_points": exercise.points, "passed": record.passed, "failed": record.failed,
                "isolation": self.isolation(name), "explanation": "\n".join(lines).strip("\n"),
                "checks": [{"nodeid": nodeid, "property": prop, "passed": ok,
                            "tier": tier_of(nodeid) or "public"} for nodeid, prop, ok in record.checks],
            }
        return out

    def pytest_sessionfinish(self, session):
        path = self.config.getoption("--record", None)
        if path:
            Path(path).write_text(json.dumps({"graded": self._graded(), "exercises": self.as_record()}, indent=1),
                                  encoding="utf-8")


def pytest_addoption(parser):
    parser.addoption("--record", metavar="PATH", help="write every exercise's status, points and checks to PATH as JSON")


def pytest_configure(config):
    config.pluginmanager.register(Scoreboard(config), "d2l-scoreboard")
