"""conv_output_size: the checks every student sees."""
import pytest

from grader.failures import is_stub
from tests.common.calls import call
from tests.common.report import check, fail
from tests.conv_output_size.hints import ASSERTS, rejection_mistake, value_mistake

# d2l 6.3: an 8 x 8 input with the book's kernels, paddings and strides (one spatial dimension each).
BOOK_EXAMPLES = [
    ((8, 3, 1, 1), 8),  # kernel 3, padding 1: the size is kept
    ((8, 5, 2, 1), 8),  # kernel 5, padding 2: the size is kept
    ((8, 3, 1, 2), 4),  # stride 2 halves it
    ((8, 3, 0, 3), 2),  # kernel (3, 5), padding (0, 1), stride (3, 4): first dimension
    ((8, 5, 1, 4), 2),  # ... and second dimension
]


def output_size(impl, n, k, p, s):
    """impl.conv_output_size for valid arguments; an exception fails the check, naming a known over-strict check."""
    what = f"conv_output_size({n}, {k}, padding={p}, stride={s}) (valid arguments)"
    return call(impl.conv_output_size, n, k, p, s, what=what, explain=lambda error: rejection_mistake(impl, error, n, k, p, s))


def check_size(impl, n, k, p, s, expected) -> None:
    """The size for valid arguments is ``expected``, a Python int."""
    got = output_size(impl, n, k, p, s)
    check(got == expected and type(got) is int,
          f"conv_output_size({n}, {k}, padding={p}, stride={s}) must be the int {expected}, got {got!r} of type {type(got).__name__}",
          mistake=lambda: value_mistake(impl, n, k, p, s, got))


def check_rejected(impl, n, k, p, s, case: str) -> None:
    """Invalid arguments raise ValueError."""
    what = f"conv_output_size({n}, {k}, padding={p}, stride={s}) ({case})"
    try:
        got = impl.conv_output_size(n, k, p, s)
    except ValueError:
        return
    except Exception as error:  # noqa: BLE001
        if is_stub(error):
            raise
        fail(f"{what} raised {type(error).__name__} ({error}) instead of ValueError",
             mistake=ASSERTS if isinstance(error, AssertionError) else None)
    fail(f"{what} returned {got!r} instead of raising ValueError")


def test_book_examples(impl):
    """The output sizes of the book's examples in 6.3 (8 x 8 input)."""
    for (n, k, p, s), expected in BOOK_EXAMPLES:
        check_size(impl, n, k, p, s, expected)


def test_default_padding_and_stride(impl):
    """Without padding and stride the size is n - k + 1."""
    got = call(impl.conv_output_size, 6, 3, what="conv_output_size(6, 3)")
    check(got == 4 and type(got) is int, f"conv_output_size(6, 3) must be the int 6 - 3 + 1 = 4, got {got!r}",
          mistake=lambda: value_mistake(impl, 6, 3, 0, 1, got))


def test_returns_a_python_int(impl):
    """The result is a Python int, not a float or a numpy number."""
    check_size(impl, 7, 3, 1, 2, 4)


@pytest.mark.parametrize("args", [(-1, 1, 2, 1), (5, 3, 0, 0), (5, 8, 1, 1)],
                         ids=["negative_input_size", "zero_stride", "kernel_larger_than_padded_input"])
def test_rejects_invalid_arguments(impl, args):
    """A negative size, a stride below 1 or a kernel larger than the padded input raises ValueError."""
    check_rejected(impl, *args, case="invalid")
