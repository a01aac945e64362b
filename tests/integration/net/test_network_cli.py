"""`vessel network create|ls|inspect|rm|prune` and the service layer's
network calls (IPAM leases, ensure), end to end through build/vessel and
build/vessel-net-hook. Everything runs inside namespaces the test makes
(`ip netns exec vessel-test-<random>-<role> vessel --root TMP ...`), so no
bridge or nftables table ever appears in the host's namespace; only private
subnets are used, inside those namespaces. Links and the table are probed
with the library's own lookups (net-tool)."""
import concurrent.futures
import ipaddress
import json
import os
import subprocess

import pytest

from netlab import NET_TOOL, Lab, skip
from vesseltest import BUILD, VESSEL

HOOK = BUILD / "vessel-net-hook"
FAULT = BUILD / "vessel-fault"


class Net:
    """One namespace, one or more --root directories, and the commands."""

    def __init__(self, lab, tmp_path, role="host"):
        self.lab = lab
        self.ns = lab.netns(role)
        self.root = tmp_path / f"root-{role}"
        self.name = "t" + lab.tag  # 7 bytes: bridge vessel-t<tag>, unique per run

    def vessel(self, *args, root=None, timeout=60):
        cmd = ["ip", "netns", "exec", self.ns, str(VESSEL), "--root", str(root or self.root)]
        return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                              timeout=timeout)

    def ok(self, *args, root=None):
        p = self.vessel(*args, root=root)
        assert p.returncode == 0, f"vessel {' '.join(map(str, args))}: {p.stderr.strip()}"
        return p.stdout

    def hook(self, *args, root=None):
        cmd = ["ip", "netns", "exec", self.ns, str(HOOK), str(root or self.root)]
        return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                              timeout=60)

    def ls(self, root=None):
        return {n["name"]: n for n in json.loads(self.ok("network", "ls", "--format", "json",
                                                         root=root))}

    def link(self, name):
        """The library's lookup of a link in the namespace, or None."""
        p = self.lab.tool(self.ns, "link-show", name, check=False)
        return p.stdout if p.returncode == 0 else None

    def addrs(self, dev):
        p = self.lab.sh(self.ns, "ip", "-o", "-4", "addr", "show", "dev", dev)
        return [line.split()[3] for line in p.stdout.splitlines()]

    def table(self):
        """The vessel nftables table as listed, or None when absent."""
        p = self.lab.tool(self.ns, "nat-list", check=False)
        return p.stdout if p.returncode == 0 else None

    def links(self):
        p = self.lab.sh(self.ns, "ip", "-o", "link", "show")
        return sorted(line.split(":")[1].strip().split("@")[0] for line in p.stdout.splitlines())

    def state(self):
        """Everything a refusal must leave unchanged."""
        return (self.links(), self.table(), json.dumps(self.ls(), sort_keys=True))

    def refused(self, *args, match, root=None):
        """A one-line refusal (exit 1) that leaves nothing behind."""
        before = self.state()
        p = self.vessel(*args, root=root)
        assert p.returncode == 1, (args, p.stdout, p.stderr)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vessel: "), p.stderr
        assert match in lines[0], lines[0]
        assert self.state() == before, f"{args} left something behind"
        return lines[0]


def host_has_link(name):
    return subprocess.run(["ip", "link", "show", "dev", name], capture_output=True).returncode == 0


@pytest.fixture
def lab(request):
    if os.geteuid() != 0:
        skip("needs root (network namespaces)")
    for p in (NET_TOOL, HOOK, VESSEL):
        if not p.exists():
            pytest.fail(f"{p} is not built (run make build)")
    lab = Lab()
    request.addfinalizer(lab.close)
    return lab


@pytest.fixture
def net(lab, tmp_path):
    return Net(lab, tmp_path)


def test_round_trip(net):
    name, bridge = net.name, "vessel-" + net.name
    p = net.vessel("network", "create", name, "--subnet", "10.61.0.0/24", "--mtu", "1400")
    assert p.returncode == 0 and p.stdout.strip() == name, p.stderr
    # a fresh namespace has forwarding off: the first non-internal network says it turned it on
    assert "enabled IPv4 forwarding" in p.stderr
    assert net.lab.sh(net.ns, "cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip() == "1"
    n = net.ls()[name]
    assert (n["bridge"], n["subnet"], n["gateway"]) == (bridge, "10.61.0.0/24", "10.61.0.1")
    assert n["present"] and not n["internal"] and n["mtu"] == 1400 and n["addresses"] == []
    assert "kind=bridge" in net.link(bridge) and "mtu=1400" in net.link(bridge)
    assert "up=1" in net.link(bridge)
    assert net.addrs(bridge) == ["10.61.0.1/24"]
    table = net.table()
    assert f"vessel:net:{bridge}:masquerade" in table
    assert f"vessel:net:{bridge}:isolate" in table
    assert json.loads(net.ok("network", "inspect", name)) == n
    table_out = net.ok("network", "ls")
    assert name in table_out and "10.61.0.0/24" in table_out
    assert not host_has_link(bridge), "the bridge appeared in the host's namespace"

    net.ok("network", "create", "i", "--subnet", "10.61.1.0/24", "--gateway", "10.61.1.254",
           "--internal")
    i = net.ls()["i"]
    assert i["internal"] and i["gateway"] == "10.61.1.254" and i["bridge"] == "vessel-i"
    assert net.addrs("vessel-i") == ["10.61.1.254/24"]
    table = net.table()
    assert "vessel:net:vessel-i:internal-out" in table
    assert "vessel:net:vessel-i:masquerade" not in table

    assert net.ok("network", "rm", name, "i").split() == [name, "i"]
    assert net.link(bridge) is None and net.link("vessel-i") is None
    assert net.table() is None, "the table outlived the last network"
    assert net.ls() == {}


def test_long_name_gets_short_bridge(net):
    long_name = "a-rather-long-network-name-" + net.lab.tag
    net.ok("network", "create", long_name, "--subnet", "10.61.2.0/24")
    n = net.ls()[long_name]
    assert n["bridge"].startswith("vessel-") and len(n["bridge"]) <= 15
    assert net.link(n["bridge"]) is not None
    # no --subnet: the first free 10.89.X.0/24
    net.ok("network", "create", "auto")
    assert net.ls()["auto"]["subnet"] == "10.89.0.0/24"
    net.ok("network", "rm", long_name, "auto")
    assert net.link(n["bridge"]) is None and net.table() is None


def test_refusals_one_line_nothing_left(net):
    net.ok("network", "create", "a", "--subnet", "10.61.0.0/24")
    # a route of the namespace: a bridge with an address made by the library
    net.lab.tool(net.ns, "bridge-add", "vessel-r")
    net.lab.tool(net.ns, "addr-add", "vessel-r", "10.70.0.1/24")
    net.lab.tool(net.ns, "link-up", "vessel-r", "up")
    c = ("network", "create")
    net.refused(*c, "b", "--subnet", "10.61.0.128/25", match="overlaps network a")
    net.refused(*c, "b", "--subnet", "10.0.0.0/8", match="overlaps network a")
    net.refused(*c, "b", "--subnet", "10.70.0.0/16", match="collides with the host route 10.70.0.0/24")
    net.refused(*c, "b", "--subnet", "10.62.0.1/24", match="host bits set")
    net.refused(*c, "b", "--subnet", "10.62.0.0/33", match="10.62.0.0/33")
    net.refused(*c, "b", "--subnet", "not-a-cidr", match="not-a-cidr")
    net.refused(*c, "b", "--subnet", "10.62.0.0/24", "--gateway", "10.63.0.1", match="10.63.0.1")
    net.refused(*c, "b", "--subnet", "10.62.0.0/24", "--gateway", "10.62.0.255", match="10.62.0.255")
    net.refused(*c, "a", "--subnet", "10.62.0.0/24", match="already exists")
    net.refused(*c, "bad name", "--subnet", "10.62.0.0/24", match="invalid network name")
    net.refused(*c, "b", "--subnet", "10.62.0.0/24", "--mtu", "20", match="invalid MTU")
    net.refused(*c, "vessel0", match="default network")
    net.refused("network", "rm", "nosuch", match="no network named 'nosuch'")
    net.refused("network", "inspect", "nosuch", match="no network named 'nosuch'")
    # usage errors: exit 2
    assert net.vessel(*c, "b", "--mtu", "x").returncode == 2
    assert net.vessel(*c).returncode == 2
    # --vlan: a VLAN of the shared bridge vessel_vl (any kernel with nftables'
    # bridge family); its refusals, then create and rm leave nothing
    before = net.state()
    assert net.vessel(*c, "v", "--vlan", "4095").returncode == 2  # usage: 1..4094
    net.refused(*c, "v", "--vlan", "10", "--mtu", "1400", match="share bridge vessel_vl")
    net.ok(*c, "v", "--subnet", "10.62.0.0/24", "--vlan", "10")
    assert net.link("vessel_vl") is not None
    net.refused(*c, "w", "--subnet", "10.63.0.0/24", "--vlan", "10", match="VLAN 10 is network v's")
    net.refused(*c, "w", "--subnet", "10.62.0.0/25", "--vlan", "11", match="overlaps network v")
    net.ok("network", "rm", "v")
    assert net.state() == before


def test_rm_refused_while_address_allocated(net):
    # owners of kind "test": leases of kind "container" whose container does
    # not exist are swept by rm (test_ctr_net.py has real containers)
    net.ok("network", "create", "a", "--subnet", "10.61.0.0/24")
    p = net.hook("alloc", "a", "test", "c1")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "10.61.0.2"
    assert net.hook("alloc", "a", "vm", "v1").stdout.strip() == "10.61.0.3"
    line = net.refused("network", "rm", "a", match="network a is in use: 2 addresses")
    assert "10.61.0.2 to test c1" in line
    assert net.link("vessel-a") is not None
    # prune leaves it too
    assert net.ok("network", "prune").strip() == ""
    info = json.loads(net.ok("network", "inspect", "a"))
    assert [(x["address"], x["owner_kind"], x["owner_name"]) for x in info["addresses"]] == [
        ("10.61.0.2", "test", "c1"), ("10.61.0.3", "vm", "v1")]
    assert net.hook("release", "test", "c1").stdout.strip() == "1"
    # the lowest free address comes back first
    assert net.hook("alloc", "a", "test", "c2").stdout.strip() == "10.61.0.2"
    assert net.hook("release", "test", "c2").returncode == 0
    assert net.hook("release", "vm", "v1").returncode == 0
    net.ok("network", "rm", "a")
    assert net.link("vessel-a") is None


def alloc_many(net, network, count):
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda i: net.hook("alloc", network, "container", f"c{i}"),
                             range(count)))


def test_concurrent_allocations_distinct(net):
    net.ok("network", "create", "a", "--subnet", "10.61.0.0/24")
    res = alloc_many(net, "a", 20)
    assert all(p.returncode == 0 for p in res), [p.stderr for p in res]
    addrs = [p.stdout.strip() for p in res]
    assert len(set(addrs)) == 20, addrs
    subnet = ipaddress.ip_network("10.61.0.0/24")
    assert all(ipaddress.ip_address(a) in subnet for a in addrs)
    assert "10.61.0.1" not in addrs and "10.61.0.0" not in addrs
    assert sorted(addrs, key=ipaddress.ip_address) == [f"10.61.0.{i}" for i in range(2, 22)]
    assert len(net.ls()["a"]["addresses"]) == 20

    # a /29 has 6 hosts, one the gateway: 5 of 8 concurrent callers get one
    net.ok("network", "create", "s", "--subnet", "10.61.1.0/29")
    res = alloc_many(net, "s", 8)
    got = [p.stdout.strip() for p in res if p.returncode == 0]
    full = [p.stderr.strip() for p in res if p.returncode != 0]
    assert sorted(got) == [f"10.61.1.{i}" for i in range(2, 7)], (got, full)
    assert len(full) == 3 and all(e.endswith("subnet 10.61.1.0/29 is full") for e in full), full


def test_ensure_recreates_after_reboot(net):
    net.ok("network", "create", "a", "--subnet", "10.61.0.0/24", "--internal")
    rules = net.table().count("vessel:net:vessel-a:")
    assert rules >= 3
    # a "reboot": the bridge and the whole table gone, the store kept
    net.lab.tool(net.ns, "link-del", "vessel-a")
    net.lab.tool(net.ns, "nat-teardown")
    assert net.link("vessel-a") is None and net.table() is None
    n = net.ls()["a"]
    assert not n["present"]
    assert "missing" in net.ok("network", "ls")
    # eight first users at once (containers starting after the reboot):
    # each rule made once
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        res = list(pool.map(lambda _: net.hook("ensure", "a"), range(8)))
    assert all(p.returncode == 0 for p in res), [p.stderr for p in res]
    assert net.table().count("vessel:net:vessel-a:") == rules
    assert "kind=bridge" in net.link("vessel-a") and "up=1" in net.link("vessel-a")
    assert net.addrs("vessel-a") == ["10.61.0.1/24"]
    assert "vessel:net:vessel-a:internal-out" in net.table()
    assert net.ls()["a"]["present"]
    # idempotent, and leaves a present network as it is
    before = net.state()
    assert net.hook("ensure", "a").returncode == 0
    assert net.state() == before
    # only the rules gone: put back, the bridge kept
    link = net.link("vessel-a")
    net.lab.tool(net.ns, "nat-net-del", "vessel-a")
    assert "vessel:net:vessel-a" not in (net.table() or "")
    assert net.hook("ensure", "a").returncode == 0
    assert "vessel:net:vessel-a:internal-in" in net.table() and net.link("vessel-a") == link
    p = net.hook("ensure", "nosuch")
    assert p.returncode == 1 and "no network named 'nosuch'" in p.stderr
    net.ok("network", "rm", "a")


def test_default_network(lab, tmp_path):
    net = Net(lab, tmp_path)
    assert net.ls() == {}
    # eight concurrent first users: one network
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        res = list(pool.map(lambda _: net.hook("ensure", "vessel0"), range(8)))
    assert all(p.returncode == 0 for p in res), [p.stderr for p in res]
    d = net.ls()
    assert list(d) == ["vessel0"]
    assert (d["vessel0"]["bridge"], d["vessel0"]["subnet"]) == ("vessel0", "10.88.0.0/16")
    assert net.addrs("vessel0") == ["10.88.0.1/16"]
    # prune keeps the default network
    assert net.ok("network", "prune").strip() == ""
    net.refused("network", "create", "x", "--subnet", "10.88.5.0/24", match="overlaps network vessel0")

    # where 10.88.0.0/16 collides with a route, another subnet is chosen
    other = Net(lab, tmp_path, role="other")
    lab.tool(other.ns, "bridge-add", "vessel-r")
    lab.tool(other.ns, "addr-add", "vessel-r", "10.88.0.1/24")
    lab.tool(other.ns, "link-up", "vessel-r", "up")
    p = other.hook("ensure", "vessel0")
    assert p.returncode == 0, p.stderr
    assert other.ls()["vessel0"]["subnet"] == "10.90.0.0/16"
    assert other.addrs("vessel0") == ["10.90.0.1/16"]


def test_prune(net):
    net.ok("network", "create", "a", "--subnet", "10.61.0.0/24")
    net.ok("network", "create", "b", "--subnet", "10.61.1.0/24")
    net.ok("network", "create", "c", "--subnet", "10.61.2.0/24")
    assert net.hook("alloc", "b", "vm", "v").returncode == 0
    assert net.ok("network", "prune").split() == ["a", "c"]
    assert list(net.ls()) == ["b"]
    assert net.link("vessel-a") is None and net.link("vessel-c") is None
    assert net.link("vessel-b") is not None
    assert "vessel:net:vessel-a" not in net.table() and "vessel:net:vessel-b" in net.table()


def test_two_roots_isolated(net, tmp_path):
    r1, r2 = tmp_path / "r1", tmp_path / "r2"
    net.ok("network", "create", "a", "--subnet", "10.61.0.0/24", root=r1)
    assert net.ls(root=r2) == {}
    # the same name in another root: its own bridge (vessel-a is r1's)
    net.ok("network", "create", "a", "--subnet", "10.62.0.0/24", root=r2)
    b1, b2 = net.ls(root=r1)["a"]["bridge"], net.ls(root=r2)["a"]["bridge"]
    assert b1 == "vessel-a" and b2 != b1 and len(b2) <= 15
    assert net.addrs(b1) == ["10.61.0.1/24"] and net.addrs(b2) == ["10.62.0.1/24"]
    # r1's subnet is a route of the namespace for r2
    net.refused("network", "create", "x", "--subnet", "10.61.0.0/24", root=r2,
                match="collides with the host route 10.61.0.0/24")
    assert net.hook("alloc", "a", "vm", "v", root=r1).stdout.strip() == "10.61.0.2"
    assert net.hook("alloc", "a", "vm", "v", root=r2).stdout.strip() == "10.62.0.2"
    net.hook("release", "vm", "v", root=r1)
    net.ok("network", "rm", "a", root=r1)
    assert net.link(b1) is None and net.link(b2) is not None
    assert f"vessel:net:{b2}:masquerade" in net.table(), "r1's rm took r2's rules"
    assert list(net.ls(root=r2)["a"]["addresses"]) != []
    net.hook("release", "vm", "v", root=r2)
    net.ok("network", "rm", "a", root=r2)
    assert net.table() is None


def test_concurrent_creates_one_subnet(net):
    """Four creators of one subnet at once: exactly one wins, the others are
    refused in one line, and only the winner's bridge exists."""
    names = [f"c{i}" for i in range(4)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        res = list(pool.map(lambda n: net.vessel("network", "create", n, "--subnet",
                                                 "10.61.0.0/24"), names))
    won = [n for n, p in zip(names, res) if p.returncode == 0]
    assert len(won) == 1, [p.stderr for p in res]
    for n, p in zip(names, res):
        if p.returncode:
            assert len(p.stderr.strip().splitlines()) == 1, p.stderr
            assert "10.61.0.0/24" in p.stderr, p.stderr
            assert net.link("vessel-" + n) is None
    assert list(net.ls()) == won


def test_vm_rm_releases_its_addresses(net, tmp_path):
    kernel = tmp_path / "kernel"
    kernel.write_bytes(bytes(4096))
    net.ok("network", "create", "a", "--subnet", "10.61.0.0/24")
    net.ok("vm", "create", "v", "--kernel", kernel)
    assert net.hook("alloc", "a", "vm", "v").stdout.strip() == "10.61.0.2"
    net.refused("network", "rm", "a", match="in use")
    net.ok("vm", "rm", "v")
    assert net.ls()["a"]["addresses"] == []
    net.ok("network", "rm", "a")


def fault(net, step, *args):
    cmd = ["ip", "netns", "exec", net.ns, "env", f"VESSEL_FAULT_STEP={step}", str(FAULT),
           "--root", str(net.root)] + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_sigkill_mid_create_and_rm(net):
    """A vessel killed between recording a network and making its bridge
    leaves a network that ensure brings up and rm removes; one killed
    between removing the bridge and the row leaves a row that rm removes."""
    if not FAULT.exists():
        pytest.fail(f"{FAULT} is not built (run make build)")
    p = fault(net, "net-create:row", "network", "create", "a", "--subnet", "10.61.0.0/24")
    assert p.returncode == -9, p.stderr
    assert not net.ls()["a"]["present"] and net.link("vessel-a") is None
    net.refused("network", "create", "b", "--subnet", "10.61.0.0/24", match="overlaps network a")
    assert net.hook("ensure", "a").returncode == 0
    assert net.link("vessel-a") is not None
    p = fault(net, "net-rm:kernel-gone", "network", "rm", "a")
    assert p.returncode == -9, p.stderr
    assert net.link("vessel-a") is None and "a" in net.ls()
    net.ok("network", "rm", "a")
    assert net.ls() == {} and net.table() is None

    # killed with the bridge made but no address and no rules: ensure
    # completes it, rm removes all of it
    assert fault(net, "net-create:bridge", "network", "create", "c",
                 "--subnet", "10.61.2.0/24").returncode == -9
    assert net.link("vessel-c") is not None and net.addrs("vessel-c") == []
    assert "vessel:net:vessel-c" not in (net.table() or "")
    assert net.hook("ensure", "c").returncode == 0
    assert net.addrs("vessel-c") == ["10.61.2.1/24"]
    assert "vessel:net:vessel-c:masquerade" in net.table()
    net.ok("network", "rm", "c")
    assert net.link("vessel-c") is None and net.table() is None

    # killed before the bridge: rm of the half-made network leaves nothing
    assert fault(net, "net-create:row", "network", "create", "b",
                 "--subnet", "10.61.1.0/24").returncode == -9
    net.ok("network", "rm", "b")
    assert net.ls() == {} and net.link("vessel-b") is None and net.table() is None


def test_warns_about_another_firewall_dropping_forwarded_traffic(net):
    """A Docker-style `iptables -P FORWARD DROP` (an ip filter table whose
    forward chain drops by policy) in the namespace: create still works
    and says, in one line, that outside access will not."""
    p = net.vessel("network", "create", "a", "--subnet", "10.61.0.0/24")
    assert p.returncode == 0 and "warning" not in p.stderr, p.stderr
    net.lab.tool(net.ns, "nft", "add table ip filter\n"
                 "add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }\n")
    p = net.vessel("network", "create", "b", "--subnet", "10.61.1.0/24")
    assert p.returncode == 0, p.stderr
    warn = [line for line in p.stderr.splitlines() if "warning" in line]
    assert warn == ["vessel: warning: table ip filter chain FORWARD drops forwarded traffic by "
                    "policy: network b has no outside access until that firewall accepts "
                    "traffic of bridge vessel-b"], p.stderr
    # internal networks have no outside access anyway: no warning
    p = net.vessel("network", "create", "i", "--subnet", "10.61.2.0/24", "--internal")
    assert p.returncode == 0 and "warning" not in p.stderr, p.stderr
    # the other table is read, never changed
    assert "policy drop" in net.lab.tool(net.ns, "nft", "list table ip filter").stdout
    net.ok("network", "rm", "a", "b", "i")
    assert "policy drop" in net.lab.tool(net.ns, "nft", "list table ip filter").stdout
