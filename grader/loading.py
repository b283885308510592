"""Loading the code under test: the one layer between the checks and a submission.

Checks never import ``exercises`` or ``solutions``. They receive the module under test
from the ``impl`` fixture (tests/conftest.py), made here from a *candidate*: one ``.py``
file implementing one exercise, from ``--target`` (exercises/, solutions/ or a submission's
directory) or, for the self-test, a kept implementation. For an exercise the catalog marks
``isolated`` that is a :class:`grader.remote.RemoteModule`, whose functions run in a
sandboxed worker (:func:`open_isolated`); otherwise, and with ``--isolation=none``, the file
is imported into the checks' own process (:func:`load`).
"""
from __future__ import annotations

import ast
import dataclasses
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from grader.catalog import BY_NAME, ROOT

NAMED_TARGETS = {"exercises": ROOT / "exercises", "solutions": ROOT / "solutions"}
KINDS = {"correct": ("correct",), "wrong": ("mutants", "wrong")}  # kind of kept implementation -> its folders
D2L_ADVICE = (
    "the d2l package is not used here: write the function yourself with torch (`import torch` and "
    "`from torch import nn`), and copy any helper you need from the book into your file"
)


@dataclass(frozen=True)
class Candidate:
    """One implementation of one exercise."""

    exercise: str
    path: Path
    kind: str  # "target" (what is being graded), "correct" or "wrong" (kept for the self-test)

    @property
    def label(self) -> str:
        if self.kind == "target":
            return self.path.parent.name
        return f"{'mutant' if self.kind == 'wrong' else 'correct'}:{self.path.stem}"

    @property
    def docstring(self) -> str:
        """The module docstring, read without running the file."""
        try:
            return (ast.get_docstring(ast.parse(self.path.read_text(encoding="utf-8"))) or "").strip()
        except (OSError, SyntaxError, ValueError):
            return ""

    @property
    def summary(self) -> str:
        """The first line of the module docstring (what a kept implementation does)."""
        return self.docstring.splitlines()[0] if self.docstring else ""

    @property
    def declared_mistakes(self) -> set[str]:
        """The mistake ids a kept wrong implementation names (``Mistake: a, b`` lines)."""
        found: set[str] = set()
        for line in self.docstring.splitlines():
            if line.strip().startswith("Mistake:"):
                found |= {part.strip() for part in line.split(":", 1)[1].split(",") if part.strip()}
        return found


class SubmissionError(Exception):
    """The code under test could not be loaded."""


def target_dir(target: str) -> Path:
    """``exercises``, ``solutions`` or a directory holding a submission's modules."""
    path = NAMED_TARGETS.get(target) or Path(target).resolve()
    if not path.is_dir():
        raise SubmissionError(
            f"--target {target!r} is neither 'exercises', 'solutions' nor a directory of exercise modules"
        )
    return path


def target_candidate(target: str, exercise: str) -> Candidate:
    return Candidate(exercise, target_dir(target) / f"{exercise}.py", "target")


def kept_candidates(exercise: str, elsewhere: Path | None = None) -> list[Candidate]:
    """The reference solution, then the kept correct implementations, then the kept wrong ones:
    those of tests/<exercise>/, or of ``elsewhere``/<exercise>/{correct,wrong}/ (new ones an
    adversarial pass wrote, checked before any is kept)."""
    found = [target_candidate("solutions", exercise)]
    folder = BY_NAME[exercise].folder if elsewhere is None else Path(elsewhere).resolve() / exercise
    for kind, names in KINDS.items():
        for name in names:
            for path in sorted((folder / name).glob("*.py")):
                found.append(Candidate(exercise, path, kind))
    return found


_loaded: dict[Path, ModuleType] = {}


def load(candidate: Candidate) -> ModuleType:
    """Import the candidate's file as a fresh module (once per file)."""
    path = candidate.path
    if path in _loaded:
        return _loaded[path]
    if not path.is_file():
        raise SubmissionError(f"{path} does not exist: the exercise {candidate.exercise!r} lives in {path.name}")
    name = f"_under_test_{len(_loaded)}_{candidate.exercise}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise SubmissionError(import_failure(path.name, error)) from error
    _loaded[path] = module
    return module


def import_failure(file_name: str, error: Exception) -> str:
    """Why importing a submission's file failed, in a sentence (with advice for the book's ``d2l``)."""
    text = f"importing {file_name} failed: {type(error).__name__}: {error}"
    if isinstance(error, SyntaxError) and error.lineno:
        text = f"importing {file_name} failed: SyntaxError at line {error.lineno}: {error.msg}"
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] == "d2l":
        text += f"; {D2L_ADVICE}"
    return text


def with_overrides(limits, overrides: list[str], exercise: str | None = None):
    """``limits`` with ``NAME=VALUE`` overrides, and ``EXERCISE.NAME=VALUE`` ones for ``exercise``
    only (a clear error for an unknown name or a bad value)."""
    changes = {}
    for item in overrides:
        name, _, value = item.partition("=")
        scope, dot, name = name.rpartition(".")
        if dot and scope not in BY_NAME:
            raise SubmissionError(f"--limit {item!r}: {scope!r} is not an exercise of grader/catalog.py")
        if dot and scope != exercise:
            continue
        if name not in limits.__dataclass_fields__ or not value:
            raise SubmissionError(f"--limit {item!r}: expected [EXERCISE.]NAME=VALUE with NAME one of "
                                  f"{', '.join(limits.__dataclass_fields__)}")
        kind = type(getattr(limits, name))
        try:
            changes[name] = (value.lower() in ("1", "true", "yes")) if kind is bool else kind(value)
        except ValueError:
            raise SubmissionError(f"--limit {item!r}: {value!r} is not a {kind.__name__}") from None
    return dataclasses.replace(limits, **changes)


def open_isolated(candidate: Candidate, box, limits=None):
    """The candidate as a :class:`grader.remote.RemoteModule`, imported in a fresh worker of
    ``box`` (a :class:`grader.sandbox.Sandbox`) under the exercise's limits."""
    from grader import remote

    path = candidate.path
    if path.is_symlink():
        raise SubmissionError(f"{path.name} is a symbolic link: submit the file itself, not a link to one")
    if not path.is_file():
        raise SubmissionError(f"{path} does not exist: the exercise {candidate.exercise!r} lives in {path.name}")
    limits = limits or BY_NAME[candidate.exercise].limits
    session = remote.Session(box, path, f"_under_test_{candidate.exercise}", path.name, limits, candidate.exercise)
    try:
        session.load()
    except remote.ImportFailure as error:
        session.close()
        raise SubmissionError(import_failure(path.name, error.as_exception())) from None
    except remote.WorkerFault as fault:
        session.close()
        raise SubmissionError(f"importing {path.name} failed: {fault}") from None
    return remote.RemoteModule(session)
