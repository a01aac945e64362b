"""Fixtures of the image tests: a private store (VESSEL_ROOT) per test,
removed afterwards; the tests that write layers with device nodes, owners
and trusted xattrs need root."""
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vesseltest import VESSEL, skip  # noqa: E402
from imagetest import Store  # noqa: E402


@pytest.fixture
def store(tmp_path):
    if not VESSEL.exists():
        pytest.fail(f"{VESSEL} is not built (run make build)")
    if os.geteuid() != 0:
        skip("needs root (layers keep owners, device nodes and overlay whiteouts)")
    d = tempfile.mkdtemp(prefix="vessel-img-", dir="/tmp")
    yield Store(d)
    shutil.rmtree(d, ignore_errors=True)
