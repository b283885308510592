"""Checker processes forked from one pre-warmed parent.

A checker is a pytest run over a group of exercises. Started from scratch, each one spends
about five seconds on importing torch, pytest, hypothesis, torchvision and the checks before
it checks anything, and on two cores two of them did so side by side. Here one forkserver
(``multiprocessing``'s) imports all of that once, while the zygotes start; every checker is a
fork of it that goes straight to pytest. The forkserver has imported the checks but never a
submission and never run a hook, so each checker starts as fresh as a new process would.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
from multiprocessing import reduction

from grader import sandbox
from grader.catalog import ROOT

# What every checker imports anyway; grader.warm imports the checks themselves.
PRELOAD = ["grader.warm"]

_CONTEXT = None


def context():
    """The forkserver, started (and preloaded) on first use."""
    global _CONTEXT
    if _CONTEXT is None:
        # The checker processes never wrote bytecode; the forkserver inherits this, and so do
        # its children (multiprocessing passes -B on from it).
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        sys.dont_write_bytecode = True
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(PRELOAD)
    return _CONTEXT


def warm_up() -> None:
    """Start the forkserver now, so that it imports while the caller does something else."""
    from multiprocessing import forkserver
    context()
    forkserver.ensure_running()


def start(argv: list[str], quiet: bool, handed: dict | None = None) -> multiprocessing.Process:
    """A checker running ``pytest argv`` in the repository root, in a session of its own (so
    that killing its process group ends it and everything it started). ``handed`` (a zygote's
    ``Sandbox.handover()``) becomes its sandbox: this process closes its copy of that socket,
    so that the zygote sees the checker go when it goes."""
    sent = None if handed is None else {**handed, "log": _PassedFile(handed["log"])}
    process = context().Process(target=_check, args=(argv, quiet, sent), name="checker")
    process.start()
    if handed is not None:
        handed["control"].close()
    return process


class _PassedFile:
    """A file that crosses to the forked checker as a duplicate of its descriptor (a socket
    does so by itself; multiprocessing sends the descriptors with the request to fork)."""

    def __init__(self, file):
        self.file = file

    def __reduce__(self):
        return _reopen, (reduction.DupFd(self.file.fileno()),)


def _reopen(duplicate) -> object:
    return os.fdopen(duplicate.detach(), "rb+")


def _check(argv: list[str], quiet: bool, handed: dict | None) -> None:
    os.setsid()
    # Die with the forkserver, which ends with grade (a checker leads its own session, so
    # nothing else would stop it), and let no worker of the weaker mode, same user, open
    # this process's memory.
    from grader.worker import serve  # torch: imported by the forkserver already, never by grade itself

    serve.die_with_parent()
    serve.not_dumpable()
    sandbox.HANDED = handed
    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
    os.chdir(ROOT)
    import pytest
    code = pytest.main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))
