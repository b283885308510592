"""conv_output_size: the likely mistake behind a wrong size, shared by the public and hidden checks."""
from __future__ import annotations

import math


def diagnose(n: int, k: int, p: int, s: int, got) -> str | None:
    """Name the usual mistake whose formula gives ``got`` for these arguments, if one does."""
    if isinstance(got, float) and not float(got).is_integer():
        return "use floor division (//): (n - k + 2 * p) // s + 1, not /"
    mistakes = [
        ((n - k + p) // s + 1, "the padding is added on both sides: n - k + 2 * p, not n - k + p"),
        (n - k + 2 * p // s + 1, "parenthesize the numerator: (n - k + 2 * p) // s + 1, not n - k + 2 * p // s + 1"),
        (n - k + 2 * p + 1, "divide by the stride: (n - k + 2 * p) // s + 1"),
        ((n - k + 2 * p) // s, "add 1 after the division: (n - k + 2 * p) // s + 1"),
        (math.ceil((n - k + 2 * p) / s) + 1, "round the division down (floor, //), not up"),
        (round((n - k + 2 * p) / s) + 1, "round the division down (floor, //), not to the nearest integer"),
    ]
    for value, hint in mistakes:
        if got == value:
            return hint
    return None
