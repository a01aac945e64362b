"""Fixtures of the API tests: a server on the unix socket or on loopback TCP
with a token, each on its own temporary --root; at the end the server and the
VMMs of that root are killed by pid."""
import os
import pathlib
import secrets
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from apitest import VESSEL, TESTKERNEL, Server, kill_vmms, remove_containers  # noqa: E402
from vesseltest import skip  # noqa: E402

_servers = []


@pytest.fixture
def make_server(tmp_path):
    if not VESSEL.exists():
        pytest.fail(f"{VESSEL} is not built (run make build)")
    made = []

    def make(tcp=False, root=None, start=True, prefix=()):
        s = Server(root or tmp_path / "root", tcp=tcp,
                   token=secrets.token_hex(16) if tcp else None, prefix=prefix)
        made.append(s)
        return s.start() if start else s
    yield make
    for s in made:
        s.kill()
    kill_vmms(tmp_path / "root")
    remove_containers(tmp_path / "root")


@pytest.fixture(params=["unix", "tcp"])
def server(request, make_server):
    return make_server(tcp=request.param == "tcp")


@pytest.fixture
def ctr_root():
    """Containers need root (namespaces, cgroups, overlay) and busybox-static."""
    if os.geteuid() != 0:
        skip("needs root (namespaces, cgroups, overlay mounts)")
    if not pathlib.Path("/bin/busybox").exists():
        skip("/bin/busybox (busybox-static) is absent")


@pytest.fixture
def testkernel():
    if not TESTKERNEL.exists():
        pytest.fail(f"{TESTKERNEL} is not built (meson -Dtestkernel=true, the default)")
    return TESTKERNEL
