"""The source scans read a file as Python reads it, and refuse what reaches into the grader."""
from __future__ import annotations

import pytest

from grader.forbidden import UNREADABLE, scan, scan_tampering

SKLEARN = b"from sklearn.metrics import mean_squared_error\n\ndef log_rmse(net, features, labels):\n    return 0.0\n"


def test_a_byte_order_mark_hides_nothing():
    """A file that starts with a UTF-8 byte-order mark is scanned (Python imports it as if it were not there)."""
    assert "sklearn.metrics" in scan(b"\xef\xbb\xbf" + SKLEARN, ("sklearn.metrics",))


def test_a_declared_encoding_is_honoured():
    """A Latin-1 file with a coding line parses, and a correct one is neither forbidden nor tampering."""
    source = "# -*- coding: latin-1 -*-\n# Übung\nimport torch\n\ndef f(X):\n    return X.exp()\n".encode("latin-1")
    assert scan(source, ("torch.softmax",)) == {}
    assert scan_tampering(source) is None


def test_a_file_that_does_not_parse_is_reported_not_passed():
    assert UNREADABLE in scan(b"def f(:\n", ("torch.softmax",))
    assert scan_tampering(b"def f(:\n")[2] == UNREADABLE


@pytest.mark.parametrize("source, written", [
    ("import importlib\n", "import importlib"),
    ("import grader.worker.watch\n", "import grader.worker.watch"),
    ("from tests.common import devices\n", "import tests.common.devices"),
    ("import gc\n", "import gc"),
    ("from torch.overrides import _get_current_function_mode_stack\n", "import torch.overrides._get_current_function_mode_stack"),
    ("import torch\nx = torch._C\n", "torch._C"),
    ("import sys\nm = sys.modules\n", "sys.modules"),
    ("f = eval('1')\n", "eval"),
    ("g = __import__('torch')\n", "__import__"),
    ("def f(net):\n    return net.__dict__\n", ".__dict__"),
    ("def f(fn):\n    return fn.__globals__\n", ".__globals__"),
    ("def f(net):\n    net._records.clear()\n", "._records"),
    ("import torch\ndef f(name):\n    return getattr(torch, name)\n", "getattr(..., <a name computed at run time>)"),
    ("def f(net):\n    return getattr(net, '_records')\n", "getattr(..., '_records')"),
    # found by a second adversarial pass
    ("import threading\n", "import threading"),
    ("import sys\nm = getattr(sys, 'modules')\n", "getattr(sys, 'modules')"),
    ("import sys\nm = sys\nx = m.modules\n", "m.modules"),
    ("g = getattr\n", "getattr"),
    ("def f(net):\n    return list(map(getattr, [net], ['x']))\n", "getattr"),
    ("import operator\nget = operator.attrgetter('_d2l_forwards')\n", "operator.attrgetter"),
    ("def f(net):\n    match net:\n        case object(_d2l_forwards=r):\n            return r\n", "case ...(_d2l_forwards=...)"),
    ("x = print.__self__\n", ".__self__"),
    ("def f(o):\n    return o.__reduce_ex__(2)\n", ".__reduce_ex__"),
])
def test_tampering_is_found(source, written):
    found = scan_tampering(source.encode())
    assert found is not None and found[1] == written, found


@pytest.mark.parametrize("source", [
    "import torch\nfrom torch import nn\nimport torch.nn.functional as F\nimport math, os, sys\n",
    "class BatchNorm:\n    def __init__(self):\n        self._moving = 0\n    def f(self):\n        return self._moving\n",
    "def f(net):\n    return getattr(net, 'weight', None), hasattr(net, 'bias')\n",
    "import torch\ndef f(X):\n    return X.__class__, X.shape, torch.tensor(0.0).item()\n",
])
def test_ordinary_code_is_not_tampering(source):
    assert scan_tampering(source.encode()) is None


@pytest.mark.parametrize("source, rule", [
    ("import torch\ndef sgd(params, lr, batch_size):\n    getattr(torch, 'optim').SGD(params, lr=lr)\n", "torch.optim"),
    ("import sklearn.linear_model as s\nimport sklearn\nm = getattr(sklearn, 'metrics')\n", "sklearn.metrics"),
    ("import torch\nsm = torch.softmax\ndef f(X):\n    return sm(X, 1)\n", "torch.softmax"),
])
def test_a_forbidden_call_under_another_name_is_found(source, rule):
    """getattr with a literal name, and a module or function renamed by assignment, read as what they name."""
    assert rule in scan(source.encode(), (rule,))
