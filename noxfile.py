"""Sessions for students (check) and instructors (solutions, tests, selftest, seeds, bench, stubs).

Every session shares one virtualenv, ``.nox/_env``, made once from the dependencies in
pyproject.toml (the only place they are declared) and reinstalled only when that list
changes: torch alone is several GB and a minute to install, so one copy serves all
sessions and a second run installs nothing.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
ENV = ROOT / ".nox" / "_env"
ENV_PYTHON = ENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = ENV / "d2l-installed.txt"

nox.options.default_venv_backend = "none"
nox.options.sessions = ["check"]


def env_python(session: nox.Session) -> str:
    """The shared environment's interpreter, created or updated first when needed."""
    dependencies = nox.project.load_toml(ROOT / "pyproject.toml")["project"]["dependencies"]
    wanted = "\n".join(dependencies) + "\n"
    if STAMP.exists() and STAMP.read_text(encoding="utf-8") == wanted and ENV_PYTHON.exists():
        return str(ENV_PYTHON)
    if not ENV_PYTHON.exists():
        session.log(f"creating the shared environment {ENV.relative_to(ROOT)} with {sys.executable}")
        session.run(sys.executable, "-m", "venv", str(ENV), external=True)
    session.run(str(ENV_PYTHON), "-m", "pip", "install", "--quiet", *dependencies, external=True)
    STAMP.write_text(wanted, encoding="utf-8")
    return str(ENV_PYTHON)


def pytest(session: nox.Session, *args: str, **kwargs) -> None:
    session.run(env_python(session), "-m", "pytest", *args, external=True, **kwargs)


def split_exercises(posargs: list[str]) -> tuple[list[str], list[str]]:
    """``-- dropout sgd -x`` -> the test files of dropout and sgd, and ``-x`` for pytest."""
    sys.path.insert(0, str(ROOT))
    from grader.catalog import BY_NAME

    names = [arg for arg in posargs if not arg.startswith("-")]
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown exercise {', '.join(unknown)}; the exercises are: {', '.join(BY_NAME)}")
    options = [arg for arg in posargs if arg.startswith("-")]
    files = [f"tests/{tier}/test_{name}.py" for name in names for tier in ("public", "hidden")
             if (ROOT / "tests" / tier / f"test_{name}.py").exists()]
    return files, options


@nox.session
def check(session: nox.Session) -> None:
    """Check your exercises: `nox -s check` or `nox -s check -- dropout sgd`."""
    files, options = split_exercises(session.posargs)
    paths = files or ["tests/public", "tests/hidden"]
    pytest(session, *[p for p in paths if (ROOT / p).exists()], "--target=exercises",
           "-p", "grader.scoreboard", "-q", "--tb=no", "--no-header", "-rN", *options)


@nox.session
def solutions(session: nox.Session) -> None:
    """Run every exercise check against the reference solutions (must be all green)."""
    files, options = split_exercises(session.posargs)
    pytest(session, *(files or ["tests/public", "tests/hidden"]), "--target=solutions",
           "-p", "grader.scoreboard", "-q", *options)


@nox.session
def selftest(session: nox.Session) -> None:
    """Test the tests: kept wrong implementations rejected, kept correct ones accepted, stubs fresh."""
    pytest(session, "tests/meta", "-q", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Everything CI runs: the checks against the solutions, then the self-test."""
    pytest(session, "tests", "--target=solutions", "-p", "grader.scoreboard", "-q", *session.posargs)


@nox.session
def seeds(session: nox.Session) -> None:
    """Flake hunt: the solutions under N fresh hypothesis seeds (`nox -s seeds -- 20`)."""
    count = int(session.posargs[0]) if session.posargs else 20
    for seed in range(count):
        session.log(f"hypothesis seed {seed} ({seed + 1} of {count})")
        pytest(session, "tests/public", "tests/hidden", "--target=solutions", "-q", "-x",
               "--hypothesis-profile=explore", f"--hypothesis-seed={seed}")


@nox.session
def bench(session: nox.Session) -> None:
    """Print the suite's wall time against `python -c 'import torch'`, measured in one run."""
    session.run(env_python(session), "benchmarks/suite_time.py", *session.posargs, external=True)


@nox.session
def stubs(session: nox.Session) -> None:
    """Regenerate exercises/ from the marked regions of solutions/."""
    session.run(env_python(session), "-m", "grader.stubgen", *session.posargs, external=True)
