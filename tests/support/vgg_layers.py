"""Layer lists for the vgg checks: flatten nested nn.Sequential, describe each layer in one
normalised line (int vs tuple sizes, ReLU inplace or not), and build the lists the contract
asks for, so that a student's network can be compared layer for layer."""
from __future__ import annotations

import torch
from torch import nn

from tests.support.report import fail


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


def block_hint(actual: list[str], num_convs: int, in_channels: int, out_channels: int) -> str | None:
    """The likely mistake behind a block whose layers differ from the contract's."""
    convs = [line for line in actual if line.startswith("Conv2d(")]
    pools = [line for line in actual if "Pool" in line.split("(")[0]]
    if any("BatchNorm" in line for line in actual):
        return "the book's VGG block has no batch normalization: only Conv2d, ReLU and one MaxPool2d"
    if len(convs) == num_convs - 1:
        return "one convolution too few: loop `for _ in range(num_convs)`"
    if any("padding=(0, 0)" in line for line in convs):
        return "use padding=1 so that the 3x3 convolution keeps height and width"
    if any("kernel_size=(3, 3)" not in line for line in convs):
        return "the convolutions are 3x3: nn.Conv2d(..., kernel_size=3, padding=1)"
    if "ReLU()" not in actual:
        return "put an nn.ReLU() after every convolution"
    if actual and actual[0] == "ReLU()":
        return "each convolution comes first, then its ReLU: Conv2d, ReLU, Conv2d, ReLU, ..., MaxPool2d"
    if num_convs >= 2 and in_channels != out_channels and convs and all(line.startswith(f"Conv2d({in_channels}, ") for line in convs):
        return "set in_channels = out_channels after the first convolution: the later ones map out_channels to out_channels"
    if any(line.startswith("AvgPool2d") for line in pools):
        return "VGG pools with nn.MaxPool2d, not average pooling"
    if len(pools) > 1:
        return "pool once per block, after the loop over the convolutions, not after every convolution"
    if any("stride=(1, 1)" in line for line in pools):
        return "the pooling must have stride 2: nn.MaxPool2d(kernel_size=2, stride=2)"
    return None


class _Listing(list):
    """A list of layer lines shown one per line in a failure message."""

    def __repr__(self) -> str:
        return "".join(f"\n      {i:2d}: {line}" for i, line in enumerate(self)) or "[]"


def compare(actual: list[str], expected: list[str], summary: str, *, hint: str | None = None) -> None:
    """Fail naming the first layer that differs, with both lists shown."""
    if actual == expected:
        return
    index = next((i for i, (a, e) in enumerate(zip(actual, expected)) if a != e), min(len(actual), len(expected)))
    got = actual[index] if index < len(actual) else "(no more layers)"
    want = expected[index] if index < len(expected) else "(no more layers)"
    fail(f"{summary}: layer {index} is {got}, expected {want}", hint=hint,
         expected_layers=_Listing(expected), got_layers=_Listing(actual))


def build_on_meta(make):
    """Call ``make()`` with the default device set to 'meta': no weights are allocated."""
    with torch.device("meta"):
        return make()


BOOK_SIGNATURE_HINT = (
    "vgg takes in_channels and num_classes as parameters (defaults 1 and 10): "
    "def vgg(conv_arch, in_channels=1, num_classes=10). The book's vgg(conv_arch) fixes "
    "in_channels = 1 and 10 classes inside the body, which the contract does not allow"
)


def call_vgg(impl, conv_arch, **kwargs):
    """``impl.vgg(conv_arch, **kwargs)`` built on the 'meta' device; a clear failure when the
    keyword arguments are not accepted (the book's signature is vgg(conv_arch))."""
    try:
        return build_on_meta(lambda: impl.vgg(conv_arch, **kwargs))
    except TypeError as error:
        if kwargs and "argument" in str(error):
            arguments = ", ".join(f"{name}={value!r}" for name, value in kwargs.items())
            fail(f"vgg({conv_arch!r}, {arguments}) raised TypeError: {error}", hint=BOOK_SIGNATURE_HINT)
        raise


def trace(net, n_blocks: int, X) -> list[tuple[str, tuple[int, ...]]]:
    """Run ``X`` through ``net``: the first ``n_blocks`` entries whole, then the remaining
    layers one by one; the (layer, output shape) after each step."""
    steps = [(f"block {i}", child) for i, child in enumerate(list(net)[:n_blocks])]
    steps += [(describe(layer), layer) for child in list(net)[n_blocks:] for layer in layers(child)]
    shapes = []
    for name, step in steps:
        try:
            X = step(X)
        except NotImplementedError:
            raise
        except RuntimeError as error:
            hint = None
            if name.startswith("block ") and "channel" in str(error):
                hint = ("each block's in_channels must be the previous block's out_channels "
                        "(the network's in_channels for the first block)")
            elif name.startswith("block ") and "too small" in str(error):
                hint = "a block keeps the size through its convolutions (3x3, padding=1) and halves it in the pooling"
            elif name.startswith("Linear(") and not any(step.startswith("Linear(") for step, _ in shapes):
                hint = "the first Linear layer takes the last block's out_channels * 7 * 7 features (the blocks halve the input down to 7x7)"
            fail(f"the network failed in {name} on an input of shape {tuple(X.shape)}: {error}",
                 hint=hint, shapes_so_far=shapes)
        shapes.append((name, tuple(X.shape)))
    return shapes
