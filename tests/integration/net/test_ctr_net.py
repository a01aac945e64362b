"""Containers on virtual networks, end to end: `vessel run --network NAME -p ...`.

vessel runs inside a namespace the test makes (`nsenter --net`, which
keeps the host's /sys and so its cgroups, unlike `ip netns exec`), so its
bridges, veths and nftables table live there and go with it; only private
addresses inside the test's namespaces are used. Each test has its own
--root and a busybox image built from the host's busybox-static; at the
end every container is removed, then the namespaces."""
import concurrent.futures
import ipaddress
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest

from netlab import NET_TOOL, Lab, skip

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "run"))
from runtest import Root, wait_until  # noqa: E402
from vesseltest import GUEST_DIR, TESTKERNEL, VESSEL  # noqa: E402

# accepts one connection on port 7000 and tells the peer its address
PEER_SERVER = ("import socket; s = socket.socket(); "
               "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
               "s.bind(('0.0.0.0', 7000)); s.listen(); c, a = s.accept(); "
               "c.sendall(('peer %s\\n' % a[0]).encode()); c.close()")
FETCH = ("import sys, urllib.request; "
         "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())")


class NsRoot(Root):
    """A --root whose vessel runs in network namespace ns."""

    def __init__(self, root, lab, ns):
        super().__init__(root)
        self.lab, self.ns = lab, ns

    def run(self, *args, timeout=60, check=False, **kw):
        cmd = ["nsenter", f"--net=/run/netns/{self.ns}", str(VESSEL), "--root",
               str(self.state)] + [str(a) for a in args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, **kw)
        if check:
            assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
        return r

    def links(self):
        p = self.lab.sh(self.ns, "ip", "-o", "link", "show")
        return sorted(line.split(":")[1].strip().split("@")[0] for line in p.stdout.splitlines())

    def ports(self):
        """The published ports (comments of the DNAT rules) in the namespace."""
        p = self.lab.tool(self.ns, "nat-port-list", check=False)
        return p.stdout.strip().splitlines() if p.returncode == 0 else []

    def net(self, name):
        return json.loads(self.run("network", "inspect", name, check=True).stdout)

    def leases(self, name):
        return {a["owner_name"]: a["address"] for a in self.net(name)["addresses"]}

    def logs(self, name):
        return self.run("logs", name, check=True).stdout

    def sh(self, *args, **kw):
        """`vessel run --rm ARGS...`: returns CompletedProcess."""
        return self.run("run", "--rm", *args, **kw)


@pytest.fixture
def cn(tmp_path):
    if os.geteuid() != 0:
        skip("needs root (namespaces, cgroups, overlay mounts)")
    if not NET_TOOL.exists():
        pytest.fail(f"{NET_TOOL} is not built (run make build)")
    if not VESSEL.exists():
        pytest.fail(f"{VESSEL} is not built (run make build)")
    if not pathlib.Path("/bin/busybox").exists():
        skip("/bin/busybox (busybox-static) is absent")
    lab = Lab()
    r = None
    try:
        ns = lab.netns("host")
        lab.tool(ns, "link-up", "lo", "up")
        r = NsRoot(tmp_path / "root", lab, ns)
        r.root.mkdir()
        r.img = r.image()
        r.tag = lab.tag
        yield r
    finally:
        if r:
            r.cleanup()
        lab.close()


def outside(r, role="out", addr="172.31.0.2"):
    """A namespace behind a routed veth vessel-up (172.31.0.1/24) of the
    vessel namespace, which routes everything there: the test's stand-in
    for the world outside. It has no route back to the networks' subnets,
    so only masquerade gets replies back to a container."""
    lab, h = r.lab, r.ns
    out = lab.netns(role)
    lab.tool(h, "veth-add", "vessel-up", "eth0", out)
    lab.tool(h, "addr-add", "vessel-up", "172.31.0.1/24")
    lab.tool(h, "link-up", "vessel-up", "up")
    lab.tool(out, "link-up", "lo", "up")
    lab.tool(out, "addr-add", "eth0", f"{addr}/24")
    lab.tool(out, "link-up", "eth0", "up")
    lab.tool(h, "route-add", "default", addr, "vessel-up")
    return out


def serve(r, name, net, port=5000):
    """A detached container `name` on net serving 1 MiB of random data once
    on port; returns the data's sha256 (the first line it logs)."""
    r.run("run", "-d", "--name", name, "--network", net, r.img, "sh", "-c",
          "dd if=/dev/urandom bs=64k count=16 of=/tmp/d 2>/dev/null; busybox sha256sum < /tmp/d;"
          f" busybox nc -l -p {port} < /tmp/d", check=True)
    return wait_until(lambda: r.logs(name).split(" ")[0], what=f"{name}'s hash")


def fetch_from(r, name, net, src, port=5000):
    """A container `name` on net that receives what src serves: its sha256."""
    p = r.sh("--name", name, "--network", net, r.img, "sh", "-c",
             f"for i in $(busybox seq 100); do busybox nc {src} {port} -e sh -c 'cat > /tmp/r';"
             " [ -s /tmp/r ] && break; sleep 0.1; done; busybox sha256sum < /tmp/r", check=True)
    return p.stdout.split(" ")[0]


def test_two_containers_ping_and_tcp_both_ways_by_name(cn):
    net = "n" + cn.tag
    cn.run("network", "create", net, check=True)
    # b -> a and a -> b, each 1 MiB, each reaching the other by name
    sent = serve(cn, "a1", net)
    assert fetch_from(cn, "b1", net, "a1") == sent
    sent = serve(cn, "b2", net)
    assert fetch_from(cn, "a2", net, "b2") == sent
    cn.run("run", "-d", "--name", "peer", "--network", net, cn.img, "sleep", "60", check=True)
    lease = cn.leases(net)["peer"]
    assert cn.inspect("peer")["addresses"] == [{"network": net, "address": lease}]
    p = cn.sh("--network", net, cn.img, "sh", "-c",
              f"busybox ping -c 1 -W 2 peer && busybox ping -c 1 -W 2 {lease} && cat /etc/hosts")
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{lease}\tpeer" in p.stdout.splitlines()
    # its own eth0: the lease, a default route via the gateway, the network's MTU
    info = cn.net(net)
    p = cn.sh("--name", "me", "--network", net, cn.img, "sh", "-c",
              "ip -o -4 addr show eth0; ip route; cat /sys/class/net/eth0/mtu; hostname;"
              " cat /etc/hostname", check=True)
    gw, prefix = info["gateway"], info["subnet"].split("/")[1]
    assert f"/{prefix} " in p.stdout and f"default via {gw} dev eth0" in p.stdout, p.stdout
    assert "\n1500\n" in p.stdout


def test_hosts_kept_current_and_mtu(cn):
    net = "m" + cn.tag
    cn.run("network", "create", net, "--mtu", "1400", check=True)
    cn.run("run", "-d", "--name", "w1", "--network", net, cn.img, "sleep", "60", check=True)
    cn.run("run", "-d", "--name", "w2", "--network", net, cn.img, "sleep", "60", check=True)
    hosts = cn.state / "containers"
    w1 = cn.inspect("w1")["id"]
    text = wait_until(lambda: (hosts / w1 / "hosts").read_text(), what="w1's hosts")
    assert "\tw2\n" in text
    cn.run("stop", "-t", "1", "w2", check=True)
    assert cn.inspect("w2")["addresses"] == []
    assert "\tw2\n" not in (hosts / w1 / "hosts").read_text()
    p = cn.sh("--network", net, cn.img, "cat", "/sys/class/net/eth0/mtu", check=True)
    assert p.stdout == "1400\n"
    # the image's /etc is untouched: the files are bind mounts
    for layer in (cn.state / "images").rglob("etc"):
        assert not (layer / "hosts").exists() and not (layer / "resolv.conf").exists()


def test_networks_are_isolated(cn):
    a, b = "a" + cn.tag, "b" + cn.tag
    cn.run("network", "create", a, check=True)
    cn.run("network", "create", b, check=True)
    cn.run("run", "-d", "--name", "inb", "--network", b, cn.img, "sleep", "60", check=True)
    cn.run("run", "-d", "--name", "ina", "--network", a, cn.img, "sleep", "60", check=True)
    addr_b, addr_a = cn.leases(b)["inb"], cn.leases(a)["ina"]
    ping = "busybox ping -c 1 -W 1 "
    # reachable within the network (two tries: the first may wait on ARP on a loaded host)
    assert cn.sh("--network", a, cn.img, "sh", "-c",
                 "busybox ping -c 2 -W 2 " + addr_a).returncode == 0
    assert cn.sh("--network", a, cn.img, "sh", "-c", ping + addr_b).returncode != 0
    assert cn.sh("--network", b, cn.img, "sh", "-c", ping + addr_a).returncode != 0
    # the name of a container of another network is not known either
    p = cn.sh("--network", a, cn.img, "sh", "-c", "busybox ping -c 1 -W 1 inb")
    assert p.returncode != 0 and "bad address" in p.stderr


def test_internal_cannot_reach_outside_masquerade_can(cn):
    out = outside(cn)
    n, i = "o" + cn.tag, "i" + cn.tag
    cn.run("network", "create", n, check=True)
    cn.run("network", "create", i, "--internal", check=True)
    ping = ["sh", "-c", "busybox ping -c 1 -W 2 172.31.0.2"]
    p = cn.sh("--network", n, cn.img, *ping)
    assert p.returncode == 0, p.stdout + p.stderr
    assert cn.sh("--network", i, cn.img, *ping).returncode != 0
    # TCP to the outside, which sees the host's uplink address (masquerade)
    cn.lab.spawn(out, sys.executable, "-c", PEER_SERVER)
    p = cn.sh("--network", n, cn.img, "sh", "-c",
              "for i in $(busybox seq 50); do busybox nc 172.31.0.2 7000 -e sh -c 'cat > /tmp/r'"
              " 2>/dev/null; [ -s /tmp/r ] && break; sleep 0.1; done; cat /tmp/r")
    assert p.stdout == "peer 172.31.0.1\n", p.stdout + p.stderr
    # resolv.conf of an internal network names no server
    p = cn.sh("--network", i, cn.img, "cat", "/etc/resolv.conf", check=True)
    assert "nameserver" not in p.stdout.replace("no nameserver", "")


def http_container(cn, name, net, *publish):
    cn.run("run", "-d", "--name", name, "--network", net, *publish, cn.img, "sh", "-c",
           f"mkdir -p /www; echo hello-{name} > /www/index.html; exec busybox httpd -f -p 80 -h /www",
           check=True)


def fetch(cn, ns, url):
    p = cn.lab.sh(ns, sys.executable, "-c", FETCH, url, timeout=30)
    return p.stdout if p.returncode == 0 else None


def test_published_port_from_another_namespace_and_the_host(cn):
    client = outside(cn, "client")
    net = "p" + cn.tag
    cn.run("network", "create", net, check=True)
    http_container(cn, "web", net, "-p", "8080:80")
    want = "hello-web\n"
    assert wait_until(lambda: fetch(cn, client, "http://172.31.0.1:8080/"),
                      what="the published port from another namespace") == want
    assert fetch(cn, cn.ns, "http://127.0.0.1:8080/") == want  # the host, localhost
    assert fetch(cn, cn.ns, "http://172.31.0.1:8080/") == want  # the host, its own address
    # another container of the network, through the host's port (hairpin)
    gw = cn.net(net)["gateway"]
    p = cn.sh("--network", net, cn.img, "sh", "-c",
              f"busybox nc {gw} 8080 -e sh -c 'printf \"GET / HTTP/1.0\\r\\n\\r\\n\"; "
              "cat > /tmp/r'; tail -n 1 /tmp/r")
    assert p.stdout == want, p.stdout + p.stderr
    assert [line for line in cn.ports() if line.startswith("8080:80/tcp -> ")]
    # published again: refused in one line, nothing made
    before = (cn.links(), cn.ports(), cn.leases(net))
    ids = cn.ids()
    p = cn.run("run", "-d", "--name", "web2", "--network", net, "-p", "8080:81", cn.img,
               "sleep", "9")
    assert p.returncode == 125 and p.stderr.count("\n") == 1, p.stderr
    assert "8080" in p.stderr and "already published" in p.stderr
    assert (cn.links(), cn.ports(), cn.leases(net)) == before and cn.ids() == ids
    # stopped: the port goes, the address and the veth too
    cn.run("stop", "-t", "1", "web", check=True)
    assert cn.ports() == [] and cn.leases(net) == {}
    assert fetch(cn, client, "http://172.31.0.1:8080/") is None
    assert not [link for link in cn.links() if link.startswith("vessel-") and link != "vessel-up"
                and not link.startswith("vessel-" + net[:8])]
    # and can be published again by another container (udp on the same number too)
    http_container(cn, "web3", net, "-p", "127.0.0.1:8080:80", "-p", "8080:80/udp")
    assert wait_until(lambda: fetch(cn, cn.ns, "http://127.0.0.1:8080/"),
                      what="the port republished") == "hello-web3\n"


def test_twenty_in_parallel_get_distinct_addresses(cn):
    net = "t" + cn.tag
    cn.run("network", "create", net, check=True)

    def start(i):
        return cn.run("run", "-d", "--name", f"p{i}", "--network", net, cn.img, "sh", "-c",
                      "ip -o -4 addr show eth0; exec sleep 60")

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        res = list(ex.map(start, range(20)))
    assert all(p.returncode == 0 for p in res), [p.stderr for p in res if p.returncode]
    leases = cn.leases(net)
    assert len(leases) == 20 and len(set(leases.values())) == 20
    subnet = ipaddress.ip_network(cn.net(net)["subnet"])
    for i in range(20):
        line = wait_until(lambda: cn.logs(f"p{i}"), what=f"p{i}'s address")
        addr = line.split()[3].split("/")[0]
        assert addr == leases[f"p{i}"] and ipaddress.ip_address(addr) in subnet
    veths = [link for link in cn.links() if link.startswith("vessel-") and
             not link.startswith("vessel-" + net[:8])]
    assert len(veths) == 20
    # concurrent starts rewrote each other's /etc/hosts: every one lists all 20
    want = {(a, n) for n, a in leases.items()}
    for i in range(20):
        cid = cn.inspect(f"p{i}")["id"]
        text = (cn.state / "containers" / cid / "hosts").read_text()
        got = {tuple(line.split("\t")[:2]) for line in text.splitlines()[2:]}
        got = {(a, n.split()[-1]) for a, n in got}  # its own line: "addr\thostname name"
        assert got == want, (i, text)
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as ex:
        list(ex.map(lambda i: cn.run("rm", "-f", f"p{i}", check=True), range(20)))
    assert cn.leases(net) == {}
    assert not [link for link in cn.links() if link.startswith("vessel-") and
                not link.startswith("vessel-" + net[:8])]


def refused(cn, args, match):
    """A one-line refusal that leaves links, ports, containers and networks as they were."""
    state = lambda: (cn.links(), cn.ports(), cn.ids(),  # noqa: E731
                     cn.run("network", "ls", "--format", "json", check=True).stdout)
    before = state()
    p = cn.run(*args)
    assert p.returncode != 0, args
    assert p.stderr.count("\n") == 1 and match in p.stderr, (args, p.stderr)
    assert state() == before, args


def test_bad_input_one_line_nothing_made(cn):
    net = "x" + cn.tag
    cn.run("network", "create", net, check=True)
    refused(cn, ["run", "--network", "nosuch", cn.img, "true"], "no network named 'nosuch'")
    refused(cn, ["create", "--network", "nosuch", cn.img, "true"], "no network named")
    refused(cn, ["run", "-p", "80", cn.img, "true"], "-p")
    refused(cn, ["run", "-p", "1:99999", cn.img, "true"], "out of range")
    refused(cn, ["run", "--network", "none", "-p", "81:80", cn.img, "true"], "need a network")
    refused(cn, ["run", "-p", "82:80", "-p", "82:81", cn.img, "true"], "already published")
    cn.run("run", "-d", "--name", "busy", "--network", net, "-p", "9090:80", cn.img,
           "sleep", "60", check=True)
    refused(cn, ["run", "--rm", "-p", "9090:80", cn.img, "true"], "already published")
    refused(cn, ["network", "rm", net], "in use")
    cn.run("rm", "-f", "busy", check=True)
    cn.run("create", "--name", "later", "--network", net, cn.img, "true", check=True)
    refused(cn, ["network", "rm", net], "in use by container later")
    cn.run("rm", "later", check=True)
    cn.run("network", "rm", net, check=True)


def test_released_after_failed_start_and_killed_monitor(cn):
    net = "k" + cn.tag
    cn.run("network", "create", net, check=True)
    links = cn.links()
    # a start that fails after the attach (no such executable)
    p = cn.run("run", "--rm", "--network", net, "-p", "7070:70", cn.img, "/nonexistent")
    assert p.returncode != 0
    assert cn.leases(net) == {} and cn.ports() == [] and cn.links() == links
    # a start that fails in the attach itself: the veth's host name is taken
    cid = cn.run("create", "--name", "clash", "--network", net, "-p", "7072:70", cn.img,
                 "sleep", "60", check=True).stdout.strip()
    cn.lab.tool(cn.ns, "bridge-add", f"vessel-{cid[:8]}")
    p = cn.run("start", "clash")
    assert p.returncode != 0 and p.stderr.count("\n") == 1, p.stderr
    assert f"vessel-{cid[:8]}" in p.stderr, p.stderr
    assert cn.leases(net) == {} and cn.ports() == []
    assert cn.inspect("clash")["state"] == "created"
    cn.lab.tool(cn.ns, "link-del", f"vessel-{cid[:8]}")
    assert cn.links() == links
    cn.run("start", "clash", check=True)  # and starts once the name is free
    assert "clash" in cn.leases(net)
    cn.run("rm", "-f", "clash", check=True)
    assert cn.leases(net) == {} and cn.ports() == []
    # a monitor killed with SIGKILL: cleaned up at the next look
    cn.run("run", "-d", "--name", "k1", "--network", net, "-p", "7071:70", cn.img,
           "sleep", "60", check=True)
    assert "k1" in cn.leases(net) and cn.ports()
    mon = cn.inspect("k1")["monitor_pid"]
    os.kill(mon, signal.SIGKILL)
    wait_until(lambda: not os.path.exists(f"/proc/{mon}"), what="the monitor's end")
    assert cn.inspect("k1")["state"] == "exited"
    assert cn.leases(net) == {} and cn.ports() == []
    wait_until(lambda: cn.links() == links, what="the veth to go")
    # another monitor killed, and only `network rm` looks: it sweeps, then removes
    cn.run("run", "-d", "--name", "k2", "--network", net, cn.img, "sleep", "60", check=True)
    mon = cn.inspect("k2")["monitor_pid"]
    os.kill(mon, signal.SIGKILL)
    wait_until(lambda: not os.path.exists(f"/proc/{mon}"), what="the monitor's end")
    cn.run("rm", "k1", check=True)
    p = cn.run("network", "rm", net)
    assert "in use by container k2" in p.stderr  # its lease is gone, its config remains
    assert cn.leases(net) == {}
    cn.run("rm", "k2", check=True)
    cn.run("network", "rm", net, check=True)
    time.sleep(0.2)
    assert cn.links() == [link for link in links if not link.startswith("vessel-" + net[:8])]


def test_restarts_and_the_idle_monitor_keep_the_network(cn):
    """A container that outlives the first second runs under the small idle
    monitor (an exec that carries no network state) and is restarted by its
    policy: each run has eth0 with a lease, and the last end releases the
    lease, the published port and the veth."""
    net = "r" + cn.tag
    cn.run("network", "create", net, check=True)
    links = cn.links()
    cn.run("run", "-d", "--name", "rs", "--network", net, "-p", "7075:70",
           "--restart", "on-failure:1", cn.img, "sh", "-c",
           "ip -o -4 addr show eth0; sleep 1.5; exit 3", check=True)
    wait_until(lambda: cn.inspect("rs")["state"] == "exited", timeout=30,
               what="the second run's end")
    info = cn.inspect("rs")
    assert info["restart_count"] == 1 and info["exit_code"] == 3, info
    runs = [ln for ln in cn.logs("rs").splitlines() if " inet " in ln]
    assert len(runs) == 2, cn.logs("rs")
    assert cn.leases(net) == {} and cn.ports() == []
    wait_until(lambda: cn.links() == links, what="the veth to go")


def test_container_and_vm_exchange_data(cn):
    """A container and a Linux VM (the guest kit under emu) on one network:
    the VM pings the container and both move data over TCP, each way."""
    if not (GUEST_DIR / "vmlinuz").exists():
        skip(f"no guest kit in {GUEST_DIR} (make guest)")
    net = "x" + cn.tag
    cn.run("network", "create", net, check=True)
    # both listeners from the start: the VM's second nc follows its first at
    # once, before a listener started after the first exchange would be up
    cn.run("run", "-d", "--name", "srv", "--network", net, cn.img, "sh", "-c",
           "nc -l -p 7001 > /tmp/got & echo from-container | nc -l -p 7000; wait; "
           "cat /tmp/got; sleep 30", check=True)
    ip = cn.leases(net)["srv"]
    r = cn.run("vm", "run", "--accel", "emu", "--network", net, "--", "sh", "-c",
               f"ping -c1 -W20 {ip} >/dev/null && echo ping-ok; nc -w 10 {ip} 7000; "
               f"echo from-vm | nc -w 10 {ip} 7001; echo sent", timeout=600)
    out = r.stdout + r.stderr
    assert "ping-ok" in r.stdout and "from-container" in r.stdout, out[-3000:]
    assert r.returncode == 0, out[-3000:]
    wait_until(lambda: "from-vm" in cn.logs("srv"), timeout=30, what="the VM's bytes")


def test_default_network_none_and_host(cn):
    p = cn.sh(cn.img, "sh", "-c", "ip -o -4 addr show eth0; ip route", check=True)
    assert " 10.88." in p.stdout and "default via 10.88.0.1" in p.stdout, p.stdout
    # the first use made vessel0 and turned forwarding on, and said so, once
    assert p.stderr == ("vessel: enabled IPv4 forwarding (net.ipv4.ip_forward=1) for network "
                        "vessel0\n"), p.stderr
    assert cn.lab.sh(cn.ns, "cat", "/proc/sys/net/ipv4/ip_forward").stdout == "1\n"
    assert cn.sh(cn.img, "true", check=True).stderr == ""
    p = cn.sh("--network", "bridge", cn.img, "sh", "-c", "ip -o -4 addr show eth0", check=True)
    assert " 10.88." in p.stdout
    p = cn.sh("--network", "none", cn.img, "sh", "-c", "ls /sys/class/net", check=True)
    assert p.stdout.split() == ["lo"]
    p = cn.sh("--network", "host", cn.img, "sh", "-c", "ls /sys/class/net", check=True)
    assert "vessel0" in p.stdout.split()
    assert json.loads(cn.run("inspect", cn.run("create", cn.img, "true", check=True)
                             .stdout.strip(), check=True).stdout)["spec"]["network"] == "vessel0"


def test_lease_of_a_vanished_container_is_swept(cn):
    """A container lease whose container no longer exists (what a crash can
    leave) does not keep its network busy: rm sweeps it first."""
    from vesseltest import BUILD
    net = "g" + cn.tag
    cn.run("network", "create", net, check=True)
    p = subprocess.run(["nsenter", f"--net=/run/netns/{cn.ns}", str(BUILD / "vessel-net-hook"),
                        str(cn.state), "alloc", net, "container", "ghost"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "ghost" in cn.leases(net)
    cn.run("network", "rm", net, check=True)


def test_publish_all_exposed_ports(cn, tmp_path):
    """-P publishes each port the image exposes on a free host port of the
    ephemeral range, recorded in the spec; the port answers from the host."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "image"))
    from imagetest import busybox_entries, d, oci_layout, tar_bytes
    layout = tmp_path / "layout"
    oci_layout(layout, {"exp:1": ([tar_bytes(busybox_entries() + [d("www")])],
                                  {"ExposedPorts": {"80/tcp": {}, "53/udp": {}}})})
    cn.run("image", "import", layout, check=True)
    net = "e" + cn.tag
    cn.run("network", "create", net, check=True)
    cn.run("run", "-d", "--name", "web", "--network", net, "-P", "exp:1", "sh", "-c",
           "echo hello-exposed > /www/index.html; exec busybox httpd -f -p 80 -h /www",
           check=True)
    ports = cn.inspect("web")["spec"]["ports"]
    assert sorted(p.split(":")[1] for p in ports) == ["53/udp", "80/tcp"], ports
    host = {p.split(":")[1]: int(p.split(":")[0]) for p in ports}
    assert all(32768 <= h < 61000 for h in host.values()), ports
    assert wait_until(lambda: fetch(cn, cn.ns, f"http://127.0.0.1:{host['80/tcp']}/"),
                      what="the -P port") == "hello-exposed\n"
    # a second -P container gets other host ports
    cn.run("run", "-d", "--name", "web2", "--network", net, "-P", "exp:1", "busybox", "sleep", "60",
           check=True)
    ports2 = cn.inspect("web2")["spec"]["ports"]
    assert not set(ports) & set(ports2) and len(ports2) == 2
    # -P on --network none publishes nothing (as docker), and is no error
    p = cn.sh("--network", "none", "-P", "exp:1", "busybox", "true", check=True)
    assert p.returncode == 0


def in_ctr(cn, name, *args):
    """Runs args (as root, from the test) in container name's network namespace."""
    pid = cn.inspect(name)["pid"]
    return subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", *map(str, args)],
                          capture_output=True, text=True, timeout=30)


def test_vlan_networks_share_a_bridge_and_stay_apart(cn):
    """Two --vlan networks live on one bridge (vessel_vl), kept apart by the
    `bridge vessel` nftables table (this kernel has no bridge VLAN
    filtering; the same mode is used everywhere): containers of one VLAN
    reach each other, not the other VLAN's, neither routed through the
    gateway nor directly on the link with an address of the other subnet;
    a container claiming the other VLAN's addresses poisons no neighbour
    entry of the host, and one taking another's MAC address gets nothing
    through (no move in the bridge's forwarding database); the last VLAN's
    removal takes the bridge and table."""
    a, b = "va" + cn.tag, "vb" + cn.tag
    cn.run("network", "create", a, "--vlan", "10", "--subnet", "10.210.10.0/24", check=True)
    cn.run("network", "create", b, "--vlan", "20", "--subnet", "10.210.20.0/24", check=True)
    for n, vid in ((a, 10), (b, 20)):
        info = cn.net(n)
        assert (info["bridge"], info["device"], info["vlan"], info["vlan_mode"]) == \
            (f"vessel_vl.{vid}", "vessel_vl", vid, "nftables"), info
    p = cn.run("network", "create", "vc" + cn.tag, "--vlan", "20")
    assert p.returncode == 1 and p.stderr == f"vessel: VLAN 20 is network {b}'s\n", p.stderr
    for name, net in (("x", a), ("y", a), ("z", b)):
        cn.run("run", "-d", "--name", name, "--network", net, cn.img, "sleep", "120", check=True)
    ya, za = cn.leases(a)["y"], cn.leases(b)["z"]
    links = cn.links()
    assert "vessel_vl" in links and not [x for x in links if x.startswith("vessel_vl.")]
    ping = ["busybox", "ping", "-c", "2", "-W", "2"]
    assert in_ctr(cn, "x", *ping, ya).returncode == 0, "same VLAN"
    assert in_ctr(cn, "x", *ping, za).returncode != 0, "VLAN 10 routed to VLAN 20"
    assert in_ctr(cn, "z", *ping, ya).returncode != 0, "VLAN 20 routed to VLAN 10"
    # x takes an address of VLAN 20's subnet: z is on its link now, yet unreachable
    assert in_ctr(cn, "x", "ip", "addr", "add", "10.210.20.99/24", "dev", "eth0").returncode == 0
    assert in_ctr(cn, "x", *ping, "-I", "10.210.20.99", za).returncode != 0, "L2 across VLANs"
    assert in_ctr(cn, "x", *ping, "-I", "10.210.20.99", "10.210.20.1").returncode != 0
    neigh = cn.lab.sh(cn.ns, "ip", "neigh", "show", "10.210.20.99").stdout
    assert "lladdr" not in neigh, neigh  # the host learnt nothing from the spoof
    assert in_ctr(cn, "y", *ping, "10.210.10.1").returncode == 0  # its gateway still
    # each port sends from its one MAC address: x taking z's is dropped
    # before the bridge learns it (z's address stays on z's port)
    macs = {c: re.search(r"link/ether (\S+)", in_ctr(cn, c, "ip", "-o", "link", "show",
                                                     "eth0").stdout).group(1) for c in "xz"}
    assert all(m.startswith("02:76:") for m in macs.values()), macs
    assert in_ctr(cn, "x", "ip", "link", "set", "eth0", "address", macs["z"]).returncode == 0
    assert in_ctr(cn, "x", *ping, "10.210.10.1").returncode != 0, "a foreign MAC passed"
    fdb = cn.lab.sh(cn.ns, "bridge", "fdb", "show", "br", "vessel_vl").stdout
    zport = vlan_members(cn, 20)
    assert all(line.split()[2] in zport for line in fdb.splitlines()
               if line.startswith(macs["z"] + " ")), (fdb, zport)
    assert in_ctr(cn, "z", *ping, "10.210.20.1").returncode == 0
    assert in_ctr(cn, "x", "ip", "link", "set", "eth0", "address", macs["x"]).returncode == 0
    assert in_ctr(cn, "x", *ping, ya).returncode == 0
    for name in ("x", "y", "z"):
        cn.run("rm", "-f", name, check=True)
    cn.run("network", "rm", a, check=True)
    assert "vessel_vl" in cn.links()  # VLAN 20 still uses it
    cn.run("network", "rm", b, check=True)
    assert not [x for x in cn.links() if x.startswith("vessel_vl") or x.startswith("vessel-")]
    tables = cn.lab.tool(cn.ns, "nft", "list tables").stdout
    assert "bridge vessel" not in tables and "inet vessel" not in tables, tables


UDP_COUNT = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("0.0.0.0", 5201))
print("ready", flush=True)
s.settimeout(float(sys.argv[1]))
got = 0
try:
    while True:
        s.recv(65536)
        got += 1
except socket.timeout:
    pass
print(got, flush=True)
"""


def vlan_members(cn, vid):
    p = cn.lab.tool(cn.ns, "nft", f"list set bridge vessel vlan{vid}")
    return sorted(re.findall(r'"([^"]+)"', p.stdout))


def test_vm_on_vlan_network_reaches_only_its_vlan(cn):
    """A VM (the test guest under kvm, virtio-net-udp) on VLAN 10: its tap
    is a member of VLAN 10 while it runs; its UDP frames reach a container
    of VLAN 10, and none reach one of VLAN 20 even sent straight to its MAC
    and address; the tap leaves the VLAN with the VM."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        skip("/dev/kvm is not usable")
    a, b = "wa" + cn.tag, "wb" + cn.tag
    cn.run("network", "create", a, "--vlan", "10", "--subnet", "10.210.10.0/24", check=True)
    cn.run("network", "create", b, "--vlan", "20", "--subnet", "10.210.20.0/24", check=True)
    cn.run("run", "-d", "--name", "y", "--network", a, cn.img, "sleep", "120", check=True)
    cn.run("run", "-d", "--name", "z", "--network", b, cn.img, "sleep", "120", check=True)
    veths = vlan_members(cn, 10)
    assert len(veths) == 1 and vlan_members(cn, 20) != veths
    # to z, the VM even claims an address of VLAN 20's subnet
    for target, net, src, want in (("y", a, "10.210.10.9", 50), ("z", b, "10.210.20.9", 0)):
        pid = cn.inspect(target)["pid"]
        rx = cn.lab.spawn(cn.ns, "nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c",
                          UDP_COUNT, "4", stdout=subprocess.PIPE, text=True)
        assert rx.stdout.readline().strip() == "ready"
        # (nsenter --net keeps the host's /sys: ask netlink)
        mac = re.search(r"link/ether (\S+)", in_ctr(cn, target, "ip", "-o", "link", "show",
                                                     "eth0").stdout).group(1)
        ip = cn.leases(net)[target]
        vm = subprocess.Popen(["nsenter", f"--net=/run/netns/{cn.ns}", str(VESSEL), "--root",
                               str(cn.state), "vm", "run", "--accel", "kvm", "--kernel",
                               str(TESTKERNEL), "--network", a, "--append",
                               f"vessel.test=virtio-net-udp:tx/50/{mac.replace(':', '')}/"
                               f"{src}/{ip},hang"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        cn.lab.procs.append(vm)
        out = ""
        for line in vm.stdout:
            out += line
            if "virtio-net-udp: " in line and ("PASS" in line or "FAIL" in line):
                break
        assert "virtio-net-udp: PASS" in out, out[-2000:]
        assert len(vlan_members(cn, 10)) == 2, out  # the VM's tap is in VLAN 10
        assert rx.communicate(timeout=30)[0].strip() == str(want), target
        vm.terminate()
        vm.communicate(timeout=60)
        assert vlan_members(cn, 10) == veths  # the tap left the VLAN with the VM
