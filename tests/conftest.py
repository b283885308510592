"""Fixtures shared by every check: what is under test, the devices, seeds, hypothesis."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, Phase, register_random, settings
from hypothesis.errors import Flaky

from grader import loading
from grader.catalog import BY_NAME, EXERCISES, exercise_of
from grader.sandbox import SUBMISSION_ROOT, Sandbox, take_handed
from grader.failures import CheckFailure
from tests.common import seeding

# One intra-op thread: the checks' tensors are tiny, where threads cost more than they
# give (a small convolution ran 10x slower with 2 threads on a loaded 2-core machine), and a
# float reduction then sums in the same order on every machine, whatever its core count.
torch.set_num_threads(1)

_COMMON = dict(
    database=None,
    deadline=None,
    print_blob=False,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Hypothesis's "explain" phase reruns a failing test many times to point at source lines
# of the *checks*, which a student cannot use; it made a stub take 15 s to fail.
_REPORTING = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)
# Grading: the same examples on every run, so the same submission gets the same score.
settings.register_profile("grading", derandomize=True, max_examples=40, phases=_REPORTING, **_COMMON)
# Exploration for the instructors: new examples per seed (nox -s seeds).
settings.register_profile("explore", derandomize=False, max_examples=40, phases=_REPORTING, **_COMMON)
# The self-test needs to know whether a kept wrong implementation fails, and which mistake
# the failure names: the shrink phase stays, so that hints are judged on the input a
# student would see.
settings.register_profile("selftest", derandomize=True, max_examples=40, phases=_REPORTING, **_COMMON)
settings.load_profile("grading")

STATEFUL = ("the same input gave different results on two calls: keep no state between calls "
            "(no counters, caches or torch.manual_seed inside your code)")


class _TorchGlobalRandom:
    """torch's global generator seen as a ``random.Random``, so that hypothesis seeds it
    before every example and restores it after: each example sees the same random numbers
    when it is replayed, and a check that draws masks or batches cannot flake."""

    def seed(self, seed):
        seeding.seed(seed)

    def getstate(self):
        return torch.random.get_rng_state()

    def setstate(self, state):
        torch.random.set_rng_state(state)


_TORCH_RANDOM = _TorchGlobalRandom()  # register_random keeps only a weak reference
register_random(_TORCH_RANDOM)


def pytest_addoption(parser):
    group = parser.getgroup("d2l", "d2l exercises")
    group.addoption(
        "--target",
        default="exercises",
        help="what to check: 'exercises' (default), 'solutions', or a directory holding a submission's modules",
    )
    group.addoption(
        "--candidates",
        action="store_true",
        help="self-test: run every check against the solution and the kept correct and wrong implementations",
    )
    group.addoption("--kill-matrix", metavar="PATH", help="with --candidates: write each check's outcome per candidate as JSON")
    group.addoption("--correct-only", action="store_true",
                    help="with --candidates: only the solution and the kept correct implementations (nox -s seeds)")
    group.addoption("--candidates-from", metavar="DIR",
                    help="with --candidates: the implementations in DIR/<exercise>/{correct,wrong}/ instead of the kept ones")
    group.addoption("--limit", action="append", default=[], metavar="NAME=VALUE",
                    help="override one of the catalog's limits for every exercise (--limit call_s=2) or for one "
                         "(--limit training_loop.call_s=30)")
    group.addoption("--isolation", choices=("worker", "none"), default="worker",
                    help="worker (default): run the code under test in a sandboxed worker process, for the exercises the "
                         "catalog marks isolated; none: import it into this process (for debugging)")


def _exercise(node) -> str:
    exercise = exercise_of(node.path)
    if exercise is None:
        raise pytest.UsageError(f"{node.path} is not in the folder tests/<exercise>/ of a catalogued exercise")
    return exercise


def pytest_generate_tests(metafunc):
    if "candidate" in metafunc.fixturenames and metafunc.config.getoption("--candidates"):
        candidates = loading.kept_candidates(_exercise(metafunc.definition), metafunc.config.getoption("--candidates-from"))
        if metafunc.config.getoption("--correct-only"):
            candidates = [c for c in candidates if c.kind != "wrong"]
        # Package scope orders the tests: one candidate's public checks, then its hidden ones, then
        # the next candidate; so one worker serves both files (see _worker).
        metafunc.parametrize("candidate", candidates, ids=[c.label for c in candidates], indirect=True, scope="package")


@pytest.fixture(scope="module")
def candidate(request) -> loading.Candidate:
    if hasattr(request, "param"):
        return request.param
    return loading.target_candidate(request.config.getoption("--target"), _exercise(request.node))


@pytest.fixture(scope="module")
def impl(request, candidate):
    """The module under test for this test file's exercise: run in a sandboxed worker when the
    exercise is isolated, else imported here. A SubmissionError fails every check of the
    exercise with it."""
    if not isolated(request.config, candidate.exercise):
        yield loading.load(candidate)
        return
    module = _worker(request.config, candidate)
    yield module
    request.config._d2l_parked = (candidate, module)


def _worker(config, candidate: loading.Candidate):
    """A fresh worker for ``candidate``, or the one its exercise's other test file just used:
    an exercise's public and hidden checks share one worker, and its time budget
    (grader/catalog.py's exercise_s) covers them both. Another candidate's worker is closed."""
    parked, config._d2l_parked = getattr(config, "_d2l_parked", None), None
    if parked is not None:
        if parked[0] == candidate:
            return parked[1]
        parked[1]._session.close()
    limits = loading.with_overrides(BY_NAME[candidate.exercise].limits, config.getoption("--limit"), candidate.exercise)
    return loading.open_isolated(candidate, _sandbox(config), limits)


def isolated(config, exercise: str) -> bool:
    return config.getoption("--isolation") == "worker" and BY_NAME[exercise].isolated


def _sandbox(config) -> Sandbox:
    """This process's sandbox (one pre-warmed zygote), launched when the run began (see
    pytest_configure) or else at the first isolated exercise."""
    box = getattr(config, "_d2l_sandbox", None)
    if box is None:
        box = take_handed(_visible_dirs(config))
        if box is None:
            box = Sandbox(_visible_dirs(config))
            box.launch()
        config._d2l_sandbox = box
    return box


_TESTS = Path(__file__).resolve().parent


def _runs_isolated_checks(config) -> bool:
    """Whether this process will check an isolated exercise (an xdist controller checks nothing)."""
    if config.getoption("--isolation") != "worker" or getattr(config.option, "numprocesses", None) and not hasattr(
            config, "workerinput"):
        return False
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        name = exercise_of(path)
        if (name is not None and BY_NAME[name].isolated) or path in (_TESTS, _TESTS.parent):
            return True
    return False


def _visible_dirs(config) -> dict[Path, str]:
    """The directories the code under test is read from, and where the sandbox shows them."""
    if not config.getoption("--candidates"):
        return {loading.target_dir(config.getoption("--target")): SUBMISSION_ROOT}
    folders = sorted({c.path.parent for e in EXERCISES for c in loading.kept_candidates(e.name, config.getoption(
        "--candidates-from"))})
    return {folder: f"{SUBMISSION_ROOT}/{i}" for i, folder in enumerate(folders)}


def _devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    return found


@pytest.fixture(scope="session", params=_devices())
def device(request) -> torch.device:
    """Each device present: the CPU always, CUDA and MPS when available."""
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _seeded():
    """The same random numbers on every run of a check, so a score never depends on luck."""
    seeding.seed(0)
    yield


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """Draw the same examples whatever is under test, and say in one sentence that a
    submission keeps state when hypothesis's replay disagrees with its first run."""
    wrapped = pyfuncitem.obj
    if getattr(wrapped, "hypothesis", None) is not None and settings.default.derandomize:
        # Derandomized, hypothesis seeds a parametrized test from its node id, which names the
        # kept implementation in the self-test: seed it from the check alone, so that the
        # self-test judges failures and hints on the very inputs a student's run draws. (The
        # seed given here also spares hypothesis hashing the check's source on every run.)
        digest = hashlib.sha256(_check_id(pyfuncitem).encode()).digest()
        wrapped._hypothesis_internal_use_seed = int.from_bytes(digest[:16], "big")
        wrapped._hypothesis_internal_database_key = None
    try:
        return (yield)
    except Flaky:
        raise CheckFailure(STATEFUL) from None
    except CheckFailure as failure:
        kept = _kept_state(pyfuncitem)
        if kept and failure.mistake is not None:
            failure.name_no_mistake(KEPT_STATE.format(names=", ".join(sorted(kept))))
        raise


KEPT_STATE = ("(no likely mistake is named: a call of your code changed {names} in your file, so what it gives "
              "depends on the calls before it; keep no state between calls)")


def _kept_state(item) -> set[str]:
    """The globals of the student's file that a call changed, when its code runs in a worker."""
    session = getattr(item.funcargs.get("impl"), "_session", None)
    return set(getattr(session, "kept_state", ()))


def _check_id(item) -> str:
    """The node id without the candidate parameter: the same for a student's run and the self-test."""
    callspec = getattr(item, "callspec", None)
    candidate = callspec.params.get("candidate") if callspec is not None else None
    if not isinstance(candidate, loading.Candidate):
        return item.nodeid
    return item.nodeid.split("[", 1)[0] + _other_params(item.nodeid, candidate.label)


# --- the self-test's record: which check failed for which kept implementation, naming which mistake


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    callspec = getattr(item, "callspec", None)
    if callspec is not None and isinstance(callspec.params.get("candidate"), loading.Candidate):
        report.user_properties.append(("candidate", callspec.params["candidate"].label))
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, CheckFailure) and error.mistake is not None:
            report.user_properties.append(("mistake", error.mistake.id))
    return report


class _KillMatrix:
    """exercise -> candidate -> check -> {"outcome": "passed" or "failed", "mistake": id or None}."""

    def __init__(self, path: str):
        self.path = path
        self.outcomes: dict[str, dict[str, dict[str, dict]]] = {}

    def pytest_runtest_logreport(self, report):
        properties = dict(report.user_properties)
        candidate = properties.get("candidate")
        if candidate is None or (report.when != "call" and report.outcome == "passed"):
            return
        check = report.nodeid.split("[", 1)[0] + _other_params(report.nodeid, candidate)
        per_check = self.outcomes.setdefault(exercise_of(report.nodeid), {}).setdefault(candidate, {})
        if per_check.get(check, {}).get("outcome") != "failed":
            per_check[check] = {"outcome": report.outcome, "mistake": properties.get("mistake")}

    def pytest_sessionfinish(self):
        record = {"outcomes": self.outcomes}
        with open(self.path, "w", encoding="utf-8") as stream:
            json.dump(record, stream, indent=1, sort_keys=True)


def _other_params(nodeid: str, candidate: str) -> str:
    """``test_x[mutant:a-cpu]`` -> ``[cpu]``: the check's own parameters, without the candidate."""
    if "[" not in nodeid:
        return ""
    params = nodeid.split("[", 1)[1].rstrip("]")
    rest = params.replace(candidate, "", 1).strip("-").replace("--", "-")
    return f"[{rest}]" if rest else ""


def pytest_unconfigure(config):
    parked = getattr(config, "_d2l_parked", None)
    if parked is not None:
        parked[1]._session.close()
    box = getattr(config, "_d2l_sandbox", None)
    if box is not None:
        box.close()


def pytest_configure(config):
    if _runs_isolated_checks(config):
        _sandbox(config)  # the zygote imports torch while pytest collects the checks
    path = config.getoption("--kill-matrix")
    if path and not hasattr(config, "workerinput"):  # with pytest-xdist, only the controller writes the record
        config.pluginmanager.register(_KillMatrix(path), "d2l-kill-matrix")


def pytest_sessionfinish(session, exitstatus):
    # pytest's exit code 5 ("no tests ran") would let a run that checked nothing look
    # harmless; here it is always a mistake (a misspelt exercise, a missing test file).
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.config.get_terminal_writer().line(
            "no checks ran: name exercises from grader/catalog.py, or check the test paths", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
