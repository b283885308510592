"""The student release (grader/release.py): it holds none of the solutions' code and no kept
implementation; inside it, ``python -m grader grade`` scores the stubs 0 and the solutions full
marks on the public checks alone; and a second release of the same sources commits nothing.

One release is built for the whole module; the two grade runs inside it (about 12 s each on
two cores) run at the same time.
"""
from __future__ import annotations

import ast
import builtins
import json
import keyword
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from grader import classroom, release, stubgen
from grader.catalog import BY_NAME, EXERCISES, ROOT, course_table
from grader.sandbox import mode
from tests.log_rmse import expected as log_rmse_values
from tests.log_rmse import oracle as log_rmse_oracle
from tests.training_loop import expected

COMMON_NAMES = set(keyword.kwlist) | set(dir(builtins))
LOG_RMSE_ORACLE = "tests/log_rmse/oracle.py"
LOG_RMSE_REFERENCE = ("oracle", "_variants", "_float32")  # its functions that compute a log RMSE, right or wrong
BATCH = "grader/batch.py"
MIN_NAMES = 3  # a solution line naming fewer things (`else:`, `net.train()`, `return X`) is common to any code


def solution_lines() -> dict[str, set[str]]:
    """Each solution file -> the stripped lines of its marked regions that name at least MIN_NAMES things."""
    found = {}
    for path in sorted(stubgen.SOLUTIONS.glob("*.py")):
        inside, lines = False, set()
        for line in path.read_text(encoding="utf-8").splitlines():
            if stubgen.BEGIN.match(line) or stubgen.END.match(line):
                inside = bool(stubgen.BEGIN.match(line))
            elif inside and len(set(re.findall(r"[A-Za-z_]\w*", line)) - COMMON_NAMES) >= MIN_NAMES:
                lines.add(line.strip())
        if path.name != "__init__.py":
            found[path.name] = lines
    return found


def reference_lines(path: Path, functions: tuple[str, ...]) -> set[str]:
    """The stripped lines of these functions' bodies (docstrings left out) that name at least MIN_NAMES things."""
    source = path.read_text(encoding="utf-8")
    lines, found = source.splitlines(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            for statement in node.body[1:] if ast.get_docstring(node) else node.body:
                found |= {line.strip() for line in lines[statement.lineno - 1:statement.end_lineno]
                          if len(set(re.findall(r"[A-Za-z_]\w*", line)) - COMMON_NAMES) >= MIN_NAMES}
    return found


def _scratch_parent() -> str | None:
    """Not /tmp under bubblewrap: the sandbox mounts a private /tmp over the host's after it shows
    the worker the repository's own grader/worker/ (grader/sandbox.py), which hides a release there."""
    return "/var/tmp" if mode()[0] == "bwrap" and os.access("/var/tmp", os.W_OK) else None


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and ".git" not in path.relative_to(folder).parts}


def _start_grading(folder: Path, out: Path) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    command = [sys.executable, "-m", "grader", "grade", "exercises", "--record", str(out / "record.json"),
               "--results", str(out / "results.json")]
    return subprocess.Popen(command, cwd=folder, env={**env, "PYTHONDONTWRITEBYTECODE": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def built():
    """The release, its commit, its files, and what a second release of the same sources committed."""
    with tempfile.TemporaryDirectory(prefix="d2l-release-", dir=_scratch_parent()) as scratch:
        outdir = Path(scratch) / "release"
        made = release.release(outdir)
        files = _files(outdir)
        again = release.release(outdir)  # at once, so that no one's edit of the sources comes between
        yield outdir, made, files, again


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory) -> dict[str, tuple[dict, dict]]:
    """"stubs" and "solutions" -> (record, results.json) of the grade command run inside the release,
    on its stubs and on a copy of it whose exercises/ holds the solutions."""
    outdir = built[0]
    with_solutions = outdir.parent / "with-solutions"
    shutil.copytree(outdir, with_solutions)
    for path in stubgen.SOLUTIONS.glob("*.py"):
        shutil.copy(path, with_solutions / "exercises" / path.name)
    runs = {}
    for name, folder in (("stubs", outdir), ("solutions", with_solutions)):
        out = tmp_path_factory.mktemp(name)
        runs[name] = (out, _start_grading(folder, out))
    results = {}
    for name, (out, process) in runs.items():
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, f"grading the {name} in the release failed:\n{output[-4000:]}"
        results[name] = tuple(json.loads((out / f).read_text(encoding="utf-8")) for f in ("record.json", "results.json"))
    return results


def test_the_release_is_one_commit(built):
    outdir, made, _, _ = built
    assert made is not None
    log = subprocess.run(["git", "-C", str(outdir), "log", "--format=%H %B"], capture_output=True, text=True, check=True)
    assert log.stdout.startswith(made) and release.TRAILER in log.stdout and log.stdout.count(release.TRAILER) == 1


def test_every_solution_region_is_checked(built):
    lines = solution_lines()
    assert lines.keys() == {f"{e.name}.py" for e in EXERCISES}
    assert all(lines.values()), f"no line of these solutions would be looked for: {[n for n, v in lines.items() if not v]}"


def test_no_release_file_holds_solution_code(built):
    files = built[2]
    wanted = {line: name for name, lines in solution_lines().items() for line in lines}
    found = {(path, line.strip(), wanted[line.strip()]) for path, data in files.items()
             for line in data.decode("utf-8").splitlines() if line.strip() in wanted}
    assert not found, f"the release holds lines of the solutions (file, line, solution): {sorted(found)}"


def test_no_release_file_is_a_kept_implementation_or_hidden(built):
    files = built[2]
    kept = {path.read_bytes(): path.relative_to(ROOT).as_posix() for e in EXERCISES for kind in ("mutants", "correct")
            for path in (e.folder / kind).glob("*.py")}
    assert not [(path, kept[data]) for path, data in files.items() if data in kept]
    assert not [path for path in files if release.never_shipped(path)]
    assert not [path for path in files if Path(path).name == "test_hidden.py"]
    assert not set(release.NEVER_SHIPPED_FILES) & files.keys()


def test_every_module_a_shipped_file_imports_is_shipped(built):
    files = built[2]
    local = {path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file()}
    shipped = {path.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for path in files if path.endswith(".py")}
    missing = sorted((path, name) for path, data in files.items() if path.endswith(".py")
                     for name in release.imported_names(data.decode("utf-8"), path)
                     if name.split(".")[0] in local and name not in shipped and name.rpartition(".")[0] not in shipped)
    assert not missing, f"shipped files import modules the release lacks (file, module): {missing}"


def test_grading_the_release_scores_the_stubs_zero(graded):
    record, results = graded["stubs"]
    assert {n: e["status"] for n, e in record["exercises"].items()} == {e.name: "not started" for e in EXERCISES}
    assert sum(e["points"] for e in record["exercises"].values()) == 0
    assert {c["tier"] for e in record["exercises"].values() for c in e["checks"]} == {"public"}
    assert all(classroom.exercise_points(results, e.name) == (0, e.points) for e in EXERCISES)


def test_the_solutions_score_full_marks_on_the_public_checks(graded):
    record, results = graded["solutions"]
    unfinished = {n: e["explanation"] for n, e in record["exercises"].items() if e["points"] != BY_NAME[n].points}
    assert not unfinished
    assert record["exercises"].keys() == BY_NAME.keys()
    assert [t["name"] for t in results["tests"]] == [f"{e.name} (public checks)" for e in EXERCISES]
    assert all(classroom.exercise_points(results, e.name) == (e.points, e.points) for e in EXERCISES)


def test_a_second_release_of_the_same_sources_commits_nothing(built):
    outdir, made, files, again = built
    changed = subprocess.run(["git", "-C", str(outdir), "diff", "--stat", made, "HEAD"], capture_output=True, text=True)
    assert again is None, f"the second release changed: {changed.stdout}"
    assert _files(outdir).items() >= files.items()


def test_the_stored_replay_figures_are_the_replays(built):
    stored = json.loads(built[2][expected.STORED.relative_to(ROOT).as_posix()])
    assert stored == expected.figures()
    for run in expected.RUNS:
        back, again = expected.from_data(stored[run]), expected.epoch(run)
        assert (back.mean_loss, back.accuracy, back.batch_loss_sums, back.batch_correct) == (
            again.mean_loss, again.accuracy, again.batch_loss_sums, again.batch_correct)
        assert all(a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all())
                   for step_a, step_b in zip(back.grads, again.grads, strict=True) for a, b in zip(step_a, step_b, strict=True))


def test_log_rmse_ships_its_values_not_its_oracle(built):
    """Neither tests/log_rmse/oracle.py nor a line of its oracle and mistaken variants is in the release, and no
    shipped log_rmse module takes a log or a square root: a student finds no working log_rmse to copy."""
    files = built[2]
    assert LOG_RMSE_ORACLE not in files and release.never_shipped(LOG_RMSE_ORACLE)
    wanted = reference_lines(ROOT / LOG_RMSE_ORACLE, LOG_RMSE_REFERENCE)
    assert len(wanted) >= 10, f"{LOG_RMSE_ORACLE} no longer holds {LOG_RMSE_REFERENCE}: update this test"
    found = sorted((path, line.strip()) for path, data in files.items() for line in data.decode("utf-8").splitlines()
                   if line.strip() in wanted)
    assert not found, f"the release holds lines of log_rmse's oracle or its variants (file, line): {found}"
    computing = {"log", "log10", "log1p", "log2", "sqrt", "maximum", "clamp", "clip", "mse_loss"}
    calls = sorted((path, ast.unparse(node.func)) for path, data in files.items()
                   if path.startswith("tests/log_rmse/") and path.endswith(".py")
                   for node in ast.walk(ast.parse(data.decode("utf-8"))) if isinstance(node, ast.Call)
                   and getattr(node.func, "attr", getattr(node.func, "id", None)) in computing)
    assert not calls, f"shipped log_rmse modules compute with these calls (file, call): {calls}"
    assert log_rmse_values.STORED.relative_to(ROOT).as_posix() in files


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def _same_values(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(len(a[k]) == len(b[k]) and all(map(_same, a[k], b[k])) for k in a)


def test_the_stored_log_rmse_values_are_the_oracles(built, monkeypatch):
    """The release's expected_values.json is what the oracle gives today, and read from it (with the oracle absent)
    every check's expected value, each mistake's values and the probes are those the oracle gives here."""
    relative = log_rmse_values.STORED.relative_to(ROOT).as_posix()
    assert built[2][relative].decode("utf-8") == log_rmse_values.text()
    live = {name: log_rmse_values.case(name) for name in log_rmse_values.CASES}, log_rmse_values.probes()
    for name in log_rmse_values.CASES:
        preds, labels = log_rmse_values.inputs(name)
        assert live[0][name][0] == log_rmse_oracle.oracle(preds, labels)
        assert _same_values(live[0][name][1], log_rmse_oracle.mistake_values(preds, labels))
    monkeypatch.setattr(log_rmse_values, "STORED", built[0] / relative)
    monkeypatch.setattr(log_rmse_values, "_oracle_module", lambda: None)
    log_rmse_values._values.cache_clear()
    try:
        for name, (value, mistakes) in live[0].items():
            stored_value, stored_mistakes = log_rmse_values.case(name)
            assert stored_value == value and _same_values(stored_mistakes, mistakes)
        stored_probes = log_rmse_values.probes()
        assert len(stored_probes) == len(live[1]) > 0
        for (p, y, values), (live_p, live_y, live_values) in zip(stored_probes, live[1], strict=True):
            assert torch.equal(p, live_p) and torch.equal(y, live_y) and p.dtype == log_rmse_values.DTYPE
            assert _same_values(values, live_values)
        with pytest.raises(RuntimeError, match="can only be made in the course repository"):
            log_rmse_values.table()
    finally:
        log_rmse_values._values.cache_clear()


@pytest.mark.parametrize("module", [LOG_RMSE_ORACLE, BATCH, "tests/training_loop/replay.py"])
def test_a_release_that_would_ship_an_instructor_file_is_refused(monkeypatch, module):
    """A shipped module that imported the file (here: the file among the entry points) makes the release refuse."""
    entry_points = release.entry_points
    monkeypatch.setattr(release, "entry_points", lambda: [*entry_points(), ROOT / module])
    with pytest.raises(release.ReleaseError, match=re.escape(module)):
        release.release_files()


def test_the_release_has_no_batch_grading(built):
    """grader/batch.py (a class's grading) is not shipped; `python -m grader batch` there says it is an instructor command."""
    outdir, _, files, _ = built
    assert BATCH not in files and release.never_shipped(BATCH)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    for command in (["batch", "submissions", "--out", "grades"], ["merge", "--help"]):
        done = subprocess.run([sys.executable, "-m", "grader", *command], cwd=outdir, capture_output=True, text=True,
                              env={**env, "PYTHONDONTWRITEBYTECODE": "1"}, timeout=120)
        assert done.returncode == 2, done.stderr
        assert "batch grading (batch, merge) is an instructor command, not part of the student release" in done.stderr
        assert not (outdir / "grades").exists()


def test_the_release_noxfile_has_the_check_session_alone(built):
    tree = ast.parse(built[2]["noxfile.py"])
    sessions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)
                and any("session" in ast.unparse(d) for d in node.decorator_list)]
    assert sessions == ["check"]


def test_the_workflow_grades_each_exercise_for_classroom(built):
    text = built[2][release.WORKFLOW].decode("utf-8")
    flow = release.workflow()
    assert text == release.WORKFLOW_HEADER + release.to_yaml(flow)
    steps = flow["jobs"]["run-autograding-tests"]["steps"]
    graders = {s["id"]: s["with"] for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")}
    assert graders == {e.name: {"test-name": e.name, "command": f"python3 -m grader.classroom results.json {e.name}",
                                "timeout": 1, "max-score": e.points} for e in EXERCISES}
    reporter = steps[-1]
    assert reporter["with"]["runners"].split(",") == list(graders)
    assert set(reporter["env"]) == {f"{name.upper()}_RESULTS" for name in graders}
    grading = [s["run"] for s in steps if "grader grade" in s.get("run", "")]
    assert grading == [".nox/_env/bin/python -m grader grade exercises --markdown summary.md --results results.json"]


def test_the_student_readme(built):
    text = built[2]["README.md"].decode("utf-8")
    assert stubgen.TABLE_START + course_table() + stubgen.TABLE_END in text
    for words in ('python3 -m pip install "nox>=2024.10"', "python3 -m nox -s check", "The run ends with a scoreboard",
                  "## Submitting", "which you\ncontrol", "hidden ones"):
        assert words in text, f"the student README lacks {words!r}"
    assert "## For instructors" not in text


def test_yaml_quotes_what_a_plain_scalar_would_misread():
    assert release.to_yaml({"on": ["push"], "with": {"python-version": "3.10", "if": "a != 'b'", "uses": "x/y@v1"}}) == (
        "'on':\n  - push\nwith:\n  python-version: '3.10'\n  if: \"a != 'b'\"\n  uses: x/y@v1\n")


def test_a_release_goes_into_a_directory_of_its_own(tmp_path):
    (tmp_path / "notes.txt").write_text("an instructor's file\n", encoding="utf-8")
    with pytest.raises(release.ReleaseError, match="neither empty nor a repository of earlier releases"):
        release.release(tmp_path)
    with pytest.raises(release.ReleaseError, match="inside the course repository"):
        release.release(ROOT / "release")


def test_classroom_points_need_every_point_of_the_exercise(tmp_path):
    results = {"tests": [{"name": "sgd (public checks)", "score": 5.0, "max_score": 5.0, "tags": ["sgd", "failed"]},
                         {"name": "sgd (hidden checks)", "score": 0.0, "max_score": 5.0, "tags": ["sgd", "failed"]}]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    assert classroom.exercise_points(results, "sgd") == (5.0, 10.0)
    assert classroom.main([str(path), "sgd"]) == 1
    assert classroom.main([str(path), "softmax"]) == 1
    results["tests"][1]["score"] = 5.0
    path.write_text(json.dumps(results), encoding="utf-8")
    assert classroom.main([str(path), "sgd"]) == 0
    assert classroom.main([str(tmp_path / "missing.json"), "sgd"]) == 1


def test_a_later_release_drops_the_files_it_no_longer_holds(tmp_path):
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    release.write_tree(tmp_path, {"a.py": "1\n", "sub/b.py": "2\n"})
    first = release.commit(tmp_path)
    release.write_tree(tmp_path, {"a.py": "1\n"})
    second = release.commit(tmp_path)
    tracked = subprocess.run(["git", "-C", str(tmp_path), "ls-files"], capture_output=True, text=True, check=True)
    assert first and second and first != second
    assert tracked.stdout.split() == ["a.py"] and not (tmp_path / "sub").exists()
    release.write_tree(tmp_path, {"a.py": "1\n"})
    assert release.commit(tmp_path) is None


def test_what_the_checkers_preload_by_name_ships(built):
    """The forkserver's preload (grader/checkers.py's PRELOAD, named as strings, not imported) is in the release."""
    from grader.checkers import PRELOAD

    for name in PRELOAD:
        assert "/".join(name.split(".")) + ".py" in built[2], f"{name} is preloaded by name but not released"
