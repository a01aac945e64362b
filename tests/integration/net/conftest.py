"""Fixtures for src/net's tests: `lab` (namespaces torn down by a
finalizer even when the test fails) and `world` (three networks, four
containers and an outside namespace). Helpers are in netlab.py (not
imported from here by tests: a bare `conftest` can resolve to another
directory's)."""
import os
import shutil

import pytest

from netlab import BUSYBOX, NET_TOOL, Lab, attach, network, skip


@pytest.fixture
def lab(request):
    if os.geteuid() != 0:
        skip("needs root (network namespaces)")
    if not NET_TOOL.exists():
        pytest.fail(f"{NET_TOOL} is not built (run make build)")
    if not os.path.exists("/dev/net/tun"):
        skip("/dev/net/tun is absent")
    if not BUSYBOX or not shutil.which("ip"):
        skip("busybox and ip (iproute2) are needed to set up and probe namespaces")
    lab = Lab()
    request.addfinalizer(lab.close)
    return lab


@pytest.fixture
def world(lab):
    """host: bridges vessel-a (10.201.0.0/24), vessel-b (10.202.0.0/24),
    vessel-i (10.203.0.0/24, internal), an uplink vessel-up 172.31.0.1/24 to
    the "outside" namespace (172.31.0.2, which has no route back to the
    10.x subnets: only masquerade lets replies return), default route there.
    Containers: a1 10.201.0.2, a2 10.201.0.3, b1 10.202.0.2, i1 10.203.0.2."""
    w = {r: lab.netns(r) for r in ("host", "out", "a1", "a2", "b1", "i1")}
    h = w["host"]
    lab.tool(h, "link-up", "lo", "up")
    fwd = network(lab, h, "vessel-a", "10.201.0.0/24", "10.201.0.1")
    w["forwarding_msg"] = fwd.stdout
    network(lab, h, "vessel-b", "10.202.0.0/24", "10.202.0.1")
    network(lab, h, "vessel-i", "10.203.0.0/24", "10.203.0.1", internal=True)
    attach(lab, h, "vessel-a", "vessel-a1", w["a1"], "10.201.0.2/24", "10.201.0.1")
    attach(lab, h, "vessel-a", "vessel-a2", w["a2"], "10.201.0.3/24", "10.201.0.1")
    attach(lab, h, "vessel-b", "vessel-b1", w["b1"], "10.202.0.2/24", "10.202.0.1")
    attach(lab, h, "vessel-i", "vessel-i1", w["i1"], "10.203.0.2/24", "10.203.0.1")
    lab.tool(h, "veth-add", "vessel-up", "eth0", w["out"])
    lab.tool(h, "addr-add", "vessel-up", "172.31.0.1/24")
    lab.tool(h, "link-up", "vessel-up", "up")
    lab.tool(w["out"], "link-up", "lo", "up")
    lab.tool(w["out"], "addr-add", "eth0", "172.31.0.2/24")
    lab.tool(w["out"], "link-up", "eth0", "up")
    lab.tool(h, "route-add", "default", "172.31.0.2", "vessel-up")
    return w
