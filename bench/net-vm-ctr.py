#!/usr/bin/env python3
"""VM <-> container UDP throughput on one vessel network (issue 16): the
test guest under kvm streams 1514-byte IPv4/UDP frames (virtio-net-udp)
to a receiver in a "container" and receives such a stream from it, through
virtio-net, a tap and the network's bridge, under

  vessel:  vessel vm run --accel kvm --network NET (vessel leases the
           address and makes the tap on the network's bridge);
  QEMU:    qemu-system-x86_64 -accel kvm, virtio-net-pci (modern only,
           vhost off: /dev/vhost-net does not exist here) on a tap the
           bench puts on the same bridge;

side by side in one run (interleaved, alternating who goes first),
medians and the ratio. Everything lives in namespaces made here:
vessel-bench-vc-<pid> holds the network (made by `vessel network create`
with a --root of its own) and vessel-bench-vcc-<pid> is the container,
attached to the bridge by net-tool (vs_attach_netns(), what `vessel run
--network` calls); both are deleted at exit, with the store.

guest -> container: a Python receiver on UDP port 5201 in the container
counts the datagrams and times first to last; the figure is what it
received per second (every run must deliver all N frames).
container -> guest: the guest posts its buffers and says "rx ready"; the
bench gives the container a neighbour entry for the guest's MAC and starts
the sender, bench/udp-send.c (built here with cc; 1472-byte datagrams by
sendmmsg in bursts of 32, paced at --rate per second by absolute
deadlines, until the VM ends; the same sender for both VMMs); the figure
is what the guest counted per second from its first to its last frame
(its own TSC), N frames per run. Per run it also prints the rate the
sender offered (what its socket took per second; on a loaded host less
than --rate), the share of the frames reaching the VM's tap that the tap
dropped with its queue full, the VMM's CPU time besides the vCPU thread
per frame it read (the device's own work) and the vCPU's share of a core.

Each round runs both VMMs back to back in each direction (who goes first
alternates); besides the medians of each side the bench prints the median
of the per-round ratios, which compares runs made under the same load.

The guest's loops (the TX producer, the RX poller that counts and reposts)
run at CPL3 (virtio-net-udp:tx-user, rx-user): this host's KVM (PVM) runs
guest CPL3 natively but emulates CPL0 at ~2 MIPS, so a CPL0 loop times the
emulator, not the device. --cpl0 runs the CPL0 loops (tx, rx) instead.
Usage: bench/net-vm-ctr.py [--vessel build/vessel] [--runs N] [--frames N] [--rate R]
       [--only tx|rx] [--cpl0]"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

QEMU = "qemu-system-x86_64"
SUBNET, GW, CTR_IP, VM_IP = "10.211.0.0/24", "10.211.0.1", "10.211.0.50", "10.211.0.2"
PORT, PAYLOAD = 5201, 1472
RATE = 100000  # container -> guest, datagrams/s offered by default
SENDER_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "udp-send.c")

RECEIVER = r"""
import socket, sys, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:  # SO_RCVBUFFORCE (root): past rmem_max, for a receiver starved on a busy host
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 64 << 20)
except OSError:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("0.0.0.0", %d))
print("ready", flush=True)
s.settimeout(120)
got = nbytes = 0
first = last = 0.0
try:
    while got < n:
        b = s.recv(65536)
        last = time.monotonic()
        if not got:
            first = last
            s.settimeout(3)
        got += 1
        nbytes += len(b)
except socket.timeout:
    pass
print(f"got={got} bytes={nbytes} secs={last - first:.6f}", flush=True)
""" % PORT

# Inside the network's namespace (its own sysfs): the ports of BRIDGE but
# the SKIP ones, polled every 10 ms; at SIGTERM, for the port that passed
# the most, what it passed to its reader (tx_packets) and dropped with its
# queue full (tx_dropped) since its first poll: the VM's tap. Each port's
# last good poll counts: vessel's tap goes with the VMM.
TAPSTAT = r"""
import os, signal, sys, time
br, skip = sys.argv[1], set(sys.argv[2:])
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
first, last = {}, {}
while not stop:
    for dev in os.listdir(f"/sys/class/net/{br}/brif"):
        d = f"/sys/class/net/{dev}/statistics/"
        try:
            v = [int(open(d + f).read()) for f in ("tx_packets", "tx_dropped")]
        except (OSError, ValueError):
            continue
        if dev not in skip:
            first.setdefault(dev, v)
            last[dev] = v
    time.sleep(0.01)
if last:
    dev = max(last, key=lambda k: last[k][0] - first[k][0])
    print(f"tap={dev} packets={last[dev][0] - first[dev][0]} "
          f"dropped={last[dev][1] - first[dev][1]}")
"""


class ThreadCpu(threading.Thread):
    """CPU time of each thread of process pid (schedstat), polled every
    10 ms until stop(), each thread's last value kept (the VMM's threads go
    at its end). stop() returns the busiest thread's ns since the first poll
    (the vCPU: the guest's poller spins) and the sum of all the others'
    (the VMM's device work: I/O thread, main loop)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.first, self.last, self.done = pid, None, {}, threading.Event()
        self.start()

    def poll(self):
        d = {}
        for t in os.listdir(f"/proc/{self.pid}/task"):
            with open(f"/proc/{self.pid}/task/{t}/schedstat") as f:
                d[t] = int(f.read().split()[0])
        return d

    def run(self):
        while not self.done.wait(0.01):
            try:
                d = self.poll()
            except (OSError, ValueError, IndexError):
                continue
            self.first = self.first or d
            for t, v in d.items():
                self.last[t] = max(v, self.last.get(t, 0))

    def stop(self):
        self.done.set()
        self.join()
        delta = sorted(v - self.first.get(t, 0) for t, v in self.last.items())
        return delta[-1], sum(delta[:-1])


def sh(*args, check=True):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if check and p.returncode:
        sys.exit(f"net-vm-ctr.py: {' '.join(map(str, args))}: {p.stderr.strip()}")
    return p


class Lab:
    def __init__(self, a):
        self.a, self.pid = a, os.getpid()
        self.ns, self.ctr = f"vessel-bench-vc-{self.pid}", f"vessel-bench-vcc-{self.pid}"
        self.root = tempfile.mkdtemp(prefix="vessel-bench-vc-")
        self.tmp = tempfile.mkdtemp(prefix="vessel-bench-vc-send-")
        self.procs = []
        # container -> guest, per run: datagrams/s the sender offered, the
        # share of what reached the VM's tap that the tap dropped
        self.offered = {"vessel kvm": [], "qemu kvm": []}
        self.dropped = {"vessel kvm": [], "qemu kvm": []}
        self.cpu = {"vessel kvm": [], "qemu kvm": []}  # us of VMM CPU (not the vCPU) a frame
        self.vcpu = {"vessel kvm": [], "qemu kvm": []}  # the vCPU's share of a core

    def up(self):
        self.sender = os.path.join(self.tmp, "udp-send")
        sh("cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", self.sender, SENDER_C)
        sh("ip", "netns", "add", self.ns)
        sh("ip", "netns", "add", self.ctr)
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        self.vessel("network", "create", "bnet", "--subnet", SUBNET)
        out = self.vessel("network", "inspect", "bnet").stdout
        self.bridge = re.search(r'"bridge": "([^"]+)"', out).group(1)
        sh(self.a.net_tool, "-n", self.ns, "attach", self.bridge, "vessel-bvc0", self.ctr, "eth0",
           f"{CTR_IP}/24", GW)
        self.ctr_mac = open_link_mac(self.ctr, "eth0")
        self.tap = "vessel-bvq0"  # QEMU's, on the same bridge
        sh("ip", "-n", self.ns, "tuntap", "add", "dev", self.tap, "mode", "tap")
        sh("ip", "-n", self.ns, "link", "set", self.tap, "master", self.bridge, "up")

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for ns in (self.ctr, self.ns):
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def vessel(self, *args):
        return sh("ip", "netns", "exec", self.ns, self.a.vessel, "--root", self.root, *args)

    def in_ctr(self, *args, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.ctr, *map(str, args)],
                             stdin=subprocess.DEVNULL, text=True, **kw)
        self.procs.append(p)
        return p


def open_link_mac(ns, dev):
    return sh("ip", "netns", "exec", ns, "cat", f"/sys/class/net/{dev}/address").stdout.strip()


def vm_cmd(lab, side, test):
    append = f"vessel.test=virtio-net-udp:{test}"
    if side == "vessel kvm":
        return ["ip", "netns", "exec", lab.ns, lab.a.vessel, "--root", lab.root, "vm", "run",
                "--accel", "kvm", "--mem", "256M", "--kernel", lab.a.bzimage, "--append",
                append, "--network", "bnet"]
    return ["ip", "netns", "exec", lab.ns, QEMU, "-accel", "kvm", "-M", "q35", "-m", "256",
            "-nographic", "-nodefaults", "-no-user-config", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-kernel", lab.a.bzimage,
            "-append", append, "-netdev",
            f"tap,id=n0,ifname={lab.tap},script=no,downscript=no,vhost=off",
            "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"]


def finish(p, what):
    out, _ = p.communicate(timeout=300)
    if "virtio-net-udp: PASS" not in out:
        sys.exit(f"net-vm-ctr.py: {what} failed:\n" + "\n".join(out.splitlines()[-6:]))
    return out


def to_ctr(lab, side):
    """guest -> container; returns Mbit/s of UDP payload the receiver got."""
    n = lab.a.frames
    rx = lab.in_ctr(sys.executable, "-c", RECEIVER, n, stdout=subprocess.PIPE)
    if rx.stdout.readline().strip() != "ready":
        sys.exit("net-vm-ctr.py: the receiver did not start")
    mac = lab.ctr_mac.replace(":", "")
    vm = subprocess.Popen(vm_cmd(lab, side, f"tx{lab.a.loop}/{n}/{mac}/{VM_IP}/{CTR_IP}"),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    lab.procs.append(vm)
    finish(vm, side)
    line = rx.communicate(timeout=60)[0].strip().splitlines()[-1]
    m = re.fullmatch(r"got=(\d+) bytes=(\d+) secs=([\d.]+)", line)
    if not m or int(m.group(1)) != n:
        sys.exit(f"net-vm-ctr.py: {side}: the container received {line}, want got={n}")
    return int(m.group(2)) * 8 / float(m.group(3)) / 1e6


def read_until_ready(vm, lines):
    for line in vm.stdout:
        lines.append(line)
        if "virtio-net-udp: rx ready" in line:
            return True
    return False


def from_ctr(lab, side):
    """container -> guest; returns Mbit/s of frames the guest counted."""
    vm = subprocess.Popen(vm_cmd(lab, side, f"rx{lab.a.loop}/{lab.a.frames}"),
                          stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lab.procs.append(vm)
    lines = []
    if not read_until_ready(vm, lines):
        sys.exit(f"net-vm-ctr.py: {side}: no rx ready:\n" + "".join(lines[-6:]))
    mac = re.search(r"virtio-net-udp: mac ([0-9a-f]{12})", "".join(lines)).group(1)
    mac = ":".join(mac[i:i + 2] for i in range(0, 12, 2))
    sh("ip", "-n", lab.ctr, "neigh", "replace", VM_IP, "lladdr", mac, "dev", "eth0")
    other = "vessel-bvq0" if side == "vessel kvm" else ""
    stat = subprocess.Popen(["ip", "netns", "exec", lab.ns, sys.executable, "-c", TAPSTAT,
                             lab.bridge, "vessel-bvc0", other], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, text=True)
    lab.procs.append(stat)
    time.sleep(0.05)
    cpu, t0 = ThreadCpu(vm.pid), time.monotonic()
    tx = lab.in_ctr(lab.sender, VM_IP, PORT, PAYLOAD, lab.a.rate, stdout=subprocess.PIPE)
    rest = []
    t = threading.Thread(target=lambda: rest.append(vm.stdout.read()))
    t.start()
    vm.wait(timeout=300)
    t.join()
    vcpu_ns, rest_ns = cpu.stop()
    lab.vcpu[side].append(vcpu_ns / 1e9 / (time.monotonic() - t0))
    tx.terminate()
    stat.terminate()
    sent = re.fullmatch(r"sent=(\d+) failed=(\d+) secs=([\d.]+)", tx.communicate()[0].strip())
    tap = re.fullmatch(r"tap=\S+ packets=(\d+) dropped=(\d+)", stat.communicate()[0].strip())
    out = "".join(lines) + "".join(rest)
    m = re.search(r"virtio-net-udp: rx frames=(\d+) bytes=(\d+) ns=(\d+)", out)
    if not m or "virtio-net-udp: PASS" not in out or int(m.group(1)) != lab.a.frames:
        sys.exit(f"net-vm-ctr.py: {side} failed:\n" + "\n".join(out.splitlines()[-6:]))
    if not sent or not tap:
        sys.exit(f"net-vm-ctr.py: {side}: no counts from the {'tap' if sent else 'sender'}")
    passed, dropped = int(tap.group(1)), int(tap.group(2))
    lab.offered[side].append(int(sent.group(1)) / float(sent.group(3)))
    lab.dropped[side].append(dropped / max(1, passed + dropped))
    lab.cpu[side].append(rest_ns / 1e3 / max(1, passed))
    return int(m.group(2)) * 8 / (int(m.group(3)) / 1e9) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default="build/vessel")
    ap.add_argument("--bzimage", default="build/guest/testkernel.bzImage")
    ap.add_argument("--net-tool", default="build/tests/unit/net/net-tool")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--frames", type=int, default=50000)
    ap.add_argument("--rate", type=int, default=RATE,
                    help="container -> guest: datagrams/s the sender offers (0: unpaced)")
    ap.add_argument("--only", choices=["tx", "rx"],
                    help="one direction: tx guest -> container, rx container -> guest")
    ap.add_argument("--cpl0", action="store_true",
                    help="the guest's loops at CPL0 (emulated under KVM-PVM), not CPL3")
    a = ap.parse_args()
    a.loop = "" if a.cpl0 else "-user"
    if os.geteuid() != 0:
        sys.exit("net-vm-ctr.py: needs root")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is not usable")
        return
    if not shutil.which(QEMU):
        print(f"SKIP: {QEMU} is not installed")
        return
    a.vessel, a.bzimage = os.path.abspath(a.vessel), os.path.abspath(a.bzimage)
    lab = Lab(a)
    sides = ["vessel kvm", "qemu kvm"]
    dirs = {"guest -> container": to_ctr, "container -> guest": from_ctr}
    if a.only:
        dirs = {k: v for k, v in dirs.items() if (v is to_ctr) == (a.only == "tx")}
    res = {(d, s): [] for d in dirs for s in sides}
    try:
        lab.up()
        for r in range(a.runs):
            for d, fn in dirs.items():
                for s in (sides if r % 2 == 0 else sides[::-1]):
                    res[(d, s)].append(fn(lab, s))
                    time.sleep(0.2)
    finally:
        lab.down()
    report(a, dirs, sides, res, lab)


def report(a, dirs, sides, res, lab):
    """Medians of each side, and the median of the per-round ratios (each
    round runs both sides back to back, so a round's ratio sees one load)."""
    rate = f"{a.rate}/s" if a.rate else "unpaced"
    print(f"VM <-> container UDP ({PAYLOAD}-byte datagrams, {a.frames} per run), test guest "
          f"under KVM, one vessel network's bridge, the guest's loops at "
          f"{'CPL0' if a.cpl0 else 'CPL3'}; {a.runs} rounds, both sides in each, who goes "
          f"first alternating; container -> guest: the C sender at {rate}")
    for (d, s), v in res.items():
        print(f"runs ({d}, {s}, Mbit/s): {' '.join(f'{x:.1f}' for x in v)}")
    for s in sides:
        if lab.offered[s]:
            print(f"container -> guest, {s}: offered k/s per run "
                  f"{' '.join(f'{x / 1e3:.0f}' for x in lab.offered[s])}; tap drops % "
                  f"{' '.join(f'{x * 100:.1f}' for x in lab.dropped[s])} "
                  f"(median {statistics.median(lab.dropped[s]) * 100:.1f} %); "
                  f"VMM CPU besides the vCPU, us/frame "
                  f"{' '.join(f'{x:.2f}' for x in lab.cpu[s])} "
                  f"(median {statistics.median(lab.cpu[s]):.2f}); the vCPU's share of a core "
                  f"{' '.join(f'{x:.2f}' for x in lab.vcpu[s])} "
                  f"(median {statistics.median(lab.vcpu[s]):.2f})")
    for d in dirs:
        med = {s: statistics.median(res[(d, s)]) for s in sides}
        ratios = [v / q for v, q in zip(res[(d, sides[0])], res[(d, sides[1])])]
        print(f"{d:20} vessel {med['vessel kvm']:9.1f} Mbit/s   qemu {med['qemu kvm']:9.1f} "
              f"Mbit/s   ratio of medians {med['vessel kvm'] / med['qemu kvm']:.2f}x   "
              f"median of per-round ratios {statistics.median(ratios):.2f}x "
              f"(rounds {min(ratios):.2f}-{max(ratios):.2f}x, vessel ahead in "
              f"{sum(x > 1 for x in ratios)}/{len(ratios)})")


if __name__ == "__main__":
    main()
