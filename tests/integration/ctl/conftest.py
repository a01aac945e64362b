"""Fixtures for the control-plane tests: every test gets its own state root
(a temporary directory) and, at the end, the VMMs recorded in that root -
which only this test can have started - are killed by pid."""
import os
import pathlib
import signal
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ctltest import VESSEL, Ctl  # noqa: E402


@pytest.fixture
def ctl(tmp_path):
    if not VESSEL.exists():
        pytest.fail(f"{VESSEL} is not built (run make build)")
    c = Ctl(tmp_path / "root")
    yield c
    if (c.root / "vessel.db").exists():
        try:
            pids = c.vmm_pids()
        except Exception:  # a broken store must not hide the test's own failure
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
