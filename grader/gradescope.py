"""The Gradescope autograder bundle: ``nox -s gradescope -- OUT.zip``
(``python -m grader.gradescope build OUT.zip``).

The zip holds, at its root, ``setup.sh`` and ``run_autograder`` (grader/scale/gradescope/)
and what grading needs: ``grader/``, the checks of ``tests/`` without the kept
implementations (``mutants/``, ``correct/``) and the self-test (``tests/meta/``),
``pyproject.toml`` (pytest's settings) and ``constraints.txt``. It never holds
``solutions/``: on Gradescope the workers often run without bubblewrap, where student code
can read every file of the bundle.

``torch-pins`` and ``requirements`` print what grader/scale/install_cpu.sh installs: torch
and torchvision from PyTorch's CPU index, then the rest of constraints.txt without the
packages only the CUDA build of torch needs. Standard library only: the system python3 of
Gradescope's image runs this before any package is installed.
"""
from __future__ import annotations

import argparse
import re
import sys
import zipfile
from pathlib import Path

from grader.catalog import ROOT

SCRIPTS = ROOT / "grader" / "scale" / "gradescope"
AT_ZIP_ROOT = ("setup.sh", "run_autograder")
FILES = ("pyproject.toml", "constraints.txt")
FOLDERS = ("grader", "tests")
LEFT_OUT = {"mutants", "correct", "meta", "__pycache__"}  # folder names, anywhere under FOLDERS
TORCH = ("torch", "torchvision")
CUDA_ONLY = re.compile(r"^(nvidia-|cuda-|triton==)", re.IGNORECASE)
# A fixed timestamp: the same checkout makes the same bundle, byte for byte.
STAMP = (2020, 1, 1, 0, 0, 0)


def bundled_files() -> list[str]:
    """Paths, relative to the repository, of what grading needs."""
    found = list(FILES)
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT)
            if path.is_file() and not LEFT_OUT & set(relative.parts) and not any(
                    part.startswith(".") for part in relative.parts) and path.suffix != ".pyc":
                found.append(relative.as_posix())
    return found


def build(out: Path) -> list[str]:
    """Write the bundle to ``out``; returns the names it holds."""
    names = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for script in AT_ZIP_ROOT:
            _add(bundle, SCRIPTS / script, script, executable=True)
            names.append(script)
        for relative in bundled_files():
            if relative.startswith("solutions/"):
                raise SystemExit(f"gradescope: {relative} would leak a reference solution into the bundle")
            path = ROOT / relative
            _add(bundle, path, relative, executable=bool(path.stat().st_mode & 0o111))
            names.append(relative)
    return names


def _add(bundle: zipfile.ZipFile, path: Path, name: str, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    bundle.writestr(info, path.read_bytes())


def _pins(constraints: str) -> list[str]:
    return [line.strip() for line in constraints.splitlines() if line.strip() and not line.startswith("#")]


def torch_pins(constraints: str) -> list[str]:
    """``torch==X`` and ``torchvision==Y`` as constraints.txt pins them."""
    pins = {pin.split("==")[0].lower(): pin for pin in _pins(constraints)}
    missing = [name for name in TORCH if name not in pins]
    if missing:
        raise SystemExit(f"gradescope: constraints.txt pins no {', '.join(missing)}; run nox -s lock")
    return [pins[name] for name in TORCH]


def cpu_requirements(constraints: str) -> list[str]:
    """Every other pin of constraints.txt, without those only the CUDA build of torch needs."""
    return [pin for pin in _pins(constraints)
            if pin.split("==")[0].lower() not in TORCH and not CUDA_ONLY.match(pin)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="write the autograder zip").add_argument("out", type=Path)
    commands.add_parser("torch-pins", help="print torch==X torchvision==Y")
    commands.add_parser("requirements", help="print the other pins, without the CUDA-only packages")
    args = parser.parse_args(argv)
    constraints = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    if args.command == "torch-pins":
        print(" ".join(torch_pins(constraints)))
    elif args.command == "requirements":
        print("\n".join(cpu_requirements(constraints)))
    else:
        if args.out.suffix != ".zip":
            raise SystemExit(f"gradescope: name the bundle OUT.zip (Gradescope takes a zip), not {args.out}")
        names = build(args.out)
        print(f"wrote {args.out}: {len(names)} files; upload it as the autograder (Ubuntu 24.04 base image)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
