"""virtio-net with the test guest (guest/testkernel/test-virtio-net.c), under
kvm and emu, inside a network namespace the test makes (vessel-tn-<random>,
deleted by a finalizer even on failure; deleting it removes every link in it).

A responder in the namespace (AF_PACKET, ethertype 0x88b5) waits for the
guest's hello, answers with a 1400-byte patterned frame to the guest's MAC
(several 512-byte mergeable buffers in the guest, or one 2048-byte buffer
with nomrg) and checks the guest's echo of it. `--net tap=NAME` uses a tap
the test made; `--net bridge=NAME` makes a tap vessel-XXXXXXXX on the
bridge, which must be gone after the VM exits, also after a failed start.
The frames/s benchmark's producers (virtio-net-bench at CPL0,
virtio-net-bench-user at CPL3) run with a small N, and the tap must count
exactly N frames from the guest."""
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time

import pytest

from vesseltest import TESTKERNEL, run, skip
from vmnet import Netns

RESPONDER = r'''
import json, socket, sys
iface = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
s.bind((iface, 0x88b5))
s.settimeout(100)
print("ready", flush=True)
out = {}
while True:
    f = s.recv(65536)
    if f[14:30] == b"vessel-net hello":
        out["guest_mac"] = f[6:12].hex(":")
        break
print("hello seen", file=sys.stderr, flush=True)
reply = bytearray(1400)
reply[0:6] = f[6:12]
reply[6:12] = s.getsockname()[4][:6]
reply[12:14] = b"\x88\xb5"
reply[14:30] = b"vessel-net reply"
for i in range(30, 1400):
    reply[i] = (i * 7 + 3) & 0xff
# The guest says hello again while it has no reply: a new tap drops what
# is sent into it until the kernel has activated its queue discipline.
out["hellos"] = 1
s.send(bytes(reply))
while True:
    f = s.recv(65536)
    if f[14:30] == b"vessel-net hello":
        out["hellos"] += 1
        s.send(bytes(reply))
    if f[14:29] == b"vessel-net echo":
        break
out["echo_len"] = len(f)
out["echo_to_us"] = f[0:6] == reply[6:12]
out["echo_pattern_ok"] = all(f[i] == (i * 7 + 3) & 0xff for i in range(30, 1400))
print(json.dumps(out), flush=True)
'''


@pytest.fixture
def ns(request, root):
    if not os.path.exists("/dev/net/tun"):
        skip("/dev/net/tun is absent")
    if not shutil.which("ip"):
        skip("ip (iproute2) is needed to make the namespace")
    n = Netns()
    request.addfinalizer(n.close)
    n.ip("link", "set", "lo", "up")
    return n


def responder(ns, iface):
    p = ns.spawn_python(RESPONDER, iface)
    assert p.stdout.readline().strip() == "ready", p.stderr.read()
    return p


def boot(vessel, ns, accel, test, *net):
    return run(ns.exec(vessel, "vm", "run", "--accel", accel, "--kernel", str(TESTKERNEL),
                       "--append", f"vessel.test={test}", *net),
               timeout=180, stdin=open("/dev/null"))


def responder_result(p, r):
    """The responder's findings once the VM `r` has run; if it has none
    (the guest gave up or never sent), what the guest printed says why."""
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError(f"the responder ended without a result ({err.strip()!r}); "
                             "the guest printed:\n" + r.stdout + r.stderr)
    lines = out.strip().splitlines()
    assert lines, err
    return json.loads(lines[-1])


def check_exchange(r, res, mac=None):
    assert "vessel-test: result: 1 passed, 0 failed" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"virtio-net: slot \d+ mac ([0-9a-f:]{17}) status 1", r.stdout)
    assert m, r.stdout
    assert res["guest_mac"] == m.group(1)
    if mac:
        assert m.group(1) == mac
    assert res["echo_len"] == 1400 and res["echo_to_us"] and res["echo_pattern_ok"], res


@pytest.mark.parametrize("mode", ["mrg", "nomrg"])
def test_tap_send_and_receive(vessel, accel, ns, mode):
    tap = f"vessel-tt{secrets.token_hex(3)}"
    ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
    ns.ip("link", "set", tap, "up")
    p = responder(ns, tap)
    r = boot(vessel, ns, accel, f"virtio-net:{mode}" if mode == "nomrg" else "virtio-net",
             "--net", f"tap={tap}")
    check_exchange(r, responder_result(p, r))
    if mode == "mrg":
        # 12 + 1400 bytes in 512-byte buffers: three of them
        assert "virtio-net: received 1400 bytes in 3 buffer(s)" in r.stdout, r.stdout
    else:
        assert "virtio-net: received 1400 bytes in 1 buffer(s)" in r.stdout, r.stdout
    assert tap in ns.links()  # the test's own tap stays


BENCH_FRAMES = 3000


def rx_packets(ns, tap):
    return int(run(ns.exec("cat", f"/sys/class/net/{tap}/statistics/rx_packets"),
                   timeout=20).stdout)


def check_bench(r, test, frames):
    """The guest's report of `test:frames`; returns its notify writes (-1 if not printed)."""
    assert f"vessel-test: {test}: PASS" in r.stdout, r.stdout + r.stderr
    m = re.search(rf"^{test}: frames={frames} frames-per-s=(\d+)(?: kicks=(\d+))?$", r.stdout,
                  re.M)
    assert m and int(m.group(1)) > 0, r.stdout
    return int(m.group(2)) if m.group(2) else -1


@pytest.mark.parametrize("test,opt", [("virtio-net-bench", ""), ("virtio-net-bench-user", ""),
                                      ("virtio-net-bench-user", ":event-idx")])
def test_bench_frames_all_reach_the_tap(vessel, accel, ns, test, opt):
    """bench/net-vm.py's producers: every frame the guest queued reaches the
    tap once. The -user one runs at CPL3 with the TX rings and the notify
    register mapped for user mode, and returns its counts by SYSCALL (under
    emu a real one; under KVM-PVM the #PF at LSTAR that stands for it);
    with :event-idx it kicks by the device's avail_event."""
    tap = f"vessel-tb{secrets.token_hex(3)}"
    ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
    ns.ip("link", "set", tap, "up")
    before = rx_packets(ns, tap)
    r = boot(vessel, ns, accel, f"{test}:{BENCH_FRAMES}{opt}", "--net", f"tap={tap}")
    assert r.returncode == 0, r.stdout + r.stderr
    kicks = check_bench(r, test, BENCH_FRAMES)
    if test.endswith("-user"):
        assert 1 <= kicks <= BENCH_FRAMES, r.stdout
    assert rx_packets(ns, tap) - before == BENCH_FRAMES


@pytest.mark.parametrize("arg", ["10:bogus", "x", "0"])
def test_bench_user_refuses_bad_arguments(vessel, ns, arg):
    tap = f"vessel-tb{secrets.token_hex(3)}"
    ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
    r = boot(vessel, ns, "emu", f"virtio-net-bench-user:{arg}", "--net", f"tap={tap}")
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(rf"virtio-net-bench-user: FAIL virtio-net-bench-user:{arg}: "
                     r"(expected \[N\]\[:event-idx\]|not a frame count)", r.stdout), r.stdout


@pytest.mark.parametrize("arg", ["tx-usr/3/020000000001/10.0.0.2/10.0.0.3", "rx-userx/3",
                                 "rx-user", "rx-user/0", "tx-user/3/0200000000/10.0.0.2/10.0.0.3",
                                 "tx-user/3/020000000001/10.0.0.2/10.0.0.256"])
def test_udp_refuses_bad_arguments(vessel, ns, arg):
    """virtio-net-udp's CPL3 variants parse like the CPL0 ones: a bad
    direction, count, MAC or address fails before the NIC is touched."""
    tap = f"vessel-tb{secrets.token_hex(3)}"
    ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
    r = boot(vessel, ns, "emu", f"virtio-net-udp:{arg}", "--net", f"tap={tap}")
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(rf"virtio-net-udp: FAIL virtio-net-udp:{re.escape(arg)}: "
                     r"(tx\[-user\]/N/MAC/SRCIP/DSTIP|not a frame count)", r.stdout), r.stdout
    assert "virtio-net-udp: mac" not in r.stdout


def test_bridge_makes_and_removes_its_tap(vessel, accel, ns):
    br = f"vessel-tb{secrets.token_hex(3)}"
    ns.ip("link", "add", br, "type", "bridge")
    ns.ip("link", "set", br, "up")
    before = set(ns.links())
    p = responder(ns, br)
    mac = "52:54:00:5e:a1:07"
    r = boot(vessel, ns, accel, "virtio-net", "--net", f"bridge={br},mac={mac}")
    check_exchange(r, responder_result(p, r), mac)
    assert set(ns.links()) == before, "a tap was left behind"


def test_failed_start_leaves_no_tap(vessel, ns):
    br = f"vessel-tb{secrets.token_hex(3)}"
    ns.ip("link", "add", br, "type", "bridge")
    before = set(ns.links())
    r = boot(vessel, ns, "emu", "virtio-net", "--net", f"bridge={br}",
             "--device", "virtio-nothing")
    assert r.returncode == 125, r.stdout + r.stderr
    assert r.stderr.strip() == "vessel: no device type 'virtio-nothing'", r.stderr
    assert set(ns.links()) == before


@pytest.mark.parametrize("net,msg", [
    ("tap=vessel-nosuch", "vessel: virtio-net: there is no tap 'vessel-nosuch'"),
    ("bridge=vessel-nosuch", "vessel: virtio-net: there is no bridge 'vessel-nosuch'"),
    ("bridge=lo", "vessel: virtio-net: 'lo' is a plain link, not a bridge"),
    ("tap=lo", "vessel: virtio-net: 'lo' is a plain link, not a tap"),
    ("bridge=x,mac=01:00:5e:00:00:01",
     "vessel: virtio-net: mac '01:00:5e:00:00:01' is not a unicast XX:XX:XX:XX:XX:XX address"),
    ("bridge=x,mac=52:54:00:zz:00:01",
     "vessel: virtio-net: mac '52:54:00:zz:00:01' is not a unicast XX:XX:XX:XX:XX:XX address"),
    ("bridge=x,speed=10",
     "vessel: virtio-net: unexpected 'speed=10' "
     "(tap=NAME|bridge=NAME[,vlan=N][,mac=XX:XX:XX:XX:XX:XX])"),
    ("tap=a,bridge=b",
     "vessel: virtio-net: unexpected 'bridge=b' "
     "(tap=NAME|bridge=NAME[,vlan=N][,mac=XX:XX:XX:XX:XX:XX])"),
    ("bridge=x,vlan=0", "vessel: virtio-net: vlan '0': 1..4094"),
    ("bridge=x,vlan=4095", "vessel: virtio-net: vlan '4095': 1..4094"),
    ("bridge=x,vlan=1x", "vessel: virtio-net: vlan '1x': 1..4094"),
    ("tap=a,vlan=3",
     "vessel: virtio-net: vlan= needs bridge= "
     "(tap=NAME|bridge=NAME[,vlan=N][,mac=XX:XX:XX:XX:XX:XX])"),
    ("bridge=a/b", "vessel: virtio-net: 'a/b' is not an interface name"),
    ("nic=1", "vessel: --net 'nic=1': expected tap=NAME or bridge=NAME[,mac=XX:XX:XX:XX:XX:XX]"),
])
def test_bad_net_is_one_line(vessel, ns, net, msg):
    before = set(ns.links())
    r = boot(vessel, ns, "emu", "virtio-net", "--net", net)
    assert r.returncode == 125, r.stdout + r.stderr
    assert r.stderr.strip() == msg
    assert set(ns.links()) == before


def test_vm_create_refuses_net(vessel, tmp_path):
    r = run([vessel, "--root", str(tmp_path), "vm", "create", "n1", "--kernel",
             str(TESTKERNEL), "--net", "bridge=x"], timeout=30)
    assert r.returncode != 0
    assert "only vm run takes --net" in r.stderr, r.stderr


def test_sigkilled_vmm_leaves_no_tap(vessel, ns):
    """The tap vessel made takes the bridge's MTU and is on the bridge; it
    dies with the VMM's fd, even when nothing cleans up."""
    br = f"vessel-tb{secrets.token_hex(3)}"
    ns.ip("link", "add", br, "mtu", "9000", "type", "bridge")
    before = ns.links()
    p = subprocess.Popen(ns.exec(vessel, "vm", "run", "--accel", "emu", "--kernel",
                                 str(TESTKERNEL), "--append", "vessel.test=hang", "--net",
                                 f"bridge={br}"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    ns.procs.append(p)
    end = time.time() + 60
    while time.time() < end and len(ns.links() - before) == 0 and p.poll() is None:
        time.sleep(0.1)
    made = ns.links() - before
    assert len(made) == 1 and next(iter(made)).startswith("vessel-"), made
    show = run(ns.exec("ip", "-o", "link", "show", next(iter(made))), timeout=20).stdout
    assert f"master {br}" in show and " mtu 9000 " in show, show
    # ip netns exec execs vessel: p.pid is the VMM itself
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    end = time.time() + 10
    while time.time() < end and ns.links() != before:
        time.sleep(0.1)
    assert ns.links() == before


@pytest.mark.parametrize("mode", ["mrg", "nomrg"])
def test_the_guest_driver_against_qemus_device(ns, mode):
    """The test guest's driver against an independent device, so the two
    sides are not merely consistent with each other: QEMU's modern
    virtio-net-pci (TCG, a tap backend) serves the same exchange."""
    if not shutil.which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 is not installed")
    tap = f"vessel-tq{secrets.token_hex(3)}"
    ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
    ns.ip("link", "set", tap, "up")
    p = responder(ns, tap)
    # -q: without the malformed TX chains, which QEMU answers with NEEDS_RESET
    test = f"virtio-net:{mode}-q"
    r = run(ns.exec("qemu-system-x86_64", "-accel", "tcg", "-M", "q35", "-m", "128",
                    "-nographic", "-nodefaults", "-no-user-config", "-serial", "stdio",
                    "-no-reboot", "-device", "isa-debug-exit,iobase=0x501,iosize=1",
                    "-kernel", str(TESTKERNEL), "-append", f"vessel.test={test}",
                    "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no,vhost=off",
                    "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"),
            timeout=180, stdin=open(os.devnull))
    res = responder_result(p, r)
    assert "vessel-test: virtio-net: PASS" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 1, r.stdout  # isa-debug-exit: (0 << 1) | 1
    assert res["echo_len"] == 1400 and res["echo_to_us"] and res["echo_pattern_ok"], res


@pytest.mark.parametrize("opt", ["", ":event-idx"])
def test_the_user_mode_bench_against_qemus_device(ns, opt):
    """virtio-net-bench-user against QEMU's device and CPU (TCG: a real
    SYSCALL back to CPL0), the frames counted on the tap."""
    if not shutil.which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 is not installed")
    tap = f"vessel-tq{secrets.token_hex(3)}"
    ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
    ns.ip("link", "set", tap, "up")
    before = rx_packets(ns, tap)
    test = "virtio-net-bench-user"
    r = run(ns.exec("qemu-system-x86_64", "-accel", "tcg", "-M", "q35", "-m", "128",
                    "-nographic", "-nodefaults", "-no-user-config", "-serial", "stdio",
                    "-no-reboot", "-device", "isa-debug-exit,iobase=0x501,iosize=1",
                    "-kernel", str(TESTKERNEL), "-append", f"vessel.test={test}:{BENCH_FRAMES}{opt}",
                    "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no,vhost=off",
                    "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"),
            timeout=180, stdin=open(os.devnull))
    assert r.returncode == 1, r.stdout + r.stderr  # isa-debug-exit: (0 << 1) | 1
    assert 1 <= check_bench(r, test, BENCH_FRAMES) <= BENCH_FRAMES
    assert rx_packets(ns, tap) - before == BENCH_FRAMES
