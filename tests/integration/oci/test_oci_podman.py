"""podman as a client: `podman --runtime build/vessel-runc` with the flags
this host needs (HOST-FACTS): cgroupfs, file events, explicit ulimits, no
network, storage under a temporary root."""
import os
import pathlib
import resource
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from ocitest import BUSYBOX, CGROUP_FS, VESSEL_RUNC, run_in_pty, try_rmdir

APPLETS = ["sh", "echo", "true", "cat", "sleep", "hostname", "id", "ls", "tty", "touch", "grep"]


@pytest.fixture
def short_tmp():
    """podman refuses a runroot longer than 50 characters."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="vpm-", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def podman(short_tmp, root):
    if not shutil.which("podman"):
        pytest.skip("podman is not installed")
    tmp_path = short_tmp
    preexisting = {h for h in CGROUP_FS.iterdir() if (h / "libpod_parent").exists()}
    # what podman writes outside --root/--runroot is removed at the end of
    # the session (conftest.py: host_dirs_made_by_clients)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    base = ["podman", "--root", str(tmp_path / "storage"), "--runroot", str(tmp_path / "run"),
            "--storage-driver", "vfs", "--cgroup-manager=cgroupfs", "--events-backend=file",
            "--runtime", str(VESSEL_RUNC)]
    run_flags = ["--network", "none", "--ulimit", f"nofile={hard}:{hard}",
                 "--ulimit", "nproc=4096:4096"]

    def pm(*args, timeout=60, run=False):
        argv = base + [str(a) for a in args]
        if run:
            argv = base + [args[0]] + run_flags + [str(a) for a in args[1:]]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    pm.base, pm.run_flags = base, run_flags
    rootfs = tmp_path / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "etc").mkdir()
    shutil.copy(BUSYBOX, rootfs / "bin/busybox")
    for a in APPLETS:
        os.symlink("busybox", rootfs / "bin" / a)
    (rootfs / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    with tarfile.open(tmp_path / "rootfs.tar", "w") as t:
        t.add(rootfs, arcname=".")
    r = pm("import", tmp_path / "rootfs.tar", "localhost/vessel-bb:test")
    assert r.returncode == 0, r.stderr
    yield pm
    pm("rm", "--all", "--force", "--time", "0")
    pm("rmi", "--all", "--force")
    for line in reversed(open("/proc/self/mountinfo").read().splitlines()):
        mnt = line.split()[4]
        if mnt.startswith(str(tmp_path)):
            subprocess.run(["umount", "-l", mnt])
    for h in CGROUP_FS.iterdir():
        if h not in preexisting:
            try_rmdir(h / "libpod_parent/conmon")
            try_rmdir(h / "libpod_parent")


IMAGE = "localhost/vessel-bb:test"


def test_podman_run_rm_echo(podman):
    r = podman("run", "--rm", IMAGE, "echo", "hi", run=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hi\n"


def test_podman_exit_status(podman):
    r = podman("run", "--rm", IMAGE, "sh", "-c", "exit 3", run=True)
    assert r.returncode == 3


def test_podman_memory_limit(podman):
    r = podman("run", "--rm", "-m", "64m", IMAGE, "cat",
               "/sys/fs/cgroup/memory/memory.limit_in_bytes", run=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(64 << 20)


def test_podman_cpus_and_pids_limit(podman):
    r = podman("run", "--rm", "--cpus", "0.5", "--pids-limit", "100", IMAGE, "cat",
               "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
               "/sys/fs/cgroup/pids/pids.max", run=True)
    assert r.returncode == 0, r.stderr
    quota, period, pids = r.stdout.split()
    assert int(quota) * 2 == int(period)
    assert pids == "100"


def test_podman_user_caps_readonly_tmpfs(podman):
    """podman's own config shapes: --user, --cap-drop all, --read-only,
    --tmpfs, --hostname, -e."""
    r = podman("run", "--rm", "--user", "1000:1000", "--cap-drop", "all", "--read-only",
               "--tmpfs", "/scratch", "--hostname", "pm", "-e", "FOO=bar", IMAGE, "sh", "-c",
               "id -u; touch /x 2>/dev/null || echo ro; touch /scratch/y && echo tmpfs-ok; "
               "grep CapEff /proc/self/status; hostname; echo $FOO", run=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:6] == ["1000", "ro", "tmpfs-ok", "CapEff:\t0000000000000000",
                                        "pm", "bar"], r.stdout


def test_podman_exec_and_stop(podman):
    r = podman("run", "-d", "--name", "vx", IMAGE, "sleep", "60", run=True)
    assert r.returncode == 0, r.stderr
    r = podman("exec", "vx", "sh", "-c", "echo inexec; hostname")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("inexec\n")
    r = podman("stop", "-t", "1", "vx")
    assert r.returncode == 0, r.stderr
    r = podman("inspect", "--format", "{{.State.Status}}", "vx")
    assert r.stdout.strip() == "exited"
    assert podman("rm", "vx").returncode == 0


def test_podman_run_it(podman):
    """-it: the pty master travels over --console-socket to conmon."""
    status, text = run_in_pty(podman.base + ["run"] + podman.run_flags +
                              ["--rm", "-it", IMAGE, "sh", "-c", "tty; echo ready"])
    assert status == 0, text
    assert "/dev/pts/0" in text or "/dev/console" in text, text
    assert "ready" in text


def test_podman_exec_it(podman):
    """exec -it: the exec'd process gets a pty through --console-socket."""
    r = podman("run", "-d", "--name", "vit", IMAGE, "sleep", "60", run=True)
    assert r.returncode == 0, r.stderr
    status, text = run_in_pty(podman.base + ["exec", "-it", "vit", "sh", "-c",
                                             "tty; echo exec-ready"])
    assert status == 0, text
    assert "/dev/pts/" in text and "exec-ready" in text, text
