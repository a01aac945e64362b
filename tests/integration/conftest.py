"""Fixtures shared by the integration tests; paths and helpers are in
vesseltest.py. Tests that need a facility that is really absent skip with
'SKIP: <reason>'."""
import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vesseltest import VESSEL, skip  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def private_default_root():
    """A test that forgets --root must not write into the host's own store
    (/var/lib/vessel): the default root of every vessel the tests start is a
    throwaway directory, unless the caller chose one."""
    if "VESSEL_ROOT" in os.environ:
        yield os.environ["VESSEL_ROOT"]
        return
    with tempfile.TemporaryDirectory(prefix="vessel-test-root-", ignore_cleanup_errors=True) as d:
        os.environ["VESSEL_ROOT"] = d
        try:
            yield d
        finally:
            del os.environ["VESSEL_ROOT"]


@pytest.fixture
def vessel():
    if not VESSEL.exists():
        pytest.fail(f"{VESSEL} is not built (run make build)")
    return str(VESSEL)


@pytest.fixture
def kvm():
    """Requires a usable /dev/kvm."""
    if not os.path.exists("/dev/kvm"):
        skip("/dev/kvm is absent")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        skip("/dev/kvm is not accessible to this user")
    return "/dev/kvm"


@pytest.fixture
def root():
    if os.geteuid() != 0:
        skip("needs root")



@pytest.fixture(params=["kvm", "emu"])
def accel(request):
    """Runs the test under each accelerator: kvm (needs /dev/kvm) and emu,
    vessel's software CPU (needs nothing)."""
    if request.param == "kvm":
        request.getfixturevalue("kvm")
    return request.param
