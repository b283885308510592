"""conv_output_size: the checks every student sees."""
import pytest

from tests.support.conv_output_size_hints import diagnose
from tests.support.report import check, fail

# d2l 6.3: an 8 x 8 input with the book's kernels, paddings and strides (one spatial dimension each).
BOOK_EXAMPLES = [
    ((8, 3, 1, 1), 8),  # kernel 3, padding 1: the size is kept
    ((8, 5, 2, 1), 8),  # kernel 5, padding 2: the size is kept
    ((8, 3, 1, 2), 4),  # stride 2 halves it
    ((8, 3, 0, 3), 2),  # kernel (3, 5), padding (0, 1), stride (3, 4): first dimension
    ((8, 5, 1, 4), 2),  # ... and second dimension
]


def test_book_examples(impl):
    """The output sizes of the book's examples in 6.3 (8 x 8 input)."""
    for (n, k, p, s), expected in BOOK_EXAMPLES:
        got = impl.conv_output_size(n, k, p, s)
        check(got == expected, f"conv_output_size({n}, {k}, padding={p}, stride={s}) must be {expected}, got {got!r}",
              hint=diagnose(n, k, p, s, got))


def test_default_padding_and_stride(impl):
    """Without padding and stride the size is n - k + 1."""
    got = impl.conv_output_size(6, 3)
    check(got == 4, f"conv_output_size(6, 3) must be 6 - 3 + 1 = 4, got {got!r}", hint=diagnose(6, 3, 0, 1, got))


def test_returns_a_python_int(impl):
    """The result is a Python int, not a float or a numpy number."""
    got = impl.conv_output_size(7, 3, 1, 2)
    check(type(got) is int, f"conv_output_size(7, 3, padding=1, stride=2) must return the int 4, got {got!r} of type {type(got).__name__}",
          hint="use floor division (//) on ints; / and np.floor give floats")


@pytest.mark.parametrize("args", [(-1, 1, 2, 1), (5, 3, 0, 0), (5, 8, 1, 1)],
                         ids=["negative_input_size", "zero_stride", "kernel_larger_than_padded_input"])
def test_rejects_invalid_arguments(impl, args):
    """A negative size, a stride below 1 or a kernel larger than the padded input raises ValueError."""
    n, k, p, s = args
    try:
        got = impl.conv_output_size(n, k, p, s)
    except NotImplementedError:
        raise
    except ValueError:
        return
    except Exception as error:
        fail(f"conv_output_size({n}, {k}, padding={p}, stride={s}) raised {type(error).__name__} ({error}) instead of ValueError",
             hint="raise ValueError, as the docstring says (assert raises AssertionError)"
             if isinstance(error, AssertionError) else "check the arguments first and raise ValueError")
    fail(f"conv_output_size({n}, {k}, padding={p}, stride={s}) returned {got!r} instead of raising ValueError",
         hint="check the arguments first and raise ValueError")
