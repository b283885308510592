"""The grade command against submissions that attack it (tests/meta/attacks/): each attack
scores 0 on the exercise it attacks, the other exercises of the same submission keep their
points, nothing the attacks write survives them, and every report is schema-valid.

Each submission is the reference solutions with some exercises replaced by attacks, graded
by ``python -m grader grade`` as CI grades a student (shorter limits keep the endless loops
short). Only the exercises the catalog marks isolated can be attacked this way (today all).
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path
from xml.etree import ElementTree

import pytest

from grader import reports
from grader.catalog import BY_NAME, EXERCISES, ROOT
from grader.sandbox import mode

ATTACKS = Path(__file__).with_name("attacks")
ISOLATED = [e.name for e in EXERCISES if e.isolated]
# The training loop's convergence checks train for a second or two in one call.
LIMITS = ["--limit", "call_s=1", "--limit", "exercise_s=4", "--limit", "training_loop.call_s=30",
          "--limit", "training_loop.exercise_s=120"]
# Each submission attacks several exercises at once: one attack per exercise, so that each
# is also graded beside others that crash, hang or flood.
SUBMISSIONS = {
    "patches-and-exits": {"softmax": "patch_isclose", "dropout": "exit_at_import", "log_rmse": "os_exit_in_call",
                          "sgd": "fake_results", "conv_output_size": "endless_loop"},
    "limits": {"dropout": "ignores_sigterm", "log_rmse": "memory_bomb", "sgd": "fork_bomb",
               "conv_output_size": "patch_helpers"},
    "escapes": {"softmax": "frame_peek", "dropout": "print_flood", "sgd": "orphan_child", "conv_output_size": "pth_file"},
    "reads-the-answers": {"softmax": "read_solutions", "conv_output_size": "kills_parent", "dropout": "kills_everyone"},
    "forbidden-and-modules": {"softmax": "hidden_forbidden_call", "vgg": "spoofed_layers",
                              "batch_norm": "patched_module_checks", "training_loop": "patched_probes"},
    "tampers": {"softmax": "patch_watch", "dropout": "watch_aware", "conv_output_size": "bom_conv2d"},
}
# The status an attack must end with, where it is not simply "failed".
STATUS = {"hidden_forbidden_call": "forbidden", "patch_watch": "forbidden", "watch_aware": "forbidden",
          "bom_conv2d": "forbidden"}


def _submission(tmp_path: Path, attacks: dict[str, str]) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir()
    for exercise in EXERCISES:
        source = ATTACKS / f"{attacks[exercise.name]}.py" if exercise.name in attacks else ROOT / "solutions" / f"{exercise.name}.py"
        shutil.copy(source, folder / f"{exercise.name}.py")
    return folder


def _grade(folder: Path, out: Path, exercises: list[str]) -> dict:
    command = [sys.executable, "-m", "grader", "grade", str(folder), "--exercises", *exercises, *LIMITS,
               "--results", str(out / "results.json"), "--junit", str(out / "junit.xml"),
               "--markdown", str(out / "summary.md"), "--record", str(out / "record.json")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    reports.validate_gradescope(results)
    ElementTree.parse(out / "junit.xml")
    return json.loads((out / "record.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", list(SUBMISSIONS))
def test_attacks_score_zero_and_spare_the_rest(tmp_path, name):
    """An attack scores 0 on the exercise it attacks; the solutions beside it keep full marks."""
    attacks = SUBMISSIONS[name]
    if name == "reads-the-answers" and mode()[0] != "bwrap":
        pytest.skip(f"without bubblewrap the worker can read the repository: {mode()[1]}")
    record = _grade(_submission(tmp_path, attacks), tmp_path, ISOLATED)["exercises"]
    for exercise, entry in record.items():
        if exercise in attacks:
            assert entry["points"] == 0, f"{attacks[exercise]} scored {entry['points']} on {exercise}: {entry['explanation']}"
            if attacks[exercise] in STATUS:
                assert entry["status"] == STATUS[attacks[exercise]], entry["explanation"]
        else:
            assert entry["points"] == BY_NAME[exercise].points, f"{exercise} (a solution) lost its points: {entry['explanation']}"
    assert not (ROOT / "conftest.py").exists() and not (ROOT / "results.json").exists()
    assert not (Path(sysconfig.get_paths()["purelib"]) / "zzz_attack.pth").exists()
    left = subprocess.run(["pgrep", "-f", "sleep 600"], capture_output=True, text=True).stdout.split()
    assert not left, f"an attack left processes behind: {left}"


def test_grading_the_stubs_gives_zero_with_valid_reports(tmp_path):
    """`grade exercises` scores the untouched stubs 0, every exercise "not started", with valid reports."""
    record = _grade(ROOT / "exercises", tmp_path, [e.name for e in EXERCISES])
    assert {e: r["status"] for e, r in record["exercises"].items()} == {e.name: "not started" for e in EXERCISES}
    assert sum(r["points"] for r in record["exercises"].values()) == 0
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    hidden = [t for t in results["tests"] if t["name"].endswith("(hidden checks)")]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_keeps_the_scores_that_finished(tmp_path, stop):
    """Ctrl-C (or SIGTERM, a scheduler's time limit) while an exercise hangs: the hung one's
    processes are stopped at once, the report keeps the finished exercise's score and says the
    other was not graded, exit status 130."""
    folder = _submission(tmp_path, {"conv_output_size": "endless_loop"})
    command = [sys.executable, "-m", "grader", "grade", str(folder), "--exercises", "conv_output_size", "log_rmse",
               "--jobs", "2", "--limit", "call_s=300", "--limit", "exercise_s=600", "--record", str(tmp_path / "r.json")]
    grading = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in grading.stderr:  # one line per exercise as it finishes
            if line.startswith("graded log_rmse"):
                break
        grading.send_signal(stop)
        stdout, _ = grading.communicate(timeout=30)
    finally:
        grading.kill()
    assert grading.returncode == 130, stdout
    record = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["exercises"]
    assert record["log_rmse"]["points"] == BY_NAME["log_rmse"].points, record["log_rmse"]["explanation"]
    assert record["conv_output_size"]["points"] == 0
    assert "interrupted" in record["conv_output_size"]["explanation"]
    assert "log_rmse" in stdout and "interrupted" in stdout
