"""The tests are tested: every kept wrong implementation fails at least one check, every kept
correct implementation (and the reference solution) passes all of them, and every check
rejects at least one kept wrong implementation, so no check is one that cannot fail.

One pytest run per half of the exercises (two at a time, one per core) runs every check
against every kept implementation (``--candidates``) and records the outcomes
(``--kill-matrix``); the tests below read that record.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.catalog import EXERCISES
from tests import adapter

MIN_WRONG, MIN_CORRECT = 6, 2
KEPT = {exercise.name: adapter.kept_candidates(exercise.name) for exercise in EXERCISES}


def _run_group(names: list[str], out_dir) -> dict:
    files = [str(path) for name in names for path in sorted(adapter.ROOT.glob(f"tests/*/test_{name}.py"))]
    if not files:
        return {}
    matrix = out_dir / f"matrix-{names[0]}.json"
    command = [sys.executable, "-m", "pytest", *files, "--candidates", f"--kill-matrix={matrix}",
               "--hypothesis-profile=selftest", "-q", "--tb=no", "--no-header", "-p", "no:cacheprovider"]
    done = subprocess.run(command, cwd=adapter.ROOT, capture_output=True, text=True, timeout=1500)
    if not matrix.exists():
        pytest.fail(f"the self-test run did not finish:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(matrix.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def kill_matrix(tmp_path_factory) -> dict:
    """exercise -> candidate label -> check -> 'passed' or 'failed'."""
    out_dir = tmp_path_factory.mktemp("selftest")
    jobs = max(1, min(len(EXERCISES), os.cpu_count() or 1))
    names = [exercise.name for exercise in EXERCISES]
    groups = [names[i::jobs] for i in range(jobs)]
    matrix: dict = {}
    with ThreadPoolExecutor(jobs) as pool:
        for part in pool.map(lambda group: _run_group(group, out_dir), groups):
            matrix.update(part)
    return matrix


def _outcomes(kill_matrix, candidate: adapter.Candidate) -> dict[str, str]:
    outcomes = kill_matrix.get(candidate.exercise, {}).get(candidate.label)
    if not outcomes:
        pytest.fail(f"no check ran against {candidate.label} for {candidate.exercise}")
    return outcomes


def _params(kind: str):
    return [pytest.param(c, id=f"{c.exercise}/{c.label}") for kept in KEPT.values() for c in kept
            if c.kind == kind or (kind == "correct" and c.kind == "target")]


@pytest.mark.parametrize("candidate", _params("correct"))
def test_correct_implementation_passes_every_check(kill_matrix, candidate):
    failed = sorted(check for check, outcome in _outcomes(kill_matrix, candidate).items() if outcome != "passed")
    assert not failed, f"{candidate.path.relative_to(adapter.ROOT)} is correct but failed: {failed}"


@pytest.mark.parametrize("candidate", _params("wrong"))
def test_wrong_implementation_fails_a_check(kill_matrix, candidate):
    outcomes = _outcomes(kill_matrix, candidate)
    assert any(outcome == "failed" for outcome in outcomes.values()), (
        f"{candidate.path.relative_to(adapter.ROOT)} ({candidate.summary}) passed all {len(outcomes)} checks"
    )


@pytest.mark.parametrize("exercise", [e.name for e in EXERCISES])
def test_every_check_rejects_a_wrong_implementation(kill_matrix, exercise):
    per_candidate = kill_matrix.get(exercise, {})
    wrong = [c.label for c in KEPT[exercise] if c.kind == "wrong"]
    checks = {check for outcomes in per_candidate.values() for check in outcomes}
    idle = sorted(c for c in checks if not any(per_candidate.get(w, {}).get(c) == "failed" for w in wrong))
    assert checks, f"no checks ran for {exercise}"
    assert not idle, f"these checks of {exercise} reject none of the kept wrong implementations: {idle}"


@pytest.mark.parametrize("exercise", [e.name for e in EXERCISES])
def test_enough_implementations_are_kept(exercise):
    kinds = [c.kind for c in KEPT[exercise]]
    assert kinds.count("wrong") >= MIN_WRONG, f"{exercise}: keep at least {MIN_WRONG} wrong implementations in tests/mutants/{exercise}/"
    assert kinds.count("correct") >= MIN_CORRECT, f"{exercise}: keep at least {MIN_CORRECT} correct ones in tests/correct/{exercise}/"
    for candidate in KEPT[exercise][1:]:
        assert candidate.summary, f"{candidate.path.relative_to(adapter.ROOT)} needs a docstring saying what it does"
