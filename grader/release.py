"""``python -m grader.release OUTDIR`` (``nox -s release -- OUTDIR``): write the repository a
student receives, as one new commit of the git repository OUTDIR.

The release holds the stubs, the public checks and the code they import (found by following
imports from the entry points below, not listed by hand), the parts of ``grader/`` that
``python -m grader grade`` imports, ``pyproject.toml`` and ``constraints.txt``, a noxfile
with the ``check`` session alone, a student README and a GitHub Classroom workflow. It never
holds ``solutions/``, the hidden checks, the kept implementations, the self-test, the
benchmarks, the instructors' batch grading or a reference implementation (NEVER_SHIPPED); what
the public checks would take from one is stored as data (tests/training_loop/expected.py,
tests/log_rmse/expected.py).

OUTDIR is made a git repository on the first release; each later release commits the new
version on top, so that an instructor pushes it as the template repository and students
merge its fixes. Every file is made from its source alone (no dates, sorted data), so a file
changes only when its source changed, and a release that changes nothing commits nothing.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

from grader import stubgen
from grader.catalog import EXERCISES, ROOT
from grader.sandbox import VISIBLE_CODE

TEMPLATES = Path(__file__).with_name("templates")
STUDENT_README = TEMPLATES / "student_README.md"
README_SECTION = "<!-- README.md: For students -->\n"  # where the main README's section for students goes
STUDENT_HEADING = "## For students\n"
WORKFLOW = ".github/workflows/classroom.yml"
TRAILER = "Released-from:"  # in every release commit's message; a later release looks for it
COPIED = ("pyproject.toml", "constraints.txt")
GITIGNORE = "__pycache__/\n*.pyc\n.nox/\n.hypothesis/\n.pytest_cache/\nsummary.md\nresults.json\n"
# What a release must never hold: folders (a path component), file names, and files that are
# reference implementations (or instructors' tools). A release that would import one of them is refused.
NEVER_SHIPPED_FOLDERS = ("solutions", "mutants", "correct", "meta", "benchmarks", "attacks")
NEVER_SHIPPED_NAMES = ("test_hidden.py",)
NEVER_SHIPPED_FILES = ("tests/batch_norm/oracle.py", "tests/training_loop/replay.py", "tests/log_rmse/oracle.py",
                       "grader/batch.py")


class ReleaseError(Exception):
    """The release cannot be made as asked."""


# --- the code that ships: every module the entry points import, transitively ---------------------


def entry_points() -> list[Path]:
    """Where the import graph starts: the public checks and their conftest, the grade command,
    the pytest plugin it loads by name (``-p grader.scoreboard``), what the checkers' forkserver
    preloads by name (grader/checkers.py's ``PRELOAD``), the code the sandbox shows the worker
    (grader/sandbox.py starts ``grader.worker.serve`` by name), and the module the workflow runs
    per exercise."""
    from grader.checkers import PRELOAD

    points = [ROOT / "tests" / "conftest.py", ROOT / "grader" / "__main__.py", ROOT / "grader" / "scoreboard.py",
              ROOT / "grader" / "classroom.py", *(ROOT / Path(*name.split(".")).with_suffix(".py") for name in PRELOAD)]
    points += [exercise.test_file("public") for exercise in EXERCISES]
    for relative in VISIBLE_CODE:
        path = ROOT / relative
        points += sorted(path.glob("*.py")) if path.is_dir() else [path]
    return points


def shipped_modules(roots: list[Path], generated: dict[str, str]) -> list[Path]:
    """``roots`` and every module of this repository that they or the ``generated`` files
    (release path -> source) import, with their packages' ``__init__.py``.

    An import inside ``try: ... except ImportError`` (or ModuleNotFoundError) is optional and
    not followed: the code works without it (tests/training_loop/expected.py and its replay,
    tests/log_rmse/expected.py and its oracle, grader/__main__.py and grader/batch.py)."""
    found: set[Path] = set()
    pending = [path.resolve() for path in roots]
    pending += [module for relative, source in generated.items() for name in imported_names(source, relative)
                for module in _module_files(name)]
    while pending:
        path = pending.pop()
        if path in found:
            continue
        if not path.is_file():
            raise ReleaseError(f"{_relative(path)} is an entry point of the release but does not exist")
        found.add(path)
        pending += _packages_of(path)
        source = path.read_text(encoding="utf-8")
        pending += [module for name in imported_names(source, _relative(path)) for module in _module_files(name)]
    return sorted(found)


def imported_names(source: str, relative: str) -> set[str]:
    """Dotted names the module at ``relative`` (a release path) imports: ``from a import b``
    gives ``a`` and ``a.b``; optional imports are left out."""
    tree = ast.parse(source, filename=relative)
    optional = {id(node) for guard in ast.walk(tree) if isinstance(guard, ast.Try) and _catches_import_error(guard)
                for statement in guard.body for node in ast.walk(statement)}
    package = ".".join(PurePosixPath(relative).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names if alias.name != "*"}
    return names


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
    return ".".join(parts + ([node.module] if node.module else []))


def _catches_import_error(guard: ast.Try) -> bool:
    caught = {getattr(handler.type, "id", None) for handler in guard.handlers}
    caught |= {getattr(element, "id", None) for handler in guard.handlers if isinstance(handler.type, ast.Tuple)
               for element in handler.type.elts}
    return bool(caught & {"ImportError", "ModuleNotFoundError"})


def _module_files(name: str) -> list[Path]:
    """The file of module ``name`` in this repository (none for torch and every other library)."""
    base = ROOT.joinpath(*name.split("."))
    return [candidate for candidate in (base.with_suffix(".py"), base / "__init__.py") if candidate.is_file()]


def _packages_of(path: Path) -> list[Path]:
    parents = path.relative_to(ROOT).parents
    return [ROOT / parent / "__init__.py" for parent in parents if parent != Path(".") and (ROOT / parent / "__init__.py").is_file()]


def _relative(path: Path) -> str:
    return PurePosixPath(path.resolve().relative_to(ROOT)).as_posix() if path.resolve().is_relative_to(ROOT) else str(path)


def never_shipped(relative: str) -> bool:
    parts = PurePosixPath(relative).parts
    return (any(part in NEVER_SHIPPED_FOLDERS for part in parts[:-1]) or parts[-1] in NEVER_SHIPPED_NAMES
            or relative in NEVER_SHIPPED_FILES)


# --- the generated files -------------------------------------------------------------------------


NOXFILE_DOCSTRING = ('"""The session for students: `nox -s check` (see README.md). Made from the course\'s noxfile.py\n'
                     'by `python -m grader.release`, which leaves the instructors\' sessions out."""\n')


def student_noxfile(source: str) -> str:
    """noxfile.py with the ``check`` session alone: the other sessions, the functions only they
    use and the imports nothing left uses are left out; what remains is the source's own text."""
    tree = ast.parse(source)
    has_docstring = bool(tree.body) and _is_docstring(tree.body[0])
    statements = tree.body[1:] if has_docstring else tree.body
    kept = _kept_statements(statements)
    used = {name.id for node in kept if not isinstance(node, (ast.Import, ast.ImportFrom))
            for name in ast.walk(node) if isinstance(name, ast.Name)}
    lines = source.splitlines(keepends=True)
    pieces, previous_end = [NOXFILE_DOCSTRING], tree.body[0].end_lineno if has_docstring else 0
    for node in statements:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        gap, statement = "".join(lines[previous_end:start - 1]), "".join(lines[start - 1:node.end_lineno])
        previous_end = node.end_lineno
        if any(node is k for k in kept):
            pieces.append(gap + _with_used_names(node, statement, used) if _imports_any(node, used) else "")
    result = "".join(pieces)
    compile(result, "noxfile.py", "exec")
    return result


def _kept_statements(statements: list[ast.stmt]) -> list[ast.stmt]:
    """Every top-level statement but the functions that neither the check session nor the top-level code reaches."""
    functions = {node.name: node for node in statements if isinstance(node, ast.FunctionDef)}
    if "check" not in functions or not _is_session(functions["check"]):
        raise ReleaseError("noxfile.py has no `check` session, the one a student runs")
    top_level = [node for node in statements if not isinstance(node, ast.FunctionDef)]
    reached, pending = set(), ["check"] + [n.id for s in top_level for n in ast.walk(s) if isinstance(n, ast.Name)]
    while pending:
        name = pending.pop()
        if name in functions and name not in reached and (name == "check" or not _is_session(functions[name])):
            reached.add(name)
            pending += [n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name)]
    return [node for node in statements if not isinstance(node, ast.FunctionDef) or node.name in reached]


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_session(function: ast.FunctionDef) -> bool:
    return any("session" in ast.unparse(decorator) for decorator in function.decorator_list)


def _used_aliases(node: ast.Import | ast.ImportFrom, used: set[str]) -> list[ast.alias]:
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return node.names
    return [alias for alias in node.names if (alias.asname or alias.name).split(".")[0] in used]


def _imports_any(node: ast.stmt, used: set[str]) -> bool:
    """False for an import none of whose names is used (it goes, with the comments above it)."""
    return not isinstance(node, (ast.Import, ast.ImportFrom)) or bool(_used_aliases(node, used))


def _with_used_names(node: ast.stmt, statement: str, used: set[str]) -> str:
    """The statement's text; an import that binds unused names too is rewritten with the used ones
    (keeping a comment such as ``# noqa`` at its end)."""
    if not isinstance(node, (ast.Import, ast.ImportFrom)) or len(_used_aliases(node, used)) == len(node.names):
        return statement
    names = _used_aliases(node, used)
    rewritten = ast.ImportFrom(node.module, names, node.level) if isinstance(node, ast.ImportFrom) else ast.Import(names)
    last_line = statement.rstrip("\n").splitlines()[-1]
    comment = "  " + last_line[last_line.index("#"):] if "#" in last_line else ""
    return f"{ast.unparse(rewritten)}{comment}\n"


def student_readme() -> str:
    """The template with the main README's section for students in place, and the course table made from the catalog."""
    template = STUDENT_README.read_text(encoding="utf-8")
    if template.count(README_SECTION) != 1:
        raise ReleaseError(f"{_relative(STUDENT_README)} must hold the line {README_SECTION.strip()} once")
    return stubgen.readme_with_table(template.replace(README_SECTION, readme_section_for_students()))


def readme_section_for_students() -> str:
    readme = stubgen.README.read_text(encoding="utf-8")
    if STUDENT_HEADING not in readme:
        raise ReleaseError(f"README.md has no section {STUDENT_HEADING.strip()!r} to give the students")
    section = readme.split(STUDENT_HEADING, 1)[1]
    following = re.search(r"^## ", section, flags=re.MULTILINE)
    return STUDENT_HEADING + (section[:following.start()] if following else section)


def workflow() -> dict:
    """The student repository's GitHub Classroom workflow: the public checks on every push, then
    one autograding test per exercise worth its points (classroom-resources' command grader),
    and the reporter that hands the points to GitHub Classroom. Classroom reads the workflow
    named "Autograding Tests" with the one job run-autograding-tests."""
    always = "always()"
    graders = [{"name": f"{e.name} ({e.points} points)", "id": e.name, "if": always,
                "uses": "classroom-resources/autograding-command-grader@v1",
                "with": {"test-name": e.name, "command": f"python3 -m grader.classroom results.json {e.name}",
                         "timeout": 1, "max-score": e.points}} for e in EXERCISES]
    reporter = {"name": "Autograding Reporter", "if": always, "uses": "classroom-resources/autograding-grading-reporter@v1",
                "env": {f"{e.name.upper()}_RESULTS": f"${{{{ steps.{e.name}.outputs.result }}}}" for e in EXERCISES},
                "with": {"runners": ",".join(e.name for e in EXERCISES)}}
    steps = [
        {"name": "Check out", "uses": "actions/checkout@v4"},
        {"name": "Set up Python 3.11", "uses": "actions/setup-python@v5", "with": {"python-version": "3.11"}},
        {"name": "Reuse the environment nox made last time", "uses": "actions/cache@v4",
         "with": {"path": ".nox/_env", "key": "nox-env-${{ runner.os }}-${{ hashFiles('pyproject.toml', 'constraints.txt') }}"}},
        {"name": "Install, as README.md says", "run": 'python3 -m pip install "nox>=2024.10" && python3 -m nox -s check --install-only'},
        {"name": "Run the public checks",
         "run": ".nox/_env/bin/python -m grader grade exercises --markdown summary.md --results results.json"},
        {"name": "Show the scoreboard on the job page", "if": always, "run": 'cat summary.md >> "$GITHUB_STEP_SUMMARY"'},
        *graders,
        reporter,
    ]
    return {"name": "Autograding Tests", "on": ["push", "workflow_dispatch"],
            "permissions": {"checks": "write", "actions": "read", "contents": "read"},
            "jobs": {"run-autograding-tests": {"runs-on": "ubuntu-latest", "timeout-minutes": 60,
                                               "if": "github.actor != 'github-classroom[bot]'", "steps": steps}}}


WORKFLOW_HEADER = (
    "# The public checks on every push, and their points per exercise for GitHub Classroom.\n"
    "# Made from grader/catalog.py by `python -m grader.release`. This workflow runs in your own\n"
    "# repository, where you control it: its points are feedback. Your grade comes from the\n"
    "# course's run with the hidden checks (or from Gradescope); see README.md.\n"
)
PLAIN = re.compile(r"[A-Za-z_./][A-Za-z0-9_ ./,()@=-]*")  # not starting with a digit: "3.10" is no number
YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def to_yaml(value) -> str:
    """YAML for the workflow's dicts, lists, strings and integers (single-quoted where a plain scalar could misread)."""
    return "\n".join(_yaml_lines(value, 0)) + "\n"


def _scalar(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ReleaseError(f"the workflow holds {value!r}, which to_yaml does not write")
    if isinstance(value, int):
        return str(value)
    if PLAIN.fullmatch(value) and value.lower() not in YAML_WORDS and not value[-1] == " ":
        return value
    if "'" in value and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return "'" + value.replace("'", "''") + "'"


def _yaml_lines(value, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                lines += [f"{pad}{_scalar(key)}:", *_yaml_lines(item, indent + 2)]
            else:
                lines.append(f"{pad}{_scalar(key)}: {_scalar(item)}")
        return lines
    lines = []
    for item in value:
        inner = _yaml_lines(item, indent + 2) if isinstance(item, (dict, list)) else [f"{pad}  {_scalar(item)}"]
        lines += [f"{pad}- {inner[0].lstrip()}", *inner[1:]]
    return lines


def stored_figures() -> dict[str, str]:
    """Data files that stand in for reference code: path -> text (the training loop's replay
    figures, and log_rmse's values from its oracle and its mistakes' variants)."""
    from tests.log_rmse import expected as log_rmse_values
    from tests.training_loop import expected

    return {_relative(expected.STORED): json.dumps(expected.figures(), indent=1, sort_keys=True) + "\n",
            _relative(log_rmse_values.STORED): log_rmse_values.text()}


def release_files() -> dict[str, str]:
    """Every file of the release: its path (relative, with /) -> its text."""
    noxfile = student_noxfile((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    modules = shipped_modules(entry_points(), {"noxfile.py": noxfile})
    files = {_relative(path): path.read_text(encoding="utf-8") for path in modules}
    files.update({f"exercises/{name}": text for name, text in stubgen.expected_stubs().items()})
    files.update({name: (ROOT / name).read_text(encoding="utf-8") for name in COPIED})
    files.update({
        "noxfile.py": noxfile,
        "README.md": student_readme(),
        ".gitignore": GITIGNORE,
        WORKFLOW: WORKFLOW_HEADER + to_yaml(workflow()),
        **stored_figures(),
    })
    refused = sorted(path for path in files if never_shipped(path))
    if refused:
        raise ReleaseError(f"the release would hold {', '.join(refused)}, which must never ship: a shipped module "
                           "imports it (make that import optional, or ship its results as data)")
    names = {f"tests/{e.name}/test_public.py" for e in EXERCISES}
    missing = sorted(names - files.keys())
    if missing:
        raise ReleaseError(f"the release lacks {', '.join(missing)}")
    return dict(sorted(files.items()))


# --- the git repository --------------------------------------------------------------------------


def _git(outdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["git", "-C", str(outdir), *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed in {outdir}: {done.stderr.strip() or done.stdout.strip()}")
    return done


def is_new(outdir: Path) -> bool:
    """Whether OUTDIR is to become a repository (absent or empty); refuse anything but that or
    a repository of earlier releases with no uncommitted change."""
    if not outdir.exists() or (outdir.is_dir() and not any(outdir.iterdir())):
        return True
    if not (outdir / ".git").exists():
        raise ReleaseError(f"{outdir} is neither empty nor a repository of earlier releases: give a new directory "
                           "or the one the previous release went to")
    last = _git(outdir, "log", "-1", "--format=%B", check=False)
    if last.returncode != 0 or TRAILER not in last.stdout:
        raise ReleaseError(f"{outdir} is a git repository, but its last commit is not a release "
                           f"(no '{TRAILER}' line): the release goes into a repository of its own")
    if _git(outdir, "status", "--porcelain", "--untracked-files=no").stdout.strip():
        raise ReleaseError(f"{outdir} has uncommitted changes: commit or discard them before the next release")
    return False


def write_tree(outdir: Path, files: dict[str, str]) -> None:
    """Make OUTDIR's tracked files exactly ``files``, and the index with them."""
    tracked = _git(outdir, "ls-files", "-z").stdout.split("\0")
    for stale in sorted(set(filter(None, tracked)) - files.keys()):
        (outdir / stale).unlink(missing_ok=True)
        _remove_empty_parents(outdir, outdir / stale)
    for relative, text in files.items():
        path = outdir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    _git(outdir, "read-tree", "--empty")
    _git(outdir, "add", "--force", "--", *files)


def _remove_empty_parents(outdir: Path, path: Path) -> None:
    parent = path.parent
    while parent != outdir and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def source_revision() -> str:
    """The commit the release is made from, and whether the working tree had changes beyond it."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return "a tree outside git"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True).stdout
    return head.stdout.strip() + (" with uncommitted changes" if dirty.strip() else "")


def commit(outdir: Path) -> str | None:
    """Commit the index as the next release; None when it equals the last release."""
    has_head = _git(outdir, "rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0
    if has_head and _git(outdir, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return None
    identity = [] if _git(outdir, "config", "user.email", check=False).stdout.strip() else [
        "-c", "user.name=d2l exercises release", "-c", "user.email=release@d2l-exercises.invalid"]
    revision = source_revision()
    message = f"Release of the d2l exercises\n\n{TRAILER} {revision}\n"
    done = subprocess.run(["git", *identity, "-C", str(outdir), "commit", "--quiet", "-F", "-"], input=message,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise ReleaseError(f"git commit failed in {outdir}: {done.stderr.strip() or done.stdout.strip()}")
    return _git(outdir, "rev-parse", "HEAD").stdout.strip()


def release(outdir: Path) -> str | None:
    """Write the release into ``outdir`` and commit it; the new commit, or None when nothing changed."""
    outdir = outdir.resolve()
    if outdir == ROOT or outdir.is_relative_to(ROOT):
        raise ReleaseError(f"{outdir} is inside the course repository: the release goes into a directory of its own")
    new = is_new(outdir)
    files = release_files()
    if new:
        outdir.mkdir(parents=True, exist_ok=True)
        _git(outdir, "init", "--quiet", "--initial-branch=main")
    write_tree(outdir, files)
    return commit(outdir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.release", description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, help="the release repository: a new or empty directory, or the previous release's")
    args = parser.parse_args(argv)
    try:
        made = release(args.outdir)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    where = os.fspath(args.outdir)
    print(f"release: {where} is unchanged (nothing to commit)" if made is None else f"release: committed {made[:12]} in {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
