"""Tensors that behave as if they were on a GPU, on a machine without one.

``on_accelerator(t)`` returns ``t`` as an :class:`AcceleratorTensor`: its values live on the
CPU, but it reports ``cuda:0`` as its device and refuses what a real GPU tensor refuses:
``.numpy()`` (and numpy conversions) before ``.cpu()``, and any operation that mixes it
with a CPU tensor of one or more dimensions (0-dimensional CPU tensors are allowed, as
CUDA allows them). ``.cpu()`` and ``.to("cpu")`` give a plain tensor back; ``.item()``,
``float()`` and ``.tolist()`` work as on a GPU. While :func:`accelerator_mode` is active,
tensors that code creates with ``device=<that tensor's device>`` are made accelerator
tensors too, so code written for any device runs unchanged.
"""
from __future__ import annotations

import contextlib

import torch
from torch.overrides import TorchFunctionMode

DEVICE = torch.device("cuda", 0)
MIXED = ("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu! "
         "(a tensor on the CPU was combined with one on the GPU)")
TO_NUMPY = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host "
            "memory first.")


class AcceleratorTensor(torch.Tensor):
    """A CPU tensor that reports, and behaves like, a tensor on ``cuda:0`` (see the module docstring)."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func == torch.Tensor.device.__get__:  # method-wrappers compare equal, never identical
            return DEVICE
        if func == torch.Tensor.is_cuda.__get__:
            return True
        if func in (torch.Tensor.numpy, torch.Tensor.__array__):
            raise TypeError(TO_NUMPY)
        if func is torch.Tensor.cpu or (func is torch.Tensor.to and _to_cpu(args[1:], kwargs)):
            with torch._C.DisableTorchFunctionSubclass():
                result = func(*_plain(args), **_plain(kwargs))
            return result.as_subclass(torch.Tensor)
        if any(_is_cpu_tensor(a) for a in _flatten((args, kwargs))):
            raise RuntimeError(MIXED)
        kwargs = {k: (torch.device("cpu") if k == "device" and _is_accelerator(v) else v) for k, v in kwargs.items()}
        if func is torch.Tensor.to:
            args = (args[0],) + tuple(torch.device("cpu") if _is_accelerator(a) else a for a in args[1:])
        with torch._C.DisableTorchFunctionSubclass():
            result = func(*args, **kwargs)
        return _wrap(result)


def on_accelerator(tensor: torch.Tensor) -> AcceleratorTensor:
    return tensor.detach().clone().requires_grad_(tensor.requires_grad).as_subclass(AcceleratorTensor)


class _FactoriesOnAccelerator(TorchFunctionMode):
    """Tensors created with ``device='cuda'`` (or ``cuda:0``) are made as AcceleratorTensors."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _is_accelerator(kwargs.get("device")):
            kwargs = {**kwargs, "device": torch.device("cpu")}
            return _wrap(func(*args, **kwargs))
        return func(*args, **kwargs)


@contextlib.contextmanager
def accelerator_mode():
    with _FactoriesOnAccelerator():
        yield


def _is_accelerator(device) -> bool:
    try:
        return device is not None and torch.device(device).type == "cuda"
    except (TypeError, RuntimeError):
        return False


def _to_cpu(args, kwargs) -> bool:
    targets = [a for a in args if isinstance(a, (str, torch.device))] + [kwargs.get("device")]
    return any(t is not None and torch.device(t).type == "cpu" for t in targets)


def _is_cpu_tensor(value) -> bool:
    return isinstance(value, torch.Tensor) and not isinstance(value, AcceleratorTensor) and value.dim() > 0


def _flatten(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    else:
        yield value


def _plain(value):
    if isinstance(value, AcceleratorTensor):
        return value.as_subclass(torch.Tensor)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _wrap(value):
    if isinstance(value, torch.Tensor) and not isinstance(value, AcceleratorTensor):
        return value.as_subclass(AcceleratorTensor)
    if isinstance(value, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in value):
        return type(value)(_wrap(v) for v in value) if not hasattr(value, "_fields") else type(value)(*map(_wrap, value))
    return value
