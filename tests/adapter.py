"""The one layer between the checks and the code under test.

Checks never import ``exercises`` or ``solutions``: they receive the module under test from
the ``impl`` fixture, which this adapter loads from a *candidate*, a ``.py`` file that
implements one exercise. Checks that need autograd through code under test go through the
helpers at the bottom, so that a grader can later run the code under test in another
process by replacing this module alone.
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch

ROOT = Path(__file__).resolve().parent.parent
NAMED_TARGETS = {"exercises": ROOT / "exercises", "solutions": ROOT / "solutions"}
KEPT = ROOT / "tests"  # tests/correct/<exercise>/*.py and tests/mutants/<exercise>/*.py


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
    def summary(self) -> str:
        """The first line of the candidate's module docstring (what the kept one gets wrong)."""
        module = load(self)
        return (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""


class SubmissionError(Exception):
    """The code under test could not even be loaded."""


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


def kept_candidates(exercise: str) -> list[Candidate]:
    """The reference solution, then the kept correct variants, then the kept wrong ones."""
    found = [target_candidate("solutions", exercise)]
    for kind, folder in (("correct", "correct"), ("wrong", "mutants")):
        for path in sorted((KEPT / folder / exercise).glob("*.py")):
            found.append(Candidate(exercise, path, kind))
    return found


_loaded: dict[Path, ModuleType] = {}


def load(candidate: Candidate) -> ModuleType:
    """Import the candidate's file as a fresh module (cached per file)."""
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
        raise SubmissionError(f"importing {path.name} failed: {type(error).__name__}: {error}") from error
    _loaded[path] = module
    return module


# ---------------------------------------------------------------------------------------
# Autograd through code under test.


def gradcheck(fn, inputs: tuple[torch.Tensor, ...], **kwargs) -> None:
    """Compare ``fn``'s autograd gradients with finite differences (float64 inputs).

    Raises AssertionError naming the first input whose gradient disagrees.
    """
    try:
        torch.autograd.gradcheck(fn, inputs, raise_exception=True, **kwargs)
    except NotImplementedError:  # a stub (a RuntimeError subclass): not a gradient mismatch
        raise
    except RuntimeError as error:
        raise AssertionError(f"autograd gradient disagrees with finite differences:\n{error}") from None


def vjp(fn, inputs: tuple[torch.Tensor, ...], cotangent: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The vector-Jacobian product of ``fn`` at ``inputs`` for ``cotangent``."""
    inputs = tuple(x.detach().requires_grad_(True) for x in inputs)
    output = fn(*inputs)
    grads = torch.autograd.grad(output, inputs, cotangent, allow_unused=True)
    return tuple(torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads))
