"""Generate ``exercises/`` (the stubs) from the marked regions of ``solutions/``.

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


def stale_files() -> list[str]:
    """Names of the files in ``exercises/`` that differ from what would be generated."""
    stale = []
    for name, text in expected_stubs().items():
        path = EXERCISES / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale stubs; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"exercises/{name} is stale: run `python -m grader.stubgen`", file=sys.stderr)
        return 1 if stale else 0
    EXERCISES.mkdir(exist_ok=True)
    for name, text in expected_stubs().items():
        (EXERCISES / name).write_text(text, encoding="utf-8")
        print(f"wrote exercises/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
