"""Autograd through the code under test: gradients against finite differences."""
from __future__ import annotations

import torch

from grader.failures import is_stub
from tests.common.report import MaybeMistake, fail


def gradcheck(fn, inputs: tuple[torch.Tensor, ...], what: str, mistake: MaybeMistake = None, fast_mode: bool = True,
              **kwargs) -> None:
    """``fn``'s autograd gradients equal finite differences at ``inputs`` (float64); a
    mismatch, or an exception of the code under test, fails the check in words.

    ``fast_mode`` compares ``v^T J u`` for random unit vectors ``u`` and ``v`` (seeded: the same
    on every run) instead of every entry of the Jacobian ``J``. A wrong Jacobian gives a different
    projection unless ``v^T (J' - J) u`` vanishes, which random directions make a null event; it
    costs two forward calls per input instead of two per input element, and every call of code
    that runs in a worker is a round trip."""
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # gradcheck draws u and v from torch's generator
            torch.autograd.gradcheck(fn, inputs, raise_exception=True, fast_mode=fast_mode, **kwargs)
    except Exception as error:  # noqa: BLE001 - GradcheckError, or the code's own exception
        if is_stub(error):
            raise
        fail(f"the autograd gradient of {what} disagrees with finite differences: "
             f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}", mistake=mistake)
