"""nox -s new: one command makes an exercise's solution, its tests folder, its catalog entry,
its stub and its README row."""
from __future__ import annotations

import shutil
import subprocess
import sys

from grader.catalog import ROOT


def test_new_makes_every_file_of_an_exercise(tmp_path):
    for folder in ("grader", "solutions", "exercises"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    (tmp_path / "tests").mkdir()
    done = subprocess.run([sys.executable, "-m", "grader.scaffold", "layer_norm", "--points", "15", "--d2l", "7.5"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for path in ("solutions/layer_norm.py", "exercises/layer_norm.py", "tests/layer_norm/__init__.py",
                 "tests/layer_norm/test_public.py", "tests/layer_norm/test_hidden.py",
                 "tests/layer_norm/mutants", "tests/layer_norm/correct"):
        assert (tmp_path / path).exists(), f"nox -s new did not make {path}"
    assert 'Exercise("layer_norm", \'Layer norm\', ("layer_norm",), 15, \'7.5\',' in (tmp_path / "grader/catalog.py").read_text()
    assert "| `layer_norm` | `layer_norm` | 15 | 7.5 |" in (tmp_path / "README.md").read_text()
    stub = (tmp_path / "exercises/layer_norm.py").read_text()
    assert 'raise NotImplementedError("layer_norm: say in words what to do, without the code")' in stub
    again = subprocess.run([sys.executable, "-m", "grader.scaffold", "layer_norm"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode != 0 and "exists already" in again.stderr
