"""What the checkers' forkserver imports before it forks any (grader/checkers.py): torch,
pytest, hypothesis, the checks of every exercise and what they import, and the sandbox probe.

Nothing here runs a check, a hook or a submission: a module that fails to import is left for
the checker itself to import, where pytest reports the error as it always does.
"""
from __future__ import annotations

import importlib

import pytest  # noqa: F401
import torch  # noqa: F401

from grader import scoreboard  # noqa: F401
from grader.catalog import EXERCISES, ROOT
from grader.sandbox import mode


def _check_modules() -> list[str]:
    names = ["tests.conftest", "torchvision"]
    for exercise in EXERCISES:
        for path in sorted(exercise.folder.glob("*.py")):
            names.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return names


for _name in _check_modules():
    try:
        importlib.import_module(_name)
    except Exception:  # noqa: BLE001 - the checker imports it again and reports it
        pass
mode()  # the bubblewrap probe: a subprocess each checker would otherwise start
