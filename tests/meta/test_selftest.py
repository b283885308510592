"""The tests are tested: every kept wrong implementation fails at least one check, every kept
correct implementation (and the reference solution) passes all of them, every check rejects
at least one kept wrong implementation (so no check is one that cannot fail), and a likely
mistake is named exactly where it was made: every kept wrong implementation whose docstring
names a mistake (``Mistake: <id>``) gets that hint, no hint fires on a kept wrong
implementation that does not name it, and every hint the checks can give is named by one.

One pytest run, spread over the cores by pytest-xdist and started as soon as these tests are
collected (so that the other meta tests run beside it), runs every check against every kept
implementation (``--candidates``) with the grading profile, shrinking included, so that
hints are judged on the inputs a student would see, and records the outcomes
(``--kill-matrix``); the tests below read that record.
"""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

from grader.catalog import BY_NAME, EXERCISES, ROOT, TIERS
from grader.failures import known_mistakes
from grader.loading import kept_candidates

MIN_WRONG, MIN_CORRECT = 6, 2
KEPT = {exercise.name: kept_candidates(exercise.name) for exercise in EXERCISES}


def start_kill_matrix(out_dir) -> tuple[subprocess.Popen, object]:
    """Start the run of every check against every kept implementation, spread over the cores
    by pytest-xdist; the tests below read the record it writes."""
    matrix = out_dir / "matrix.json"
    jobs = max(1, min(4, os.cpu_count() or 1))
    folders = [str(exercise.folder) for exercise in EXERCISES]
    command = [sys.executable, "-m", "pytest", *folders, "--candidates", f"--kill-matrix={matrix}", "-n", str(jobs),
               "-q", "--tb=no", "--no-header", "-p", "no:cacheprovider"]
    with open(out_dir / "kill-matrix.log", "w", encoding="utf-8") as log:  # the child keeps its own handle
        return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), matrix


@pytest.fixture(scope="session")
def record(request, tmp_path_factory) -> dict:
    """{"outcomes": exercise -> candidate -> check -> {"outcome", "mistake"}, "mistakes": [known ids]}."""
    started = getattr(request.config, "_d2l_kill_matrix", None)  # started at collection by tests/meta/conftest.py
    process, matrix = started or start_kill_matrix(tmp_path_factory.mktemp("selftest"))
    try:
        process.wait(timeout=1500)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    if not matrix.exists():
        log = (matrix.parent / "kill-matrix.log").read_text(encoding="utf-8")
        pytest.fail(f"the self-test run did not finish:\n{log[-4000:]}")
    recorded = json.loads(matrix.read_text(encoding="utf-8"))
    for exercise in EXERCISES:  # the checks define their mistakes when imported
        for tier in TIERS:
            importlib.import_module(f"tests.{exercise.name}.test_{tier}")
    return {"outcomes": recorded["outcomes"], "mistakes": set(known_mistakes())}


def _outcomes(record, candidate) -> dict[str, dict]:
    outcomes = record["outcomes"].get(candidate.exercise, {}).get(candidate.label)
    if not outcomes:
        pytest.fail(f"no check ran against {candidate.label} for {candidate.exercise}")
    return outcomes


def _params(kind: str):
    return [pytest.param(c, id=f"{c.exercise}/{c.label}") for kept in KEPT.values() for c in kept
            if c.kind == kind or (kind == "correct" and c.kind == "target")]


def _where(candidate) -> str:
    return str(candidate.path.relative_to(ROOT))


@pytest.mark.parametrize("candidate", _params("correct"))
def test_correct_implementation_passes_every_check(record, candidate):
    failed = sorted(check for check, seen in _outcomes(record, candidate).items() if seen["outcome"] != "passed")
    assert not failed, f"{_where(candidate)} is correct but failed: {failed}"


@pytest.mark.parametrize("candidate", _params("wrong"))
def test_wrong_implementation_fails_a_check(record, candidate):
    outcomes = _outcomes(record, candidate)
    assert any(seen["outcome"] == "failed" for seen in outcomes.values()), (
        f"{_where(candidate)} ({candidate.summary}) passed all {len(outcomes)} checks"
    )


@pytest.mark.parametrize("candidate", _params("wrong"))
def test_hints_name_only_the_mistake_made(record, candidate):
    """The hints on a kept wrong implementation's failures are exactly the mistakes its docstring names."""
    given = {check: seen["mistake"] for check, seen in _outcomes(record, candidate).items() if seen["mistake"]}
    declared = candidate.declared_mistakes
    unknown = declared - set(record["mistakes"])
    assert not unknown, f"{_where(candidate)} names mistakes no check defines: {sorted(unknown)}"
    wrong = {check: mistake for check, mistake in given.items() if mistake not in declared}
    assert not wrong, f"{_where(candidate)} ({candidate.summary}) was told mistakes it does not make: {wrong}"
    missing = declared - set(given.values())
    assert not missing, f"{_where(candidate)} ({candidate.summary}) never got the hint for {sorted(missing)}"


def test_every_hint_is_proven_on_a_kept_wrong_implementation(record):
    """Each mistake a check can name is named by some kept wrong implementation (which then gets it)."""
    declared = {mistake for kept in KEPT.values() for c in kept if c.kind == "wrong" for mistake in c.declared_mistakes}
    unproven = sorted(set(record["mistakes"]) - declared)
    assert not unproven, f"no kept wrong implementation makes these mistakes, so their hints are untested: {unproven}"


@pytest.mark.parametrize("exercise", [e.name for e in EXERCISES])
def test_every_check_rejects_a_wrong_implementation(record, exercise):
    per_candidate = record["outcomes"].get(exercise, {})
    wrong = [c.label for c in KEPT[exercise] if c.kind == "wrong"]
    checks = {check for outcomes in per_candidate.values() for check in outcomes}
    idle = sorted(c for c in checks
                  if not any(per_candidate.get(w, {}).get(c, {}).get("outcome") == "failed" for w in wrong))
    assert checks, f"no checks ran for {exercise}"
    assert not idle, f"these checks of {exercise} reject none of the kept wrong implementations: {idle}"


@pytest.mark.parametrize("exercise", [e.name for e in EXERCISES])
def test_enough_implementations_are_kept(exercise):
    kinds = [c.kind for c in KEPT[exercise]]
    folder = BY_NAME[exercise].folder.relative_to(ROOT)
    assert kinds.count("wrong") >= MIN_WRONG, f"{exercise}: keep at least {MIN_WRONG} wrong implementations in {folder}/mutants/"
    assert kinds.count("correct") >= MIN_CORRECT, f"{exercise}: keep at least {MIN_CORRECT} correct ones in {folder}/correct/"
    for candidate in KEPT[exercise][1:]:
        assert candidate.summary, f"{_where(candidate)} needs a docstring saying what it does"
