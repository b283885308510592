"""conv_output_size: the thorough checks used for grading.

The oracle is the size that torch.nn.functional.conv2d actually produces, computed on the
'meta' device (shapes only: no memory, no arithmetic), never the solution.
"""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st

from tests.support.conv_output_size_hints import diagnose
from tests.support.report import check, fail


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


def call(impl, n, k, p, s):
    """impl.conv_output_size for valid arguments, with an unexpected exception explained."""
    try:
        return impl.conv_output_size(n, k, p, s)
    except NotImplementedError:
        raise
    except Exception as error:
        hint = ("the kernel only has to fit in the padded input: reject k > n + 2 * p, not k > n"
                if isinstance(error, ValueError) and k > n else None)
        fail(f"conv_output_size({n}, {k}, padding={p}, stride={s}) raised {type(error).__name__} ({error}) "
             f"for valid arguments; nn.Conv2d gives {conv2d_size(n, k, p, s)}", hint=hint)


@given(args=valid_arguments())
def test_matches_conv2d(impl, args):
    """For n in [1, 300], p in [0, 10], k in [1, n + 2p] and s in [1, 10], the size equals what F.conv2d produces."""
    n, k, p, s = args
    got, expected = call(impl, n, k, p, s), conv2d_size(n, k, p, s)
    check(got == expected, f"conv_output_size({n}, {k}, padding={p}, stride={s}) must be {expected} (as F.conv2d gives), got {got!r}",
          hint=diagnose(n, k, p, s, got))


@given(args=valid_arguments())
def test_result_is_a_python_int(impl, args):
    """The result is always a Python int (not a float, a bool or a numpy number)."""
    n, k, p, s = args
    got = call(impl, n, k, p, s)
    check(type(got) is int, f"conv_output_size({n}, {k}, padding={p}, stride={s}) must return an int, "
          f"got {got!r} of type {type(got).__name__}",
          hint="use floor division (//) on the ints: / returns a float, np.floor a numpy.float64")


@pytest.mark.parametrize("args", [(3, 5, 1, 1), (5, 7, 1, 2), (0, 3, 2, 1)],
                         ids=["kernel_larger_than_input", "kernel_equal_to_padded_input", "empty_input_with_padding"])
def test_kernel_only_has_to_fit_the_padded_input(impl, args):
    """A kernel larger than the input is valid as long as it fits in the padded input (k <= n + 2p)."""
    n, k, p, s = args
    got, expected = call(impl, n, k, p, s), conv2d_size(n, k, p, s)
    check(got == expected, f"conv_output_size({n}, {k}, padding={p}, stride={s}) must be {expected}, got {got!r}",
          hint=diagnose(n, k, p, s, got))


INVALID = {
    "negative_input_size": (-1, 1, 2, 1),
    "negative_padding": (5, 3, -1, 1),
    "kernel_size_zero": (5, 0, 0, 1),
    "stride_zero": (5, 3, 0, 0),
    "negative_stride": (5, 3, 1, -2),
    "kernel_larger_than_padded_input": (5, 8, 1, 1),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_rejects_invalid_arguments(impl, case):
    """Negative input_size or padding, kernel_size or stride below 1, or a kernel larger than the padded input raise ValueError."""
    n, k, p, s = INVALID[case]
    try:
        got = impl.conv_output_size(n, k, p, s)
    except NotImplementedError:
        raise
    except ValueError:
        return
    except Exception as error:
        fail(f"conv_output_size({n}, {k}, padding={p}, stride={s}) ({case.replace('_', ' ')}) raised "
             f"{type(error).__name__} ({error}) instead of ValueError",
             hint="raise ValueError, as the docstring says (assert raises AssertionError)"
             if isinstance(error, AssertionError) else "validate the arguments first and raise ValueError")
    fail(f"conv_output_size({n}, {k}, padding={p}, stride={s}) ({case.replace('_', ' ')}) returned {got!r} instead of raising ValueError",
         hint="validate the arguments first and raise ValueError")
