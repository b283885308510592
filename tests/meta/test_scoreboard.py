"""The scoreboard: all-or-nothing points, statuses, failures read from their fields, and
advice that works."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from grader import scoreboard
from grader.catalog import ROOT
from grader.loading import D2L_ADVICE
from grader.selection import split_exercises
from tests.conftest import STATEFUL

CONFTEST = '''
import pytest
from grader.loading import SubmissionError

def pytest_addoption(parser):
    parser.addoption("--target", default="exercises")

@pytest.fixture
def broken():
    raise SubmissionError("importing vgg.py failed: SyntaxError at line 3: invalid syntax")
'''
PASSING = '''
def test_fine():
    """Always holds."""
'''
FAILING = f'''
import importlib.util

from hypothesis import strategies as st
from grader.failures import CheckFailure, Mistake

# tests.common.hypo by its path: pytest's importlib mode has its own module named tests here.
spec = importlib.util.spec_from_file_location("recording_hypo", {str(ROOT / "tests" / "common" / "hypo.py")!r})
hypo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hypo)
given = hypo.given
TOO_BIG = Mistake("meta.too_big", "keep numbers below 10")

@given(n=st.integers(0, 1000))
def test_small(n):
    """Numbers stay below 10."""
    if n >= 10:
        print("the code under test printed this")
        raise CheckFailure(f"got {{n}}, expected a number below 10", shown={{"n_seen": n}}, mistake=TOO_BIG)

def test_other():
    """Another property."""
    assert False, "nope"

def test_third():
    """A third property."""
    raise CheckFailure("third")

def test_fourth():
    """Another property."""
    raise CheckFailure("fourth")
'''
NOT_STARTED = '''
def test_stub():
    """Anything."""
    raise NotImplementedError("softmax: subtract each row's maximum")
'''
IMPORT_ERROR = '''
def test_one(broken):
    """One property."""

def test_two(broken):
    """Another property."""
'''
STUBS = '''
def softmax(X):
    raise NotImplementedError("softmax: subtract each row's maximum")

class Helper:
    def forward(self, X):
        raise NotImplementedError("Helper.forward: never reached by the checks")
'''


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """The scoreboard of a pytest run (in its own process) over four small exercise folders."""
    path = tmp_path_factory.mktemp("board")
    (path / "conftest.py").write_text(CONFTEST)
    submission = path / "submission"
    submission.mkdir()
    (submission / "softmax.py").write_text(STUBS)
    for name, text in {"dropout": PASSING, "sgd": FAILING, "softmax": NOT_STARTED, "vgg": IMPORT_ERROR}.items():
        folder = path / "tests" / name
        folder.mkdir(parents=True)
        (folder / "test_public.py").write_text(text)
    # importlib mode, from another folder: these folders must not shadow the project's own tests package.
    elsewhere = path / "run"
    elsewhere.mkdir()
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "grader.scoreboard", "-p", "no:cacheprovider", "--tb=no",
                           "-q", "--import-mode=importlib", f"--target={submission}", "--rootdir", str(path), str(path / "tests")],
                          cwd=elsewhere, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return done.stdout


def _row(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(name + " "))


def _section(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}: "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return lines[start:end]


def test_points_are_all_or_nothing(board):
    assert "10 / 10" in _row(board, "dropout") and "passed" in _row(board, "dropout")
    assert " 0 / 10" in _row(board, "sgd") and "failed" in _row(board, "sgd")
    assert "10 / 45" in _row(board, "total")


def test_the_columns_line_up(board):
    rows = [_row(board, name) for name in ("dropout", "sgd", "softmax", "vgg")]
    for column in ("checks", "d2l"):
        assert len({row.index(column) for row in rows}) == 1, rows
    assert len({row.index(row.split()[4]) for row in rows}) == 1, rows  # the status column


def test_the_board_names_what_it_graded(board):
    assert "scoreboard: " in board and "submission" in board.split("scoreboard: ", 1)[1].splitlines()[0]


def test_a_stub_lists_every_hint_of_the_file(board):
    assert "not started" in _row(board, "softmax")
    section = "\n".join(_section(board, "softmax"))
    assert "- softmax: subtract each row's maximum" in section
    assert "- Helper.forward: never reached by the checks" in section


def test_a_failure_shows_its_fields(board):
    section = "\n".join(_section(board, "sgd"))
    assert "property: Numbers stay below 10." in section
    assert "| got 10, expected a number below 10" in section
    assert "n_seen: 10" in section
    assert "smallest input found:" in section and "n = 10" in section
    assert "Likely mistake: keep numbers below 10" in section
    assert "your code printed:" in section and "the code under test printed this" in section


def test_the_count_of_failures_matches_what_is_listed(board):
    section = _section(board, "sgd")
    count = int(section[0].split(": ", 1)[1].split()[0])
    listed = 1 + sum(int(line.rsplit("(", 1)[1].split()[0]) if line.endswith(" checks)") else 1
                     for line in section if line.startswith("  also failed: "))
    assert count == 4 == listed, section


def test_an_import_error_is_shown_alone(board):
    section = _section(board, "vgg")
    assert "error" in _row(board, "vgg")
    assert any("SyntaxError at line 3" in line for line in section)
    assert not any("also failed" in line or "property" in line for line in section), section


def test_the_details_command_works_with_nox(board):
    command = next(line for line in _section(board, "sgd") if "details:" in line).split("details: ", 1)[1]
    assert command.startswith("nox -s check -- ")
    folders, options = split_exercises(command.split(" -- ", 1)[1].split())
    assert folders == ["tests/sgd"] and options[:2] == ["-k", "test_small"], (folders, options)


def test_stub_hints_are_read_in_order(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(textwrap.dedent(STUBS))
    assert scoreboard.stub_hints(path) == ["softmax: subtract each row's maximum", "Helper.forward: never reached by the checks"]


def test_a_stateful_submission_and_the_books_import_are_explained(tmp_path):
    """End to end, on the real checks: a submission that keeps state, and one that imports d2l."""
    (tmp_path / "sgd.py").write_text(textwrap.dedent('''
        import torch
        calls = [0]

        def sgd(params, lr, batch_size):
            calls[0] += 1  # the very first call goes wrong, and no later one
            with torch.no_grad():
                for param in params:
                    param -= (lr if calls[0] > 1 else 2 * lr) * param.grad / batch_size
                    param.grad.zero_()
    '''))
    (tmp_path / "softmax.py").write_text("from d2l import torch as d2l\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/sgd", "tests/softmax", f"--target={tmp_path}",
                           "-p", "grader.scoreboard", "-q", "--tb=no", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert STATEFUL in done.stdout, done.stdout[-3000:]
    assert D2L_ADVICE in done.stdout, done.stdout[-3000:]
