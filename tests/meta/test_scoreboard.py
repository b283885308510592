"""The scoreboard: all-or-nothing points, statuses, and failures in plain words."""
from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

PASSING = '''
def test_fine():
    """Always holds."""
'''
FAILING = '''
from hypothesis import given, strategies as st

@given(n=st.integers(0, 1000))
def test_small(n):
    """Numbers stay below 10."""
    assert n < 10, f"got {n}, expected a number below 10"

def test_other():
    """Another property."""
    assert False, "nope"
'''
NOT_STARTED = '''
def test_stub():
    """Anything."""
    raise NotImplementedError("softmax: subtract each row's maximum")
'''


@pytest.fixture
def board(pytester):
    pytester.makepyfile(test_dropout=PASSING, test_sgd=FAILING, test_softmax=NOT_STARTED)
    result = pytester.runpytest("-p", "grader.scoreboard", "-p", "no:cacheprovider", "--tb=no", "-q")
    return result.stdout.str()


def _row(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(name + " "))


def test_points_are_all_or_nothing(board):
    assert "10 / 10" in _row(board, "dropout") and "passed" in _row(board, "dropout")
    assert " 0 / 10" in _row(board, "sgd") and "failed" in _row(board, "sgd")
    assert "10 / 30" in _row(board, "total")


def test_a_stub_is_not_started_and_shows_its_hint(board):
    assert "not started" in _row(board, "softmax")
    assert "- softmax: subtract each row's maximum" in board


def test_a_failure_shows_the_property_the_message_and_the_shrunk_input(board):
    assert "property: Numbers stay below 10." in board
    assert "got 10, expected a number below 10" in board
    assert "smallest input found:" in board and "n=10," in board
    assert "also failed: Another property." in board
