"""Bridges, veths into "container" namespaces, taps: made by src/net over
rtnetlink inside namespaces the test creates, checked by traffic."""
import re
import subprocess
import sys
import textwrap

from netlab import NET_TOOL

# Opens the persistent tap NAME (already on the bridge) and sends an ARP
# request for TARGET; prints "reply <mac>" when TARGET answers through it.
ARP_THROUGH_TAP = textwrap.dedent("""
    import fcntl, os, select, socket, struct, sys, time
    name, target = sys.argv[1], sys.argv[2]
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), 0x0002 | 0x1000))
    mac = bytes.fromhex("020000000099")
    me, tip = socket.inet_aton("10.201.0.99"), socket.inet_aton(target)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, me, b"\\0" * 6, tip)
    os.write(fd, b"\\xff" * 6 + mac + b"\\x08\\x06" + arp)
    end = time.time() + 5
    while time.time() < end:
        if not select.select([fd], [], [], 0.5)[0]:
            continue
        f = os.read(fd, 2048)
        if f[12:14] == b"\\x08\\x06" and f[20:22] == b"\\x00\\x02" and f[28:32] == tip:
            print("reply", f[22:28].hex(":"))
            sys.exit(0)
    sys.exit("no ARP reply through the tap")
""")


def link(lab, ns, name):
    out = lab.tool(ns, "link-show", name).stdout
    return dict(kv.split("=", 1) for kv in out.split())


def test_bridge_veths_ping(lab):
    h, c1, c2 = lab.netns("host"), lab.netns("c1"), lab.netns("c2")
    lab.tool(h, "bridge-add", "vessel-br0", "--mtu", "1400")
    lab.tool(h, "addr-add", "vessel-br0", "10.210.0.1/24")
    lab.tool(h, "link-up", "vessel-br0", "up")
    lab.tool(h, "attach", "vessel-br0", "vessel-c1", c1, "eth0", "10.210.0.2/24", "10.210.0.1",
             "--mtu", "1400")
    lab.tool(h, "attach", "vessel-br0", "vessel-c2", c2, "eth0", "10.210.0.3/24", "10.210.0.1",
             "--mtu", "1400")
    # a set MAC is what the kernel reports afterwards (set before any
    # traffic: neighbours would keep the old one in their ARP caches)
    lab.tool(c2, "link-set", "eth0", "mac", "02:00:00:aa:bb:cc")
    assert link(lab, c2, "eth0")["mac"] == "02:00:00:aa:bb:cc"
    br = link(lab, h, "vessel-br0")
    assert br["kind"] == "bridge" and br["mtu"] == "1400"
    port = link(lab, h, "vessel-c1")
    assert port["kind"] == "veth" and port["master"] == br["ifindex"] and port["up"] == "1"
    # the peer was made in the container namespace as eth0, never in host
    eth0 = link(lab, c1, "eth0")
    assert eth0["up"] == "1" and eth0["mtu"] == "1400"
    assert lab.tool(h, "link-show", "eth0", check=False).returncode != 0
    routes = lab.tool(c1, "route-list").stdout
    assert "0.0.0.0/0 via 10.210.0.1" in routes
    assert lab.ping(c1, "10.210.0.3")
    assert lab.ping(c2, "10.210.0.2")
    assert lab.ping(c1, "10.210.0.1")
    # detaching the port (nomaster) cuts c2 off; re-attaching restores it
    lab.tool(h, "link-set", "vessel-c2", "master", "-")
    assert link(lab, h, "vessel-c2")["master"] == "0"
    assert not lab.ping(c1, "10.210.0.3")
    lab.tool(h, "link-set", "vessel-c2", "master", "vessel-br0")
    assert lab.ping(c1, "10.210.0.3", count=3)


def test_veth_rename_move_and_delete(lab):
    h, c = lab.netns("host"), lab.netns("c")
    lab.tool(h, "veth-add", "vessel-x0", "vessel-x1", "-")
    lab.tool(h, "link-set", "vessel-x1", "netns", c)
    lab.tool(c, "link-set", "vessel-x1", "name", "eth0")
    assert link(lab, c, "eth0")["kind"] == "veth"
    lab.tool(h, "link-set", "vessel-x0", "mtu", "9000")
    assert link(lab, h, "vessel-x0")["mtu"] == "9000"
    # up and down; an address brings its connected route, removing it takes it
    lab.tool(h, "link-up", "vessel-x0", "up")
    assert link(lab, h, "vessel-x0")["up"] == "1"
    lab.tool(h, "addr-add", "vessel-x0", "10.212.0.1/24")
    assert "10.212.0.0/24 via 0.0.0.0" in lab.tool(h, "route-list").stdout
    p = lab.tool(h, "addr-add", "vessel-x0", "10.212.0.1/24", check=False)
    assert p.returncode == 1 and "File exists" in p.stderr
    lab.tool(h, "addr-del", "vessel-x0", "10.212.0.1/24")
    assert "10.212.0.0/24" not in lab.tool(h, "route-list").stdout
    lab.tool(h, "link-up", "vessel-x0", "down")
    assert link(lab, h, "vessel-x0")["up"] == "0"
    # deleting the host end takes the peer in the other namespace with it
    lab.tool(h, "link-del", "vessel-x0")
    assert lab.tool(c, "link-show", "eth0", check=False).returncode != 0


def test_tap_on_bridge(lab):
    h, c1 = lab.netns("host"), lab.netns("c1")
    lab.tool(h, "bridge-add", "vessel-br0")
    lab.tool(h, "link-up", "vessel-br0", "up")
    lab.tool(h, "attach", "vessel-br0", "vessel-c1", c1, "eth0", "10.201.0.2/24", "-")
    # a non-persistent tap (what a VM holds) lives as long as its fd
    holder = lab.spawn(h, str(NET_TOOL), "-n", h, "tap-add", "vessel-tap0", "--vnet-hdr",
                       "--master", "vessel-br0", "--hold", stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, text=True)
    line = holder.stdout.readline()
    assert line.startswith("ready offloads=0x"), line
    assert int(line.split("=")[1], 16) & 0x1, "TUN_F_CSUM not granted"
    tap = link(lab, h, "vessel-tap0")
    assert tap["kind"] == "tun" and tap["up"] == "1"
    assert tap["master"] == link(lab, h, "vessel-br0")["ifindex"]
    holder.stdin.close()
    assert holder.wait(timeout=10) == 0
    assert lab.tool(h, "link-show", "vessel-tap0", check=False).returncode != 0
    # a persistent one outlives the creator; frames pass through it
    lab.tool(h, "tap-add", "vessel-tap1", "--persist", "--master", "vessel-br0")
    p = lab.sh(h, sys.executable, "-c", ARP_THROUGH_TAP, "vessel-tap1", "10.201.0.2")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[1] == link(lab, c1, "eth0")["mac"]
    lab.tool(h, "link-del", "vessel-tap1")
    assert lab.tool(h, "link-show", "vessel-tap1", check=False).returncode != 0


def test_attach_failure_leaves_nothing(lab):
    h, c = lab.netns("host"), lab.netns("c")
    lab.tool(h, "bridge-add", "vessel-br0")
    p = lab.tool(h, "attach", "vessel-br0", "vessel-c", c, "eth0", "10.201.0.2/24",
                 "10.99.0.1", check=False)
    # the gateway is not on-link: the route fails after veth and address
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
    assert "attaching eth0 to vessel-br0" in p.stderr
    assert lab.tool(h, "link-show", "vessel-c", check=False).returncode != 0
    assert lab.tool(c, "link-show", "eth0", check=False).returncode != 0
    p = lab.tool(h, "attach", "vessel-nobr", "vessel-c", c, "eth0", "10.201.0.2/24", "-",
                 check=False)
    assert p.returncode == 1 and "vessel-nobr: No such device" in p.stderr
    assert lab.tool(h, "link-show", "vessel-c", check=False).returncode != 0


def test_world_reachability(world, lab):
    """Same network: direct; other network: isolated; outside: masqueraded;
    internal: neither out nor across."""
    assert "enabled IPv4 forwarding" in world["forwarding_msg"]
    assert lab.sh(world["host"], "cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip() == "1"
    assert lab.ping(world["a1"], "10.201.0.3")
    assert lab.ping(world["a1"], "172.31.0.2"), "masquerade to the outside"
    assert lab.ping(world["b1"], "172.31.0.2")
    assert not lab.ping(world["a1"], "10.202.0.2"), "network a reaches network b"
    assert not lab.ping(world["b1"], "10.201.0.2"), "network b reaches network a"
    assert not lab.ping(world["i1"], "172.31.0.2"), "internal network reaches outside"
    assert not lab.ping(world["a1"], "10.203.0.2"), "network a reaches the internal one"
    assert lab.ping(world["i1"], "10.203.0.1"), "internal reaches its gateway"
    assert re.search(r"^1$", lab.sh(world["host"], "cat",
                     "/proc/sys/net/ipv4/conf/vessel-a/route_localnet").stdout, re.M)


RECV = ("import hashlib, socket, sys\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(1); print('ready', flush=True)\n"
        "c, peer = s.accept(); h = hashlib.sha256()\n"
        "while True:\n"
        "    b = c.recv(1 << 16)\n"
        "    if not b: break\n"
        "    h.update(b)\n"
        "print(h.hexdigest(), peer[0], flush=True)\n")
SEND = ("import hashlib, os, socket, sys\n"
        "data = os.urandom(8 << 20)\n"
        "c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)\n"
        "c.sendall(data); c.close(); print(hashlib.sha256(data).hexdigest())\n")


def tcp_transfer(lab, src, dst, addr, port=5300):
    """8 MiB from namespace src to addr (in dst); returns (intact, peer
    address the receiver saw)."""
    rx = lab.spawn(dst, sys.executable, "-c", RECV, str(port), stdout=subprocess.PIPE, text=True)
    assert rx.stdout.readline().strip() == "ready"
    tx = lab.sh(src, sys.executable, "-c", SEND, addr, str(port), timeout=60)
    assert tx.returncode == 0, tx.stderr
    digest, peer = rx.stdout.readline().split()
    rx.wait(timeout=30)
    return digest == tx.stdout.strip(), peer


def test_world_tcp_both_ways(world, lab):
    """TCP data arrives intact both ways within a network; towards the
    outside it arrives from the host's uplink address (masquerade)."""
    assert tcp_transfer(lab, world["a1"], world["a2"], "10.201.0.3") == (True, "10.201.0.2")
    assert tcp_transfer(lab, world["a2"], world["a1"], "10.201.0.2") == (True, "10.201.0.3")
    assert tcp_transfer(lab, world["a1"], world["out"], "172.31.0.2") == (True, "172.31.0.1")
