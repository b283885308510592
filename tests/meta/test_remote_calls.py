"""Calls into a worker behave as they would in one process.

torch's random generator is one stream shared by the checker and the worker: a call sees the
state the checker left, the checker goes on from the state the call left. The state travels
only when it changed (5 KB each way otherwise), so these tests hold both paths: calls that draw
and calls that do not, with the checker drawing in between.

``calls(fn, times, ...)`` (tests/common/calls.py) runs in one round trip what ``times`` calls
would give, each on its own copy of the arguments, in a worker and in one process alike."""
from __future__ import annotations

import importlib.util
import textwrap

import pytest
import torch

from grader.catalog import Limits
from grader.remote import RemoteModule, Session, WorkerFault
from grader.sandbox import SUBMISSION_ROOT, Sandbox
from tests.common.calls import calls

SOURCE = '''
import torch


def draw(n):
    return torch.rand(n)


def add_one(x):
    return x + 1


def reseed():
    torch.manual_seed(7)
    return 0


def halve_in_place(x):
    """Changes its argument: a later call must not see it."""
    x /= 2
    return x.clone()


def noisy(x):
    return x + torch.rand(x.shape)


def forge_repeats():
    """Make the worker answer any number of calls with one result."""
    import sys
    sys.modules["grader.worker.serve"]._repeated = lambda function, times, header, buffers: lambda *a, **k: [0]
    return 0


def forge():
    """Make the state the worker reports back something that is not a generator's state."""
    torch.get_rng_state = lambda: torch.zeros(3)
    return torch.rand(1)
'''


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submission")
    (folder / "probe.py").write_text(textwrap.dedent(SOURCE), encoding="utf-8")
    box = Sandbox({folder: SUBMISSION_ROOT})
    box.launch()
    yield folder / "probe.py", box
    box.close()


@pytest.fixture
def remote(probe) -> RemoteModule:
    """The probe in a worker of its own."""
    path, box = probe
    module = RemoteModule(Session(box, path, "probe", "probe.py", Limits(call_s=20, exercise_s=60)))
    yield module
    module._session.close()


def _local(probe):
    spec = importlib.util.spec_from_file_location("probe_local", probe[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _story(module) -> list[torch.Tensor]:
    """Draws by the code under test and by the checker, interleaved, from one seed."""
    torch.manual_seed(0)
    seen = [module.draw(3), torch.rand(2), module.add_one(torch.zeros(1)), module.draw(2)]
    seen += [module.add_one(torch.zeros(1)), torch.rand(2), module.reseed() * torch.ones(1), torch.rand(2), module.draw(1)]
    return seen + [torch.rand(1)]


def _same(got: list[torch.Tensor], wanted: list[torch.Tensor]) -> None:
    assert len(got) == len(wanted)
    for index, (a, b) in enumerate(zip(got, wanted)):
        assert torch.equal(a, b), f"value {index}: {a} in the worker, {b} in one process"


def test_the_stream_is_the_one_of_a_single_process(probe, remote):
    _same(_story(remote), _story(_local(probe)))


def test_a_fresh_worker_gets_the_state_again(remote):
    """After the worker is replaced, the first call sends the state even if it did not change."""
    torch.manual_seed(3)
    remote.add_one(torch.zeros(1))
    remote._session._lost()  # as after a crash: the next call starts a new child
    got = remote.draw(2)
    torch.manual_seed(3)
    assert torch.equal(got, torch.rand(2))


def test_a_forged_state_is_the_workers_fault(remote):
    with pytest.raises(WorkerFault, match="random generator state"):
        remote.forge()


def _repeats(module) -> list:
    torch.manual_seed(1)
    x = torch.ones(3)
    halves = calls(module.halve_in_place, 4, x, what="halve_in_place(x)")
    noisy = calls(module.noisy, 3, torch.zeros(2), what="noisy(x)")
    return [*halves, x.clone(), *noisy, torch.rand(1)]


def test_repeated_calls_are_those_of_a_single_process(probe, remote):
    got = _repeats(remote)
    _same(got, _repeats(_local(probe)))
    assert torch.equal(got[0], torch.full((3,), 0.5)) and torch.equal(got[4], torch.ones(3)), "each call gets a copy"


def test_repeated_calls_cannot_carry_gradients(remote):
    with pytest.raises(ValueError, match="gradients"):
        remote.add_one.repeat(2, torch.zeros(1, requires_grad=True))


def test_a_wrong_number_of_results_is_the_workers_fault(remote):
    remote.forge_repeats()
    with pytest.raises(WorkerFault, match="3 results"):
        remote.add_one.repeat(3, torch.zeros(1))


WIRE_VALUES = [torch.randn(3, 4), torch.randn(5, dtype=torch.float64), torch.tensor([True, False]),
               torch.randn(7).bfloat16(), torch.randn(3).half(), torch.arange(5), torch.zeros(0, 3), torch.tensor(3.5),
               torch.randn(4, 4).t(), torch.tensor([1, 2], dtype=torch.uint8)[1:], torch.tensor([1, 2, 3], dtype=torch.int32)]


@pytest.mark.parametrize("large", [False, True], ids=["small message", "large message"])
def test_tensors_cross_the_wire_bit_for_bit_as_tensors_of_their_own(large):
    """Small messages travel in one piece and large ones from the tensors' own memory; either way
    each tensor arrives equal, contiguous, not a view, and not sharing the message's memory."""
    import socket
    import threading

    from grader.worker import wire

    values = WIRE_VALUES + ([torch.randn(2**15).double(), torch.randn(2**15).bfloat16()] if large else [])
    ours, theirs = socket.socketpair()
    received = []
    reader = threading.Thread(target=lambda: received.append(wire.receive(theirs)))
    reader.start()
    wire.send(ours, {"op": "test"}, {"v": values})
    reader.join()
    header, buffers = received[0]
    assert (sum(header["buffers"]) >= wire._JOIN_BELOW) == large
    got = wire.decode(header["v"], buffers)
    for buffer in buffers:  # the message's memory, scribbled over after decoding
        if not buffer.readonly:
            buffer[:] = b"\xff" * len(buffer)
    for sent, arrived in zip(values, got, strict=True):
        assert arrived.dtype == sent.dtype and arrived.shape == sent.shape and torch.equal(arrived, sent), (sent, arrived)
        assert arrived._base is None and arrived.is_contiguous()
    ours.close()
    theirs.close()
