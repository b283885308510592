"""The tests are tested: every kept wrong implementation fails at least one check, every kept
correct implementation (and the reference solution) passes all of them, every check rejects
at least one kept wrong implementation (so no check is one that cannot fail), and a likely
mistake is named exactly where it was made: every kept wrong implementation whose docstring
names a mistake (``Mistake: <id>``) gets that hint, no hint fires on a kept wrong
implementation that does not name it, and every hint the checks can give is named by one.

One pytest run per half of the exercises (two at a time, one per core) runs every check
against every kept implementation (``--candidates``) with the grading profile, shrinking
included, so that hints are judged on the inputs a student would see, and records the
outcomes (``--kill-matrix``); the tests below read that record.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.catalog import BY_NAME, EXERCISES, ROOT
from grader.loading import kept_candidates

MIN_WRONG, MIN_CORRECT = 6, 2
KEPT = {exercise.name: kept_candidates(exercise.name) for exercise in EXERCISES}


def _run_group(names: list[str], out_dir) -> dict:
    if not names:
        return {}
    folders = [str(exercise.folder) for exercise in EXERCISES if exercise.name in names]
    matrix = out_dir / f"matrix-{names[0]}.json"
    command = [sys.executable, "-m", "pytest", *folders, "--candidates", f"--kill-matrix={matrix}",
               "-q", "--tb=no", "--no-header", "-p", "no:cacheprovider"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1500)
    if not matrix.exists():
        pytest.fail(f"the self-test run did not finish:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(matrix.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def record(tmp_path_factory) -> dict:
    """{"outcomes": exercise -> candidate -> check -> {"outcome", "mistake"}, "mistakes": [known ids]}."""
    out_dir = tmp_path_factory.mktemp("selftest")
    jobs = max(1, min(len(EXERCISES), os.cpu_count() or 1))
    names = [exercise.name for exercise in EXERCISES]
    groups = [names[i::jobs] for i in range(jobs)]
    merged: dict = {"outcomes": {}, "mistakes": set()}
    with ThreadPoolExecutor(jobs) as pool:
        for part in pool.map(lambda group: _run_group(group, out_dir), groups):
            merged["outcomes"].update(part.get("outcomes", {}))
            merged["mistakes"].update(part.get("mistakes", []))
    return merged


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
