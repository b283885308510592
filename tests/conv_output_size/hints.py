"""conv_output_size: the known mistakes, the size each one computes, and how argument checks go wrong."""
from __future__ import annotations

import math

from grader.failures import Mistake, is_stub
from tests.common.mistakes import outcome

PADDING_ONCE = Mistake("conv_output_size.padding_once",
                       "the padding is added on both sides: n - k + 2 * p, not n - k + p")
PRECEDENCE = Mistake("conv_output_size.precedence", (
    "only 2 * p was divided by the stride: parenthesize the whole numerator before dividing, "
    "(n - k + 2 * p) // s + 1"))
STRIDE_IGNORED = Mistake("conv_output_size.stride_ignored", "divide by the stride: (n - k + 2 * p) // s + 1")
NO_PLUS_ONE = Mistake("conv_output_size.no_plus_one", "add 1 after the division: (n - k + 2 * p) // s + 1")
CEIL = Mistake("conv_output_size.rounds_up", "round the division down (floor, //), not up")
ROUND = Mistake("conv_output_size.rounds_to_nearest", "round the division down (floor, //), not to the nearest integer")
NOT_INT = Mistake("conv_output_size.not_an_int", (
    "return a Python int: / gives a float and np.floor a numpy.float64; use floor division (//) on the ints"))
KERNEL_VS_UNPADDED = Mistake("conv_output_size.kernel_vs_unpadded_input", (
    "the kernel only has to fit in the padded input: reject k > n + 2 * p, not k > n"))
ASSERTS = Mistake("conv_output_size.asserts", "raise ValueError, as the docstring says (assert raises AssertionError)")

FORMULAS = [
    (PADDING_ONCE, lambda n, k, p, s: (n - k + p) // s + 1),
    (PRECEDENCE, lambda n, k, p, s: n - k + 2 * p // s + 1),
    (STRIDE_IGNORED, lambda n, k, p, s: n - k + 2 * p + 1),
    (NO_PLUS_ONE, lambda n, k, p, s: (n - k + 2 * p) // s),
    (CEIL, lambda n, k, p, s: math.ceil((n - k + 2 * p) / s) + 1),
    (ROUND, lambda n, k, p, s: round((n - k + 2 * p) / s) + 1),
]
# Valid arguments on which the code under test must agree with a mistake's formula too
# before that mistake is named (one input alone can be explained by several formulas).
PROBES = [(11, 3, 2, 3), (28, 5, 1, 2), (9, 2, 0, 4), (64, 7, 3, 5)]


def correct(n: int, k: int, p: int, s: int) -> int:
    return (n - k + 2 * p) // s + 1


def value_mistake(impl, n: int, k: int, p: int, s: int, got) -> Mistake | None:
    """The one mistake whose formula gives ``got`` here and what the code gives on PROBES; None unless exactly one."""
    if type(got) is not int and (isinstance(got, (int, float)) or type(got).__module__ == "numpy"):
        return NOT_INT
    if got == correct(n, k, p, s):
        return None
    probed = {args: outcome(lambda args=args: impl.conv_output_size(*args)) for args in PROBES}
    matching = [mistake for mistake, formula in FORMULAS
                if formula(n, k, p, s) == got and all(formula(*args) == result for args, result in probed.items())]
    return matching[0] if len(matching) == 1 else None


def rejection_mistake(impl, error: BaseException, n: int, k: int, p: int, s: int) -> Mistake | None:
    """Why valid arguments were rejected: KERNEL_VS_UNPADDED when the code also rejects a kernel
    that is larger than the input but fits the padding, and accepts ordinary arguments."""
    if not isinstance(error, (ValueError, AssertionError)) or k <= n:
        return None

    def rejects(*args) -> bool:
        result = outcome(lambda: impl.conv_output_size(*args))
        return isinstance(result, BaseException) and not is_stub(result)

    return KERNEL_VS_UNPADDED if rejects(3, 5, 1, 1) and not rejects(8, 3, 1, 1) else None
