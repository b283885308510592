"""``python -m grader.classroom RESULTS EXERCISE``: whether EXERCISE earned its points in
RESULTS, the results.json that ``python -m grader grade --results`` wrote. It prints the
points and exits 0 only when they are all earned.

The student repository's workflow (.github/workflows/classroom.yml, made by grader/release.py)
runs it once per exercise as a GitHub Classroom autograding test worth the exercise's points:
classroom-resources/autograding-command-grader grants them when the command exits 0. It uses
the standard library alone, so the workflow runs it with any Python.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def exercise_points(results: dict, exercise: str) -> tuple[float, float] | None:
    """(earned, possible) over the exercise's tests in results.json, or None when it has none.
    grader/reports.py tags each test with its exercise's name first."""
    tests = [test for test in results.get("tests", []) if test.get("tags", [None])[0] == exercise]
    if not tests:
        return None
    return sum(test["score"] for test in tests), sum(test["max_score"] for test in tests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.classroom", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="the results.json of python -m grader grade")
    parser.add_argument("exercise", help="the exercise's name, as in grader/catalog.py")
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.results.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"{args.exercise}: no points: {args.results} could not be read ({error}); did the grading step run?")
        return 1
    points = exercise_points(results, args.exercise)
    if points is None:
        print(f"{args.exercise}: no points: {args.results} does not grade this exercise")
        return 1
    earned, possible = points
    print(f"{args.exercise}: {earned:g} / {possible:g} points")
    return 0 if possible > 0 and earned >= possible else 1


if __name__ == "__main__":
    sys.exit(main())
