"""Helpers shared by the OCI runtime tests (fixtures are in conftest.py)."""
import json
import os
import pathlib
import pty
import select
import signal
import time
import shutil
import subprocess
import tempfile
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
BUILD = pathlib.Path(os.environ.get("VESSEL_BUILD", REPO / "build"))


def skip(reason):
    """Skips the current test, printing the reason in the agreed form."""
    print(f"SKIP: {reason}")
    pytest.skip(reason)


VESSEL_RUNC = BUILD / "vessel-runc"
PROBE = BUILD / "tests/unit/ctr/ctr-probe"
BUSYBOX = pathlib.Path("/bin/busybox")
CGROUP_FS = pathlib.Path("/sys/fs/cgroup")
APPLETS = ["sh", "true", "false", "echo", "cat", "ls", "id", "hostname", "mount", "ps",
           "sleep", "mkdir", "touch", "grep", "head", "readlink", "stat", "env", "pwd",
           "wc", "kill", "umask", "ulimit", "yes", "dd", "mknod"]


CRUN_WRAPPER = """#!/bin/sh
# crun 1.8.1 refuses hybrid cgroups unless unified/cgroup.controllers is
# empty: run it in a private mount namespace with an empty file over it.
exec unshare -m --propagation private sh -c \\
  'mount --bind "$0" /sys/fs/cgroup/unified/cgroup.controllers && exec crun "$@"' \\
  "{empty}" "$@"
"""


def crun_wrapper(tmp):
    """A crun that works on this host (HOST-FACTS), as a script in tmp."""
    crun = shutil.which("crun")
    if not crun:
        return None
    empty = tmp / "crun-empty"
    empty.write_text("")
    w = tmp / "crun-wrapper"
    w.write_text(CRUN_WRAPPER.format(empty=empty))
    w.chmod(0o755)
    return str(w)


def runtime_bin(name, tmp=None):
    if name == "crun":
        w = crun_wrapper(tmp)
        if not w:
            skip("crun is not installed")
        return w
    if name == "vessel":
        if not VESSEL_RUNC.exists():
            pytest.fail(f"{VESSEL_RUNC} is not built (run make build)")
        return str(VESSEL_RUNC)
    path = shutil.which(name)
    if not path:
        skip(f"{name} is not installed")
    return path


def run_files(cmd, timeout=30, input=None):
    """subprocess.run with stdout/stderr in files, not pipes: a detached
    container inherits them, and a pipe would keep us waiting for EOF."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.run(cmd, stdout=out, stderr=err, text=True, timeout=timeout,
                           input=input if input is not None else "")
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(cmd, p.returncode, out.read(), err.read())


class Runtime:
    """One runtime binary with a private --root."""

    def __init__(self, name, tmp):
        self.name = name

        self.bin = runtime_bin(name, tmp)
        self.root = tmp / f"state-{name}"
        self.root.mkdir()

    def __call__(self, *args, timeout=30, input=None, check=False):
        cmd = [self.bin, "--root", str(self.root)] + [str(a) for a in args]
        r = run_files(cmd, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"{cmd} failed ({r.returncode}): {r.stderr}")
        return r

    def state(self, cid):
        r = self("state", cid)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def cleanup(self):
        r = self("list", "--format", "json")
        ids = [c["id"] for c in (json.loads(r.stdout or "null") or [])] if r.returncode == 0 else []
        for cid in ids:
            self("delete", "--force", cid)
        shutil.rmtree(self.root, ignore_errors=True)



class Bundle:
    """A bundle directory: rootfs with busybox + ctr-probe, and config.json."""

    def __init__(self, path, cgroup):
        self.path = path
        rootfs = path / "rootfs"
        (rootfs / "bin").mkdir(parents=True)
        for d in ["proc", "sys", "dev", "tmp", "etc"]:
            (rootfs / d).mkdir()
        shutil.copy(BUSYBOX, rootfs / "bin/busybox")
        for a in APPLETS:
            os.symlink("busybox", rootfs / "bin" / a)
        if PROBE.exists():
            shutil.copy(PROBE, rootfs / "bin/ctr-probe")
        (rootfs / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
        out = subprocess.run([str(VESSEL_RUNC), "spec", "--bundle", str(path)],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        self.config = json.loads((path / "config.json").read_text())
        self.config["process"]["terminal"] = False
        self.config["root"]["readonly"] = False
        self.config["linux"]["cgroupsPath"] = cgroup
        self.config["linux"].pop("resources", None)
        self.args("true")

    def args(self, *argv):
        self.config["process"]["args"] = list(argv)
        return self

    def write(self):
        (self.path / "config.json").write_text(json.dumps(self.config, indent=1))
        return str(self.path)


def remove_cgroup_tree(name):
    """Removes <hierarchy><name>/** (leaves first), then /vessel-test if empty."""
    for h in CGROUP_FS.iterdir():
        base = h / name.lstrip("/")
        if base.is_dir():
            for d in sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                try_rmdir(d)
            try_rmdir(base)
        try_rmdir(h / "vessel-test")


def try_rmdir(d):
    try:
        os.rmdir(d)
    except OSError:
        pass


def uid():
    return "t" + uuid.uuid4().hex[:10]


def run_in_pty(argv, timeout=30):
    """Runs argv with a new pty as its controlling terminal and stdio; returns
    (exit status, everything it wrote, decoded). Killed after timeout s."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    out = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break  # EIO: the child side closed
        if not chunk:
            break
        out += chunk
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.WEXITSTATUS(status), out.decode(errors="replace")
