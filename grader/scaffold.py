"""Start an exercise: ``nox -s new -- NAME [--title T] [--points P] [--d2l SECTION]``.

Writes, in one go:
- ``solutions/NAME.py``: the function's signature, a docstring to turn into the contract,
  and a ``# BEGIN SOLUTION`` region;
- ``tests/NAME/``: ``test_public.py`` and ``test_hidden.py`` with one check each to replace,
  and the ``mutants/`` and ``correct/`` folders for the kept implementations;
- the catalog entry in grader/catalog.py, above its marker line;
- then the stub ``exercises/NAME.py`` and the README's course table (grader.stubgen).

The checks it writes fail until they are written for real, and the self-test asks for six
wrong and two correct kept implementations, so ``nox -s tests`` stays red until the
exercise is done.
"""
from __future__ import annotations

import argparse
import keyword
import sys
from pathlib import Path

MARKER = "    # new exercises go above this line (nox -s new)\n"

SOLUTION = '''"""{title} (d2l {d2l})."""
import torch


def {name}(X: torch.Tensor) -> torch.Tensor:
    """Write the contract here: what {name} takes and returns (shapes, dtypes, device),
    the formula, and which bad input raises ValueError.
    """
    # BEGIN SOLUTION: say in words what to do, without the code
    raise NotImplementedError("write the reference solution of {name}")
    # END SOLUTION
'''

CHECK = '''"""{name}: the {tier} checks."""


def test_{tier}_property_to_write(impl):
    """Replace this check with a property of the contract, against an oracle of its own."""
    raise NotImplementedError("write the {tier} checks of {name}: tests/{name}/test_{tier}.py")
'''


def add_to_catalog(catalog: Path, name: str, title: str, points: int, d2l: str) -> None:
    text = catalog.read_text(encoding="utf-8")
    if MARKER not in text:
        raise SystemExit(f"{catalog} has no line {MARKER.strip()!r} to add the exercise above")
    if f'Exercise("{name}",' in text:
        raise SystemExit(f"the catalog already has an exercise {name!r}")
    entry = (f'    Exercise("{name}", {title!r}, ("{name}",), {points}, {d2l!r},\n'
             f'             "what the checks hold it to, for the README\'s course table"),\n')
    catalog.write_text(text.replace(MARKER, entry + MARKER), encoding="utf-8")


def scaffold(root: Path, name: str, title: str, points: int, d2l: str) -> list[Path]:
    """Create the exercise's files under ``root``; return the paths written or changed."""
    if not name.isidentifier() or keyword.iskeyword(name) or name != name.lower():
        raise SystemExit(f"{name!r} is not a lower-case Python module name")
    solution, folder = root / "solutions" / f"{name}.py", root / "tests" / name
    if solution.exists() or folder.exists():
        raise SystemExit(f"{solution.relative_to(root)} or {folder.relative_to(root)} exists already")
    solution.write_text(SOLUTION.format(name=name, title=title, d2l=d2l), encoding="utf-8")
    folder.mkdir(parents=True)
    written = [solution]
    for file_name, text in {
        "__init__.py": f'"""The {name} exercise: its checks, their support code, and its kept wrong and correct implementations."""\n',
        "test_public.py": CHECK.format(name=name, tier="public"),
        "test_hidden.py": CHECK.format(name=name, tier="hidden"),
        "mutants/README.md": "Realistic wrong implementations, one file each: a docstring saying the mistake (`Mistake: <id>` when a hint names it).\n",
        "correct/README.md": "Correct implementations written differently from the solution, one file each, with a docstring.\n",
    }.items():
        path = folder / file_name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    catalog = root / "grader" / "catalog.py"
    add_to_catalog(catalog, name, title, points, d2l)
    return written + [catalog]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="the module name, e.g. layer_norm")
    parser.add_argument("--title", default=None)
    parser.add_argument("--points", type=int, default=10)
    parser.add_argument("--d2l", default="?", help="the section of 动手学深度学习 that teaches it")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    written = scaffold(args.root, args.name, args.title or args.name.replace("_", " ").capitalize(), args.points, args.d2l)
    for path in written:
        print(f"wrote {path.relative_to(args.root)}")
    if args.root.resolve() == Path(__file__).resolve().parent.parent:
        import importlib

        from grader import catalog, stubgen

        importlib.reload(catalog)
        importlib.reload(stubgen)
        stubgen.write_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
