"""The Gradescope bundle (grader/gradescope.py): what it holds, and its run_autograder against
a temporary root laid out as Gradescope lays out /autograder (source/, submission/, results/).

Each run grades two quick isolated exercises only (`--exercises`, which run_autograder passes
on to `grader grade`): a run is mostly starting Python, torch and the worker, and what is
tested here is the bundle and its script, not the checks, which the self-test and
test_grading.py hold to every exercise.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from grader import gradescope, reports
from grader.catalog import BY_NAME, ROOT
from grader.sandbox import mode

ATTACKS = Path(__file__).with_name("attacks")
QUICK = ["conv_output_size", "log_rmse"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    gradescope.build(out)
    return out


@pytest.fixture
def autograder_root(bundle):
    """A fresh /autograder with the bundle unpacked in source/. Made in HOME, not /tmp: the
    bubblewrap sandbox mounts a private /tmp over the grader's own files when they live under
    /tmp (grader/sandbox.py), and Gradescope's /autograder is not under /tmp either."""
    root = Path(tempfile.mkdtemp(prefix="d2l-autograder-test-", dir=Path.home()))
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir()
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for script in gradescope.AT_ZIP_ROOT:
        (root / "source" / script).chmod(0o755)  # extractall drops the modes; Gradescope keeps them
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _run_autograder(root: Path, files: dict[str, Path], exercises: list[str]) -> dict:
    for name, source in files.items():
        shutil.copy(source, root / "submission" / f"{name}.py")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "AUTOGRADER_ROOT": str(root),
           "AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run([str(root / "source" / "run_autograder"), "--exercises", *exercises], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    reports.validate_gradescope(results)
    return results


def _scores(results: dict) -> dict[str, float]:
    """Points per exercise, from the tests of results.json (one per exercise and tier)."""
    scores: dict[str, float] = {}
    for test in results["tests"]:
        exercise = test["name"].split(" ")[0]
        scores[exercise] = round(scores.get(exercise, 0) + test["score"], 6)
    return scores


def test_bundle_holds_what_grading_needs_and_no_solution(bundle):
    """setup.sh and run_autograder at the root (executable), grader/, the checks, pyproject and
    constraints; no solutions/, no kept implementations, no self-test."""
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for script in gradescope.AT_ZIP_ROOT:
        assert infos[script].external_attr >> 16 & 0o111, f"{script} is not executable in the bundle"
    assert {"pyproject.toml", "constraints.txt", "grader/__main__.py", "grader/worker/serve.py",
            "tests/conftest.py", "tests/softmax/test_hidden.py"} <= set(infos)
    leaked = [n for n in infos if n.startswith(("solutions/", "exercises/", "tests/meta/")) or "/mutants/" in n
              or "/correct/" in n or "__pycache__" in n]
    assert not leaked, f"the bundle holds what grading does not need: {leaked[:5]}"


def test_bundle_is_the_same_for_the_same_checkout(bundle, tmp_path):
    """Fixed timestamps and order: building twice gives the same bytes."""
    again = tmp_path / "again.zip"
    gradescope.build(again)
    assert again.read_bytes() == bundle.read_bytes()


def test_setup_installs_the_pinned_cpu_wheels():
    """torch and torchvision at constraints.txt's versions from PyTorch's CPU index, then every
    other pin except the CUDA-only packages."""
    constraints = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    pins = dict(line.split("==") for line in constraints.splitlines() if "==" in line and not line.startswith("#"))
    assert gradescope.torch_pins(constraints) == [f"torch=={pins['torch']}", f"torchvision=={pins['torchvision']}"]
    rest = gradescope.cpu_requirements(constraints)
    assert f"numpy=={pins['numpy']}" in rest and f"hypothesis=={pins['hypothesis']}" in rest
    assert not [p for p in rest if p.startswith(("torch==", "torchvision==", "nvidia-", "cuda-", "triton"))]
    install = (ROOT / "grader" / "scale" / "install_cpu.sh").read_text(encoding="utf-8")
    assert "--index-url https://download.pytorch.org/whl/cpu" in install and "pip check" in install
    assert "install_cpu.sh" in (gradescope.SCRIPTS / "setup.sh").read_text(encoding="utf-8")


def test_a_solution_gets_full_marks(autograder_root):
    results = _run_autograder(autograder_root, {n: ROOT / "solutions" / f"{n}.py" for n in QUICK}, QUICK)
    assert results["score"] == sum(BY_NAME[n].points for n in QUICK)
    hidden = [t for t in results["tests"] if t["name"].endswith("(hidden checks)")]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)


def test_the_stubs_get_zero(autograder_root):
    results = _run_autograder(autograder_root, {n: ROOT / "exercises" / f"{n}.py" for n in QUICK}, QUICK)
    assert results["score"] == 0
    assert all("not started" in t["tags"] for t in results["tests"])


def test_an_attack_gets_zero_on_the_exercise_it_attacks_only(autograder_root):
    """fake_results writes a full-marks results.json wherever it can, /autograder/results and the
    submission's parent included, and a conftest.py that passes every test: its exercise (sgd)
    scores 0, the solution beside it keeps its points, and results.json is the grader's. Without
    bubblewrap it would write into this machine's own files, so patch_isclose attacks instead."""
    attack, attacked = ("fake_results", "sgd") if mode()[0] == "bwrap" else ("patch_isclose", "softmax")
    files = {attacked: ATTACKS / f"{attack}.py", "conv_output_size": ROOT / "solutions" / "conv_output_size.py"}
    results = _run_autograder(autograder_root, files, [attacked, "conv_output_size"])
    assert _scores(results) == {attacked: 0, "conv_output_size": BY_NAME["conv_output_size"].points}
    assert results["score"] == BY_NAME["conv_output_size"].points
    assert not (autograder_root / "source" / "conftest.py").exists()
