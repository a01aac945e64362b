"""Shared fixtures for the integration tests: they drive the real binary.

Environment (set by `make check`): VESSEL (path to build/vessel),
VESSEL_BUILD (the build directory), VESSEL_GUEST_DIR (the default guest kit).
Tests that need a facility that is really absent skip with 'SKIP: <reason>'."""
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("VESSEL_BUILD", REPO / "build"))
VESSEL = pathlib.Path(os.environ.get("VESSEL", BUILD / "vessel"))
GUEST_DIR = pathlib.Path(os.environ.get("VESSEL_GUEST_DIR",
                                        pathlib.Path.home() / ".cache/vessel/guest"))
TESTKERNEL = BUILD / "guest/testkernel.bzImage"


def skip(reason):
    """Skips the current test, printing the reason in the agreed form."""
    print(f"SKIP: {reason}")
    pytest.skip(reason)


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


def run(args, timeout=60, **kw):
    """Runs a command, returns CompletedProcess with text output."""
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, **kw)
