"""The stubs in exercises/ are generated from solutions/ and give nothing away."""
from __future__ import annotations

import ast
import re

import pytest

from grader import stubgen
from grader.catalog import EXERCISES, TIERS
from grader.loading import NAMED_TARGETS


def test_stubs_are_generated_from_the_solutions():
    stale = stubgen.stale_files()
    assert not stale, f"{stale} are stale: run `nox -s stubs` (python -m grader.stubgen)"


def _public_names(path) -> dict[str, ast.AST]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")}


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_stub_and_solution_share_the_contract(exercise):
    stub = _public_names(NAMED_TARGETS["exercises"] / f"{exercise.name}.py")
    solution = _public_names(NAMED_TARGETS["solutions"] / f"{exercise.name}.py")
    assert stub.keys() == solution.keys()
    for name in exercise.functions:
        assert name in solution, f"catalog names {name}, which solutions/{exercise.name}.py does not define"
        assert ast.get_docstring(stub[name]) == ast.get_docstring(solution[name])


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_each_exercise_has_public_and_hidden_checks(exercise):
    for tier in TIERS:
        assert exercise.test_file(tier).is_file(), f"{exercise.test_file(tier)} is missing"


def test_a_stub_raises_the_hint():
    text = stubgen.make_stub('def f():\n    """Doc."""\n    # BEGIN SOLUTION: return one\n    return 1\n    # END SOLUTION\n', "f")
    namespace: dict = {}
    exec(compile(text, "f.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="f: return one"):
        namespace["f"]()
    assert "return 1" not in text


def test_a_stub_names_the_function_or_method_to_write():
    source = (
        "class Layer:\n"
        "    def forward(self):\n"
        "        # BEGIN SOLUTION: return two\n"
        "        return 2\n"
        "        # END SOLUTION\n"
        "\n"
        "def g():\n"
        "    # BEGIN SOLUTION: return three\n"
        "    return 3\n"
        "    # END SOLUTION\n"
    )
    text = stubgen.make_stub(source, "module")
    assert 'NotImplementedError("Layer.forward: return two")' in text
    assert 'NotImplementedError("g: return three")' in text


@pytest.mark.parametrize("source, problem", [
    ("def f():\n    return 1\n", "no '# BEGIN SOLUTION"),
    ("def f():\n    # BEGIN SOLUTION: x\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without a BEGIN"),
    ("def f():\n    # BEGIN SOLUTION x\n    return 1\n    # END SOLUTION\n", "malformed marker"),
    ("# BEGIN SOLUTION: a\n# BEGIN SOLUTION: b\n# END SOLUTION\n", "inside the region"),
])
def test_broken_markers_are_reported(source, problem):
    with pytest.raises(stubgen.MarkerError, match=problem):
        stubgen.make_stub(source, "f")


# A hint in words names no code: no call, assignment, operator or attribute access.
CODE = re.compile(r"[=()\[\]*/]|\w\.\w")


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_stub_hints_say_what_to_do_in_words(exercise):
    """A stub's hint is no answer: the code comes with a failure's likely mistake, once the student has tried."""
    text = (NAMED_TARGETS["solutions"] / f"{exercise.name}.py").read_text(encoding="utf-8")
    hints = re.findall(r"# BEGIN SOLUTION: (.*)", text)
    assert hints
    for hint in hints:
        assert not CODE.search(hint), f"solutions/{exercise.name}.py: the stub hint {hint!r} contains code; say it in words"


# What a student's release lacks (grader/release.py): a stub that named it would point nowhere.
INSTRUCTOR_ONLY = ("solutions", "stubgen", "mutants", "test_hidden", "tests/meta", "benchmarks", "oracle", "batch.py")


@pytest.mark.parametrize("name", sorted(stubgen.expected_stubs()))
def test_stubs_name_no_instructor_file(name):
    """A stub names no file of the course repository that the student release leaves out (solutions/ first)."""
    named = [word for word in INSTRUCTOR_ONLY if word in stubgen.expected_stubs()[name]]
    assert not named, f"exercises/{name} names {named}, which a student's release does not hold"
