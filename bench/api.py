"""bench/api.sh: `vessel serve` against podman's REST API, in one run.

  list:  GET /v1/containers with 50 created containers and GET /v1/vms with
         50 registered VMs (created, not started) over vessel's unix
         socket, vs GET /containers/json?all=true with 50 created containers
         over `podman system service`'s unix socket. A new connection per
         request (as curl or a script would), medians.
  start: POST /v1/containers/NAME/start vs podman's POST
         /containers/NAME/start, 20 containers of the same busybox rootfs
         running `busybox true` (each call returns once the container runs),
         medians.
  rss:   VmRSS, RssAnon and Pss of an idle `vessel serve` right after it
         listens (0.5 s) and again after the requests.

podman runs offline as /work/shared/HOST-FACTS.md says: cgroupfs, file
events, storage under a temporary --root/--runroot, runc (crun refuses the
hybrid cgroup layout here), its image imported from the same tarball of
busybox as vessel's."""
import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

N = 50


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path_ = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path_)


STARTS = 20


def get(sock, path, method="GET"):
    c = UnixConn(sock)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status in (200, 204), (path, r.status, body[:200])
    return body


def timed_starts(sock, fmt):
    ts = []
    for i in range(STARTS):
        t0 = time.perf_counter()
        get(sock, fmt.format(f"b{i:02d}"), "POST")
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def busybox_tar(tmp):
    """One rootfs tarball (/bin/busybox) for both sides."""
    tar = os.path.join(tmp, "rootfs.tar")
    if not os.path.exists(tar):
        rootfs = os.path.join(tmp, "rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        shutil.copy("/bin/busybox", os.path.join(rootfs, "bin/busybox"))
        subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
    return tar


def timed(sock, path, rounds):
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        get(sock, path)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def wait_sock(path, proc, what):
    end = time.time() + 30
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited")
        if os.path.exists(path):
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                s.close()
                return
            except OSError:
                pass
        time.sleep(0.05)
    raise SystemExit(f"{what} did not listen")


def vessel_side(tmp, rounds):
    root = os.path.join(tmp, "vroot")
    for i in range(N):
        subprocess.run([ARGS.vessel, "--root", root, "vm", "create", f"b{i:02d}", "--kernel",
                        ARGS.bzimage, "--mem", "64M"], check=True, capture_output=True)
    v = [ARGS.vessel, "--root", root]
    subprocess.run(v + ["image", "import", busybox_tar(tmp), "vessel-bench-api:1"], check=True,
                   capture_output=True)
    for i in range(N):
        subprocess.run(v + ["create", "--name", f"b{i:02d}", "vessel-bench-api:1",
                            "/bin/busybox", "true"], check=True, capture_output=True)
    sock = os.path.join(root, "vessel.sock")
    p = subprocess.Popen(v + ["serve"], stderr=subprocess.DEVNULL)
    try:
        wait_sock(sock, p, "vessel serve")
        time.sleep(0.5)
        rss0 = rss_kib(p.pid)
        assert get(sock, "/v1/vms").count(b'"kind":"vm"') == N
        assert get(sock, "/v1/containers").count(b'"kind":"container"') == N
        t = {"vms": timed(sock, "/v1/vms", rounds),
             "list": timed(sock, "/v1/containers", rounds),
             "start": timed_starts(sock, "/v1/containers/{}/start")}
        time.sleep(0.5)
        rss = rss_kib(p.pid)
    finally:
        p.kill()
        p.wait()
        for i in range(N):
            subprocess.run(v + ["rm", "-f", f"b{i:02d}"], capture_output=True)
    return t, (rss0, rss)


def rss_kib(pid):
    """VmRSS, RssAnon (private memory) and Pss (shared pages divided among
    their users), in KiB: most of VmRSS is shared libraries' code."""
    out = {}
    for f in (f"/proc/{pid}/status", f"/proc/{pid}/smaps_rollup"):
        with open(f) as fh:
            for line in fh:
                k = line.split(":")[0]
                if k in ("VmRSS", "RssAnon", "Pss"):
                    out[k] = int(line.split()[1])
    return out


def podman_side(tmp, rounds):
    # crun refuses this host's hybrid cgroups (HOST-FACTS.md): podman runs runc
    base = ["podman", "--root", os.path.join(tmp, "pstore"), "--runroot",
            os.path.join(tmp, "prun"), "--cgroup-manager=cgroupfs", "--events-backend=file",
            "--runtime", shutil.which("runc") or "runc"]
    subprocess.run(base + ["import", busybox_tar(tmp), "localhost/vessel-bench-api"],
                   check=True, capture_output=True)
    hard = subprocess.run(["sh", "-c", "ulimit -Hn"], capture_output=True, text=True).stdout
    for i in range(N):
        subprocess.run(base + ["create", "--name", f"b{i:02d}", "--network", "none",
                               "--ulimit", f"nofile={hard.strip()}:{hard.strip()}",
                               "--ulimit", "nproc=4096:4096", "localhost/vessel-bench-api",
                               "/bin/busybox", "true"], check=True, capture_output=True)
    sock = os.path.join(tmp, "podman.sock")
    p = subprocess.Popen(base + ["system", "service", "--time=0", f"unix://{sock}"],
                         stderr=subprocess.DEVNULL)
    try:
        wait_sock(sock, p, "podman system service")
        assert get(sock, "/containers/json?all=true").count(b'"Id"') == N
        t = {"list": timed(sock, "/containers/json?all=true", rounds),
             "start": timed_starts(sock, "/containers/{}/start")}
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        subprocess.run(base + ["rm", "-a", "-f"], capture_output=True)
        subprocess.run(base + ["rmi", "-a", "-f"], capture_output=True)
    return t


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--bzimage", required=True)
    ap.add_argument("--rounds", type=int, default=200)
    ARGS = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix=f"vessel-bench-api-{os.getpid()}-")
    try:
        v, rss = vessel_side(tmp, ARGS.rounds)
        have_podman = shutil.which("podman") is not None
        pm = podman_side(tmp, ARGS.rounds) if have_podman else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    date = time.strftime("%Y-%m-%d", time.gmtime())
    print(f"# bench/api.sh {date}, medians of {ARGS.rounds} requests (starts: {STARTS}), "
          f"{N} instances")
    print(f"GET /v1/vms (vessel serve)              {v['vms'] * 1e3:8.3f} ms")
    print(f"GET /v1/containers (vessel serve)       {v['list'] * 1e3:8.3f} ms")
    if pm is not None:
        print(f"GET /containers/json (podman 4.x)       {pm['list'] * 1e3:8.3f} ms")
        print(f"ratio vessel/podman, list               {v['list'] / pm['list']:8.3f}x"
              "  (target <= 0.2x)")
    print(f"POST /v1/containers/N/start (vessel)    {v['start'] * 1e3:8.3f} ms")
    if pm is not None:
        print(f"POST /containers/N/start (podman 4.x)   {pm['start'] * 1e3:8.3f} ms")
        print(f"ratio vessel/podman, start              {v['start'] / pm['start']:8.3f}x"
              "  (target <= 0.3x)")
    else:
        print("SKIP: podman is absent, no anchor")
    for what, r in zip(("at start", "after the requests"), rss):
        print(f"vessel serve idle RSS {what:19s}{r['VmRSS'] / 1024:6.2f} MiB  (target <= 8 MiB)"
              f"; private (RssAnon) {r['RssAnon'] / 1024:.2f} MiB, Pss {r['Pss'] / 1024:.2f} MiB")


if __name__ == "__main__":
    main()
