"""VLAN-separated ports on one bridge (vlan_filtering, PVID untagged
access ports). Kernels built without CONFIG_BRIDGE_VLAN_FILTERING (this
host's, see docs/net.md) refuse it: the test then checks the refusal is
one clear line and skips the traffic part."""
from netlab import attach, skip


def test_vlan_access_ports(lab):
    h = lab.netns("host")
    p = lab.tool(h, "bridge-add", "vessel-vl", "--vlan-filtering", check=False)
    if p.returncode != 0:
        assert p.stderr.count("\n") == 1, p.stderr
        assert "no VLAN filtering" in p.stderr and "CONFIG_BRIDGE_VLAN_FILTERING" in p.stderr
        assert lab.tool(h, "link-show", "vessel-vl", check=False).returncode != 0
        skip("kernel has no CONFIG_BRIDGE_VLAN_FILTERING (bridge vlan_filtering refused)")
    lab.tool(h, "link-up", "vessel-vl", "up")
    c = {n: lab.netns(n) for n in ("x10", "y10", "z20")}
    for i, (n, ns) in enumerate(c.items()):
        attach(lab, h, "vessel-vl", f"vessel-{n}", ns, f"10.220.0.{i + 2}/24", "-")
    # untagged everywhere (VLAN 1): everyone talks
    assert lab.ping(c["x10"], "10.220.0.4")
    lab.tool(h, "vlan-access", "vessel-x10", "10")
    lab.tool(h, "vlan-access", "vessel-y10", "10")
    lab.tool(h, "vlan-access", "vessel-z20", "20")
    assert lab.ping(c["x10"], "10.220.0.3", count=2), "same VLAN"
    assert not lab.ping(c["x10"], "10.220.0.4"), "VLAN 10 reaches VLAN 20"
    assert not lab.ping(c["z20"], "10.220.0.3"), "VLAN 20 reaches VLAN 10"
    # moving z to VLAN 10 joins it
    lab.tool(h, "vlan-del", "vessel-z20", "20")
    lab.tool(h, "vlan-access", "vessel-z20", "10")
    assert lab.ping(c["x10"], "10.220.0.4", count=3)
    p = lab.tool(h, "vlan-add", "vessel-x10", "4095", check=False)
    assert p.returncode == 1 and "out of range" in p.stderr
