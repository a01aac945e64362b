"""virtio-net with Linux (the default guest kit: Debian's kernel, its
virtio_net module, our init) under --accel emu, in a network namespace the
test makes (vessel-tl-<random>, deleted by a finalizer even on failure).

`--net bridge=BR`: vessel makes a tap on the test's bridge (10.77.0.1/24);
the guest init configures eth0 from vessel.ip; the guest pings the bridge
address and moves 256 KiB both ways with busybox nc (sha256 compared on
both sides); afterwards no tap is left. One boot (~20-40 s under emu)."""
import json
import os
import re
import secrets
import shutil

import pytest

from vesseltest import GUEST_DIR, run, skip
from vmnet import Netns

SERVER = r'''
import hashlib, json, os, socket, sys, threading
addr = sys.argv[1]
data = os.urandom(262144)
down = socket.socket(); down.bind((addr, 0)); down.listen(1)
up = socket.socket(); up.bind((addr, 0)); up.listen(1)
down.settimeout(500); up.settimeout(500)
print(json.dumps({"down_port": down.getsockname()[1], "up_port": up.getsockname()[1],
                  "down_sha": hashlib.sha256(data).hexdigest()}), flush=True)
c, _ = down.accept(); c.sendall(data); c.close()
got = bytearray()
c, _ = up.accept()
while len(got) < len(data):
    b = c.recv(65536)
    if not b:
        break
    got.extend(b)
c.close()
print(json.dumps({"up_len": len(got), "up_sha": hashlib.sha256(bytes(got)).hexdigest()}),
      flush=True)
'''


@pytest.fixture
def kit():
    if not (GUEST_DIR / "vmlinuz").exists():
        skip(f"no guest kit in {GUEST_DIR} (make guest)")


@pytest.fixture
def ns(request, root):
    if not os.path.exists("/dev/net/tun"):
        skip("/dev/net/tun is absent")
    if not shutil.which("ip"):
        skip("ip (iproute2) is needed to make the namespace")
    n = Netns("tl")
    request.addfinalizer(n.close)
    return n


def test_linux_guest_pings_and_moves_files(vessel, kit, ns):
    br = f"vessel-lb{secrets.token_hex(3)}"
    for cmd in (["link", "set", "lo", "up"], ["link", "add", br, "type", "bridge"],
                ["addr", "add", "10.77.0.1/24", "dev", br], ["link", "set", br, "up"]):
        ns.ip(*cmd)
    before = ns.links()
    srv = ns.spawn_python(SERVER, "10.77.0.1")
    ports = json.loads(srv.stdout.readline())
    script = ("set -e; ip addr show eth0 | grep -q 'inet 10.77.0.2/24'; "
              "echo features-$(cat /sys/class/net/eth0/device/features); "
              "ping -c1 -W10 10.77.0.1 >/dev/null; echo ping-ok; "
              f"nc 10.77.0.1 {ports['down_port']} >/tmp/down; "
              "echo down-$(sha256sum /tmp/down | cut -d' ' -f1); "
              "dd if=/dev/urandom of=/tmp/up bs=1024 count=256 2>/dev/null; "
              "echo up-$(sha256sum /tmp/up | cut -d' ' -f1); "
              f"nc 10.77.0.1 {ports['up_port']} </tmp/up; echo net-done")
    r = run(ns.exec(vessel, "vm", "run", "--accel", "emu", "--net", f"bridge={br}",
                    "--append", "vessel.ip=eth0,10.77.0.2/24,10.77.0.1",
                    "--", "sh", "-c", script), timeout=600, stdin=open(os.devnull))
    out = r.stdout + r.stderr
    assert "ping-ok" in r.stdout, out[-3000:]
    assert f"down-{ports['down_sha']}" in r.stdout, out[-3000:]
    up = json.loads(srv.communicate(timeout=60)[0].strip().splitlines()[-1])
    assert up["up_len"] == 262144, up
    assert f"up-{up['up_sha']}" in r.stdout, out[-3000:]
    assert "net-done" in r.stdout and r.returncode == 0, out[-3000:]
    # what Linux negotiated: checksum and TSO offloads both ways through the
    # tap's vnet header, mergeable buffers (the big frames above used them)
    m = re.search(r"features-([01]+)", r.stdout)
    assert m, out[-3000:]
    bits = m.group(1)
    for bit, what in ((0, "CSUM"), (1, "GUEST_CSUM"), (5, "MAC"), (7, "GUEST_TSO4"),
                      (11, "HOST_TSO4"), (15, "MRG_RXBUF"), (16, "STATUS"), (32, "VERSION_1")):
        assert bits[bit] == "1", f"{what} not negotiated: {bits}"
    assert ns.links() == before, "a tap was left behind"
