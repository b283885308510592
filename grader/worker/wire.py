"""The wire format between the checker and a worker: framed messages of plain data.

A frame is an 8-byte big-endian length of a JSON header, the header, then the raw buffers the
header lists. Values are JSON, with tagged objects for what JSON lacks (tuples, floats bit for
bit, dicts with any plain keys, dtypes, devices, tensors as dtype + shape + device + a raw
buffer). Nothing is ever unpickled, and decoding refuses anything else: an untrusted peer can
send wrong data, never code.
"""
from __future__ import annotations

import json
import math
import socket
import struct

import torch

MAX_HEADER = 64 << 20
MAX_BUFFERS = 512 << 20
MAX_DEPTH = 40
_LENGTH = struct.Struct(">QQ")  # header length, total buffer length

DTYPES = {str(dtype).removeprefix("torch."): dtype for dtype in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)}
# bfloat16 has no numpy twin: its bytes travel as int16.
_CARRIER = {torch.bfloat16: torch.int16}


class OneShot(list):
    """The items of a generator: sent as a list, received as a one-shot iterator, so that code
    that walks a generator twice behaves in the worker as it would in one process."""


class OneShotIterator:
    """What a :class:`OneShot` arrives as: an iterator over its items, walked once."""

    def __init__(self, items: list):
        self.items = items
        self._rest = iter(items)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._rest)


class WireError(Exception):
    """A message that does not follow the wire format."""


def accelerator_class():
    """tests.common.devices.AcceleratorTensor, imported only when a message holds one."""
    from tests.common.devices import AcceleratorTensor

    return AcceleratorTensor


def encode(value, buffers: list[bytes], handles=None, depth: int = 0, aliases=None):
    """``value`` as JSON-able data, appending raw tensor bytes to ``buffers``. ``handles`` maps
    objects that are not data to ids (the worker's side only); without it they are refused.
    ``aliases`` maps ``id(tensor)`` to an index: such a tensor travels as a reference to the
    receiver's own tensor of that index (a function that returns its input unchanged)."""
    if depth > MAX_DEPTH:
        raise WireError("a value nested too deeply to send")
    if aliases and isinstance(value, torch.Tensor) and id(value) in aliases:
        return {"$": "alias", "v": aliases[id(value)]}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**62 else {"$": "bigint", "v": str(value)}
    if isinstance(value, float):
        return {"$": "float", "v": value.hex() if math.isfinite(value) else repr(value)}
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, buffers)
    if isinstance(value, torch.Size):
        return {"$": "size", "v": list(value)}
    if isinstance(value, OneShot):
        return {"$": "iter", "v": [encode(item, buffers, handles, depth + 1, aliases) for item in value]}
    if isinstance(value, (list, tuple)):
        items = [encode(item, buffers, handles, depth + 1, aliases) for item in value]
        return items if type(value) is list else {"$": "tuple", "v": items}
    if isinstance(value, dict):
        return {"$": "dict", "v": [[encode(k, buffers, handles, depth + 1, aliases), encode(v, buffers, handles, depth + 1, aliases)]
                                   for k, v in value.items()]}
    if isinstance(value, torch.dtype):
        return {"$": "dtype", "v": str(value).removeprefix("torch.")}
    if isinstance(value, torch.device):
        return {"$": "device", "v": str(value)}
    if isinstance(value, torch.nn.Module):
        return _encode_module(value, buffers, depth)
    if handles is not None:
        return {"$": "handle", "v": handles(value), "type": _type_name(value)}
    raise WireError(f"cannot send a {_type_name(value)}: only tensors and plain values cross to the worker")


def _type_name(value) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _encode_tensor(tensor: torch.Tensor, buffers: list[bytes]) -> dict:
    dtype = tensor.dtype
    if dtype not in _CARRIER and str(dtype).removeprefix("torch.") not in DTYPES:
        raise WireError(f"cannot send a tensor of dtype {dtype}")
    accelerator = type(tensor).__name__ == "AcceleratorTensor"
    plain = tensor.as_subclass(torch.Tensor) if accelerator else tensor
    device = "accelerator" if accelerator else plain.device.type
    record = {"$": "tensor", "dtype": str(dtype).removeprefix("torch."), "shape": list(plain.shape),
              "device": device if device in ("meta", "accelerator") else str(plain.device),
              "requires_grad": bool(plain.requires_grad), "parameter": isinstance(tensor, torch.nn.Parameter)}
    grad = tensor.grad if tensor.is_leaf else None
    if grad is not None:
        record["grad"] = _encode_tensor(grad, buffers)
    if plain.device.type != "meta":
        data = plain.detach().to("cpu").contiguous()
        data = data.view(_CARRIER[dtype]) if dtype in _CARRIER else data
        record["buf"] = len(buffers)
        buffers.append(data.numpy().tobytes() if data.numel() else b"")
    return record


def decode(data, buffers: list[memoryview], handles=None, depth: int = 0, aliases=None):
    """The value ``encode`` described; ``handles`` turns a handle id back into an object and
    ``aliases`` is the list of tensors an alias refers to."""
    if depth > MAX_DEPTH:
        raise WireError("a value nested too deeply")
    if data is None or isinstance(data, (bool, str, int, float)):
        return data
    if isinstance(data, list):
        return [decode(item, buffers, handles, depth + 1, aliases) for item in data]
    if not isinstance(data, dict) or not isinstance(data.get("$"), str):
        raise WireError(f"not a value of the wire format: {str(data)[:80]}")
    tag, v = data["$"], data.get("v")
    if tag == "float":
        return float.fromhex(v) if v not in ("nan", "inf", "-inf") else float(v)
    if tag == "bigint":
        return int(v)
    if tag == "iter":
        return OneShotIterator([decode(item, buffers, handles, depth + 1, aliases) for item in v])
    if tag == "tuple":
        return tuple(decode(item, buffers, handles, depth + 1, aliases) for item in v)
    if tag == "dict":
        return {decode(k, buffers, handles, depth + 1): decode(item, buffers, handles, depth + 1, aliases) for k, item in v}
    if tag == "dtype":
        return _dtype(v)
    if tag == "device":
        return torch.device(v)
    if tag == "size":
        return torch.Size(_shape(v))
    if tag == "tensor":
        return _decode_tensor(data, buffers)
    if tag == "alias" and aliases is not None and type(v) is int and 0 <= v < len(aliases):
        return aliases[v]
    if tag == "module":
        return _decode_module(data, buffers, depth)
    if tag == "handle" and handles is not None:
        return handles(v, data.get("type", "object"))
    raise WireError(f"unknown tag {tag!r} in a message")


def _dtype(name):
    if name not in DTYPES:
        raise WireError(f"unknown dtype {name!r}")
    return DTYPES[name]


def _shape(shape) -> list[int]:
    if not isinstance(shape, list) or len(shape) > 16 or not all(type(n) is int and 0 <= n < 2**40 for n in shape):
        raise WireError(f"not a tensor shape: {shape!r}")
    return shape


def _decode_tensor(data: dict, buffers) -> torch.Tensor:
    dtype, shape, device = _dtype(data.get("dtype")), _shape(data.get("shape")), data.get("device")
    if device == "meta":
        tensor = torch.empty(shape, dtype=dtype, device="meta")
    else:
        index = data.get("buf")
        if type(index) is not int or not 0 <= index < len(buffers):
            raise WireError("a tensor without its buffer")
        carrier = _CARRIER.get(dtype, dtype)
        raw = buffers[index]
        numel = math.prod(shape)
        if len(raw) != numel * carrier.itemsize:
            raise WireError(f"a tensor of shape {shape} and dtype {dtype} with {len(raw)} bytes")
        flat = torch.frombuffer(bytearray(raw), dtype=carrier) if numel else torch.empty(0, dtype=carrier)
        # A tensor of its own, not a view of the buffer: autograd treats views differently.
        tensor = (flat.view(dtype) if carrier is not dtype else flat).reshape(shape).clone()
        if device not in ("cpu", "accelerator"):
            tensor = tensor.to(device)
    if data.get("parameter"):
        tensor = torch.nn.Parameter(tensor, requires_grad=bool(data.get("requires_grad")))
    elif data.get("requires_grad"):
        tensor.requires_grad_(True)
    if device == "accelerator":
        tensor = tensor.as_subclass(accelerator_class())
    if isinstance(data.get("grad"), dict):
        tensor.grad = _decode_tensor(data["grad"], buffers)
    return tensor


# --- modules made of torch.nn's own layers travel as data: class, hyper-parameters, tensors

_LAYERS = {  # class name -> the constructor arguments read back from its attributes
    "Identity": (), "ReLU": (), "Sigmoid": (), "Tanh": (), "Softmax": ("dim",), "Flatten": ("start_dim", "end_dim"),
    "Linear": ("in_features", "out_features"), "Dropout": ("p",),
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "padding_mode"),
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode"), "AdaptiveAvgPool2d": ("output_size",),
    "Sequential": (),
}
_HAS_BIAS = ("Linear", "Conv2d")


def module_tensors(module: torch.nn.Module) -> list[torch.Tensor]:
    """A module's parameters, then its buffers, in the order both sides list them."""
    return list(module.parameters()) + [b for b in module.buffers() if b is not None]


def _encode_module(module: torch.nn.Module, buffers: list[bytes], depth: int, root: bool = True) -> dict:
    name = type(module).__name__
    if type(module).__module__.split(".")[:2] != ["torch", "nn"] or name not in _LAYERS:
        raise WireError(f"cannot send a {_type_name(module)}: only modules made of torch.nn's own layers "
                        f"({', '.join(sorted(_LAYERS))}) cross to the worker")
    init = {arg: encode(getattr(module, arg), buffers, depth=depth + 1) for arg in _LAYERS[name]}
    if name in _HAS_BIAS:
        init["bias"] = module.bias is not None
    children = [_encode_module(child, buffers, depth + 1, root=False) for child in module.children()]
    record = {"$": "module", "class": name, "init": init, "children": children, "training": module.training}
    if root:  # the tensors of the whole tree, once, in module_tensors order
        record["tensors"] = [_encode_tensor(t, buffers) for t in module_tensors(module)]
    return record


def _decode_module(data: dict, buffers, depth: int) -> torch.nn.Module:
    name = data.get("class")
    if name not in _LAYERS:
        raise WireError(f"unknown layer {name!r}")
    init = {arg: decode(value, buffers, depth=depth + 1) for arg, value in data.get("init", {}).items()}
    if set(init) - set(_LAYERS[name]) - {"bias"}:
        raise WireError(f"unknown arguments for {name}")
    children = [_decode_module(child, buffers, depth + 1) for child in data.get("children", [])]
    with torch.device("meta"):  # the values come next; no time spent initializing them
        module = getattr(torch.nn, name)(*children, **init)
    module.train(bool(data.get("training", True)))
    if "tensors" not in data:
        return module  # a child: its root fills in the tensors of the whole tree
    tensors = data["tensors"]
    slots = [(owner, key) for owner in module.modules() for key, t in owner._parameters.items() if t is not None]
    slots += [(owner, key) for owner in module.modules() for key, t in owner._buffers.items() if t is not None]
    if len(slots) != len(tensors):
        raise WireError(f"a {name} with {len(tensors)} tensors for {len(slots)} places")
    for (owner, key), record in zip(slots, tensors):
        value = _decode_tensor(record, buffers)
        if key in owner._parameters:
            owner._parameters[key] = torch.nn.Parameter(value.detach(), requires_grad=bool(record.get("requires_grad")))
            if value.grad is not None:
                owner._parameters[key].grad = value.grad
        else:
            owner._buffers[key] = value
    return module


def tensors_in(value) -> list[torch.Tensor]:
    """The tensors in a value, in the order encode and decode visit them."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, torch.nn.Module):
        return module_tensors(value)
    if isinstance(value, OneShotIterator):
        return tensors_in(value.items)
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in tensors_in(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in tensors_in(item)]
    return []


def send(sock: socket.socket, header: dict, values: dict | None = None, handles=None, aliases=None) -> None:
    """Send one message: ``header`` (plain JSON) and ``values``, encoded under their names."""
    buffers: list[bytes] = []
    header = dict(header)
    for name, value in (values or {}).items():
        header[name] = encode(value, buffers, handles, aliases=aliases)
    header["buffers"] = [len(b) for b in buffers]
    text = json.dumps(header, allow_nan=False).encode()
    total = sum(header["buffers"])
    sock.sendall(_LENGTH.pack(len(text), total) + text + b"".join(buffers))


def receive(sock: socket.socket) -> tuple[dict, list[memoryview]]:
    """One message: its header and its buffers (decode ``header["value"]`` with :func:`decode`)."""
    header_length, total = _LENGTH.unpack(_read(sock, _LENGTH.size))
    if header_length > MAX_HEADER or total > MAX_BUFFERS:
        raise WireError(f"a message of {header_length + total} bytes is over the limit")
    header = json.loads(_read(sock, header_length))
    lengths = header.get("buffers", [])
    if not isinstance(header, dict) or not all(type(n) is int and n >= 0 for n in lengths) or sum(lengths) != total:
        raise WireError("a message whose buffers do not add up")
    payload = memoryview(_read(sock, total))
    buffers, start = [], 0
    for n in lengths:
        buffers.append(payload[start:start + n])
        start += n
    return header, buffers


def _read(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
