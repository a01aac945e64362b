"""Load: 1,000 API requests from 20 concurrent clients over the unix socket
while another client starts and kills VMs of the test guest 20 times (kvm):
no error, no lost instance, the server's memory bounded."""
import threading

from apitest import cli_ls, counter_spec

CLIENTS = 20
PER_CLIENT = 50
CYCLES = 20
VMS = 4


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def test_concurrent_clients_with_starts_and_stops(make_server, testkernel, kvm):
    s = make_server()
    names = [f"load{i}" for i in range(VMS)]
    for n in names:
        s.ok("POST", "/v1/vms", counter_spec(n), want=201)
    for _ in range(50):  # warm up: allocator arenas, SQLite's page cache
        s.ok("GET", "/v1/vms")
    rss0 = rss_kib(s.proc.pid)
    errors = []

    def reader(k):
        paths = ["/v1/vms", "/v1/host", f"/v1/vms/{names[k % VMS]}", "/v1/images"]
        try:
            for i in range(PER_CLIENT):
                st, j, text = s.request("GET", paths[i % len(paths)])
                if st != 200 or j is None:
                    errors.append(f"GET {paths[i % len(paths)]}: {st} {text}")
                elif paths[i % len(paths)] == "/v1/vms" and len(j) != VMS:
                    errors.append(f"GET /v1/vms lists {len(j)} VMs")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"client {k}: {e!r}")

    def cycler():
        try:
            for c in range(CYCLES):
                n = names[c % VMS]
                if s.request("POST", f"/v1/vms/{n}/start")[0] != 200:
                    errors.append(f"start {n} failed")
                if s.request("POST", f"/v1/vms/{n}/kill")[0] != 200:
                    errors.append(f"kill {n} failed")
        except Exception as e:  # noqa: BLE001
            errors.append(f"cycler: {e!r}")

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(CLIENTS)]
    threads.append(threading.Thread(target=cycler))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert errors == [], errors[:5]
    vms = s.ok("GET", "/v1/vms")
    assert sorted(v["name"] for v in vms) == names
    assert all(v["state"] == "stopped" for v in vms), [(v["name"], v["state"]) for v in vms]
    assert {n: v["state"] for n, v in cli_ls(s.root).items()} == {n: "stopped" for n in names}
    grown = rss_kib(s.proc.pid) - rss0
    assert grown < 4096, f"the server grew by {grown} KiB over {CLIENTS * PER_CLIENT} requests"
