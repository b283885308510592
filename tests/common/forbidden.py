"""The check that an exercise's code uses none of its forbidden library calls (grader/catalog.py).

Two ways of seeing a call: a scan of the source (grader/forbidden.py), and a watch while the
code runs on one input the exercise's check chooses (in the worker when the exercise is
isolated, here otherwise; grader/worker/watch.py), which also sees a call made under another
name.
"""
from __future__ import annotations

from grader.catalog import BY_NAME
from grader.failures import ForbiddenCall
from grader.forbidden import scan, scan_tampering
from grader.worker.watch import Watch


def check_no_forbidden_calls(impl, candidate, run=None) -> None:
    """Fail unless neither the source of ``candidate`` nor ``run()`` (a call of ``impl``) uses a
    forbidden call, and the source reaches into nothing it must not (grader/forbidden.py's
    tampering rule, which holds for every exercise)."""
    rules = BY_NAME[candidate.exercise].forbidden
    source = candidate.path.read_bytes()  # as Python reads it: a byte-order mark or a coding line included
    tampering = scan_tampering(source)
    if tampering is not None:
        line, written, why = tampering
        where = f"line {line} writes {written}" if line else written
        raise ForbiddenCall(
            f"{candidate.path.name} reaches into {why} ({where}), which no exercise may: the checks' probes and "
            "watch run beside your code, so code that can reach them gets no points. Write the exercise with "
            "plain tensor operations, and names written out (no getattr with computed names, no importlib, "
            "eval, gc, or private attributes of other objects).")
    written = scan(source, rules)
    seen = _watch(impl, run, rules) if run is not None else {}
    if not (written or seen):
        return
    rule, where = next(iter(written.items())) if written else next(iter(seen.items()))
    how = f"line {where[0]} writes {where[1]}" if written else f"running it called {where}"
    raise ForbiddenCall(
        f"{candidate.path.name} uses {rule} ({how}), which {candidate.exercise} must not use: write it from "
        f"elementary tensor operations. Not allowed here: {', '.join(r for r in rules if not r.startswith('aten.'))}")


def _watch(impl, run, rules) -> dict[str, str]:
    session = getattr(impl, "_session", None)
    try:
        if session is not None:
            session.watch, session.seen = tuple(rules), {}
            try:
                run()
            finally:
                session.watch = ()
            return dict(session.seen)
        with Watch(rules) as watch:
            run()
        return watch.seen
    except Exception:  # noqa: BLE001 - the other checks judge what the call raises
        return dict(session.seen) if session is not None else {}
