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
import time

import torch

MAX_HEADER = 64 << 20
MAX_BUFFERS = 512 << 20
MAX_DEPTH = 40
_LENGTH = struct.Struct(">QQ")  # header length, total buffer length
# bfloat16 has no numpy twin: its bytes travel as int16.
_CARRIER = {torch.bfloat16: torch.int16}
_JOIN_BELOW = 1 << 16  # a message with fewer bytes of tensors than this is sent in one piece

DTYPES = {str(dtype).removeprefix("torch."): dtype for dtype in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)}


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


def encode(value, buffers: list[bytes], objects=None, depth: int = 0, aliases=None):
    """``value`` as JSON-able data, appending raw tensor bytes to ``buffers``. ``objects`` (the
    worker's side only) keeps a module that is not made of torch.nn's own layers and gives its
    id: it travels as that id and its tensors (see :func:`object_state`); without it, such a
    module is refused.
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
        return {"$": "iter", "v": [encode(item, buffers, objects, depth + 1, aliases) for item in value]}
    if isinstance(value, (list, tuple)):
        items = [encode(item, buffers, objects, depth + 1, aliases) for item in value]
        return items if type(value) is list else {"$": "tuple", "v": items}
    if isinstance(value, dict):
        return {"$": "dict", "v": [[encode(k, buffers, objects, depth + 1, aliases), encode(v, buffers, objects, depth + 1, aliases)]
                                   for k, v in value.items()]}
    if isinstance(value, torch.dtype):
        return {"$": "dtype", "v": str(value).removeprefix("torch.")}
    if isinstance(value, torch.device):
        return {"$": "device", "v": str(value)}
    if isinstance(value, torch.nn.Module):
        return _encode_module(value, buffers, depth, _Memo(objects, aliases))
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
        record["buf"] = len(buffers)
        if data.numel() * data.element_size() >= _JOIN_BELOW:  # sent from its own memory, not copied first
            buffers.append(memoryview(data.reshape(-1).view(torch.uint8).numpy()))
        else:
            data = data.view(_CARRIER[dtype]) if dtype in _CARRIER else data
            buffers.append(data.numpy().tobytes() if data.numel() else b"")
    return record


def decode(data, buffers: list[memoryview], objects=None, depth: int = 0, aliases=None):
    """The value ``encode`` described; ``objects(id, record, state)`` (the checker's side) turns a
    module kept in the worker into its stand-in here, and
    ``aliases`` is the list of tensors an alias refers to."""
    if depth > MAX_DEPTH:
        raise WireError("a value nested too deeply")
    if data is None or isinstance(data, (bool, str, int, float)):
        return data
    if isinstance(data, list):
        return [decode(item, buffers, objects, depth + 1, aliases) for item in data]
    if not isinstance(data, dict) or not isinstance(data.get("$"), str):
        raise WireError(f"not a value of the wire format: {str(data)[:80]}")
    tag, v = data["$"], data.get("v")
    if tag == "float":
        return float.fromhex(v) if v not in ("nan", "inf", "-inf") else float(v)
    if tag == "bigint":
        return int(v)
    if tag == "iter":
        return OneShotIterator([decode(item, buffers, objects, depth + 1, aliases) for item in v])
    if tag == "tuple":
        return tuple(decode(item, buffers, objects, depth + 1, aliases) for item in v)
    if tag == "dict":
        return {decode(k, buffers, objects, depth + 1): decode(item, buffers, objects, depth + 1, aliases) for k, item in v}
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
    if tag in ("module", "object"):
        return _decode_module(data, buffers, depth, _Memo(objects, aliases))
    raise WireError(f"unknown tag {tag!r} in a message")


def _dtype(name):
    if name not in DTYPES:
        raise WireError(f"unknown dtype {name!r}")
    return DTYPES[name]


def _shape(shape) -> list[int]:
    if not isinstance(shape, list) or len(shape) > 16 or not all(type(n) is int and 0 <= n < 2**40 for n in shape):
        raise WireError(f"not a tensor shape: {shape!r}")
    return shape


def _copied_out(raw, dtype: torch.dtype, shape: list[int]) -> torch.Tensor:
    """A tensor of its own holding ``raw``'s bytes: not a view of the message (autograd treats
    views differently), and aligned whatever the buffer's offset in the message."""
    flat = torch.frombuffer(raw if isinstance(raw, memoryview) and not raw.readonly else bytearray(raw), dtype=torch.uint8)
    if flat.data_ptr() % dtype.itemsize == 0:
        return flat.view(dtype).reshape(shape).clone()
    tensor = torch.empty(shape, dtype=dtype)
    tensor.view(-1).view(torch.uint8).copy_(flat)
    return tensor


def _decode_tensor(data: dict, buffers) -> torch.Tensor:
    dtype, shape, device = _dtype(data.get("dtype")), _shape(data.get("shape")), data.get("device")
    if device == "meta":
        tensor = torch.empty(shape, dtype=dtype, device="meta")
    else:
        index = data.get("buf")
        if type(index) is not int or not 0 <= index < len(buffers):
            raise WireError("a tensor without its buffer")
        raw = buffers[index]
        numel = math.prod(shape)
        if len(raw) != numel * dtype.itemsize:
            raise WireError(f"a tensor of shape {shape} and dtype {dtype} with {len(raw)} bytes")
        if len(raw) >= _JOIN_BELOW:
            tensor = _copied_out(raw, dtype, shape)
        else:
            carrier = _CARRIER.get(dtype, dtype)
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
    "Identity": (), "ReLU": (), "Sigmoid": (), "Tanh": (), "GELU": ("approximate",), "LeakyReLU": ("negative_slope",),
    "Softmax": ("dim",), "Flatten": ("start_dim", "end_dim"),
    "Linear": ("in_features", "out_features"), "Dropout": ("p",),
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "padding_mode"),
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode"), "AdaptiveAvgPool2d": ("output_size",),
    "BatchNorm1d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "BatchNorm2d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "Sequential": (),
}
_HAS_BIAS = ("Linear", "Conv2d")


class _Memo:
    """What one message has sent of a module tree so far: a module or tensor met twice (a layer
    appended twice, a weight shared) travels once, then as a reference to its first place."""

    def __init__(self, objects=None, aliases=None):
        self.objects, self.aliases = objects, aliases
        self.modules: dict[int, int] = {}
        self.tensors: dict[int, int] = {}
        self.decoded_modules: list = []
        self.decoded_tensors: list = []


def module_tensors(module: torch.nn.Module) -> list[torch.Tensor]:
    """A module's parameters, then its buffers, in the order both sides list them."""
    return list(module.parameters()) + [b for b in module.buffers() if b is not None]


def is_layer(module: torch.nn.Module) -> bool:
    """One of torch.nn's own layers that travels as data: its very class, not a subclass or a
    class that only names itself so (a subclass's forward is the student's code)."""
    name = type(module).__name__
    return name in _LAYERS and type(module) is getattr(torch.nn, name, None)


def object_state(module: torch.nn.Module) -> dict:
    """A module's state as the checker mirrors it: per submodule path, the training flag, the
    parameters, the buffers and the plain tensor attributes (a moving mean kept as ``self.x``)."""
    state = {"training": [], "params": [], "buffers": [], "attrs": []}
    for path, owner in module.named_modules(remove_duplicate=False):
        prefix = f"{path}." if path else ""
        state["training"].append([path, bool(owner.training)])
        state["params"] += [[prefix + key, t] for key, t in owner._parameters.items() if t is not None]
        state["buffers"] += [[prefix + key, t] for key, t in owner._buffers.items() if t is not None]
        state["attrs"] += [[prefix + key, t] for key, t in vars(owner).items() if isinstance(t, torch.Tensor)]
    return state


def _encode_module(module: torch.nn.Module, buffers: list[bytes], depth: int, memo: _Memo) -> dict:
    if depth > MAX_DEPTH:
        raise WireError("a module nested too deeply to send")
    if id(module) in memo.modules:
        return {"$": "module_ref", "v": memo.modules[id(module)]}
    memo.modules[id(module)] = len(memo.modules)
    if not is_layer(module):
        if memo.objects is None:
            raise WireError(f"cannot send a {_type_name(module)}: only modules made of torch.nn's own layers "
                            f"({', '.join(sorted(_LAYERS))}) cross to the worker")
        return {"$": "object", "v": memo.objects(module), "class": type(module).__name__,
                "repr": repr(module)[:2000], "state": encode(object_state(module), buffers, depth=depth + 1,
                                                             aliases=memo.aliases)}
    name = type(module).__name__
    init = {arg: encode(getattr(module, arg), buffers, depth=depth + 1) for arg in _LAYERS[name]}
    if name in _HAS_BIAS:
        init["bias"] = module.bias is not None
    return {"$": "module", "class": name, "init": init, "training": module.training,
            "children": [[key, _encode_module(child, buffers, depth + 1, memo)]
                         for key, child in module._modules.items() if child is not None],
            "params": [[key, _encode_slot(t, buffers, memo)] for key, t in module._parameters.items() if t is not None],
            "buffers": [[key, _encode_slot(t, buffers, memo)] for key, t in module._buffers.items() if t is not None]}


def _encode_slot(tensor: torch.Tensor, buffers: list[bytes], memo: _Memo) -> dict:
    if memo.aliases and id(tensor) in memo.aliases:
        return {"$": "alias", "v": memo.aliases[id(tensor)]}
    if id(tensor) in memo.tensors:
        return {"$": "tensor_ref", "v": memo.tensors[id(tensor)]}
    memo.tensors[id(tensor)] = len(memo.tensors)
    return _encode_tensor(tensor, buffers)


def _decode_module(data: dict, buffers, depth: int, memo: _Memo) -> torch.nn.Module:
    if depth > MAX_DEPTH:
        raise WireError("a module nested too deeply")
    if data.get("$") == "module_ref":
        index = data.get("v")
        if type(index) is not int or not 0 <= index < len(memo.decoded_modules):
            raise WireError("a reference to a module not sent before")
        return memo.decoded_modules[index]
    if data.get("$") == "object":
        if memo.objects is None or type(data.get("v")) is not int:
            raise WireError("a module kept in the worker, where none is expected")
        slot = len(memo.decoded_modules)
        memo.decoded_modules.append(None)
        state = decode(data.get("state"), buffers, depth=depth + 1, aliases=memo.aliases)
        module = memo.objects(data["v"], data, state)
        memo.decoded_modules[slot] = module
        return module
    name = data.get("class")
    if name not in _LAYERS:
        raise WireError(f"unknown layer {name!r}")
    init = {arg: decode(value, buffers, depth=depth + 1) for arg, value in data.get("init", {}).items()}
    if set(init) - set(_LAYERS[name]) - {"bias"}:
        raise WireError(f"unknown arguments for {name}")
    slot = len(memo.decoded_modules)
    memo.decoded_modules.append(None)
    children = [(key, _decode_module(child, buffers, depth + 1, memo)) for key, child in _pairs(data.get("children"))]
    with torch.device("meta"):  # the values come next; no time spent initializing them
        module = getattr(torch.nn, name)(**init) if name != "Sequential" else torch.nn.Sequential()
    for key, child in children:
        module._modules[key] = child
    module.train(bool(data.get("training", True)))
    for key in list(module._parameters):
        module._parameters[key] = None
    for key in list(module._buffers):
        module._buffers[key] = None
    for key, record in _pairs(data.get("params")):
        value = _decode_slot(record, buffers, memo)
        if not isinstance(value, torch.nn.Parameter):
            value = torch.nn.Parameter(value.detach(), requires_grad=bool(record.get("requires_grad")))
        module._parameters[key] = value
    for key, record in _pairs(data.get("buffers")):
        module._buffers[key] = _decode_slot(record, buffers, memo)
    memo.decoded_modules[slot] = module
    return module


def _pairs(items) -> list:
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) for i in items):
        raise WireError("a module whose parts are not a list of named values")
    return items


def _decode_slot(record, buffers, memo: _Memo) -> torch.Tensor:
    tag = record.get("$") if isinstance(record, dict) else None
    if tag == "alias" and memo.aliases is not None and type(record.get("v")) is int and 0 <= record["v"] < len(memo.aliases):
        return memo.aliases[record["v"]]
    if tag == "tensor_ref" and type(record.get("v")) is int and 0 <= record["v"] < len(memo.decoded_tensors):
        return memo.decoded_tensors[record["v"]]
    if tag != "tensor":
        raise WireError("a module slot that is not a tensor")
    tensor = _decode_tensor(record, buffers)
    memo.decoded_tensors.append(tensor)
    return tensor


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


def send(sock: socket.socket, header: dict, values: dict | None = None, objects=None, aliases=None) -> None:
    """Send one message: ``header`` (plain JSON) and ``values``, encoded under their names."""
    buffers: list[bytes] = []
    header = dict(header)
    for name, value in (values or {}).items():
        header[name] = encode(value, buffers, objects, aliases=aliases)
    header["buffers"] = [len(b) for b in buffers]
    text = json.dumps(header, allow_nan=False).encode()
    total = sum(header["buffers"])
    head = _LENGTH.pack(len(text), total) + text
    if total < _JOIN_BELOW:  # one write: the peer wakes once
        sock.sendall(head + b"".join(buffers))
        return
    sock.sendall(head)
    for buffer in buffers:  # large tensors are written from their own memory, not copied first
        sock.sendall(buffer)


def receive(sock: socket.socket, deadline: float | None = None) -> tuple[dict, list[memoryview]]:
    """One message: its header and its buffers (decode ``header["value"]`` with :func:`decode`).
    With a ``deadline`` (time.monotonic()), the whole message must have arrived by then, or
    TimeoutError: a sender that trickles a byte at a time cannot stretch a call's limit."""
    header_length, total = _LENGTH.unpack(_read(sock, _LENGTH.size, deadline))
    if header_length > MAX_HEADER or total > MAX_BUFFERS:
        raise WireError(f"a message of {header_length + total} bytes is over the limit")
    header = json.loads(_read(sock, header_length, deadline))
    lengths = header.get("buffers", [])
    if not isinstance(header, dict) or not all(type(n) is int and n >= 0 for n in lengths) or sum(lengths) != total:
        raise WireError("a message whose buffers do not add up")
    payload = memoryview(_read(sock, total, deadline)) if total < _JOIN_BELOW else _read_into(sock, total, deadline)
    buffers, start = [], 0
    for n in lengths:
        buffers.append(payload[start:start + n])
        start += n
    return header, buffers


def _read_into(sock: socket.socket, n: int, deadline: float | None = None) -> memoryview:
    """``n`` bytes read straight into one writable buffer (tensors are decoded from it without
    another copy)."""
    view = memoryview(bytearray(n))
    got = 0
    while got < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the message did not arrive in time")
            sock.settimeout(remaining)
        count = sock.recv_into(view[got:], min(n - got, 1 << 22))
        if not count:
            raise EOFError("the other side closed the connection")
        got += count
    return view


def _read(sock: socket.socket, n: int, deadline: float | None = None) -> bytes:
    chunks, left = [], n
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the message did not arrive in time")
            sock.settimeout(remaining)
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
