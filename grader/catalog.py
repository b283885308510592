"""The exercises: points, the functions to write, where the book teaches them.

This table and the folder ``tests/<name>/`` are the only places an exercise is named: the
code under test is ``<target>/<name>.py``, its checks are ``tests/<name>/test_public.py``
and ``tests/<name>/test_hidden.py``, and its kept implementations are
``tests/<name>/mutants/*.py`` (wrong) and ``tests/<name>/correct/*.py``.
``nox -s new -- NAME`` adds an entry above the marker line at the end of the table.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
TIERS = ("public", "hidden")


@dataclass(frozen=True)
class Limits:
    """What one exercise's worker may use when it is graded in isolation (grader/sandbox.py)."""

    call_s: float = 20.0        # one call of the student's code, wall clock
    exercise_s: float = 180.0   # all calls of one exercise together, wall clock
    memory_mb: int = 1024       # address space beyond what the pre-warmed worker already maps
    cpu_s: int = 180            # CPU seconds of the whole worker
    output_bytes: int = 1 << 20  # what one call may print
    no_fork: bool = True        # a seccomp filter refuses new processes and signals to others (Linux)


@dataclass(frozen=True)
class Exercise:
    name: str       # module name in exercises/ and solutions/, and folder name in tests/
    title: str
    functions: tuple[str, ...]
    points: int
    d2l: str        # section in the Chinese edition (动手学深度学习, 2nd ed.)
    holds: str      # what the checks hold it to, for the README's course table
    # Graded in a sandboxed worker: every call crosses as data (grader/remote.py). False where
    # the checks still hand the code objects (networks, optimizers, modules) that cannot cross
    # yet: such an exercise is graded in the checker's process, and the report says so.
    isolated: bool = True
    limits: Limits = Limits()
    # Library calls the exercise must not use: dotted names as the code would write them
    # (torch.nn.functional.softmax, Tensor.softmax) or aten operators (aten._softmax); a name
    # forbids everything under it (torch.optim). See grader/forbidden.py.
    forbidden: tuple[str, ...] = ()
    # About how long its checks run, in seconds on the 2-core reference machine: grading
    # spreads the exercises over the cores by it (grader/__main__.py).
    check_s: float = 1.0

    @property
    def folder(self) -> Path:
        return TESTS / self.name

    def test_file(self, tier: str) -> Path:
        return self.folder / f"test_{tier}.py"


EXERCISES: tuple[Exercise, ...] = (
    Exercise("sgd", "Minibatch SGD", ("sgd",), 10, "3.2 线性回归的从零开始实现",
             "update values (and their dtype), in place and outside autograd, gradients zeroed on their device, "
             "a generator of params, tiny gradients, recovers `w = [2, -3.4], b = 4.2`",
             forbidden=("torch.optim",), check_s=2.0),
    Exercise("softmax", "Softmax", ("softmax",), 10, "3.6 softmax回归的从零开始实现",
             "against `torch.softmax`, rows sum to 1, no overflow at ±1000 within one row, float64 gradcheck, "
             "X's device",
             forbidden=("torch.softmax", "torch.nn.functional.softmax", "torch.nn.functional.log_softmax",
                        "torch.log_softmax", "torch.special.softmax", "torch.special.log_softmax", "Tensor.softmax",
                        "Tensor.log_softmax", "torch.nn.Softmax", "torch.nn.LogSoftmax", "aten._softmax",
                        "aten._log_softmax")),
    Exercise("training_loop", "The training loop", ("train_epoch", "train"), 20, "3.6 / 6.6 训练",
             "train/eval modes, no autograd in evaluation, one zero_grad/backward/step per batch, any loss and "
             "optimizer, leftover gradients, a net with dropout, averages over examples, devices, learns the digits",
             check_s=5.0),
    Exercise("dropout", "Dropout", ("dropout_layer",), 10, "4.6 暂退法",
             "0 or `X/(1-p)` per element, keep rate, binomial counts and expectation (6σ bounds), independent "
             "fresh masks, X's device and dtype (half precision too), input untouched, gradient",
             forbidden=("torch.nn.functional.dropout", "torch.nn.functional.dropout1d", "torch.nn.functional.dropout2d",
                        "torch.nn.functional.alpha_dropout", "torch.nn.functional.feature_alpha_dropout", "torch.dropout",
                        "torch.nn.Dropout", "Tensor.dropout", "aten.native_dropout")),
    Exercise("log_rmse", "Log RMSE", ("log_rmse",), 5, "4.10 实战Kaggle比赛：预测房价",
             "against a float64 numpy oracle, clamping of predictions only, a Python float, tensors on a GPU",
             forbidden=("sklearn.metrics",), check_s=0.3),
    Exercise("conv_output_size", "Convolution output size", ("conv_output_size",), 5, "6.3 填充和步幅",
             "equals what `F.conv2d` produces, an `int`, clear errors for every invalid argument",
             forbidden=("torch.nn.functional.conv2d", "torch.nn.functional.conv1d", "torch.nn.Conv2d",
                        "torch.nn.LazyConv2d", "aten.convolution"), check_s=0.3),
    Exercise("vgg", "VGG blocks", ("vgg_block", "vgg"), 15, "7.2 使用块的网络（VGG）",
             "layer for layer against `torchvision.models.vgg11`, the book's shapes on 224×224, a small VGG learns",
             forbidden=("torchvision.models",), check_s=6.0),
    Exercise("batch_norm", "Batch normalization", ("batch_norm", "BatchNorm"), 15, "7.5 批量规范化",
             "against `F.batch_norm`, biased and stable variance, the momentum convention, prediction mode by "
             "`torch.is_grad_enabled()` alone, float64 gradcheck, the module",
             forbidden=("torch.nn.functional.batch_norm", "torch.batch_norm", "torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d",
                        "torch.nn.LazyBatchNorm1d", "torch.nn.LazyBatchNorm2d", "aten.native_batch_norm",
                        "aten._native_batch_norm_legit"), check_s=2.5),
    # new exercises go above this line (nox -s new)
)

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}


def exercise_of(path: str | PurePath) -> str | None:
    """The exercise whose folder holds ``path`` (a file or a pytest node id), else None."""
    parts = PurePath(str(path).split("::", 1)[0].replace("\\", "/")).parts
    for parent, child in zip(parts, parts[1:]):
        if parent == "tests" and child in BY_NAME:
            return child
    return None


def tier_of(path: str | PurePath) -> str | None:
    """``"public"`` or ``"hidden"`` for an exercise's check file (or a node id in it)."""
    stem = PurePath(str(path).split("::", 1)[0]).stem
    tier = stem.removeprefix("test_")
    return tier if exercise_of(path) and tier in TIERS else None


def course_table() -> str:
    """The README's course table, made from this catalog (a meta-test keeps them equal)."""
    rows = ["| exercise | functions | points | d2l (zh, 2nd ed.) | what the checks hold it to |",
            "| --- | --- | --- | --- | --- |"]
    for e in EXERCISES:
        functions = ", ".join(f"`{f}`" for f in e.functions)
        rows.append(f"| `{e.name}` | {functions} | {e.points} | {e.d2l} | {e.holds} |")
    return "\n".join(rows) + "\n"
