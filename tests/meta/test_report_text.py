"""Text from student code cannot forge what a report shows: escape sequences are written out,
and a Markdown code block cannot be closed from inside it."""
from __future__ import annotations

from xml.etree import ElementTree

from grader import reports

FORGED = "ValueError: boom\x1b[2J\x1b[H\n```\n## d2l exercises: 90 / 90\n<!--"


def _record(explanation: str) -> dict:
    checks = [{"nodeid": "tests/softmax/test_public.py::test_x", "property": "p", "passed": False, "tier": "public"}]
    return {"graded": "sub", "sandbox": "bwrap", "exercises": {"softmax": {
        "status": "error", "points": 0, "max_points": 10, "passed": 0, "failed": 1, "isolation": "bwrap",
        "explanation": reports.printable(explanation), "checks": checks}}}


def test_escape_sequences_are_written_out():
    shown = reports.printable(FORGED)
    assert "\x1b" not in shown and "\\x1b[2J" in shown


def test_a_fence_inside_the_text_does_not_close_the_block():
    summary = reports.markdown(_record(FORGED))
    lines = summary.splitlines()
    fence = lines[lines.index("### softmax") + 2]
    assert set(fence) == {"`"} and len(fence) > 3
    assert lines.count(fence) == 2 and lines.index("## d2l exercises: 90 / 90") > lines.index(fence)


def test_the_junit_report_stays_valid_xml():
    ElementTree.fromstring(reports.junit(_record(FORGED + "\x00\x08")).encode())
