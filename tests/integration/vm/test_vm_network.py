"""VMs on vessel networks (`vm run|create --network NAME`, issue 16), inside
a network namespace the test makes (vessel-tw-<random>, deleted by a
finalizer even on failure) with a store root of its own (--root under
tmp_path) and a network name unique per run.

- Linux (the guest kit) under emu: the guest's eth0 gets the lease from
  vessel.ip and pings the gateway and a namespace attached to the same
  network (a stand-in for a container); afterwards the lease is released
  and no tap is left on the bridge. (One boot, ~20-60 s.)
- A named VM (the test guest, parked in `hang`): its tap is on the bridge
  while it runs, its lease stays across stop/start (same address), and
  vm rm releases it.
- Unknown networks are refused in one line, with nothing leased."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from vesseltest import BUILD, GUEST_DIR, TESTKERNEL, run, skip
from vmnet import Netns

NET_TOOL = BUILD / "tests/unit/net/net-tool"


@pytest.fixture
def ns(request, root):
    if not os.path.exists("/dev/net/tun"):
        skip("/dev/net/tun is absent")
    if not shutil.which("ip"):
        skip("ip (iproute2) is needed to make the namespace")
    n = Netns("tw")
    request.addfinalizer(n.close)
    n.ip("link", "set", "lo", "up")
    return n


class Store:
    def __init__(self, vessel, ns, root):
        self.vessel, self.ns, self.root = vessel, ns, root
        self.net = "n" + ns.tag[:6]  # bridge vessel-n<6 hex>, unique per run

    def __call__(self, *args, timeout=120):
        return run(self.ns.exec(self.vessel, "--root", self.root, *args), timeout=timeout,
                   stdin=open(os.devnull))

    def ok(self, *args, timeout=120):
        r = self(*args, timeout=timeout)
        assert r.returncode == 0, f"{args}: {r.stdout}{r.stderr}"
        return r

    def leases(self):
        info = json.loads(self.ok("network", "inspect", self.net).stdout)
        return [(a["address"], a["owner_kind"], a["owner_name"]) for a in info["addresses"]]

    def bridge(self):
        return json.loads(self.ok("network", "inspect", self.net).stdout)["bridge"]


@pytest.fixture
def store(vessel, ns, tmp_path):
    s = Store(vessel, ns, tmp_path / "root")
    s.ok("network", "create", s.net, "--subnet", "10.78.0.0/24")
    return s


def ports(ns, bridge):
    """The links enslaved to bridge in ns."""
    r = run(ns.exec("ip", "-o", "link", "show", "master", bridge), timeout=20)
    return [line.split(":")[1].strip().split("@")[0] for line in r.stdout.splitlines()]


def test_linux_vm_on_network_reaches_gateway(store, ns, request):
    """Also a "container" on the same network (a namespace the library
    attaches to the network's bridge, as vessel run --network will): the VM
    reaches it across the bridge."""
    if not (GUEST_DIR / "vmlinuz").exists():
        skip(f"no guest kit in {GUEST_DIR} (make guest)")
    if not NET_TOOL.exists():
        pytest.fail(f"{NET_TOOL} is not built (run make build)")
    ctr = Netns("tc")
    request.addfinalizer(ctr.close)
    before = ns.links()
    subprocess.run([str(NET_TOOL), "-n", ns.name, "attach", store.bridge(),
                    f"vessel-c{ns.tag[:6]}", ctr.name, "eth0", "10.78.0.50/24", "10.78.0.1"],
                   check=True, capture_output=True)
    r = store("vm", "run", "--accel", "emu", "--network", store.net, "--", "sh", "-c",
              "ip -4 -o addr show eth0; ip route; ping -c1 -W10 10.78.0.1 >/dev/null && "
              "echo gateway-ok; ping -c1 -W10 10.78.0.50 >/dev/null && echo container-ok",
              timeout=600)
    out = r.stdout + r.stderr
    assert "inet 10.78.0.2/24" in r.stdout, out[-3000:]  # the first lease after the gateway
    assert "default via 10.78.0.1 dev eth0" in r.stdout, out[-3000:]
    assert "gateway-ok" in r.stdout, out[-3000:]
    assert "container-ok" in r.stdout and r.returncode == 0, out[-3000:]
    assert store.leases() == []  # released when the run ended
    assert ns.links() - before == {f"vessel-c{ns.tag[:6]}"}  # the veth stays, no tap


def wait_state(store, name, want, secs=60):
    end = time.time() + secs
    while time.time() < end:
        vms = {v["name"]: v for v in json.loads(store.ok("vm", "ls", "--format", "json").stdout)}
        if vms[name]["state"] == want:
            return
        time.sleep(0.2)
    pytest.fail(f"VM {name} never became {want}")


def test_named_vm_keeps_its_network(store, ns):
    store.ok("vm", "create", "v1", "--accel", "emu", "--kernel", TESTKERNEL, "--append",
             "vessel.test=hang", "--network", store.net)
    spec = json.loads(store.ok("vm", "inspect", "v1").stdout)
    assert json.dumps(spec).count(f'"network": "{store.net}"') == 1, spec
    br = store.bridge()
    assert ports(ns, br) == []
    for _ in range(2):
        store.ok("vm", "start", "v1")
        wait_state(store, "v1", "running")
        p = ports(ns, br)
        assert len(p) == 1 and p[0].startswith("vessel-"), p  # its tap, on the bridge
        assert store.leases() == [("10.78.0.2", "vm", "v1")]  # the same address each start
        store.ok("vm", "kill", "v1")
        wait_state(store, "v1", "stopped")
        assert ports(ns, br) == []  # the tap went with the VMM
    store.ok("vm", "rm", "v1")
    assert store.leases() == []
    store.ok("network", "rm", store.net)  # nothing holds it any more


def test_unknown_network_is_one_line(store, ns):
    r = store("vm", "run", "--accel", "emu", "--kernel", TESTKERNEL, "--network", "nosuch")
    assert r.returncode == 125, r.stdout + r.stderr
    assert r.stderr.strip() == "vessel: no network named 'nosuch'", r.stderr
    r = store("vm", "create", "v2", "--kernel", TESTKERNEL, "--network", "nosuch")
    assert r.returncode != 0
    assert r.stderr.strip() == "vessel: no network named 'nosuch'", r.stderr
    r = store("vm", "run", "--network", "a", "--network", "b")
    assert r.stderr.strip() == "vessel: --network b: one network per VM", r.stderr
    assert store.leases() == []


def test_stopped_run_releases_its_lease(store, ns):
    """A foreground run stopped by SIGTERM gives its address back and its tap goes."""
    before = ns.links()
    p = subprocess.Popen(ns.exec(store.vessel, "--root", store.root, "vm", "run", "--accel",
                                 "emu", "--kernel", TESTKERNEL, "--append", "vessel.test=hang",
                                 "--network", store.net),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    ns.procs.append(p)
    end = time.time() + 60
    while time.time() < end and not (ns.links() - before) and p.poll() is None:
        time.sleep(0.1)
    assert [lease[:2] for lease in store.leases()] == [("10.78.0.2", "vm")]
    p.send_signal(signal.SIGTERM)  # ip netns exec execs vessel: p is the VMM
    _, err = p.communicate(timeout=30)
    assert p.returncode == 128 + signal.SIGTERM, err
    assert store.leases() == []
    assert ns.links() == before


def fetch(ns, url):
    r = run(ns.exec("curl", "-s", "--max-time", "3", url), timeout=20)
    return r.stdout if r.returncode == 0 else None


def test_published_port_reaches_httpd_in_linux_vm(store, ns, request):
    """`vm run --network N -p 8080:80` (Linux under emu): a busybox httpd in
    the guest answers on the host port from the vessel namespace's own
    127.0.0.1 and from another namespace on the network (through the
    gateway address); the same port again is refused in one line while it
    is published; the rule goes when the VM ends."""
    if not (GUEST_DIR / "vmlinuz").exists():
        skip(f"no guest kit in {GUEST_DIR} (make guest)")
    if not shutil.which("curl"):
        skip("curl is needed to fetch from the published port")
    other = Netns("tq")
    request.addfinalizer(other.close)
    subprocess.run([str(NET_TOOL), "-n", ns.name, "attach", store.bridge(),
                    f"vessel-q{ns.tag[:6]}", other.name, "eth0", "10.78.0.60/24", "10.78.0.1"],
                   check=True, capture_output=True)
    vm = subprocess.Popen(ns.exec(store.vessel, "--root", store.root, "vm", "run", "--accel",
                                  "emu", "--network", store.net, "-p", "8080:80", "--", "sh",
                                  "-c", "echo hello-from-vm > /tmp/index.html; "
                                  "busybox httpd -f -p 80 -h /tmp"),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    request.addfinalizer(lambda: vm.poll() is None and vm.kill())
    end, got = time.time() + 600, None
    while time.time() < end and vm.poll() is None and not got:
        got = fetch(ns, "http://127.0.0.1:8080/index.html")
        time.sleep(1)
    assert got == "hello-from-vm\n", (vm.poll(), got)
    assert fetch(other, "http://10.78.0.1:8080/index.html") == "hello-from-vm\n"
    r = store("vm", "run", "--accel", "emu", "--kernel", TESTKERNEL, "--network", store.net,
              "-p", "8080:80")
    assert r.returncode != 0 and r.stderr.count("\n") == 1, r.stderr
    assert "already published" in r.stderr, r.stderr
    vm.terminate()
    vm.wait(timeout=60)
    assert fetch(ns, "http://127.0.0.1:8080/index.html") is None
    assert store.leases() == []


def test_publish_needs_a_network(store, ns):
    r = store("vm", "run", "--kernel", TESTKERNEL, "-p", "8080:80")
    assert r.returncode != 0 and r.stderr.strip() == \
        "vessel: published ports (-p) need --network NAME", r.stderr
    r = store("vm", "create", "v3", "--kernel", TESTKERNEL, "--network", store.net,
              "-p", "80:80", "-p", "80:81")
    assert r.returncode != 0 and "given twice" in r.stderr and r.stderr.count("\n") == 1
    assert "v3" not in store.ok("vm", "ls").stdout


def published(ns):
    r = subprocess.run([str(NET_TOOL), "-n", ns.name, "nat-port-list"], capture_output=True,
                       text=True)
    return r.stdout.strip().splitlines() if r.returncode == 0 else []


def test_named_vm_publishes_while_it_runs(store, ns):
    store.ok("vm", "create", "v4", "--accel", "emu", "--kernel", TESTKERNEL, "--append",
             "vessel.test=hang", "--network", store.net, "-p", "127.0.0.1:8081:81/udp")
    assert published(ns) == []
    store.ok("vm", "start", "v4")
    wait_state(store, "v4", "running")
    rules = published(ns)
    assert len(rules) == 1 and "8081" in rules[0] and "udp" in rules[0], rules
    store.ok("vm", "kill", "v4")
    wait_state(store, "v4", "stopped")
    assert published(ns) == []
    store.ok("vm", "rm", "v4")


def kvm_or_skip():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        skip("/dev/kvm is not usable")


def wait_for(cond, what, secs=60):
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def start_fg_run(store, ns):
    """A foreground `vm run --network -p` of the test guest under kvm,
    parked in `hang`; returns it once its tap and its rule exist."""
    before = ns.links()
    p = subprocess.Popen(ns.exec(store.vessel, "--root", store.root, "vm", "run", "--accel",
                                 "kvm", "--kernel", TESTKERNEL, "--append", "vessel.test=hang",
                                 "--network", store.net, "-p", "127.0.0.1:8090:80"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    ns.procs.append(p)
    wait_for(lambda: p.poll() is not None or (ns.links() - before and published(ns)),
             "the run's tap and rule")
    assert p.poll() is None, p.communicate()[1]
    return p, before


def test_sigkilled_run_lease_is_reclaimed(store, ns):
    """A foreground `vm run --network -p` killed with SIGKILL cannot give
    its lease and rule back itself: its tap goes with its fd at once, the
    lease (owner run-PID-START) and the DNAT rule stay until the next use
    of the network, which sees the owner gone and reclaims both: the next
    run gets the same address and publishes the same port."""
    kvm_or_skip()
    p, before = start_fg_run(store, ns)
    leases = store.leases()
    assert len(leases) == 1 and leases[0][:2] == ("10.78.0.2", "vm"), leases
    assert re.fullmatch(rf"run-{p.pid}-\d+", leases[0][2]), leases  # ip netns exec execs vessel
    p.kill()
    p.wait(timeout=30)
    wait_for(lambda: ns.links() == before, "the tap to go with the VMM's fd", secs=20)
    assert store.leases() == leases and len(published(ns)) == 1  # left behind until next use
    p2, _ = start_fg_run(store, ns)  # the same port again: refused if the rule were still there
    leases2 = store.leases()
    assert [lease[:2] for lease in leases2] == [("10.78.0.2", "vm")], leases2  # reused
    assert leases2[0][2] != leases[0][2]
    assert len(published(ns)) == 1
    p2.send_signal(signal.SIGTERM)
    p2.communicate(timeout=30)
    assert store.leases() == [] and published(ns) == [] and ns.links() == before
    store.ok("network", "rm", store.net)


def test_sigkilled_named_vmm_drops_its_ports(store, ns):
    """A named VM's VMM killed with SIGKILL: the next look at the VM (ls)
    finds it gone and removes its DNAT rules; the VM keeps its lease (a
    named VM's address stays until vm rm) and starts again with the same
    port and address."""
    kvm_or_skip()
    store.ok("vm", "create", "v6", "--accel", "kvm", "--kernel", TESTKERNEL, "--append",
             "vessel.test=hang", "--network", store.net, "-p", "127.0.0.1:8091:81")
    for _ in range(2):
        store.ok("vm", "start", "v6")
        wait_state(store, "v6", "running")
        assert len(published(ns)) == 1
        assert store.leases() == [("10.78.0.2", "vm", "v6")]
        pid = json.loads(store.ok("vm", "inspect", "v6").stdout)["pid"]
        os.kill(pid, signal.SIGKILL)
        wait_state(store, "v6", "stopped")
        assert published(ns) == [] and store.leases() == [("10.78.0.2", "vm", "v6")]
    store.ok("vm", "rm", "v6")
    assert store.leases() == []


UDP_RECEIVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # the guest sends in bursts
s.bind(("0.0.0.0", 5201))
print("ready", flush=True)
s.settimeout(20)
got = 0
try:
    while got < int(sys.argv[1]):
        b = s.recv(65536)
        assert len(b) == 1472 and b[8] == (16 * 7 + 3) & 0xff, (len(b), b[:12])
        got += 1
except socket.timeout:
    pass
print(f"got={got}", flush=True)
"""


@pytest.mark.parametrize("loop", ["", "-user"])
def test_udp_both_ways_with_test_guest_under_kvm(store, ns, request, loop):
    """The test guest under kvm on a network (what bench/net-vm-ctr.py
    measures): 300 UDP datagrams from the guest to a "container" (a
    namespace the library attaches to the network's bridge) all arrive,
    intact; then the guest counts 300 sent to it by the container. With
    loop "-user" the guest's producer and its RX poller run at CPL3
    (tx-user, rx-user), as the bench runs them."""
    kvm_or_skip()
    ctr = Netns("tu")
    request.addfinalizer(ctr.close)
    subprocess.run([str(NET_TOOL), "-n", ns.name, "attach", store.bridge(),
                    f"vessel-u{ns.tag[:6]}", ctr.name, "eth0", "10.78.0.70/24", "10.78.0.1"],
                   check=True, capture_output=True)
    mac = run(ctr.exec("cat", "/sys/class/net/eth0/address"), timeout=20).stdout.strip()
    rx = ctr.spawn_python(UDP_RECEIVER, "300")
    assert rx.stdout.readline().strip() == "ready"
    r = store("vm", "run", "--accel", "kvm", "--kernel", TESTKERNEL, "--network", store.net,
              "--append", f"vessel.test=virtio-net-udp:tx{loop}/300/{mac.replace(':', '')}/"
              "10.78.0.2/10.78.0.70", timeout=300)
    assert "virtio-net-udp: PASS" in r.stdout and r.returncode == 0, r.stdout[-2000:]
    assert rx.communicate(timeout=60)[0].strip().endswith("got=300")
    vm = subprocess.Popen(ns.exec(store.vessel, "--root", store.root, "vm", "run", "--accel",
                                  "kvm", "--kernel", TESTKERNEL, "--network", store.net,
                                  "--append", f"vessel.test=virtio-net-udp:rx{loop}/300"),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    ns.procs.append(vm)
    out = ""
    for line in vm.stdout:
        out += line
        if "rx ready" in line:
            break
    m = re.search(r"virtio-net-udp: mac ([0-9a-f]{12})", out)
    assert m, out[-2000:]
    vmmac = ":".join(m.group(1)[i:i + 2] for i in range(0, 12, 2))
    ctr.ip("neigh", "replace", "10.78.0.2", "lladdr", vmmac, "dev", "eth0")
    tx = ctr.spawn_python("import socket, time\n"
                          "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                          "for i in range(300):\n"
                          "    s.sendto(bytes(1472), ('10.78.0.2', 5201))\n"
                          "    time.sleep(0.002)\n")
    rest = vm.communicate(timeout=120)[0]
    tx.wait(timeout=30)
    assert "virtio-net-udp: rx frames=300 " in rest and "virtio-net-udp: PASS" in rest, rest
    assert ("cpl3" in r.stdout and "cpl3" in rest) == (loop == "-user"), (r.stdout, rest)
    assert store.leases() == []
