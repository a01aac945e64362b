"""Load: 1,000 API requests from 20 concurrent clients over the unix socket
while another client starts and kills VMs of the test guest 20 times (kvm),
and the same for containers with SSE stats streams opened and dropped
meanwhile: no error, no lost instance, the server's memory bounded."""
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


CTRS = 4


def test_containers_under_load_with_streams(make_server, ctr_root):
    """The container endpoints under the same load: 1,000 requests from 20
    clients (lists, inspects, stats, logs, disks) while a client starts and
    stops containers 20 times and others open SSE stats streams and drop
    them: no error, no lost container, memory bounded (streams released)."""
    from apitest import import_busybox
    from test_containers import sse_events

    s = make_server()
    img = import_busybox(s.root)
    names = [f"lc{i}" for i in range(CTRS)]
    for n in names:
        s.ok("POST", "/v1/containers", {"name": n, "image": img,
                                        "command": ["sh", "-c", "echo up; sleep 1000"]}, want=201)
    s.ok("POST", "/v1/containers/lc0/start")
    for _ in range(50):
        s.ok("GET", "/v1/containers")
    sse_events(s, "/v1/containers/lc0/stats?stream=true", 1)  # the ticker's first use
    rss0 = rss_kib(s.proc.pid)
    errors = []

    def reader(k):
        paths = ["/v1/containers", f"/v1/containers/{names[k % CTRS]}",
                 f"/v1/containers/{names[k % CTRS]}/stats", "/v1/disks",
                 f"/v1/containers/{names[k % CTRS]}/logs?tail=5"]
        try:
            for i in range(PER_CLIENT):
                p = paths[i % len(paths)]
                st, _, text = s.request("GET", p)
                if st != 200:
                    errors.append(f"GET {p}: {st} {text}")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"client {k}: {e!r}")

    def cycler():
        try:
            for c in range(CYCLES):
                n = names[1 + c % (CTRS - 1)]
                for verb in ("start", "stop?timeout=0"):
                    st, _, text = s.request("POST", f"/v1/containers/{n}/{verb}")
                    if st != 200:
                        errors.append(f"{verb} {n}: {st} {text}")
        except Exception as e:  # noqa: BLE001
            errors.append(f"cycler: {e!r}")

    def streamer():
        try:
            for _ in range(5):
                sse_events(s, "/v1/containers/lc0/stats?stream=true", 2)
        except Exception as e:  # noqa: BLE001
            errors.append(f"streamer: {e!r}")

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(CLIENTS)]
    threads += [threading.Thread(target=cycler)]
    threads += [threading.Thread(target=streamer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert errors == [], errors[:5]
    cs = {c["name"]: c["state"] for c in s.ok("GET", "/v1/containers")}
    assert cs == {"lc0": "running", **{n: "exited" for n in names[1:]}}, cs
    grown = rss_kib(s.proc.pid) - rss0
    assert grown < 4096, f"the server grew by {grown} KiB"
