"""Layer lists for the vgg checks: flatten nested nn.Sequential, describe each layer in one
normalised line (int vs tuple sizes, ReLU inplace or not), and build the lists the contract
asks for, so that a student's network can be compared layer for layer."""
from __future__ import annotations

import torch
from torch import nn

from grader.failures import Mistake, is_stub
from tests.common.report import fail


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def layers(module) -> list:
    """The leaf layers of ``module``, nested nn.Sequential expanded in order."""
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in layers(child)]
    return [module]


def describe(layer) -> str:
    """One line per layer; two layers that compute the same function get the same line."""
    if isinstance(layer, nn.Conv2d):
        kernel, dilation = _pair(layer.kernel_size), _pair(layer.dilation)
        padding = layer.padding
        if padding == "same" and all(k % 2 for k in kernel):
            padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
        text = (f"Conv2d({layer.in_channels}, {layer.out_channels}, kernel_size={kernel}, "
                f"stride={_pair(layer.stride)}, padding={_pair(padding) if padding != 'valid' else (0, 0)}")
        if dilation != (1, 1):
            text += f", dilation={dilation}"
        if layer.groups != 1:
            text += f", groups={layer.groups}"
        if layer.bias is None:
            text += ", bias=False"
        if layer.padding_mode != "zeros":
            text += f", padding_mode={layer.padding_mode!r}"
        return text + ")"
    if type(layer) is nn.ReLU:
        return "ReLU()"
    if isinstance(layer, nn.MaxPool2d):
        text = f"MaxPool2d(kernel_size={_pair(layer.kernel_size)}, stride={_pair(layer.stride)}"
        if _pair(layer.padding) != (0, 0):
            text += f", padding={_pair(layer.padding)}"
        if _pair(layer.dilation) != (1, 1):
            text += f", dilation={_pair(layer.dilation)}"
        if layer.ceil_mode:
            text += ", ceil_mode=True"
        return text + ")"
    if type(layer) is nn.Flatten:
        return "Flatten()" if (layer.start_dim, layer.end_dim) == (1, -1) else repr(layer)
    if type(layer) is nn.Linear:
        return f"Linear({layer.in_features}, {layer.out_features}{'' if layer.bias is not None else ', bias=False'})"
    if type(layer) is nn.Dropout:
        return f"Dropout(p={float(layer.p)})"
    return repr(layer).replace("\n", " ")


def expected_block(num_convs: int, in_channels: int, out_channels: int) -> list[str]:
    """What vgg_block(num_convs, in_channels, out_channels) must hold, layer for layer."""
    lines = []
    for i in range(num_convs):
        lines.append(describe(nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1, device="meta")))
        lines.append("ReLU()")
    return lines + ["MaxPool2d(kernel_size=(2, 2), stride=(2, 2))"]


def expected_classifier(last_channels: int, num_classes: int) -> list[str]:
    return ["Flatten()", f"Linear({last_channels * 7 * 7}, 4096)", "ReLU()", "Dropout(p=0.5)",
            "Linear(4096, 4096)", "ReLU()", "Dropout(p=0.5)", f"Linear(4096, {num_classes})"]


BATCH_NORM = Mistake("vgg.batch_norm_added",
                     "the book's VGG block has no batch normalization: only Conv2d, ReLU and one MaxPool2d")
CONV_TOO_FEW = Mistake("vgg.one_conv_too_few", "one convolution too few: loop `for _ in range(num_convs)`")
NO_PADDING = Mistake("vgg.no_padding", "use padding=1 so that the 3x3 convolution keeps height and width")
KERNEL_SIZE = Mistake("vgg.kernel_not_3x3", "the convolutions are 3x3: nn.Conv2d(..., kernel_size=3, padding=1)")
NO_RELU = Mistake("vgg.no_relu", "put an nn.ReLU() after every convolution")
RELU_FIRST = Mistake("vgg.relu_before_conv",
                     "each convolution comes first, then its ReLU: Conv2d, ReLU, Conv2d, ReLU, ..., MaxPool2d")
CHANNELS_NOT_UPDATED = Mistake("vgg.block_channels_not_updated", (
    "set in_channels = out_channels after the first convolution: the later ones map out_channels to out_channels"))
AVG_POOL = Mistake("vgg.average_pooling", "VGG pools with nn.MaxPool2d, not average pooling")
POOL_PER_CONV = Mistake("vgg.pool_after_every_conv",
                        "pool once per block, after the loop over the convolutions, not after every convolution")
POOL_STRIDE = Mistake("vgg.pool_stride_one", "the pooling must have stride 2: nn.MaxPool2d(kernel_size=2, stride=2)")


def block_mistake(actual: list[str], num_convs: int, in_channels: int, out_channels: int) -> Mistake | None:
    """The mistake that the layer lines ``actual`` of a block show, read from the layers themselves."""
    convs = [line for line in actual if line.startswith("Conv2d(")]
    pools = [line for line in actual if "Pool" in line.split("(")[0]]
    if any("BatchNorm" in line for line in actual):
        return BATCH_NORM
    if len(convs) == num_convs - 1:
        return CONV_TOO_FEW
    if any("padding=(0, 0)" in line for line in convs):
        return NO_PADDING
    if any("kernel_size=(3, 3)" not in line for line in convs):
        return KERNEL_SIZE
    if convs and "ReLU()" not in actual:
        return NO_RELU
    if actual and actual[0] == "ReLU()":
        return RELU_FIRST
    if num_convs >= 2 and in_channels != out_channels and convs and all(line.startswith(f"Conv2d({in_channels}, ") for line in convs):
        return CHANNELS_NOT_UPDATED
    if any(line.startswith("AvgPool2d") for line in pools):
        return AVG_POOL
    if len(pools) > 1:
        return POOL_PER_CONV
    if any("stride=(1, 1)" in line for line in pools):
        return POOL_STRIDE
    return None


SHARED_WEIGHTS = Mistake("vgg.shared_conv_weights", (
    "`[conv, relu] * n` repeats the same layer objects, which then share their weights; create a new "
    "nn.Conv2d in each pass of the loop"))
IGNORES_IN_CHANNELS = Mistake("vgg.ignores_in_channels", (
    "use the in_channels argument for the first block (the book fixes in_channels = 1 inside vgg)"))
NO_DROPOUT = Mistake("vgg.no_dropout", "put nn.Dropout(0.5) after each of the two hidden ReLUs")
IGNORES_NUM_CLASSES = Mistake("vgg.ignores_num_classes", "the last Linear layer has num_classes outputs (the book fixes 10)")


def _first_conv(block) -> str:
    convs = [describe(layer) for layer in layers(block) if isinstance(layer, nn.Conv2d)]
    return convs[0] if convs else ""


def network_mistake(net, conv_arch, in_channels: int, num_classes: int) -> Mistake | None:
    """The mistake that vgg's network shows in its layers: the channels it chains, its blocks, its classifier."""
    children = list(net) if isinstance(net, nn.Sequential) else []
    if len(children) <= len(conv_arch) or not all(isinstance(block, nn.Sequential) for block in children[:len(conv_arch)]):
        return None  # not one entry per block: the layers cannot be read block by block
    firsts = [_first_conv(block) for block in children[:len(conv_arch)]]
    if in_channels != 1 and firsts[0].startswith("Conv2d(1, "):
        return IGNORES_IN_CHANNELS
    if any(conv_arch[i - 1][1] != in_channels and first.startswith(f"Conv2d({in_channels}, ")
           for i, first in enumerate(firsts) if i > 0):
        return CHAIN_CHANNELS
    channels = in_channels
    for block, (num_convs, out_channels) in zip(children, conv_arch):
        mistake = block_mistake([describe(layer) for layer in layers(block)], num_convs, channels, out_channels)
        if mistake:
            return mistake
        channels = out_channels
    classifier = [describe(layer) for child in children[len(conv_arch):] for layer in layers(child)]
    linears = [line for line in classifier if line.startswith("Linear(")]
    if not any(line.startswith("Dropout") for line in classifier):
        return NO_DROPOUT
    after_flatten = classifier[1] if len(classifier) > 1 and classifier[0] == "Flatten()" else ""
    if after_flatten.startswith("Linear(") and not after_flatten.startswith(f"Linear({channels * 7 * 7}, "):
        return FLATTEN_SIZE
    if linears and not linears[-1].endswith(f", {num_classes})"):
        return IGNORES_NUM_CLASSES
    return None


class _Listing(list):
    """A list of layer lines shown one per line in a failure message."""

    def __repr__(self) -> str:
        return "".join(f"\n      {i:2d}: {line}" for i, line in enumerate(self)) or "[]"


def compare(actual: list[str], expected: list[str], summary: str, *, mistake: Mistake | None = None) -> None:
    """Fail naming the first layer that differs, with both lists shown."""
    if actual == expected:
        return
    index = next((i for i, (a, e) in enumerate(zip(actual, expected)) if a != e), min(len(actual), len(expected)))
    got = actual[index] if index < len(actual) else "(no more layers)"
    want = expected[index] if index < len(expected) else "(no more layers)"
    fail(f"{summary}: layer {index} is {got}, expected {want}", mistake=mistake,
         expected_layers=_Listing(expected), got_layers=_Listing(actual))


def build_on_meta(make):
    """Call ``make()`` with the default device set to 'meta': no weights are allocated."""
    with torch.device("meta"):
        return make()


BOOK_SIGNATURE = Mistake("vgg.book_signature", (
    "vgg takes in_channels and num_classes as parameters (defaults 1 and 10): "
    "def vgg(conv_arch, in_channels=1, num_classes=10). The book's vgg(conv_arch) fixes "
    "in_channels = 1 and 10 classes inside the body, which the contract does not allow"))
CHAIN_CHANNELS = Mistake("vgg.chain_channels", (
    "each block's in_channels must be the previous block's out_channels (the network's in_channels for the "
    "first block): set in_channels = out_channels in the loop over conv_arch"))
FLATTEN_SIZE = Mistake("vgg.flatten_size", (
    "the first Linear layer takes the last block's out_channels * 7 * 7 features (the blocks halve the input "
    "down to 7x7)"))


def call_vgg(impl, conv_arch, **kwargs):
    """``impl.vgg(conv_arch, **kwargs)`` built on the 'meta' device; a clear failure when the
    keyword arguments are not accepted (the book's signature is vgg(conv_arch))."""
    try:
        return build_on_meta(lambda: impl.vgg(conv_arch, **kwargs))
    except TypeError as error:
        if kwargs and "argument" in str(error):
            arguments = ", ".join(f"{name}={value!r}" for name, value in kwargs.items())
            fail(f"vgg({conv_arch!r}, {arguments}) raised TypeError: {error}", mistake=BOOK_SIGNATURE)
        raise


def trace(net, n_blocks: int, X, explain=None) -> list[tuple[str, tuple[int, ...]]]:
    """Run ``X`` through ``net``: the first ``n_blocks`` entries whole, then the remaining
    layers one by one; the (layer, output shape) after each step. A failure names the mistake
    ``explain()`` reads from the network's layers."""
    steps = [(f"block {i}", child) for i, child in enumerate(list(net)[:n_blocks])]
    steps += [(describe(layer), layer) for child in list(net)[n_blocks:] for layer in layers(child)]
    shapes = []
    for name, step in steps:
        try:
            X = step(X)
        except RuntimeError as error:
            if is_stub(error):
                raise
            fail(f"the network failed in {name} on an input of shape {tuple(X.shape)}: {error}",
                 mistake=explain, shapes_so_far=shapes)
        shapes.append((name, tuple(X.shape)))
    return shapes
