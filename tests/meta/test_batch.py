"""`python -m grader batch` and `merge` (grader/batch.py) on a generated class.

The class: 24 submissions mixing the reference solutions, the stubs, kept mutants (one file
of a solution set replaced by tests/<exercise>/mutants/<name>.py), kept attacks
(tests/meta/attacks) and refused zips, laid out as folders, git checkouts (as `gh classroom
clone student-repos` makes them), zip files (flat, and wrapped in a folder as GitHub's
"Download ZIP" makes them) and a Moodle folder holding the student's zip. The gradebook must
give each student exactly the points its files deserve; three shards graded one after the
other by grader/scale/slurm_grade.sh, then merged, must give the same gradebook, byte for byte.

Each submission is graded on three fast isolated exercises only (conv_output_size, log_rmse,
softmax): a grade process costs about 8 s here, nearly all of it starting Python, torch and
the worker, so the whole class on every exercise would add minutes to `nox -s tests` while
testing nothing more about the batch. The checks themselves are held to every exercise by the
self-test and tests/meta/test_grading.py.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import batch, reports
from grader.batch import Refused
from grader.catalog import BY_NAME, ROOT

ATTACKS = Path(__file__).with_name("attacks")
EXERCISES = ("conv_output_size", "log_rmse", "softmax")
FULL = {name: BY_NAME[name].points for name in EXERCISES}
MUTANTS = {"conv_output_size": ("off_by_one", "ceil", "stride_ignored"), "log_rmse": ("no_clamp", "log10", "mean_of_roots"),
           "softmax": ("book_naive", "global_max", "divides_by_max")}
ATTACKED = {"patch_isclose": "softmax", "frame_peek": "softmax", "patch_helpers": "conv_output_size",
            "kills_parent": "conv_output_size", "os_exit_in_call": "log_rmse"}
BATCH_OPTIONS = ["--exercises", *EXERCISES, "--max-mb", "1"]  # 1 MB: the zip bomb below stays small


# --- the class ---------------------------------------------------------------------------


def _solution_set(replace: dict[str, Path] | None = None) -> dict[str, bytes]:
    """Every exercise's file name -> contents: the solutions, some replaced."""
    files = {f"{name}.py": (ROOT / "solutions" / f"{name}.py").read_bytes() for name in BY_NAME}
    for name, source in (replace or {}).items():
        files[f"{name}.py"] = source.read_bytes()
    return files


def _stub_set() -> dict[str, bytes]:
    return {f"{name}.py": (ROOT / "exercises" / f"{name}.py").read_bytes() for name in BY_NAME}


def _folder(path: Path, files: dict[str, bytes]) -> None:
    path.mkdir(parents=True)
    for name, data in files.items():
        (path / name).write_bytes(data)


def _checkout(path: Path, files: dict[str, bytes]) -> None:
    """A student's repository as `gh classroom clone student-repos` leaves it: exercises/ and git."""
    _folder(path / "exercises", files)
    (path / "README.md").write_text("my d2l exercises\n")
    git = ["git", "-C", str(path), "-c", "user.name=student", "-c", "user.email=student@example.org"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "my work"]):
        subprocess.run(git + command, check=True, capture_output=True)


def _zip(path: Path, files: dict[str, bytes], prefix: str = "") -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(prefix + name, data)


def _refused_zips(root: Path) -> dict[str, str]:
    """Zips that must be refused, each -> the words its report must hold."""
    _zip(root / "refused-traversal.zip", {"../softmax.py": b"x = 1\n", **_solution_set()})
    link = zipfile.ZipInfo("softmax.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(root / "refused-symlink.zip", "w") as archive:
        archive.writestr(link, str(ROOT / "solutions" / "softmax.py"))
    _zip(root / "refused-bomb.zip", {**_solution_set(), "data.bin": bytes(2 << 20)})
    return {"refused-traversal": "climbs out of the folder", "refused-symlink": "is a symbolic link",
            "refused-bomb": "more than the 1 MB"}


def make_class(root: Path) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """Write the class; returns each student's expected points per exercise, and for the refused
    ones the words of their status."""
    expected: dict[str, dict[str, int]] = {}
    _folder(root / "sol-folder", _solution_set())
    _checkout(root / "sol-checkout", _solution_set())
    _zip(root / "sol-zip.zip", _solution_set())
    _zip(root / "sol-zip-wrapped.zip", _solution_set(), prefix="d2l-exercises-main/exercises/")
    expected.update(dict.fromkeys(["sol-folder", "sol-checkout", "sol-zip", "sol-zip-wrapped"], FULL))
    _folder(root / "stub-folder", _stub_set())
    _checkout(root / "stub-checkout", _stub_set())
    _zip(root / "stub-zip.zip", _stub_set())
    expected.update(dict.fromkeys(["stub-folder", "stub-checkout", "stub-zip"], dict.fromkeys(EXERCISES, 0)))
    for exercise, names in MUTANTS.items():
        for name in names:
            student = f"mutant-{exercise}-{name}"
            files = _solution_set({exercise: ROOT / "tests" / exercise / "mutants" / f"{name}.py"})
            if name == "stride_ignored":  # Moodle: a folder per student, holding the zip they uploaded
                (root / student).mkdir()
                _zip(root / student / "upload.zip", files)
            else:
                _folder(root / student, files)
            expected[student] = {**FULL, exercise: 0}
    for attack, exercise in ATTACKED.items():
        _folder(root / f"attack-{attack}", _solution_set({exercise: ATTACKS / f"{attack}.py"}))
        expected[f"attack-{attack}"] = {**FULL, exercise: 0}
    refused = _refused_zips(root)
    expected.update(dict.fromkeys(refused, dict.fromkeys(EXERCISES, 0)))
    return expected, refused


def _batch(submissions: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), "--jobs", "2",
               *BATCH_OPTIONS, *extra]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)


def _gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as file:
        return {row["Student"]: row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class, graded once by `grader batch --jobs 2`: (submissions, out, expected, refused)."""
    root = tmp_path_factory.mktemp("class")
    submissions, out = root / "submissions", root / "out"
    submissions.mkdir()
    expected, refused = make_class(submissions)
    done = _batch(submissions, out)
    assert done.returncode == 0, done.stderr[-4000:]
    return submissions, out, expected, refused


# --- grading the class ---------------------------------------------------------------------


def test_the_class_has_every_kind_of_submission(graded_class):
    submissions, _, expected, _ = graded_class
    entries = list(submissions.iterdir())
    assert len(expected) == len(entries) >= 24
    assert any(e.suffix == ".zip" for e in entries) and any((e / ".git").is_dir() for e in entries)


def test_the_gradebook_gives_each_student_the_points_its_files_deserve(graded_class):
    """Exact points per exercise, the total and the status, for every student."""
    _, out, expected, refused = graded_class
    book = _gradebook(out)
    assert sorted(book) == sorted(expected)
    for student, points in expected.items():
        row = book[student]
        got = {name: row[name] for name in EXERCISES}
        assert got == {name: str(p) for name, p in points.items()}, f"{student}: {row}"
        assert row["Final Points"] == str(sum(points.values())), f"{student}: {row}"
        if student in refused:
            assert row["Status"].startswith(f"refused: {student}.zip was refused: ") and refused[student] in row["Status"]
        else:
            assert row["Status"] == "graded", f"{student}: {row['Status']}"


def test_the_gradebook_imports_into_canvas_and_moodle(graded_class):
    """Canvas's student columns first, "Section" last of them, a column per exercise, the total as
    Canvas's read-only "Final Points"; the student id in "SIS Login ID", which Moodle maps to a user."""
    _, out, _, _ = graded_class
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *EXERCISES, "Final Points", "Status"]
    assert all(row[0] == row[3] and len(row) == len(header) for row in rows)


def test_every_student_gets_complete_valid_reports(graded_class):
    """results.json (schema-valid), junit.xml, summary.md, the record and the verdict, for each;
    a refused zip's summary says why in a sentence."""
    _, out, expected, refused = graded_class
    for student in expected:
        folder = out / "reports" / student
        for name in ("results.json", "junit.xml", "summary.md", "record.json", "verdict.json"):
            assert (folder / name).is_file(), f"{student}: no {name}"
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        reports.validate_gradescope(results)
        assert results["score"] == sum(expected[student].values())
        if student in refused:
            assert refused[student] in (folder / "summary.md").read_text(encoding="utf-8")
    assert not list((out / "reports").glob(".partial-*"))


def test_a_second_run_grades_only_what_changed(graded_class, tmp_path):
    """Resumable: a rerun finds every report up to date; a changed file is graded again."""
    submissions, out, expected, _ = graded_class
    shutil.copytree(submissions, tmp_path / "submissions", symlinks=True)
    shutil.copytree(out, tmp_path / "out")
    again = _batch(tmp_path / "submissions", tmp_path / "out")
    assert again.returncode == 0 and f"graded 0, up to date {len(expected)}," in again.stderr, again.stderr[-2000:]
    assert (tmp_path / "out" / "gradebook.csv").read_bytes() == (out / "gradebook.csv").read_bytes()
    shutil.copy(ROOT / "solutions" / "conv_output_size.py", tmp_path / "submissions" / "stub-folder" / "conv_output_size.py")
    changed = _batch(tmp_path / "submissions", tmp_path / "out")
    assert changed.returncode == 0 and f"graded 1, up to date {len(expected) - 1}," in changed.stderr, changed.stderr[-2000:]
    assert _gradebook(tmp_path / "out")["stub-folder"]["conv_output_size"] == str(FULL["conv_output_size"])


# --- shards and merge ------------------------------------------------------------------------


def _slurm_task(submissions: Path, out: Path, index: int, count: int) -> subprocess.CompletedProcess:
    """What one task of `sbatch --array=0-(count-1) grader/scale/slurm_grade.sh` runs."""
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": str(index), "SLURM_ARRAY_TASK_COUNT": str(count),
           "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": str(count - 1), "SLURM_CPUS_PER_TASK": "2",
           "SLURM_SUBMIT_DIR": str(ROOT), "D2L_PYTHON": sys.executable}
    command = ["bash", str(ROOT / "grader" / "scale" / "slurm_grade.sh"), str(submissions), str(out), *BATCH_OPTIONS]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)


def _merge(*folders: Path, out: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "grader", "merge", *map(str, folders), "--out", str(out)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def shards(graded_class, tmp_path_factory):
    """The same class in three shards, one Slurm array task after the other."""
    submissions = graded_class[0]
    out = tmp_path_factory.mktemp("shards")
    for index in range(3):
        done = _slurm_task(submissions, out, index, 3)
        assert done.returncode == 0, done.stderr[-4000:]
    return [out / f"shard-{index}-of-3" for index in range(3)]


def test_three_shards_merged_give_the_single_runs_gradebook(graded_class, shards, tmp_path):
    _, single, expected, _ = graded_class
    sizes = [len(_gradebook(folder)) for folder in shards]
    assert sum(sizes) == len(expected) and all(sizes), f"shard sizes {sizes}"
    done = _merge(*shards, out=tmp_path / "merged")
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "merged" / "gradebook.csv").read_bytes() == (single / "gradebook.csv").read_bytes()
    assert sorted(p.name for p in (tmp_path / "merged" / "reports").iterdir()) == sorted(expected)


def test_merge_refuses_a_shard_given_twice_or_missing(shards, tmp_path):
    twice = _merge(shards[0], shards[0], shards[1], out=tmp_path / "twice")
    assert twice.returncode != 0 and "shard 0/3 is given twice" in twice.stderr
    missing = _merge(shards[0], shards[1], out=tmp_path / "missing")
    assert missing.returncode != 0 and "shard 2/3 is missing" in missing.stderr


def _copy_shard(folder: Path, into: Path) -> tuple[Path, dict]:
    copy = into / folder.name
    shutil.copytree(folder, copy)
    return copy, json.loads((copy / "manifest.json").read_text(encoding="utf-8"))


def test_merge_refuses_overlapping_shards(shards, tmp_path):
    """A student in two shards' gradebooks (and manifests) is refused, by name."""
    copy, manifest = _copy_shard(shards[1], tmp_path)
    stolen = next(iter(_gradebook(shards[0]).values()))
    manifest["students"].append(stolen["Student"])
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with open(copy / "gradebook.csv", "a", newline="", encoding="utf-8") as file:
        csv.writer(file).writerow(stolen.values())
    done = _merge(shards[0], copy, shards[2], out=tmp_path / "merged")
    assert done.returncode != 0 and f"{stolen['Student']} is in shard 0/3" in done.stderr and "overlap" in done.stderr


def test_merge_refuses_shards_of_different_classes_or_exercises(shards, tmp_path):
    copy, manifest = _copy_shard(shards[2], tmp_path)
    manifest["class"]["count"] += 1
    manifest["class"]["sha256"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    done = _merge(shards[0], shards[1], copy, out=tmp_path / "merged")
    assert done.returncode != 0 and "graded from different copies of the class" in done.stderr
    manifest["exercises"] = ["softmax"]
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    done = _merge(shards[0], shards[1], copy, out=tmp_path / "merged")
    assert done.returncode != 0 and "graded softmax but" in done.stderr


# --- the parts, without grading ------------------------------------------------------------


def _one_entry_zip(path: Path, name: str, data: bytes = b"x = 1\n", mode: int | None = None) -> Path:
    info = zipfile.ZipInfo(name)
    if mode is not None:
        info.external_attr = mode << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, data)
    return path


@pytest.mark.parametrize("name, words", [("/etc/softmax.py", "is an absolute path"), ("C:/softmax.py", "is an absolute path"),
                                         ("a/../../softmax.py", "climbs out"), ("..\\softmax.py", "climbs out")])
def test_unpack_refuses_entries_outside_the_folder(tmp_path, name, words):
    into = tmp_path / "into"
    into.mkdir()
    with pytest.raises(Refused, match=words):
        batch.unpack(_one_entry_zip(tmp_path / "bad.zip", name), into, 1)
    assert not list(tmp_path.rglob("softmax.py"))


def test_unpack_refuses_links_bombs_crowds_and_garbage(tmp_path):
    into = tmp_path / "into"
    into.mkdir()
    with pytest.raises(Refused, match="is a symbolic link"):
        batch.unpack(_one_entry_zip(tmp_path / "link.zip", "softmax.py", b"/etc/passwd", stat.S_IFLNK | 0o777), into, 1)
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", bytes(3 << 20))
    with pytest.raises(Refused, match="more than the 2 MB"):
        batch.unpack(tmp_path / "bomb.zip", into, 2)
    with zipfile.ZipFile(tmp_path / "crowd.zip", "w") as archive:
        for number in range(batch.MAX_FILES + 1):
            archive.writestr(f"f{number}.py", b"")
    with pytest.raises(Refused, match=f"more than {batch.MAX_FILES} files"):
        batch.unpack(tmp_path / "crowd.zip", into, 1)
    (tmp_path / "garbage.zip").write_bytes(b"not a zip at all")
    with pytest.raises(Refused, match="is not a zip file"):
        batch.unpack(tmp_path / "garbage.zip", into, 1)
    assert not list(into.iterdir())


def test_a_folder_with_a_link_is_refused(tmp_path):
    student = tmp_path / "student"
    student.mkdir()
    (student / "softmax.py").symlink_to(ROOT / "solutions" / "softmax.py")
    into = tmp_path / "into"
    into.mkdir()
    with pytest.raises(Refused, match="softmax.py is a symbolic link"):
        batch.stage(batch.Submission("student", student), into, 1)


def test_a_fault_of_the_grader_is_never_a_silent_zero():
    """Timeout, a lost record, an exercise "not gradable": blank points, the reason in the status."""
    names = ("softmax", "log_rmse")
    graded = {"status": "passed", "points": 10, "explanation": ""}
    broken = {"status": "not gradable", "points": 0, "explanation": "the grader could not run this exercise: no sandbox"}
    cases = [(None, None, "ran past its time"), (1, None, "without a complete record"),
             (2, {"exercises": {"softmax": graded, "log_rmse": broken}}, "log_rmse: the grader could not run")]
    for returncode, record, words in cases:
        result = batch.verdict(returncode, record, names, "Traceback ...\nRuntimeError: boom\n")
        assert result["status"].startswith("not gradable: ") and words in result["status"], result
        assert result["total"] is None and result["points"]["log_rmse"] is None
        row = batch.gradebook_row("alice", result, names)
        assert row[-2] == "" and row[-1] == result["status"]
    assert batch.verdict(2, cases[2][1], names, "")["points"]["softmax"] == 10


def test_shards_split_the_class_by_id_alone():
    """Every student in one shard; a student's shard is a hash of the id, the same on every machine
    and Python (sha256, not hash()), so shards graded elsewhere or by a later version still merge."""
    ids = [f"student-{number}" for number in range(200)]
    for count in (1, 3, 8):
        owners = [batch.shard_of(student, count) for student in ids]
        assert all(0 <= owner < count for owner in owners) and len(set(owners)) == count
    assert [batch.shard_of(s, 3) for s in ("alice", "bob", "carol", "dave", "erin")] == [2, 2, 2, 1, 0]
    assert batch.parse_shard("2/3") == (2, 3)
    for bad in ("3/3", "-1/3", "a/b", "1"):
        with pytest.raises(Exception, match="--shard takes I/N"):
            batch.parse_shard(bad)


def test_two_submissions_with_one_id_are_refused(tmp_path):
    (tmp_path / "alice").mkdir()
    _zip(tmp_path / "alice.zip", {"softmax.py": b""})
    with pytest.raises(SystemExit, match="two submissions are named alice"):
        batch.discover(tmp_path)


def test_the_grade_class_workflow_runs_only_when_started_by_hand():
    """workflow_dispatch is its only trigger; it clones the class with a token secret, grades one
    shard per matrix job, then merges."""
    text = (ROOT / ".github" / "workflows" / "grade-class.yml").read_text(encoding="utf-8")
    lines = text.splitlines()
    start = lines.index("on:")
    triggers = []
    for line in lines[start + 1:]:
        if line and not line.startswith(" "):
            break
        if line.startswith("  ") and not line.startswith("   ") and line.strip():
            triggers.append(line.strip())
    assert triggers == ["workflow_dispatch:"]
    for needed in ("gh classroom clone student-repos", "secrets.CLASSROOM_TOKEN", "fromJSON(needs.plan.outputs.shards)",
                   "grader batch", '--shard "$SHARD/$SHARDS"', "grader merge"):
        assert needed in text, f"grade-class.yml lacks {needed!r}"
