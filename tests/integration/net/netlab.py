"""The network lab for src/net's tests (the fixtures using it are in
conftest.py): namespaces made by the test, torn down by a finalizer even
when the test fails. Only `ip netns add/del`
comes from iproute2 (namespace setup); every link, address, route and
nftables rule is made by the library through build/.../net-tool."""
import os
import secrets
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from vesseltest import BUILD, skip  # noqa: E402

NET_TOOL = BUILD / "tests/unit/net/net-tool"
BUSYBOX = shutil.which("busybox")


class Lab:
    """Namespaces named vessel-test-<random>-<role>, and processes in them."""

    def __init__(self):
        self.tag = secrets.token_hex(3)
        self.namespaces = []
        self.procs = []

    def netns(self, role):
        name = f"vessel-test-{self.tag}-{role}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        self.namespaces.append(name)
        return name

    def tool(self, ns, *args, check=True, timeout=20):
        """Runs net-tool in namespace ns (None: the test's own, for the pure
        commands). Returns CompletedProcess; with check, fails on error."""
        cmd = [str(NET_TOOL)] + (["-n", ns] if ns else []) + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check:
            assert p.returncode == 0, f"{' '.join(cmd)}: {p.stderr.strip()}"
        return p

    def sh(self, ns, *args, timeout=20):
        return subprocess.run(["ip", "netns", "exec", ns] + [str(a) for a in args],
                              capture_output=True, text=True, timeout=timeout)

    def spawn(self, ns, *args, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + [str(a) for a in args], **kw)
        self.procs.append(p)
        return p

    def ping(self, ns, addr, count=1):
        """True if addr answers a ping from ns (short timeout: a dropped
        packet must not hang the test)."""
        p = self.sh(ns, BUSYBOX, "ping", "-c", str(count), "-W", "2", addr)
        return p.returncode == 0

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def attach(lab, host, bridge, veth, ns, addr, gw):
    """A "container": ns joined to bridge by the library's one-call attach."""
    lab.tool(host, "attach", bridge, veth, ns, "eth0", addr, gw)


def network(lab, host, bridge, cidr, gw, internal=False):
    """A vessel network: bridge with the gateway address, up, nft rules."""
    lab.tool(host, "bridge-add", bridge)
    lab.tool(host, "addr-add", bridge, f"{gw}/{cidr.split('/')[1]}")
    lab.tool(host, "link-up", bridge, "up")
    return lab.tool(host, "nat-net-add", bridge, cidr, *(["--internal"] if internal else []))
