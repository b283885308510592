"""Start the self-test's long run (tests/meta/test_selftest.py) as soon as it is collected."""
from __future__ import annotations

import tempfile
from pathlib import Path


def pytest_collection_finish(session):
    if any(item.nodeid.startswith("tests/meta/test_selftest.py") for item in session.items):
        from tests.meta.test_selftest import start_kill_matrix

        out_dir = Path(tempfile.mkdtemp(prefix="d2l-selftest-"))
        session.config._d2l_kill_matrix = start_kill_matrix(out_dir)


def pytest_unconfigure(config):
    """A run that stops early (Ctrl-C, -x) must not leave the self-test's long run behind."""
    started = getattr(config, "_d2l_kill_matrix", None)
    if started is not None and started[0].poll() is None:
        started[0].terminate()
