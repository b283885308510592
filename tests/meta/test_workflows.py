"""The GitHub Actions workflows parse as GitHub reads them (YAML), with the jobs they promise:
a workflow GitHub cannot parse never runs, and nothing here would run it to find out."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader import release

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _load(text: str) -> dict:
    flow = yaml.safe_load(text)
    assert isinstance(flow, dict), "a workflow is a mapping"
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True; GitHub reads it as "on".
    if True in flow:
        flow["on"] = flow.pop(True)
    return flow


def _steps(flow: dict) -> list[dict]:
    return [step for job in flow["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_each_workflow_parses_with_triggers_jobs_and_steps(path):
    """Each workflow under .github/workflows is valid YAML with on:, jobs: and in each job a run: or uses: per step."""
    flow = _load(path.read_text(encoding="utf-8"))
    assert flow.get("on") and flow.get("jobs"), f"{path.name} lacks on: or jobs:"
    for step in _steps(flow):
        assert ("run" in step) != ("uses" in step), f"{path.name}: a step needs exactly one of run: and uses: ({step})"


def test_the_class_workflow_is_started_by_hand_and_passes_its_inputs():
    """grade-class.yml runs only on workflow_dispatch, and its batch step gets the shard, the exercises and the roster."""
    flow = _load((ROOT / ".github" / "workflows" / "grade-class.yml").read_text(encoding="utf-8"))
    assert list(flow["on"]) == ["workflow_dispatch"]
    assert {"assignment", "shards", "exercises", "roster"} <= set(flow["on"]["workflow_dispatch"]["inputs"])
    grading = [s["run"] for s in _steps(flow) if "grader batch" in s.get("run", "")]
    assert len(grading) == 1 and all(f in grading[0] for f in ("--shard", "--exercises", "--roster"))
    merging = [s["run"] for s in _steps(flow) if "grader merge" in s.get("run", "")]
    assert len(merging) == 1


def test_the_release_workflow_reads_back_as_written():
    """The student release's classroom.yml, written by release.to_yaml, parses back to the workflow it was made from."""
    flow = release.workflow()
    assert _load(release.WORKFLOW_HEADER + release.to_yaml(flow)) == flow
