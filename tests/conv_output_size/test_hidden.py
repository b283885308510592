"""conv_output_size: the thorough checks used for grading.

The oracle is the size that torch.nn.functional.conv2d actually produces, computed on the
'meta' device (shapes only: no memory, no arithmetic), never the solution.
"""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from tests.common.hypo import given
from tests.conv_output_size.test_public import check_rejected, check_size
from tests.common.forbidden import check_no_forbidden_calls


def conv2d_size(n: int, k: int, p: int, s: int) -> int:
    """The spatial size of F.conv2d on an n x n input with a k x k kernel."""
    X = torch.empty(1, 1, n, n, device="meta")
    K = torch.empty(1, 1, k, k, device="meta")
    return F.conv2d(X, K, padding=p, stride=s).shape[-1]


@st.composite
def valid_arguments(draw):
    n = draw(st.integers(1, 300))
    p = draw(st.integers(0, 10))
    k = draw(st.integers(1, n + 2 * p))
    s = draw(st.integers(1, 10))
    return n, k, p, s


@st.composite
def invalid_arguments(draw):
    """Arguments with exactly one thing wrong: a negative size or padding, a kernel or stride below 1, or a kernel larger than the padded input."""
    n, k, p, s = draw(valid_arguments())
    wrong = draw(st.sampled_from(["input_size", "padding", "kernel_size", "stride", "kernel_too_large"]))
    if wrong == "input_size":
        n = draw(st.integers(-50, -1))
        k = 1
        p = max(p, 1)
    elif wrong == "padding":
        p = draw(st.integers(-10, -1))
        k = 1
    elif wrong == "kernel_size":
        k = draw(st.integers(-10, 0))
    elif wrong == "stride":
        s = draw(st.integers(-10, 0))
    else:
        k = n + 2 * p + draw(st.integers(1, 20))
    return (n, k, p, s), wrong


@given(args=valid_arguments())
def test_matches_conv2d(impl, args):
    """For n in [1, 300], p in [0, 10], k in [1, n + 2p] and s in [1, 10], the size equals what F.conv2d produces, as an int."""
    check_size(impl, *args, expected=conv2d_size(*args))


@pytest.mark.parametrize("args", [(3, 5, 1, 1), (5, 7, 1, 2), (0, 3, 2, 1)],
                         ids=["kernel_larger_than_input", "kernel_equal_to_padded_input", "empty_input_with_padding"])
def test_kernel_only_has_to_fit_the_padded_input(impl, args):
    """A kernel larger than the input is valid as long as it fits in the padded input (k <= n + 2p); so is an empty input with padding."""
    check_size(impl, *args, expected=conv2d_size(*args))


INVALID = {
    "negative_input_size": (-1, 1, 2, 1),
    "negative_padding": (5, 3, -1, 1),
    "kernel_size_zero": (5, 0, 0, 1),
    "negative_kernel_size": (5, -3, 0, 1),
    "stride_zero": (5, 3, 0, 0),
    "negative_stride": (5, 3, 1, -2),
    "kernel_larger_than_padded_input": (5, 8, 1, 1),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_rejects_invalid_arguments(impl, case):
    """Negative input_size or padding, kernel_size or stride below 1, or a kernel larger than the padded input raise ValueError."""
    check_rejected(impl, *INVALID[case], case=case.replace("_", " "))


@given(case=invalid_arguments())
def test_rejects_any_invalid_argument(impl, case):
    """Any one argument out of its range (negative sizes, kernel or stride of 0 or below, a kernel larger than the padded input) raises ValueError."""
    args, wrong = case
    check_rejected(impl, *args, case=f"{wrong.replace('_', ' ')} out of range")


def test_uses_no_forbidden_call(impl, candidate):
    """Uses none of the library calls this exercise must not use (grader/catalog.py), in its source or when it runs."""
    check_no_forbidden_calls(impl, candidate, lambda: impl.conv_output_size(8, 3, 1, 2))
