"""A pytest plugin that ends a run with one line per exercise: points, status, and for a
failure the first failing property in plain words with the small input that broke it.

Used by ``nox -s check`` and ``nox -s solutions`` as ``-p grader.scoreboard``. An exercise
earns its points only when every one of its checks passes.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import pytest

from grader.catalog import BY_NAME, EXERCISES, exercise_of_test_file

NOT_IMPLEMENTED = "NotImplementedError"
# How hypothesis introduces the example it reports: "Falsifying example: f(", "Failing test
# case: f(", "Falsifying explicit example: f(", ...
EXAMPLE = r"(?:Falsifying|Failing)(?: explicit)? (?:example|test case): "
MORE = 4  # other failing properties listed by name under the first one


@dataclass
class Failure:
    check: str       # the test's name
    property: str    # first line of its docstring
    message: str     # our plain-words message, or the exception
    example: str     # hypothesis's falsifying example, if any


@dataclass
class Record:
    passed: int = 0
    failed: int = 0
    not_implemented: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.passed + self.failed == 0:
            return "no checks ran"
        if self.failed == 0:
            return "passed"
        return "not started" if self.not_implemented == self.failed else "failed"


def _example(text: str) -> str:
    """Hypothesis's 'Falsifying example: f(...)' block from a failure's text, minus fixtures."""
    match = re.search(EXAMPLE + r"\w+\(\n(.*?)\n\s*\|?\s*\)", text, re.S)
    if not match:
        return ""
    lines = [line.strip().lstrip("|").strip() for line in match.group(1).splitlines()]
    kept = [line for line in lines if not re.match(r"(impl|device|candidate)=", line)]
    return "\n".join(kept)


def _message(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    text = re.sub(r"^(E\s+)?(AssertionError|Failed): ", "", text.strip())
    return re.split(r"\n" + EXAMPLE, text)[0].strip()


class Scoreboard:
    def __init__(self):
        self.records = {exercise.name: Record() for exercise in EXERCISES}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        doc = (getattr(item, "obj", None).__doc__ or "").strip().splitlines() if hasattr(item, "obj") else []
        report.user_properties.append(("property", doc[0] if doc else item.name))
        return report

    def pytest_runtest_logreport(self, report):
        exercise = exercise_of_test_file(report.nodeid)
        if exercise is None or (report.when != "call" and not report.failed):
            return
        record = self.records[exercise]
        if report.passed:
            record.passed += 1
            return
        if report.skipped:
            return
        record.failed += 1
        text = report.longreprtext
        if _message(report).startswith(NOT_IMPLEMENTED):
            record.not_implemented += 1
        record.failures.append(Failure(
            check=report.nodeid.split("::")[-1],
            property=dict(report.user_properties).get("property", ""),
            message=_message(report),
            example=_example(text),
        ))

    def pytest_terminal_summary(self, terminalreporter):
        write = terminalreporter.write_line
        ran = {name: rec for name, rec in self.records.items() if rec.passed + rec.failed}
        if not ran:
            return
        terminalreporter.section("scoreboard")
        earned = total = 0
        for name, record in ran.items():
            exercise = BY_NAME[name]
            points = exercise.points if record.status == "passed" else 0
            earned, total = earned + points, total + exercise.points
            write(f"{name:<18} {points:>3} / {exercise.points:<3} {record.status:<12} "
                  f"{record.passed}/{record.passed + record.failed} checks   d2l {exercise.d2l}")
        write(f"{'total':<18} {earned:>3} / {total:<3}")
        for name, record in ran.items():
            if record.failures:
                self._explain(write, name, record)

    @staticmethod
    def _explain(write, name, record: Record) -> None:
        first = record.failures[0]
        write("")
        if record.status == "not started":
            write(f"{name}: not started; to do:")
            for todo in dict.fromkeys(f.message.removeprefix(NOT_IMPLEMENTED + ": ") for f in record.failures):
                write(f"  - {todo}")
            return
        write(f"{name}: {len(record.failures)} check(s) failed; the first: {first.check}")
        write(f"  property: {first.property}")
        write(textwrap.indent(first.message, "  | "))
        if first.example:
            write("  smallest input found:")
            write(textwrap.indent(first.example, "    "))
        others = list(dict.fromkeys(f.property for f in record.failures[1:] if f.property != first.property))
        for prop in others[:MORE]:
            write(f"  also failed: {prop}")
        if len(others) > MORE:
            write(f"  … and {len(others) - MORE} more (run pytest with -k and --tb=short for details)")


def pytest_configure(config):
    config.pluginmanager.register(Scoreboard(), "d2l-scoreboard")
