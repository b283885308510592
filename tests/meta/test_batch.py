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
import re
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


def _batch(submissions: Path, out: Path, *extra: str, options: list[str] = BATCH_OPTIONS) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), "--jobs", "2",
               *options, *extra]
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
    assert again.returncode == 0 and f"graded 0, skipped {len(expected)} (already graded" in again.stderr, again.stderr[-2000:]
    assert (tmp_path / "out" / "gradebook.csv").read_bytes() == (out / "gradebook.csv").read_bytes()
    shutil.copy(ROOT / "solutions" / "conv_output_size.py", tmp_path / "submissions" / "stub-folder" / "conv_output_size.py")
    changed = _batch(tmp_path / "submissions", tmp_path / "out")
    assert changed.returncode == 0 and f"graded 1, skipped {len(expected) - 1} (" in changed.stderr, changed.stderr[-2000:]
    assert _gradebook(tmp_path / "out")["stub-folder"]["conv_output_size"] == str(FULL["conv_output_size"])


# --- a small class with a GitHub Classroom roster, on one fast exercise ----------------------

ROSTER_EXERCISE = "conv_output_size"
ROSTER_OPTIONS = ["--exercises", ROSTER_EXERCISE]
# As GitHub Classroom exports it (every field quoted, a byte-order mark is tolerated): smith must not
# take hw-1-bob-smith (the longest github_username suffix wins), Alice-L's case differs from her
# folder's, carol submitted a zip named by her github user alone, dave never linked an account.
ROSTER_CSV = (
    '\ufeff"identifier","github_username","github_id","name"\n'
    '"alice@uni.edu","Alice-L","101","Alice Liddell"\n'
    '"bsmith","bob-smith","102","Bob Smith"\n'
    '"smith","smith","103",""\n'
    '"carol","carol","104","Carol Jones"\n'
    '"dave","","","Dave Unlinked"\n'
    '"erin@uni.edu","erin","105","Erin Ng"\n')
POINTS = str(BY_NAME[ROSTER_EXERCISE].points)
# Student, SIS Login ID, points, Final Points, Status: the whole gradebook, in its order.
ROSTER_BOOK = [("Alice Liddell", "alice@uni.edu", POINTS, POINTS, "graded"), ("Bob Smith", "bsmith", "0", "0", "graded"),
               ("Carol Jones", "carol", POINTS, POINTS, "graded"), ("Dave Unlinked", "dave", "0", "0", "no submission"),
               ("Erin Ng", "erin@uni.edu", "0", "0", "no submission"),
               ("hw-1-zed", "hw-1-zed", "", "", "not on the roster: hw-1-zed"), ("smith", "smith", "0", "0", "no submission")]


def _book_rows(out: Path) -> list[tuple[str, ...]]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as file:
        return [(row["Student"], row["SIS Login ID"], row[ROSTER_EXERCISE], row["Final Points"], row["Status"])
                for row in csv.DictReader(file)]


@pytest.fixture(scope="module")
def roster_class(tmp_path_factory):
    """Four submissions (two solutions, a stub, one not on the roster) graded with --roster:
    (submissions, roster, out, the batch's CompletedProcess)."""
    root = tmp_path_factory.mktemp("roster-class")
    submissions, out, roster = root / "submissions", root / "out", root / "classroom_roster.csv"
    submissions.mkdir()
    _folder(submissions / "hw-1-alice-l", _solution_set())
    _checkout(submissions / "hw-1-bob-smith", _stub_set())
    _zip(submissions / "carol.zip", _solution_set())
    _folder(submissions / "hw-1-zed", _solution_set())
    roster.write_text(ROSTER_CSV, encoding="utf-8")
    done = _batch(submissions, out, "--roster", str(roster), options=ROSTER_OPTIONS)
    return submissions, roster, out, done


def test_the_roster_names_every_student_as_the_lms_knows_them(roster_class):
    """Name and identifier for each submission; 0 and "no submission" for a roster student without
    one (dave, who never linked GitHub, too); blank points, "not on the roster" and exit status 2 for
    a submission that matches nobody, named in the batch's last lines."""
    _, _, out, done = roster_class
    assert done.returncode == 2, done.stderr[-4000:]
    assert _book_rows(out) == ROSTER_BOOK
    assert "graded 4, skipped 0," in done.stderr and "no submission 3, not on the roster 1" in done.stderr
    assert "(no github_username matches them): hw-1-zed." in done.stderr and "hw-1-zed" in done.stderr.splitlines()[-1]
    assert sorted(p.name for p in (out / "reports").iterdir()) == ["carol", "hw-1-alice-l", "hw-1-bob-smith", "hw-1-zed"]


def _stamps(out: Path) -> dict[str, tuple[int, int]]:
    """Each report's verdict.json as (inode, mtime): a report written again is a new file."""
    return {folder.name: ((folder / "verdict.json").stat().st_ino, (folder / "verdict.json").stat().st_mtime_ns)
            for folder in (out / "reports").iterdir()}


def test_a_rerun_skips_what_is_graded_and_force_grades_everyone_again(roster_class, tmp_path):
    """Without --force a rerun grades nobody (every report untouched) and then only a changed
    submission; with --force it grades every submission again."""
    submissions, _, out, _ = roster_class
    shutil.copytree(submissions, tmp_path / "submissions", symlinks=True)
    shutil.copytree(out, tmp_path / "out")
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    before = _stamps(out)
    again = _batch(submissions, out, options=ROSTER_OPTIONS)
    assert again.returncode == 0 and "graded 0, skipped 4 (already graded" in again.stderr, again.stderr[-2000:]
    assert "--force to regrade" in again.stderr and _stamps(out) == before
    shutil.copy(ROOT / "solutions" / f"{ROSTER_EXERCISE}.py", submissions / "hw-1-bob-smith" / "exercises")
    changed = _batch(submissions, out, options=ROSTER_OPTIONS)
    assert changed.returncode == 0 and "graded 1, skipped 3 (already graded" in changed.stderr, changed.stderr[-2000:]
    after = _stamps(out)
    assert [name for name in before if after[name] != before[name]] == ["hw-1-bob-smith"]
    assert _gradebook(out)["hw-1-bob-smith"][ROSTER_EXERCISE] == POINTS
    forced = _batch(submissions, out, "--force", options=ROSTER_OPTIONS)
    assert forced.returncode == 0 and "graded 4, skipped 0," in forced.stderr, forced.stderr[-2000:]
    final = _stamps(out)
    assert sorted(final) == sorted(before) and all(final[name] != after[name] for name in final)
    assert [row["Status"] for row in _gradebook(out).values()] == ["graded"] * 4


def test_roster_shards_merged_give_the_single_runs_gradebook(roster_class, tmp_path):
    """Three shards with the roster, merged: the unsharded gradebook byte for byte, each student
    without a submission written once, by the shard its identifier hashes to. (The reports are
    copied in first, so the shards grade nothing again.)"""
    submissions, roster, single, _ = roster_class
    folders = []
    for index in range(3):
        folder = tmp_path / f"shard-{index}"
        shutil.copytree(single / "reports", folder / "reports")
        done = _batch(submissions, folder, "--roster", str(roster), "--shard", f"{index}/3", options=ROSTER_OPTIONS)
        assert done.returncode in (0, 2) and "graded 0," in done.stderr, done.stderr[-2000:]
        assert (done.returncode == 2) == any(row[1] == "hw-1-zed" for row in _book_rows(folder))
        assert all(batch.shard_of(row[1], 3) == index for row in _book_rows(folder))
        folders.append(folder)
    assert sorted(row for folder in folders for row in _book_rows(folder)) == sorted(ROSTER_BOOK)
    merged = _merge(*folders, out=tmp_path / "merged")
    assert merged.returncode == 2, merged.stderr[-2000:]  # hw-1-zed's blank points
    assert (tmp_path / "merged" / "gradebook.csv").read_bytes() == (single / "gradebook.csv").read_bytes()
    assert sorted(p.name for p in (tmp_path / "merged" / "reports").iterdir()) == sorted(
        p.name for p in (single / "reports").iterdir())
    manifest = json.loads((folders[1] / "manifest.json").read_text(encoding="utf-8"))
    manifest["roster"] = None
    (folders[1] / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    refused = _merge(*folders, out=tmp_path / "refused")
    assert refused.returncode != 0 and "different rosters" in refused.stderr


def _roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, words", [
    ("", "is empty; expected GitHub Classroom's roster export"),
    ('"Student","ID","SIS Login ID"\n"Alice","1","alice"\n', "has no column identifier and no column github_username"),
    ('"identifier","github_id","name"\n"alice","1","Alice"\n', "has no column github_username (its header is identifier,"),
    ('"identifier","github_username","github_id","name"\n', "lists no student"),
    ('"identifier","github_username","github_id","name"\n"a","Bob","1",""\n"b","bob","2",""\n',
     "the github_username bob is on line 2 (a) and on line 3 (b); a GitHub account can belong to one student only"),
    ('"identifier","github_username","github_id","name"\n"a@x.org","u1","1",""\n"A@x.org","u2","2",""\n',
     "the identifier A@x.org is on line 2 and on line 3; each student must be on the roster once"),
    ('"identifier","github_username","github_id","name"\n"","u1","1","Al"\n', "line 2 has no identifier"),
])
def test_a_malformed_roster_is_refused_with_what_is_expected(tmp_path, text, words):
    with pytest.raises(SystemExit, match=re.escape(words)):
        batch.read_roster(_roster(tmp_path, text))


def test_the_batch_refuses_a_malformed_roster_before_grading(tmp_path):
    (tmp_path / "submissions" / "hw-alice").mkdir(parents=True)
    roster = _roster(tmp_path, '"identifier","github_username"\n"a","alice"\n"b","Alice"\n')
    done = _batch(tmp_path / "submissions", tmp_path / "out", "--roster", str(roster), options=ROSTER_OPTIONS)
    assert done.returncode == 1 and "github_username Alice is on line 2 (a) and on line 3 (b)" in done.stderr
    assert not (tmp_path / "out" / "reports").exists()


def test_submissions_match_the_longest_github_username_suffix(tmp_path):
    roster = batch.read_roster(_roster(tmp_path, '"identifier","github_username","github_id","name"\n'
                                                 '"s1","smith","",""\n"s2","bob-smith","",""\n"s3","","",""\n'
                                                 '"s4","Ann","",""\n'))
    names = ["hw-1-bob-smith", "hw-1-smith", "ANN", "s3", "hw-1-annie", "bob-smith-x"]
    owners = batch.match_roster([batch.Submission(n, tmp_path / n) for n in names], roster)
    assert {n: o and o.identifier for n, o in owners.items()} == {
        "hw-1-bob-smith": "s2", "hw-1-smith": "s1", "ANN": "s4", "s3": "s3", "hw-1-annie": None, "bob-smith-x": None}
    with pytest.raises(SystemExit, match="hw-1-smith and hw-2-smith are both s1's"):
        batch.match_roster([batch.Submission(n, tmp_path / n) for n in ("hw-1-smith", "hw-2-smith")], roster)


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
