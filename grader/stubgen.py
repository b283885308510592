"""Generate ``exercises/`` (the stubs) from the marked regions of ``solutions/``, and the
course table of README.md from grader/catalog.py.

A region is::

    # BEGIN SOLUTION: <one-line hint for the student>
    ...reference code...
    # END SOLUTION

and becomes ``raise NotImplementedError("<hint>")`` at the marker's indentation. Everything
outside the regions (imports, signatures, docstrings, given helpers) is copied verbatim, so
that a stub and its solution cannot drift apart.

    python -m grader.stubgen          # rewrite exercises/
    python -m grader.stubgen --check  # exit 1 if exercises/ is stale
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from grader.catalog import course_table

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

DEFINITION = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?(?:def|class)\s+(?P<name>\w+)")
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION: (?P<hint>\S.*?)\s*$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")

HEADER = (
    '# Your file: fill in every body that raises NotImplementedError, then run\n'
    '#     nox -s check -- {name}\n'
    '# (Generated from solutions/{name}.py by `python -m grader.stubgen`; the signatures and\n'
    '# docstrings are the contract the checks hold you to.)\n'
)


class MarkerError(ValueError):
    """A solution file whose BEGIN/END SOLUTION markers do not pair up."""


def make_stub(source: str, name: str) -> str:
    """Return the stub text for one solution module's text."""
    out: list[str] = []
    open_at: int | None = None
    regions = 0
    scopes: list[tuple[int, str]] = []  # the enclosing classes and functions: (indent, name)
    for lineno, line in enumerate(source.splitlines(keepends=True), start=1):
        definition = DEFINITION.match(line)
        if definition and open_at is None:
            indent = len(definition["indent"])
            scopes = [scope for scope in scopes if scope[0] < indent] + [(indent, definition["name"])]
        begin = BEGIN.match(line)
        if begin:
            if open_at is not None:
                raise MarkerError(f"{name}.py:{lineno}: BEGIN SOLUTION inside the region opened at line {open_at}")
            open_at, regions = lineno, regions + 1
            hint = begin["hint"].replace("\\", "\\\\").replace('"', '\\"')
            inside = [scope_name for indent, scope_name in scopes if indent < len(begin["indent"])]
            where = ".".join(inside) or name
            out.append(f'{begin["indent"]}raise NotImplementedError("{where}: {hint}")\n')
        elif END.match(line):
            if open_at is None:
                raise MarkerError(f"{name}.py:{lineno}: END SOLUTION without a BEGIN SOLUTION")
            open_at = None
        elif "SOLUTION" in line and line.lstrip().startswith("#"):
            raise MarkerError(f"{name}.py:{lineno}: malformed marker {line.strip()!r}; expected '# BEGIN SOLUTION: <hint>' or '# END SOLUTION'")
        elif open_at is None:
            out.append(line)
    if open_at is not None:
        raise MarkerError(f"{name}.py:{open_at}: BEGIN SOLUTION is never closed")
    if regions == 0:
        raise MarkerError(f"{name}.py: no '# BEGIN SOLUTION: <hint>' region, so the stub would give the answer away")
    return HEADER.format(name=name) + "".join(out)


def expected_stubs() -> dict[str, str]:
    """File name -> the text ``exercises/`` should hold, for every solution module."""
    stubs = {"__init__.py": '"""Your exercises: one module per exercise. See README.md."""\n'}
    for path in sorted(SOLUTIONS.glob("*.py")):
        if path.name != "__init__.py":
            stubs[path.name] = make_stub(path.read_text(encoding="utf-8"), path.stem)
    return stubs


README = ROOT / "README.md"
TABLE_START = "<!-- course table: made from grader/catalog.py by nox -s stubs -->\n"
TABLE_END = "<!-- end of course table -->\n"


def readme_with_table(text: str) -> str:
    """README.md's text with the course table between its markers made anew from the catalog."""
    if TABLE_START not in text or TABLE_END not in text:
        raise MarkerError(f"README.md lacks the course table markers {TABLE_START.strip()} ... {TABLE_END.strip()}")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    return head + TABLE_START + course_table() + TABLE_END + tail


def stale_files() -> list[str]:
    """Names of the generated files (in ``exercises/``, and README.md) that differ from what would be generated."""
    stale = []
    for name, text in expected_stubs().items():
        path = EXERCISES / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(f"exercises/{name}")
    readme = README.read_text(encoding="utf-8")
    if readme_with_table(readme) != readme:
        stale.append("README.md")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale stubs; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"{name} is stale: run `python -m grader.stubgen`", file=sys.stderr)
        return 1 if stale else 0
    write_all()
    return 0


def write_all() -> None:
    """Write exercises/ and README.md's course table."""
    EXERCISES.mkdir(exist_ok=True)
    for name, text in expected_stubs().items():
        (EXERCISES / name).write_text(text, encoding="utf-8")
        print(f"wrote exercises/{name}")
    README.write_text(readme_with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    print("wrote the course table of README.md")


if __name__ == "__main__":
    sys.exit(main())
