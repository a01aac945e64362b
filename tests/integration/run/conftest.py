"""Fixtures of the container tests: a private --root per test holding a
busybox image imported from a rootfs tarball made in the test; at the end
every container of that root is removed (killing its processes and its
cgroup under /vessel/) and the root deleted.

Containers attach to the default network vessel0 unless told otherwise, so
each test runs in a network namespace of its own (`vessel-run-<random>`):
the test process itself enters it (setns), so every vessel it starts, by
any means, makes its bridge, veths and nftables table there and never in
the host's namespace; the namespace is deleted at the end."""
import ctypes
import os
import secrets
import subprocess
import pathlib
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from runtest import Root  # noqa: E402
from vesseltest import VESSEL, skip  # noqa: E402


CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


@pytest.fixture
def netns():
    """The test (its main thread and what it starts) in a fresh network
    namespace with loopback up; back in the original one afterwards."""
    if os.geteuid() != 0:
        skip("needs root (namespaces, cgroups, overlay mounts)")
    name = f"vessel-run-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
        _setns(fd)
        os.close(fd)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        # a host that forwards already: the first run of each test would
        # otherwise say "enabled IPv4 forwarding" on stderr (test_ctr_net.py
        # checks that notice)
        with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
            f.write("1")
        yield name
    finally:
        _setns(orig)
        os.close(orig)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture
def rt(netns):
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
