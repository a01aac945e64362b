"""What keeps `vessel serve` small (docs/api.md "Memory"): the libraries
that only some requests need are not loaded at start (libarchive and what it
pulls in: libxml2, ICU, libstdc++; libnftables; libcrypto, which vessel no
longer links), not after a few hundred requests that do not need them
either, and an image import (libarchive, opened on first use) still works.
The resident-size target itself (8 MiB) is bench/api.sh's to measure."""
import time

from apitest import import_busybox

MIB = 1 << 20
NOT_AT_START = ("libarchive.so", "libxml2.so", "libicuuc.so", "libstdc++.so", "libnftables.so",
                "libcrypto.so")


def libraries(pid):
    with open(f"/proc/{pid}/maps") as f:
        return {line.split()[-1].rsplit("/", 1)[-1] for line in f if "/" in line}


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_idle_footprint(make_server, ctr_root):
    s = make_server()
    pid = s.proc.pid
    time.sleep(0.5)
    libs = libraries(pid)
    loaded = [n for n in NOT_AT_START if any(lib.startswith(n) for lib in libs)]
    assert not loaded, f"loaded at start: {loaded}"
    assert any(lib.startswith("libmicrohttpd.so") for lib in libs)
    at_start = rss(pid)
    for _ in range(100):
        s.ok("GET", "/v1/host")
        s.ok("GET", "/v1/vms")
        s.ok("GET", "/v1/containers")
        st, _, _ = s.request("GET", "/")
        assert st == 200
    time.sleep(0.5)
    after = rss(pid)
    libs = libraries(pid)
    loaded = [n for n in NOT_AT_START if any(lib.startswith(n) for lib in libs)]
    assert not loaded, f"loaded by requests that do not need them: {loaded}"
    # the CLI imports (its own process, libarchive opened on first use); the
    # server lists it
    img = import_busybox(s.root)
    assert [i["Name"] for i in s.ok("GET", "/v1/images")] == [img]
    print(f"vessel serve VmRSS: {at_start / MIB:.2f} MiB at start, {after / MIB:.2f} MiB after")
