"""Paths and helpers shared by the integration tests. A module of its own
(not conftest) so that `from vesseltest import ...` is unambiguous: every
test directory may have a conftest.py of its own.

Environment (set by `make check`): VESSEL (path to build/vessel),
VESSEL_BUILD (the build directory), VESSEL_GUEST_DIR (the default guest kit)."""
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


def run(args, timeout=60, **kw):
    """Runs a command, returns CompletedProcess with text output."""
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, **kw)
