"""Fixtures of the container tests: a private --root per test holding a
busybox image imported from a rootfs tarball made in the test; at the end
every container of that root is removed (killing its processes and its
cgroup under /vessel/) and the root deleted."""
import os
import pathlib
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from runtest import Root  # noqa: E402
from vesseltest import VESSEL, skip  # noqa: E402


@pytest.fixture
def rt():
    if not VESSEL.exists():
        pytest.fail(f"{VESSEL} is not built (run make build)")
    if os.geteuid() != 0:
        skip("needs root (namespaces, cgroups, overlay mounts)")
    if not pathlib.Path("/bin/busybox").exists():
        skip("/bin/busybox (busybox-static) is absent")
    d = tempfile.mkdtemp(prefix="vessel-run-", dir="/tmp")
    r = Root(d)
    try:
        yield r
    finally:
        r.cleanup()
        shutil.rmtree(d, ignore_errors=True)
