"""The values log_rmse's public checks compare with: on each check's fixed input, the log RMSE
and the value each known mistake gives there, and each mistake's values on the probes that
confirm it (tests/log_rmse/hints.py names a mistake only when its value is what the code gave).

They come from the float64 oracle and the mistakes' variants (tests/log_rmse/oracle.py), which
are working code, so a student's release does not hold them: ``python -m grader.release``
computes the values and stores them in ``expected_values.json`` beside this file, and where the
oracle is absent they are read from there. Here they are computed afresh on each run and pass
through the same JSON, so the public checks read them the same way in both places.
"""
from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import torch

from tests.log_rmse.hints import Probe, Values

DTYPE = torch.float32  # the public checks' inputs: torch.tensor's default dtype
STORED = Path(__file__).with_name("expected_values.json")
ORACLE_MODULE = "tests.log_rmse.oracle"
# The public checks' fixed inputs, by name: (predictions, labels), each of shape (n, 1).
CASES = {
    "known_value": ([[math.e ** 2], [1.0]], [[1.0], [1.0]]),
    "predictions_below_one": ([[0.0], [0.5], [0.9]], [[1.0], [1.0], [1.0]]),
    "labels_below_one": ([[1.0]], [[0.5]]),
}


def inputs(name: str, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The predictions and labels of the public checks' case ``name``, on ``device``."""
    preds, labels = CASES[name]
    return torch.tensor(preds, dtype=DTYPE, device=device), torch.tensor(labels, dtype=DTYPE, device=device)


def case(name: str) -> tuple[float, Values]:
    """The log RMSE of case ``name`` and each known mistake's values on it."""
    stored = _values()["cases"][name]
    return stored["expected"], stored["mistakes"]


def probes() -> list[Probe]:
    """The probes, in the cases' dtype, with each known mistake's values on them."""
    return [(torch.tensor(p["preds"], dtype=DTYPE), torch.tensor(p["labels"], dtype=DTYPE), p["mistakes"])
            for p in _values()["probes"]]


def table() -> dict:
    """Every value as JSON-ready data, for expected_values.json (the oracle must be present)."""
    oracle = _oracle_module()
    if oracle is None:
        raise RuntimeError(f"{ORACLE_MODULE} is not here: the values can only be made in the course repository")
    cases = {}
    for name in CASES:
        preds, labels = inputs(name)
        cases[name] = {"preds": preds.tolist(), "labels": labels.tolist(), "expected": _number(oracle.oracle(preds, labels)),
                       "mistakes": _numbers(oracle.mistake_values(preds, labels))}
    made = [{"preds": p.tolist(), "labels": y.tolist(), "mistakes": _numbers(values)} for p, y, values in oracle.probes(DTYPE)]
    return {"dtype": str(DTYPE).removeprefix("torch."), "cases": cases, "probes": made}


def text() -> str:
    """expected_values.json's text: sorted, and every float written exactly."""
    return json.dumps(table(), indent=1, sort_keys=True) + "\n"


@cache
def _values() -> dict:
    oracle_here = _oracle_module() is not None
    data = json.loads(text() if oracle_here else _stored())
    if not oracle_here:
        _check_inputs(data)
    decode = lambda values: {key: [float(v) for v in each] for key, each in values.items()}
    return {"cases": {name: {"expected": float(c["expected"]), "mistakes": decode(c["mistakes"])}
                      for name, c in data["cases"].items()},
            "probes": [{**p, "mistakes": decode(p["mistakes"])} for p in data["probes"]]}


def _oracle_module():
    try:
        import tests.log_rmse.oracle as oracle
    except ModuleNotFoundError as error:
        if error.name != ORACLE_MODULE:
            raise
        return None
    return oracle


def _stored() -> str:
    if not STORED.is_file():
        raise FileNotFoundError(f"{STORED} is missing: it holds the values the log_rmse checks compare with; "
                                "ask the course staff for a release that has it")
    return STORED.read_text(encoding="utf-8")


def _check_inputs(data: dict) -> None:
    """The stored values are those of today's cases: the same inputs, in the same dtype."""
    stored = {name: (c["preds"], c["labels"]) for name, c in data["cases"].items()}
    today = {name: tuple(t.tolist() for t in inputs(name)) for name in CASES}
    if data.get("dtype") != str(DTYPE).removeprefix("torch.") or stored != today:
        raise RuntimeError(f"{STORED} holds the values of other inputs than tests/log_rmse/expected.py's: "
                           "ask the course staff for a release made from these checks")


# JSON has no NaN or infinity (a mistake's value can be either): they are written as strings, which float() reads.
def _number(value: float) -> float | str:
    return value if math.isfinite(value) else repr(value)


def _numbers(values: Values) -> dict[str, list[float | str]]:
    return {key: [_number(v) for v in each] for key, each in values.items()}
