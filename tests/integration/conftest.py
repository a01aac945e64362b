"""Fixtures shared by the integration tests; paths and helpers are in
vesseltest.py. Tests that need a facility that is really absent skip with
'SKIP: <reason>'."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vesseltest import VESSEL, skip  # noqa: E402


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
