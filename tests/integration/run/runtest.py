"""A runner for `vessel run` and friends against a private --root, and the
busybox image the tests use (built here from the host's busybox-static:
nothing is downloaded)."""
import io
import json
import os
import pathlib
import signal
import subprocess
import tarfile
import time

from vesseltest import VESSEL

BUSYBOX = pathlib.Path("/bin/busybox")
CGROUP_V1 = pathlib.Path("/sys/fs/cgroup")


def _add(t, name, data=None, mode=0o644, kind=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.linkname, ti.mtime = kind, mode, link, 1700000000
    if data is not None:
        ti.size = len(data)
    t.addfile(ti, io.BytesIO(data) if data is not None else None)


def busybox_tar(path, extra=()):
    """A rootfs tarball: busybox and its applet links, /etc/passwd."""
    with tarfile.open(path, "w") as t:
        for d in ("bin", "etc", "tmp", "root", "work", "data"):
            _add(t, d, kind=tarfile.DIRTYPE, mode=0o1777 if d == "tmp" else 0o755)
        _add(t, "bin/busybox", BUSYBOX.read_bytes(), 0o755)
        for a in ("sh", "echo", "cat", "ls", "sleep", "true", "head", "tail", "env", "pwd",
                  "id", "hostname", "dd", "touch", "mkdir", "yes", "wc", "test", "awk", "readlink",
                  "stty", "tty", "printf", "date", "seq", "ln"):
            _add(t, "bin/" + a, kind=tarfile.SYMTYPE, link="busybox")
        _add(t, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n"
                b"app:x:1234:4321::/work:/bin/sh\n")
        _add(t, "etc/group", b"root:x:0:\n")
        for name, data in extra:
            _add(t, name, data)


class Root:
    """A --root of its own; run() calls `vessel ARGS...` with it."""

    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.state = self.root / "state"

    def run(self, *args, timeout=60, check=False, **kw):
        r = subprocess.run([str(VESSEL), "--root", str(self.state)] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, **kw)
        if check:
            assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
        return r

    def image(self, name="bb:1", extra=()):
        tar = self.root / (name.replace(":", "_") + ".tar")
        busybox_tar(tar, extra)
        self.run("image", "import", tar, name, check=True)
        return name

    def inspect(self, name):
        return json.loads(self.run("inspect", name, check=True).stdout)

    def ps(self, *flags):
        r = self.run("ps", "--format", "json", *flags, check=True)
        return [c for c in json.loads(r.stdout) if c["kind"] == "container"]

    def ids(self):
        d = self.state / "containers"
        return [p.name for p in d.iterdir() if not p.name.startswith(".")] if d.exists() else []

    def cgroup(self, cid, ctl="memory"):
        return CGROUP_V1 / ctl / "vessel" / cid

    def cleanup(self):
        """Removes every container of this root: monitors and processes die."""
        if not (self.state / "vessel.db").exists():
            return
        try:
            cs = json.loads(self.run("ps", "-a", "--format", "json").stdout)
        except Exception:  # a broken store must not hide the test's own failure
            cs = []
        for c in cs:
            if c.get("kind") == "container":
                self.run("rm", "-f", c["id"])
        for cid in self.ids():  # anything the store lost: kill by cgroup
            for ctl in ("memory", "pids", "cpu,cpuacct", "freezer", "devices", "blkio",
                        "cpuset", "perf_event", "net_cls,net_prio", "hugetlb", "rdma", "misc",
                        "unified"):
                cg = CGROUP_V1 / ctl / "vessel" / cid
                try:
                    for pid in (cg / "cgroup.procs").read_text().split():
                        os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
                for _ in range(50):
                    try:
                        cg.rmdir()
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.02)


def wait_until(fn, timeout=10, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
