"""The house rules: one folder per exercise, a check per property with a one-line docstring,
the README's course table made from the catalog, and public checks that stand alone."""
from __future__ import annotations

import ast

import pytest

from grader.catalog import EXERCISES, ROOT, TIERS, course_table


def _checks(path) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]


FILES = [(exercise, tier) for exercise in EXERCISES for tier in TIERS]


@pytest.mark.parametrize("exercise, tier", FILES, ids=[f"{e.name}-{t}" for e, t in FILES])
def test_every_check_states_its_property_in_one_line(exercise, tier):
    checks = _checks(exercise.test_file(tier))
    assert checks, f"{exercise.test_file(tier)} holds no checks"
    for check in checks:
        doc = ast.get_docstring(check)
        assert doc and "\n" not in doc.strip(), f"{exercise.name}/{check.name} needs a one-line docstring: the property it checks"


@pytest.mark.parametrize("exercise, tier", FILES, ids=[f"{e.name}-{t}" for e, t in FILES])
def test_checks_draw_with_the_recording_given(exercise, tier):
    """Hypothesis checks use tests.common.hypo.given, which keeps the drawn input on the failure."""
    tree = ast.parse(exercise.test_file(tier).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "hypothesis":
            assert "given" not in {alias.name for alias in node.names}, (
                f"{exercise.test_file(tier)} imports hypothesis.given: use tests.common.hypo.given")


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_public_checks_do_not_import_hidden_ones(exercise):
    tree = ast.parse(exercise.test_file("public").read_text(encoding="utf-8"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(module.endswith("test_hidden") for module in modules), f"{exercise.name}'s public checks import the hidden ones"


def test_the_readme_course_table_is_made_from_the_catalog():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert course_table() in readme, "README.md's course table differs from grader/catalog.py: run `nox -s stubs`"


def test_every_exercise_folder_is_catalogued():
    folders = {path.name for path in (ROOT / "tests").iterdir() if path.is_dir() and (path / "test_public.py").exists()}
    assert folders == {exercise.name for exercise in EXERCISES}
