"""Bad input: one line saying what is wrong, exit 1, nothing half-made."""
import pytest

BAD_CIDRS = [
    ("10.0.0.1/24", "host bits set (network is 10.0.0.0/24)"),
    ("10.0.0.0/31", "subnet too small"),
    ("10.0.0.0/7", "subnet too large"),
    ("10.0.0.0/33", "prefix length 33 is over 32"),
    ("10.0.0.256/24", "is not a CIDR"),
    ("banana", "is not a CIDR"),
]


@pytest.mark.parametrize("cidr,msg", BAD_CIDRS)
def test_bad_subnet(lab, cidr, msg):
    h = lab.netns("host")
    lab.tool(h, "bridge-add", "vessel-e")
    p = lab.tool(h, "nat-net-add", "vessel-e", cidr, check=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and msg in p.stderr, p.stderr
    # nothing made: not even the table
    assert lab.tool(h, "nat-list", check=False).returncode == 1


def test_overlapping_subnets(lab):
    p = lab.tool(None, "subnet-check", "10.88.0.0/16", "10.0.0.0/16", "10.88.4.0/24",
                 check=False)
    assert p.returncode == 1
    assert p.stderr == "net-tool: subnet 10.88.0.0/16 overlaps 10.88.4.0/24\n"
    lab.tool(None, "subnet-check", "10.88.0.0/16", "10.89.0.0/16", "10.0.0.0/16")


def test_subnet_colliding_with_a_host_route(lab):
    h = lab.netns("host")
    lab.tool(h, "veth-add", "vessel-r0", "vessel-r1", "-")
    lab.tool(h, "addr-add", "vessel-r0", "10.230.0.1/16")
    lab.tool(h, "link-up", "vessel-r0", "up")
    lab.tool(h, "route-add", "10.240.8.0/24", "10.230.0.9", "vessel-r0")
    for subnet, route in (("10.230.5.0/24", "10.230.0.0/16"), ("10.240.0.0/16", "10.240.8.0/24")):
        p = lab.tool(h, "route-check", subnet, check=False)
        assert p.returncode == 1 and p.stderr.count("\n") == 1
        assert f"subnet {subnet} collides with the host route {route}" in p.stderr
    lab.tool(h, "route-check", "10.231.0.0/16")
    # the network's own bridge's route is not a collision
    lab.tool(h, "route-check", "10.230.0.0/16", "vessel-r0")
    lab.tool(h, "route-del", "10.240.8.0/24", "10.230.0.9", "vessel-r0")
    lab.tool(h, "route-check", "10.240.0.0/16")


@pytest.mark.parametrize("spec,msg", [
    ("80", "expected [HOSTIP:]HOSTPORT:PORT[/tcp|udp]"),
    ("0:80", "host port 0 out of range"),
    ("8080:80/sctp", "protocol 'sctp' (tcp or udp)"),
    ("1.2.3:8080:80", "host address: '1.2.3' is not an IPv4 address"),
    ("8080:x", "port 'x' is not a number"),
])
def test_bad_port_spec(lab, spec, msg):
    p = lab.tool(None, "port-parse", spec, check=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and msg in p.stderr, p.stderr


def test_kernel_refusals_are_one_line(lab):
    h = lab.netns("host")
    lab.tool(h, "bridge-add", "vessel-e")
    for args, msg in (
        (("bridge-add", "vessel-e"), "creating bridge vessel-e: File exists"),
        (("bridge-add", "vessel-bad/name"), "invalid bridge name"),
        (("link-del", "vessel-none"), "deleting link vessel-none: No such device"),
        (("addr-add", "vessel-e", "10.1.1.1/40"), "is not an address with a prefix"),
        (("link-set", "vessel-e", "mtu", "20"), "MTU 20 out of range"),
        (("tap-add", "vessel-0123456789"), "invalid tap name"),
        # the kernel's extended ack text is part of the message
        (("link-set", "vessel-e", "master", "vessel-e"), "Can not enslave a bridge to a bridge"),
        (("route-add", "10.0.0.0/8", "10.9.9.9"), "Nexthop has invalid gateway"),
        (("nat-net-add", "vessel-none", "10.9.0.0/24"), "bridge vessel-none: setting sysctl"),
        (("nat-list",), "No such file or directory"),  # and nothing was made
        (("nat-net-add", "vessel-e", "10.9.0.0/24"), None),
        (("nat-net-add", "vessel-e", "10.9.0.0/24"), "bridge vessel-e already has vessel rules"),
    ):
        p = lab.tool(h, *args, check=msg is None)
        if msg:
            assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
            assert msg in p.stderr, p.stderr
