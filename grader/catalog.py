"""The exercises: which module each lives in, its points, and where the book teaches it.

One entry per exercise. The test files are named ``tests/<tier>/test_<name>.py`` and the
code under test ``<target>/<name>.py``; this table is the only other place an exercise is
named.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Exercise:
    name: str       # module name in exercises/ and solutions/, and test file suffix
    title: str
    functions: tuple[str, ...]
    points: int
    d2l: str        # section in the Chinese edition (动手学深度学习, 2nd ed.)


EXERCISES: tuple[Exercise, ...] = (
    Exercise("sgd", "Minibatch SGD", ("sgd",), 10, "3.2 线性回归的从零开始实现"),
    Exercise("softmax", "Softmax", ("softmax",), 10, "3.6 softmax回归的从零开始实现"),
    Exercise("training_loop", "The training loop", ("train_epoch", "train"), 20, "3.6 / 6.6 训练"),
    Exercise("dropout", "Dropout", ("dropout_layer",), 10, "4.6 暂退法"),
    Exercise("log_rmse", "Log RMSE", ("log_rmse",), 5, "4.10 实战Kaggle比赛：预测房价"),
    Exercise("conv_output_size", "Convolution output size", ("conv_output_size",), 5, "6.3 填充和步幅"),
    Exercise("vgg", "VGG blocks", ("vgg_block", "vgg"), 15, "7.2 使用块的网络（VGG）"),
    Exercise("batch_norm", "Batch normalization", ("batch_norm", "BatchNorm"), 15, "7.5 批量规范化"),
)

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}


def exercise_of_test_file(path: str) -> str | None:
    """``tests/hidden/test_dropout.py`` (or a node id in it) -> ``"dropout"``; None otherwise."""
    stem = PurePosixPath(path.split("::", 1)[0].replace("\\", "/")).stem
    name = stem.removeprefix("test_")
    return name if stem.startswith("test_") and name in BY_NAME else None
