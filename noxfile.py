"""Sessions for students (check) and instructors (solutions, grade, gradescope, tests, selftest, seeds,
bench, stubs, new, release, lock).

Every session shares one virtualenv, ``.nox/_env``, made once from the dependencies in
pyproject.toml at the exact versions of constraints.txt, and reinstalled only when either
file changes: torch alone is several GB and a minute to install, so one copy serves all
sessions and a second run installs nothing.
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
ENV = ROOT / ".nox" / "_env"
BIN = "Scripts" if os.name == "nt" else "bin"
ENV_PYTHON = ENV / BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = ENV / "d2l-installed.txt"
CONSTRAINTS = ROOT / "constraints.txt"

nox.options.default_venv_backend = "none"
nox.options.sessions = ["check"]
# nox looks for uv on every run, although no session here makes a virtualenv through nox.
logging.getLogger("nox").addFilter(lambda record: "uv binary not found" not in record.getMessage())

sys.path.insert(0, str(ROOT))
from grader.selection import split_exercises, split_names  # noqa: E402


def requirements() -> list[str]:
    """The project's dependencies and the test tools, as pyproject.toml declares them."""
    project = nox.project.load_toml(ROOT / "pyproject.toml")["project"]
    return project["dependencies"] + project["optional-dependencies"]["test"]


def env_python(session: nox.Session) -> str:
    """The shared environment's interpreter, created or updated first when needed."""
    wanted = "\n".join(requirements()) + "\n" + CONSTRAINTS.read_text(encoding="utf-8")
    if STAMP.exists() and STAMP.read_text(encoding="utf-8") == wanted and ENV_PYTHON.exists():
        return str(ENV_PYTHON)
    if not ENV_PYTHON.exists():
        session.log(f"creating the shared environment {ENV.relative_to(ROOT)} with {sys.executable}")
        session.run_install(sys.executable, "-m", "venv", str(ENV), external=True)
    # run_install, not run: `nox -s check --install-only` makes the environment and grades nothing
    # (the student release's workflow installs so, then runs the grade command itself).
    session.run_install(str(ENV_PYTHON), "-m", "pip", "install", "--quiet", "-c", str(CONSTRAINTS), *requirements(),
                        external=True)
    STAMP.write_text(wanted, encoding="utf-8")
    return str(ENV_PYTHON)


def pytest(session: nox.Session, *args: str, **kwargs) -> None:
    session.run(env_python(session), "-m", "pytest", *args, external=True, **kwargs)


def grade_command(session: nox.Session, submission: str, posargs: list[str]) -> None:
    """`python -m grader grade SUBMISSION`, for the exercises named in posargs; other words go to pytest."""
    names, options = split_names(posargs)
    session.run(env_python(session), "-m", "grader", "grade", submission, "--strict", "--exercises", *names,
                *(["--", *options] if options else []), external=True)


@nox.session
def check(session: nox.Session) -> None:
    """Check your exercises as CI grades them: `nox -s check` or `nox -s check -- dropout sgd`."""
    grade_command(session, "exercises", session.posargs)


@nox.session
def solutions(session: nox.Session) -> None:
    """Grade the reference solutions through the same path (must be full marks)."""
    grade_command(session, "solutions", session.posargs)


@nox.session
def grade(session: nox.Session) -> None:
    """Grade a submission: `nox -s grade -- SUBMISSION [--results results.json --junit junit.xml --markdown summary.md]`."""
    if not session.posargs:
        session.error("name the submission: nox -s grade -- SUBMISSION (a folder of exercise modules or a checkout)")
    session.run(env_python(session), "-m", "grader", "grade", *session.posargs, external=True)


@nox.session
def gradescope(session: nox.Session) -> None:
    """Build the Gradescope autograder bundle: `nox -s gradescope -- autograder.zip` (no solutions inside)."""
    out = session.posargs[0] if session.posargs else "autograder.zip"
    # The standard library builds it: no need for the shared environment (nor to make it).
    session.run(sys.executable, "-m", "grader.gradescope", "build", out, external=True)


@nox.session
def selftest(session: nox.Session) -> None:
    """Test the tests: kept wrong implementations rejected and named, kept correct ones accepted, stubs fresh."""
    pytest(session, "tests/meta", "-q", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Everything CI runs: ruff, the checks against the solutions, then the self-test."""
    python = env_python(session)
    session.run(python, "-m", "ruff", "check", "--quiet", ".", external=True)
    pytest(session, "tests", "--target=solutions", "-p", "grader.scoreboard", "-q", *session.posargs)


@nox.session
def seeds(session: nox.Session) -> None:
    """Flake hunt: the solutions and the kept correct implementations under N fresh hypothesis seeds (`nox -s seeds -- 20`)."""
    count = int(session.posargs[0]) if session.posargs else 20
    folders, _ = split_exercises([])
    for seed in range(count):
        session.log(f"hypothesis seed {seed} ({seed + 1} of {count})")
        pytest(session, *folders, "--candidates", "--correct-only", "-n", "auto", "-q", "-x",
               "--hypothesis-profile=explore", f"--hypothesis-seed={seed}")


@nox.session
def bench(session: nox.Session) -> None:
    """Print the suite's wall time against `python -c 'import torch'`, measured in one run."""
    session.run(env_python(session), "benchmarks/suite_time.py", *session.posargs, external=True)


@nox.session
def stubs(session: nox.Session) -> None:
    """Regenerate exercises/ from the marked regions of solutions/, and the README's course table."""
    session.run(env_python(session), "-m", "grader.stubgen", *session.posargs, external=True)


@nox.session
def new(session: nox.Session) -> None:
    """Start an exercise: `nox -s new -- NAME` makes its solution, its tests folder and its catalog entry."""
    session.run(env_python(session), "-m", "grader.scaffold", *session.posargs, external=True)


@nox.session
def release(session: nox.Session) -> None:
    """Write the student repository into OUTDIR as its next commit: `nox -s release -- OUTDIR`."""
    if len(session.posargs) != 1:
        session.error("name the release repository: nox -s release -- OUTDIR (a new directory, or the last release's)")
    session.run(env_python(session), "-m", "grader.release", *session.posargs, external=True)


@nox.session
def lock(session: nox.Session) -> None:
    """Re-resolve the dependencies in a fresh virtualenv and write their exact versions to constraints.txt."""
    with tempfile.TemporaryDirectory() as scratch:
        python = str(Path(scratch) / BIN / ("python.exe" if os.name == "nt" else "python"))
        session.run(sys.executable, "-m", "venv", scratch, external=True)
        session.run(python, "-m", "pip", "install", "--quiet", *requirements(), external=True)
        frozen = session.run(python, "-m", "pip", "freeze", "--exclude-editable", external=True, silent=True)
    header = ("# Exact versions the checks are graded with (nox -s lock writes this file; see README.md).\n"
              "# torch and hypothesis decide results, so a course pins them for a whole term.\n")
    CONSTRAINTS.write_text(header + frozen, encoding="utf-8")
    session.log(f"wrote {CONSTRAINTS.name}: {len(frozen.splitlines())} packages")
