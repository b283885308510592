"""Grade a whole class: ``python -m grader batch SUBMISSIONS --out OUTDIR`` and
``python -m grader merge OUT1 OUT2 ... --out MERGED``.

SUBMISSIONS holds one entry per student, named by the student's id: a folder of exercise
modules, a git checkout holding ``exercises/`` (``gh classroom clone student-repos``), or a
zip file (Canvas, Moodle and Gradescope exports; a folder holding a lone zip works too).
Each one is first staged: copied, regular files only, into a private temporary folder
(a zip is unpacked there, refusing absolute paths, ``..``, links and zip bombs), and the
copy is graded by its own ``python -m grader grade`` process, N at a time. The batch
process never imports student code, and one submission cannot reach another's grade.

OUTDIR gets ``reports/<student>/`` (results.json, junit.xml, summary.md, record.json,
grade.log and verdict.json, the line the gradebook takes) and ``gradebook.csv``. A student
whose verdict is already there, for the same files and exercises, is not graded again
unless ``--force``. ``--shard I/N`` grades only the students whose id hashes to I (the shard
of a student depends on its id alone), and ``merge`` joins the shards' outputs.

``--roster ROSTER.csv`` (GitHub Classroom's roster export) names each student in the gradebook
as the LMS knows them: a submission ``<assignment>-<github user>`` becomes its roster row's
``name`` and ``identifier``; a roster student without a submission gets 0 points ("no
submission"), and a submission that matches nobody keeps a row with blank points ("not on the
roster"). With a roster a student's shard is the hash of its identifier.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from grader import reports
from grader.catalog import BY_NAME, EXERCISES, ROOT

MAX_SUBMISSION_MB = 50
MAX_FILES = 2000
IGNORED_NAMES = {"__MACOSX", "__pycache__", ".git", ".DS_Store"}
# Canvas needs these five first (it finds the student by ID, SIS User ID or SIS Login ID and
# wants "Section" last); Moodle maps any column to a user field. See README.md.
ID_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
# Canvas reads "Final Points" as its own read-only total and skips it: a column named
# "Total" would become a new assignment and count every point twice.
TOTAL_COLUMN, STATUS_COLUMN = "Final Points", "Status"
# GitHub Classroom's roster export (Students > Download roster); github_id is not used.
ROSTER_COLUMNS = ("identifier", "github_username", "github_id", "name")
ROSTER_REQUIRED = ("identifier", "github_username")
ROSTER_EXPECTED = ('expected GitHub Classroom\'s roster export: a header "identifier","github_username","github_id","name" '
                   "(identifier and github_username required) and one row per student")
# The statuses of a gradebook row with blank points: such a gradebook is not ready to import.
BLANK_STATUSES = ("not gradable", "not graded", "not on the roster")
GRACE_S = 300  # beyond the grade command's own budgets, before the batch stops a grade process
LOG_BYTES = 64 << 10


class Refused(Exception):
    """The submission cannot be graded as it is; the message tells the student why and what to do."""


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path  # a folder or a zip file

    @property
    def is_zip(self) -> bool:
        return self.path.is_file()


# --- finding the class -------------------------------------------------------------------


def discover(root: Path) -> list[Submission]:
    """Every student's submission in ``root``, sorted by id: its folders and its zip files."""
    if not root.is_dir():
        raise SystemExit(f"batch: {root} is not a directory (give the folder holding one folder or zip per student)")
    found: dict[str, Submission] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED_NAMES:
            continue
        if entry.is_dir():
            student = entry.name
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            student = entry.stem
        else:
            continue
        if student in found:
            raise SystemExit(f"batch: two submissions are named {student}: {found[student].path.name} and {entry.name}; "
                             "rename one of them")
        found[student] = Submission(student, entry)
    return sorted(found.values(), key=lambda s: s.student)


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N), with 0 <= I < N."""
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 0 <= int(match[1]) < int(match[2]):
        raise argparse.ArgumentTypeError(f"--shard takes I/N with 0 <= I < N (e.g. 0/4 ... 3/4), not {text!r}")
    return int(match[1]), int(match[2])


def shard_of(student: str, count: int) -> int:
    """The shard a student belongs to: a stable hash of the id alone, so that shards cloned or
    listed at different moments never disagree about who goes where."""
    return int.from_bytes(hashlib.sha256(student.encode("utf-8")).digest()[:8], "big") % count


def class_signature(submissions: list[Submission]) -> dict:
    """Which class a run saw: merge refuses shards that saw different ones."""
    ids = "\n".join(s.student for s in submissions)
    return {"count": len(submissions), "sha256": hashlib.sha256(ids.encode("utf-8")).hexdigest()}


# --- the roster: who each submission is, as the LMS knows them ------------------------


@dataclass(frozen=True)
class RosterStudent:
    identifier: str  # what the LMS knows: a login, SIS id or email
    github_username: str  # "" for a student who never linked a GitHub account
    name: str
    line: int  # in the roster file, for messages

    @property
    def label(self) -> str:
        """The gradebook's Student column: the name, or the identifier when the roster has none."""
        return self.name or self.identifier


def read_roster(path: Path) -> list[RosterStudent]:
    """Read GitHub Classroom's roster export, refusing (with a sentence) one that cannot map each
    GitHub account to exactly one student."""
    where = f"batch: the roster {path}"
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            header = [(column or "").strip() for column in reader.fieldnames or []]
            missing = [column for column in ROSTER_REQUIRED if column not in header]
            if not header:
                raise SystemExit(f"{where} is empty; {ROSTER_EXPECTED}")
            if missing:
                raise SystemExit(f"{where} has no column {' and no column '.join(missing)} (its header is "
                                 f"{','.join(header)}); {ROSTER_EXPECTED}")
            reader.fieldnames = header
            rows = [(reader.line_num, row) for row in reader]
    except OSError as error:
        raise SystemExit(f"{where} cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise SystemExit(f"{where} is not UTF-8 text; {ROSTER_EXPECTED}") from None
    except csv.Error as error:
        raise SystemExit(f"{where} is not a CSV file that can be read ({error}); {ROSTER_EXPECTED}") from None
    students: list[RosterStudent] = []
    by_identifier: dict[str, RosterStudent] = {}
    by_user: dict[str, RosterStudent] = {}
    for line, row in rows:
        values = {column: (row.get(column) or "").strip() for column in ROSTER_COLUMNS}
        if not any(values.values()):
            continue
        student = RosterStudent(values["identifier"], values["github_username"], values["name"], line)
        if not student.identifier:
            raise SystemExit(f"{where}: line {line} has no identifier; each student needs the identifier the LMS "
                             "knows (login, SIS id or email)")
        twin = by_identifier.get(student.identifier.casefold())
        if twin:
            raise SystemExit(f"{where}: the identifier {student.identifier} is on line {twin.line} and on line {line}; "
                             "each student must be on the roster once")
        twin = by_user.get(student.github_username.casefold()) if student.github_username else None
        if twin:
            raise SystemExit(f"{where}: the github_username {student.github_username} is on line {twin.line} "
                             f"({twin.identifier}) and on line {line} ({student.identifier}); a GitHub account can "
                             "belong to one student only")
        by_identifier[student.identifier.casefold()] = student
        if student.github_username:
            by_user[student.github_username.casefold()] = student
        students.append(student)
    if not students:
        raise SystemExit(f"{where} lists no student; {ROSTER_EXPECTED}")
    return students


def roster_signature(roster: list[RosterStudent]) -> dict:
    """Which roster a run used: merge refuses shards graded with different ones."""
    rows = sorted([s.identifier, s.github_username.casefold(), s.name] for s in roster)
    return {"count": len(roster), "sha256": hashlib.sha256(json.dumps(rows).encode("utf-8")).hexdigest()}


def _roster_match(student: str, by_user: dict[str, RosterStudent]) -> RosterStudent | None:
    """The roster student whose github_username is the id, or its longest suffix after a '-'
    (``hw-1-bob-smith`` is bob-smith's, not smith's), GitHub's case ignored."""
    text = student.casefold()
    suffixes = [text, *(text[i + 1:] for i, char in enumerate(text) if char == "-")]
    return next((by_user[suffix] for suffix in suffixes if suffix in by_user), None)


def match_roster(submissions: list[Submission], roster: list[RosterStudent]) -> dict[str, RosterStudent | None]:
    """Each submission's id -> its roster student (None: it matches nobody). A submission is
    ``<anything>-<github user>`` or ``<github user>``, or else is named by the identifier itself;
    two submissions of one student are refused."""
    by_user = {s.github_username.casefold(): s for s in roster if s.github_username}
    by_identifier = {s.identifier: s for s in roster}
    owners: dict[str, RosterStudent | None] = {}
    claimed: dict[str, Submission] = {}
    for submission in submissions:
        owner = _roster_match(submission.student, by_user) or by_identifier.get(submission.student)
        if owner is not None:
            if owner.identifier in claimed:
                raise SystemExit(f"batch: {claimed[owner.identifier].path.name} and {submission.path.name} are both "
                                 f"{owner.label}'s ({owner.identifier}, github_username {owner.github_username or '-'} "
                                 "on the roster); keep one of them in SUBMISSIONS")
            claimed[owner.identifier] = submission
        owners[submission.student] = owner
    return owners


# --- staging: a private copy of what is graded, regular files only -----------------------


def _visible(folder: Path) -> list[Path]:
    return [e for e in sorted(folder.iterdir()) if not e.name.startswith(".") and e.name not in IGNORED_NAMES]


def _has_modules(folder: Path) -> bool:
    return any((folder / f"{e.name}.py").is_file() for e in EXERCISES) or (folder / "exercises").is_dir()


def _unwrap(folder: Path) -> Path:
    """Descend through lone wrapping folders (``my-work/exercises/...``) to the exercise modules."""
    for _ in range(4):
        entries = _visible(folder)
        if _has_modules(folder) or len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
            break
        folder = entries[0]
    return folder


class _Budget:
    """Bytes and files one submission may unpack to, counted as they are written."""

    def __init__(self, name: str, max_mb: int):
        self.name, self.max_mb, self.bytes, self.files = name, max_mb, 0, 0

    def add_files(self, count: int = 1) -> None:
        self.files += count
        if self.files > MAX_FILES:
            raise Refused(f"{self.name} holds more than {MAX_FILES} files; submit your exercise modules only")

    def add_bytes(self, count: int) -> None:
        self.bytes += count
        if self.bytes > self.max_mb << 20:
            raise Refused(f"{self.name} unpacks to more than the {self.max_mb} MB a submission may hold "
                          "(a zip bomb, or data files); submit your exercise modules only")


def _entry_parts(name: str) -> tuple[str, ...]:
    """The path of a zip entry as folder names, refusing one that would land outside the folder."""
    normal = name.replace("\\", "/")
    if normal.startswith("/") or re.match(r"[A-Za-z]:", normal):
        raise Refused(f"its entry {name!r} is an absolute path; zip the files from inside your folder")
    parts = tuple(p for p in PurePosixPath(normal).parts if p not in ("", "."))
    if ".." in parts:
        raise Refused(f"its entry {name!r} climbs out of the folder with '..'; zip the files from inside your folder")
    return parts


def unpack(archive: Path, into: Path, max_mb: int) -> None:
    """Unpack a student's zip into ``into``: regular files and folders only, within the size budget."""
    budget = _Budget(archive.name, max_mb)
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            declared = _Budget(archive.name, max_mb)  # what the headers announce, before anything is written
            declared.add_files(len(members))
            declared.add_bytes(sum(m.file_size for m in members))
            for member in members:
                _unpack_member(bundle, member, into, budget)
    except zipfile.BadZipFile as error:
        raise Refused(f"{archive.name} is not a zip file that can be read ({error}); make it again and resubmit") from None
    except (RuntimeError, NotImplementedError) as error:  # encrypted, or an unknown compression method
        raise Refused(f"{archive.name} cannot be unpacked ({error}); make a plain zip without a password") from None


def _unpack_member(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, into: Path, budget: _Budget) -> None:
    parts = _entry_parts(member.filename)
    if not parts or parts[0] in IGNORED_NAMES:
        return
    kind = stat.S_IFMT(member.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise Refused(f"its entry {member.filename!r} is a symbolic link; put the file itself in the zip")
    target = into.joinpath(*parts)
    if member.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    if kind not in (0, stat.S_IFREG):
        raise Refused(f"its entry {member.filename!r} is not a regular file")
    budget.add_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with bundle.open(member) as source, open(target, "xb") as sink:
            while chunk := source.read(1 << 20):
                budget.add_bytes(len(chunk))
                sink.write(chunk)
    except FileExistsError:
        raise Refused(f"it holds two entries named {member.filename!r}") from None


def copy_regular_files(source: Path, into: Path, name: str, max_mb: int) -> None:
    """Copy a student's folder into ``into``, refusing links and anything that is not a plain file."""
    budget = _Budget(name, max_mb)
    for folder, dirs, files in os.walk(source):
        here = Path(folder)
        dirs[:] = [d for d in sorted(dirs) if d not in IGNORED_NAMES]
        for entry in [*dirs, *sorted(files)]:
            path, relative = here / entry, (here / entry).relative_to(source)
            if path.is_symlink():
                raise Refused(f"{relative} is a symbolic link; submit the file itself")
            if entry in dirs:
                (into / relative).mkdir(parents=True, exist_ok=True)
                continue
            if entry in IGNORED_NAMES:
                continue
            if not stat.S_ISREG(path.lstat().st_mode):
                raise Refused(f"{relative} is not a regular file")
            budget.add_files()
            budget.add_bytes(path.lstat().st_size)
            shutil.copyfile(path, into / relative)


def stage(submission: Submission, into: Path, max_mb: int) -> Path:
    """Copy (or unpack) what is graded into ``into``; returns the folder to hand to ``grade``."""
    from grader.__main__ import submission_dir  # the grade command's own rule for a checkout

    if submission.is_zip:
        unpack(submission.path, into, max_mb)
        return _unwrap(into)
    folder = _unwrap(submission.path)
    entries = _visible(folder)
    if not _has_modules(folder) and len(entries) == 1 and entries[0].suffix.lower() == ".zip" and not entries[0].is_symlink():
        unpack(entries[0], into, max_mb)  # Moodle: a folder per student holding the file they uploaded
        return _unwrap(into)
    copy_regular_files(submission_dir(str(folder)), into, submission.path.name, max_mb)
    return into


def fingerprint(folder: Path) -> str:
    """A hash of the staged files, names and contents: the same files give the same grade."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# --- grading one submission ----------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    exercises: tuple[str, ...]
    limits: tuple[str, ...]  # --limit NAME=VALUE, passed on to every grade process
    max_mb: int
    force: bool

    @property
    def timeout_s(self) -> float:
        """The grade command's own budgets (every exercise, one after the other), plus a margin."""
        exercise_s = {name: BY_NAME[name].limits.exercise_s for name in self.exercises}
        for item in self.limits:
            key, _, value = item.partition("=")
            if key == "exercise_s":
                exercise_s = dict.fromkeys(exercise_s, float(value))
        return sum(exercise_s.values()) + 120 * len(self.exercises) + GRACE_S


def verdict(returncode: int | None, record: dict | None, exercises: tuple[str, ...], log_tail: str) -> dict:
    """What the gradebook says of one graded submission. A fault of the grader leaves the points
    blank and says "not gradable" with the reason: never a silent 0."""
    last_line = next((line for line in reversed(log_tail.splitlines()) if line.strip()), "it printed nothing")
    if returncode is None:
        return _not_gradable(exercises, f"the grade process ran past its time and was stopped; it printed: {last_line}")
    entries = (record or {}).get("exercises", {})
    if any(name not in entries for name in exercises):
        return _not_gradable(exercises, f"the grade process ended (exit status {returncode}) without a complete record; "
                                        f"it printed: {last_line}")
    points = {name: entries[name]["points"] for name in exercises}
    faults = [f"{name}: {_first_line(entries[name]['explanation'])}" for name in exercises
              if entries[name]["status"] == "not gradable"]
    for name in exercises:
        if entries[name]["status"] == "not gradable":
            points[name] = None
    if faults or returncode != 0:
        return {"status": "not gradable: " + ("; ".join(faults) or f"the grade process exited with status {returncode}: "
                                                                  f"{last_line}"),
                "points": points, "total": None}
    return {"status": "graded", "points": points, "total": sum(points.values())}


def _not_gradable(exercises: tuple[str, ...], why: str) -> dict:
    return {"status": f"not gradable: {why}", "points": dict.fromkeys(exercises), "total": None}


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no reason given")


def refused_record(student: str, sentence: str, exercises: tuple[str, ...]) -> dict:
    """The record of a submission that was refused before grading: 0 on every exercise, and why."""
    entries = {}
    for name in exercises:
        entries[name] = {"status": "error", "points": 0, "max_points": BY_NAME[name].points, "passed": 0, "failed": 1,
                         "isolation": "nowhere", "explanation": f"{name}: not graded: {sentence}",
                         "checks": [{"nodeid": f"tests/{name}::submission", "property": "the submission could be unpacked",
                                     "passed": False, "tier": "public"}]}
    return {"graded": student, "sandbox": "not run (the submission was refused)", "exercises": entries}


class Grader:
    """Grades submissions into ``out/reports/<student>/``, one ``grade`` process each."""

    def __init__(self, out: Path, settings: Settings):
        self.reports, self.settings = out / "reports", settings
        self.running: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.stopping = False

    def report_dir(self, student: str) -> Path:
        return self.reports / student

    def up_to_date(self, student: str, stamp: str) -> bool:
        """A complete report for these files, exercises and limits, by a grader that could grade them."""
        try:
            done = json.loads((self.report_dir(student) / "verdict.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return (done.get("fingerprint") == stamp and done.get("exercises") == list(self.settings.exercises)
                and done.get("limits") == list(self.settings.limits) and not done.get("status", "").startswith("not gradable"))

    def grade(self, submission: Submission) -> tuple[dict | None, bool]:
        """(its verdict, whether it was graded now rather than found up to date); no verdict when
        the batch was stopped while grading it."""
        with tempfile.TemporaryDirectory(prefix="d2l-batch-") as scratch:
            staged = Path(scratch) / "submission"
            staged.mkdir()
            try:
                folder = stage(submission, staged, self.settings.max_mb)
                stamp = fingerprint(staged)
            except OSError as error:  # the instructor's copy of the class cannot be read: not the student's doing
                result = _not_gradable(self.settings.exercises, f"its files could not be read: {error}")
                return self._publish(submission, self._partial(submission), result, "", 0.0), True
            except Refused as refusal:
                sentence = f"{submission.path.name} was refused: {refusal}"
                stamp = hashlib.sha256(sentence.encode("utf-8")).hexdigest()
                if not self.settings.force and self.up_to_date(submission.student, stamp):
                    return self.load_verdict(submission.student), False
                return self._write_refused(submission, sentence, stamp), True
            if not self.settings.force and self.up_to_date(submission.student, stamp):
                return self.load_verdict(submission.student), False
            return self._run(submission, folder, stamp), True

    def load_verdict(self, student: str) -> dict:
        return json.loads((self.report_dir(student) / "verdict.json").read_text(encoding="utf-8"))

    def _partial(self, submission: Submission) -> Path:
        """A fresh folder for a report being written; it replaces the old one once complete."""
        partial = Path(tempfile.mkdtemp(prefix=f".partial-{submission.student}-", dir=self.reports))
        partial.chmod(0o755)
        return partial

    def _run(self, submission: Submission, folder: Path, stamp: str) -> dict | None:
        partial = self._partial(submission)
        command = [sys.executable, "-m", "grader", "grade", str(folder), "--exercises", *self.settings.exercises,
                   "--jobs", "1", *[f"--limit={item}" for item in self.settings.limits],
                   "--results", str(partial / "results.json"), "--junit", str(partial / "junit.xml"),
                   "--markdown", str(partial / "summary.md"), "--record", str(partial / "record.json")]
        start = time.monotonic()
        returncode = self._call(command, partial / "grade.log")
        if self.stopping:
            shutil.rmtree(partial, ignore_errors=True)
            return None
        log_tail = _truncate_log(partial / "grade.log")
        try:
            record = json.loads((partial / "record.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        seconds = time.monotonic() - start
        if record is not None:  # name what was graded as the instructor knows it, not by its temporary copy
            record["graded"] = submission.path.name
            _write_reports(partial, record, seconds)
        result = verdict(returncode, record, self.settings.exercises, log_tail)
        return self._publish(submission, partial, result, stamp, seconds)

    def _call(self, command: list[str], log_path: Path) -> int | None:
        """Run one grade process in its own session; None when it ran past its time (it is then killed)."""
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, start_new_session=True)
            with self.lock:
                self.running.add(process)
            try:
                return process.wait(timeout=self.settings.timeout_s)
            except subprocess.TimeoutExpired:
                return None
            finally:
                _kill_group(process)
                with self.lock:
                    self.running.discard(process)

    def _write_refused(self, submission: Submission, sentence: str, stamp: str) -> dict:
        partial = self._partial(submission)
        record = refused_record(submission.student, sentence, self.settings.exercises)
        _write_reports(partial, record, 0.0)
        result = {"status": f"refused: {sentence}", "points": dict.fromkeys(self.settings.exercises, 0), "total": 0}
        return self._publish(submission, partial, result, stamp, 0.0)

    def _publish(self, submission: Submission, partial: Path, result: dict, stamp: str, seconds: float) -> dict:
        """Write the verdict last, then put the folder in place: a report with a verdict is complete."""
        result = {"student": submission.student, **result, "exercises": list(self.settings.exercises),
                  "limits": list(self.settings.limits), "source": submission.path.name, "fingerprint": stamp, "seconds": round(seconds, 2)}
        (partial / "verdict.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
        final = self.report_dir(submission.student)
        if final.exists():
            shutil.rmtree(final)
        os.replace(partial, final)
        return result

    def stop(self) -> None:
        """Ctrl-C: stop every grade process still running."""
        self.stopping = True
        with self.lock:
            for process in list(self.running):
                _kill_group(process)


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the grade process's session (it leads its own) and whatever it left there."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _truncate_log(path: Path) -> str:
    """Keep the last LOG_BYTES of a grade process's output (a print flood must not fill the disk)."""
    data = path.read_bytes()
    if len(data) > LOG_BYTES:
        data = b"[... earlier output cut ...]\n" + data[-LOG_BYTES:]
        path.write_bytes(data)
    return data.decode("utf-8", "replace")


def _write_reports(folder: Path, record: dict, seconds: float) -> None:
    results = reports.gradescope(record, seconds)
    for name, text in (("results.json", json.dumps(results, indent=1)), ("junit.xml", reports.junit(record)),
                       ("summary.md", reports.markdown(record)), ("record.json", json.dumps(record, indent=1))):
        (folder / name).write_text(text, encoding="utf-8")


# --- the gradebook -------------------------------------------------------------------------


def gradebook_header(exercises: tuple[str, ...]) -> list[str]:
    return [*ID_COLUMNS, *exercises, TOTAL_COLUMN, STATUS_COLUMN]


def gradebook_row(student: str, result: dict | None, exercises: tuple[str, ...], login: str | None = None) -> list[str]:
    """One student's line: the name (Canvas's Student) and the login (SIS Login ID; the id for
    both when there is no roster), points per exercise, total, status."""
    if result is None:
        result = {"status": "not graded: the batch stopped before grading it", "points": {}, "total": None}
    points = [_number(result["points"].get(name)) for name in exercises]
    return [student, "", "", student if login is None else login, "", *points, _number(result["total"]),
            result["status"].replace("\n", " ")]


def class_rows(chosen: list[Submission], results: dict[str, dict], exercises: tuple[str, ...],
               roster: list[RosterStudent] | None, owners: dict[str, RosterStudent | None],
               absent: list[RosterStudent]) -> list[list[str]]:
    """The gradebook's rows: one per submission, and with a roster one per student without one."""
    if roster is None:
        return [gradebook_row(s.student, results.get(s.student), exercises) for s in chosen]
    rows = []
    for submission in chosen:
        owner = owners[submission.student]
        if owner is None:  # graded (its report is there), but whose it is only the instructor can say
            stranger = {"status": f"not on the roster: {submission.path.name}", "points": {}, "total": None}
            rows.append(gradebook_row(submission.student, stranger, exercises))
        else:
            rows.append(gradebook_row(owner.label, results.get(submission.student), exercises, login=owner.identifier))
    nothing = {"status": "no submission", "points": dict.fromkeys(exercises, 0), "total": 0}
    rows += [gradebook_row(student.label, nothing, exercises, login=student.identifier) for student in absent]
    return rows


def _number(value) -> str:
    return "" if value is None else f"{value:g}"


def write_gradebook(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(sorted(rows, key=lambda row: (row[0], row[3], row)))  # SIS Login ID is unique: a total order
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(temporary, path)


def read_gradebook(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    if not rows:
        raise SystemExit(f"merge: {path} is empty")
    return rows[0], rows[1:]


# --- the batch command ---------------------------------------------------------------------


def run_batch(args: argparse.Namespace) -> int:
    root, out = Path(args.submissions).resolve(), Path(args.out).resolve()
    if out == root or root in out.parents:
        raise SystemExit(f"batch: --out {args.out} is inside SUBMISSIONS; put the reports somewhere else")
    everyone = discover(root)
    roster = read_roster(Path(args.roster)) if args.roster else None
    owners = match_roster(everyone, roster) if roster is not None else {}

    def key(submission: Submission) -> str:
        """What a row's shard and SIS Login ID are: the roster identifier, else the submission's id."""
        owner = owners.get(submission.student)
        return owner.identifier if owner else submission.student

    def mine(key: str) -> bool:
        return args.shard is None or shard_of(key, args.shard[1]) == args.shard[0]

    chosen = [s for s in everyone if mine(key(s))]
    claimed = {owner.identifier for owner in owners.values() if owner}
    # A roster student without a submission is written by the shard its identifier hashes to: once.
    absent = [student for student in roster or [] if student.identifier not in claimed and mine(student.identifier)]
    settings = Settings(tuple(args.exercises), tuple(args.limit), args.max_mb, args.force)
    (out / "reports").mkdir(parents=True, exist_ok=True)
    for leftover in (out / "reports").glob(".partial-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    manifest = {"submissions": str(root), "shard": list(args.shard) if args.shard else None,
                "exercises": list(settings.exercises), "class": class_signature(everyone),
                "roster": roster_signature(roster) if roster is not None else None,
                "students": [*map(key, chosen), *(student.identifier for student in absent)],  # each row's SIS Login ID
                "reports": [s.student for s in chosen]}  # their folders under reports/
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    shard = f" (shard {args.shard[0]}/{args.shard[1]} of {len(everyone)})" if args.shard else ""
    print(f"batch: {len(chosen)} submissions{shard} from {root}, {args.jobs} at a time; exercises: "
          f"{', '.join(settings.exercises)}", file=sys.stderr)
    grader = Grader(out, settings)
    results, graded = _grade_all(grader, chosen, args.jobs)
    rows = class_rows(chosen, results, settings.exercises, roster, owners, absent)
    write_gradebook(out / "gradebook.csv", gradebook_header(settings.exercises), rows)
    unfinished = sorted(row[0] for row in rows if row[-1].startswith(("not gradable", "not graded")))
    strangers = sorted(s.path.name for s in chosen if roster is not None and owners[s.student] is None)
    skipped = len(results) - graded
    on_roster = f"; no submission {len(absent)}, not on the roster {len(strangers)}" if roster is not None else ""
    why = " (already graded for these files and exercises; --force to regrade)" if skipped else ""
    print(f"batch: graded {graded}, skipped {skipped}{why}, not gradable or not graded {len(unfinished)}"
          f"{': ' + ', '.join(unfinished) if unfinished else ''}{on_roster}; gradebook: {out / 'gradebook.csv'}",
          file=sys.stderr)
    if strangers:
        print(f"batch: not on the roster {args.roster} (no github_username matches them): "
              f"{', '.join(strangers)}. Their rows have blank points and their folder as SIS Login ID (Moodle stops "
              "its import at such a row): add each one's github_username to the roster and rerun (nothing is graded "
              "again), or delete those rows before importing.", file=sys.stderr)
    if grader.stopping:
        return 130
    return 2 if unfinished or strangers else 0


def _grade_all(grader: Grader, chosen: list[Submission], jobs: int) -> tuple[dict[str, dict], int]:
    from tqdm import tqdm  # imported here: merge runs where only the standard library is installed

    results: dict[str, dict] = {}
    graded = 0
    interactive = sys.stderr.isatty()
    with tqdm(total=len(chosen), unit="submission", dynamic_ncols=True, mininterval=0.5 if interactive else 30,
              file=sys.stderr) as bar, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grader.grade, s): s for s in chosen}
        previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)  # a scheduler's time limit
        try:
            for future in as_completed(futures):
                result, fresh = future.result()
                if result is None:
                    continue
                results[futures[future].student] = result
                graded += fresh
                if fresh:
                    bar.write(f"{result['student']}: {_number(result['total']) or '-'} points, {result['status'][:120]}")
                bar.update()
                _show_finish_time(bar)
        except KeyboardInterrupt:
            grader.stop()
            for future in futures:
                future.cancel()
            bar.write("interrupted: the gradebook lists the submissions graded so far; rerun to grade the rest")
        finally:
            signal.signal(signal.SIGTERM, previous)
    return results, graded


def _terminate_as_interrupt(signum, frame) -> None:
    """SIGTERM (Slurm's time limit, a CI job cancelled) ends the batch as Ctrl-C does: the grade
    processes, each in a session of its own, are stopped, and the gradebook is written."""
    raise KeyboardInterrupt


def _show_finish_time(bar) -> None:
    rate = bar.format_dict.get("rate")
    if rate and bar.n < bar.total:
        finish = datetime.now().timestamp() + (bar.total - bar.n) / rate
        bar.set_postfix_str(f"done by {datetime.fromtimestamp(finish):%H:%M:%S}")


# --- merging shards ------------------------------------------------------------------------


def _load_shard(folder: Path) -> tuple[dict, list[str], list[list[str]]]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SystemExit(f"merge: {folder} is not the output of `grader batch` (no readable manifest.json)") from None
    if manifest.get("shard") is None:
        raise SystemExit(f"merge: {folder} was not graded with --shard; merge joins the shards of one class")
    header, rows = read_gradebook(folder / "gradebook.csv")
    return manifest, header, rows


def check_shards(shards: list[tuple[Path, dict, list[str], list[list[str]]]]) -> None:
    """Refuse, with a sentence, shards that overlap, miss one another or graded different things."""
    name = {str(folder): "shard {}/{} ({})".format(*m["shard"], folder) for folder, m, _, _ in shards}
    counts = {m["shard"][1] for _, m, _, _ in shards}
    if len(counts) > 1:
        raise SystemExit(f"merge: the shards were cut into different numbers of parts: {', '.join(name.values())}")
    count = counts.pop()
    seen: dict[int, Path] = {}
    for folder, manifest, _, _ in shards:
        index = manifest["shard"][0]
        if index in seen:
            raise SystemExit(f"merge: shard {index}/{count} is given twice: {seen[index]} and {folder}")
        seen[index] = folder
    missing = [f"{i}/{count}" for i in range(count) if i not in seen]
    if missing:
        raise SystemExit(f"merge: shard {', '.join(missing)} is missing; merge needs all {count} shards")
    first_folder, first, first_header, _ = shards[0]
    for folder, manifest, header, _ in shards[1:]:
        if manifest["exercises"] != first["exercises"] or header != first_header:
            raise SystemExit(f"merge: {name[str(folder)]} graded {', '.join(manifest['exercises'])} but "
                             f"{name[str(first_folder)]} graded {', '.join(first['exercises'])}")
        if manifest.get("roster") != first.get("roster"):
            raise SystemExit(f"merge: {name[str(folder)]} and {name[str(first_folder)]} were graded with different "
                             "rosters (or one without --roster); grade every shard again with the same --roster")
        if manifest["class"] != first["class"]:
            raise SystemExit(f"merge: {name[str(folder)]} saw {manifest['class']['count']} submissions and "
                             f"{name[str(first_folder)]} saw {first['class']['count']} (or other ones): the shards were "
                             "graded from different copies of the class; clone it once more and grade every shard again")
    owner: dict[str, str] = {}
    for folder, manifest, _, rows in shards:
        students = [row[3] for row in rows]  # SIS Login ID: the student id, or with a roster the identifier
        if sorted(students) != sorted(manifest["students"]):
            raise SystemExit(f"merge: the gradebook of {name[str(folder)]} does not list the students its manifest does "
                             "(it was edited, or the run was cut short); grade that shard again")
        for student in students:
            if student in owner:
                raise SystemExit(f"merge: {student} is in {owner[student]} and in {name[str(folder)]}: the shards overlap")
            owner[student] = name[str(folder)]
            if shard_of(student, count) != manifest["shard"][0]:
                raise SystemExit(f"merge: {student} is in {name[str(folder)]} but belongs to shard "
                                 f"{shard_of(student, count)}/{count}")


def run_merge(args: argparse.Namespace) -> int:
    folders = [Path(folder).resolve() for folder in args.outputs]
    shards = [(folder, *_load_shard(folder)) for folder in folders]
    check_shards(shards)
    out = Path(args.out).resolve()
    if out in folders:
        raise SystemExit(f"merge: --out {args.out} is one of the shards; merge into a new folder")
    (out / "reports").mkdir(parents=True, exist_ok=True)
    rows = [row for _, _, _, shard_rows in shards for row in shard_rows]
    for folder, manifest, _, shard_rows in shards:
        for student in manifest.get("reports", [row[3] for row in shard_rows]):
            source, target = folder / "reports" / student, out / "reports" / student
            if source.is_dir():
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(source, target)
    first = shards[0][1]
    write_gradebook(out / "gradebook.csv", shards[0][2], rows)
    manifest = {"submissions": first["submissions"], "shard": None, "merged": [str(f) for f in folders],
                "exercises": first["exercises"], "class": first["class"], "roster": first.get("roster"),
                "students": sorted(row[3] for row in rows),
                "reports": sorted(student for _, m, _, _ in shards for student in m.get("reports", []))}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    print(f"merge: {len(rows)} students from {len(shards)} shards; gradebook: {out / 'gradebook.csv'}", file=sys.stderr)
    return 2 if any(row[-1].startswith(BLANK_STATUSES) for row in rows) else 0


def add_commands(commands) -> None:
    """The ``batch`` and ``merge`` subcommands of ``python -m grader``."""
    b = commands.add_parser("batch", help="grade a class: one grade process per submission, N at a time")
    b.add_argument("submissions", help="a folder holding one folder, git checkout or zip file per student (named by id)")
    b.add_argument("--out", required=True, help="where the reports and gradebook.csv go")
    b.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    b.add_argument("--exercises", nargs="+", choices=list(BY_NAME), default=list(BY_NAME), metavar="NAME")
    b.add_argument("--shard", type=parse_shard, metavar="I/N", help="grade only shard I of N (0 <= I < N)")
    b.add_argument("--force", action="store_true", help="grade again the submissions whose reports are up to date")
    b.add_argument("--roster", metavar="ROSTER.csv",
                   help="GitHub Classroom's roster export (identifier, github_username, github_id, name): the gradebook "
                        "names each student by name and identifier, and lists roster students without a submission")
    b.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help="override a catalog limit in every grade process (e.g. --limit call_s=2)")
    b.add_argument("--max-mb", type=int, default=MAX_SUBMISSION_MB,
                   help=f"refuse a submission that holds more than this (default {MAX_SUBMISSION_MB} MB)")
    b.set_defaults(run=run_batch)
    m = commands.add_parser("merge", help="join the outputs of `batch --shard` into one gradebook")
    m.add_argument("outputs", nargs="+", help="the --out folders of every shard")
    m.add_argument("--out", required=True, help="where the merged gradebook.csv and reports go")
    m.set_defaults(run=run_merge)
