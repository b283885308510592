"""Reports of a graded submission, made from the scoreboard's record (grader/scoreboard.py):
Gradescope's ``results.json``, JUnit XML (one testsuite per exercise) and a Markdown summary.

The record is plain data: ``{"graded": what, "sandbox": mode, "exercises": {name: {...}}}``,
each exercise with its status, points, the explanation the terminal shows, and its checks.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

SCHEMA = Path(__file__).with_name("results.schema.json")
# Terminal escape sequences (colour, cursor moves, a cleared screen, titles), then any other
# control character but a newline or a tab.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text from student code (an exception's message, what it printed), safe to show: escape
    sequences and control characters are written out as ``\\x1b`` and the like, so that a
    message cannot clear the terminal, draw a fake scoreboard or break the XML."""
    text = _ESCAPES.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def fenced(text: str) -> list[str]:
    """``text`` as a Markdown code block whose fence no backtick run inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text, fence]


def _exercise_output(name: str, entry: dict) -> str:
    lines = [f"**{name}**: {entry['status']}, {entry['passed']}/{entry['passed'] + entry['failed']} checks "
             f"(ran {_where(entry['isolation'])})"]
    if entry["explanation"]:
        lines += ["", *fenced(entry["explanation"])]
    return "\n".join(lines)


def _where(isolation: str) -> str:
    return {"bwrap": "in the bubblewrap sandbox", "rlimits": "in a worker with limits only (no bubblewrap here)",
            "in-process": "in the checker's own process: this exercise is not isolated yet"}.get(isolation, isolation)


def gradescope(record: dict, execution_time: float) -> dict:
    """Gradescope's results.json: one test per exercise and tier; the hidden tier is shown only
    once the grades are published."""
    tests = []
    for name, entry in record["exercises"].items():
        for tier in ("public", "hidden"):
            checks = [c for c in entry["checks"] if c["tier"] == tier]
            if not checks:
                continue
            weight = len(checks) / max(1, len(entry["checks"]))
            earned = entry["points"] * weight
            failed = [c["property"] for c in checks if not c["passed"]]
            output = _exercise_output(name, entry) if tier == "public" else (
                f"{len(checks) - len(failed)}/{len(checks)} hidden checks passed" +
                "".join(f"\n- failed: {p}" for p in dict.fromkeys(failed)))
            tests.append({"name": f"{name} ({tier} checks)", "score": round(earned, 4),
                          "max_score": round(entry["max_points"] * weight, 4),
                          "status": "passed" if not failed and entry["status"] == "passed" else "failed",
                          "output": output, "output_format": "md",
                          "visibility": "visible" if tier == "public" else "after_published",
                          "tags": [name, entry["status"]]})
    score = sum(e["points"] for e in record["exercises"].values())
    return {"score": score, "execution_time": round(execution_time, 3), "output_format": "md",
            "output": f"Graded {record['graded']} (sandbox: {record['sandbox']}).", "tests": tests}


def junit(record: dict) -> str:
    """JUnit XML: a testsuite per exercise, a testcase per check, the explanation on the first failure."""
    root = ElementTree.Element("testsuites", name=f"d2l exercises: {record['graded']}")
    for name, entry in record["exercises"].items():
        failures = [c for c in entry["checks"] if not c["passed"]]
        suite = ElementTree.SubElement(root, "testsuite", name=name, tests=str(len(entry["checks"])),
                                       failures=str(len(failures)), errors="0")
        ElementTree.SubElement(ElementTree.SubElement(suite, "properties"), "property", name="status",
                               value=entry["status"])
        explained = False
        for check in entry["checks"]:
            case = ElementTree.SubElement(suite, "testcase", classname=name, name=check["nodeid"].split("::", 1)[-1])
            if not check["passed"]:
                failure = ElementTree.SubElement(case, "failure", message=check["property"])
                if not explained:
                    failure.text = entry["explanation"]
                    explained = True
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True)


def markdown(record: dict) -> str:
    """A summary for a CI job page: the score table, then each unfinished exercise's explanation."""
    exercises = record["exercises"]
    earned = sum(e["points"] for e in exercises.values())
    total = sum(e["max_points"] for e in exercises.values())
    lines = [f"## d2l exercises: {earned} / {total}", "", f"Graded: `{record['graded']}`; sandbox: {record['sandbox']}.",
             "", "| exercise | points | status | checks | ran |", "| --- | --- | --- | --- | --- |"]
    for name, e in exercises.items():
        lines.append(f"| `{name}` | {e['points']} / {e['max_points']} | {e['status']} | "
                     f"{e['passed']}/{e['passed'] + e['failed']} | {e['isolation']} |")
    for name, e in exercises.items():
        if e["explanation"]:
            lines += ["", f"### {name}", "", *fenced(e["explanation"])]
    return "\n".join(lines) + "\n"


def validate_gradescope(results: dict) -> None:
    """Raise jsonschema.ValidationError unless ``results`` follows grader/results.schema.json."""
    import jsonschema

    jsonschema.validate(results, json.loads(SCHEMA.read_text(encoding="utf-8")))
