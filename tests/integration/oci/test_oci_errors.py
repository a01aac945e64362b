"""Broken input: each is a one-line error, a non-zero exit, and nothing
left behind (no state directory, no cgroup, no mount, no process)."""
import json
import os
import pathlib
import shutil
import time

import pytest

from ocitest import CGROUP_FS, uid


def leftovers(rt, bundle_path, cgroup):
    found = [p.name for p in pathlib.Path(rt.root).iterdir()]
    found += [str(h) for h in CGROUP_FS.iterdir() if (h / cgroup.lstrip("/")).exists()]
    found += [line for line in open("/proc/self/mountinfo") if str(bundle_path) in line]
    return found


def break_json(b):
    (b.path / "config.json").write_text('{"ociVersion": "1.0.2", "root": {')


def no_rootfs(b):
    b.write()
    os.rename(b.path / "rootfs", b.path / "elsewhere")


def rootfs_symlink_to_host_root(b):
    b.write()
    import shutil
    shutil.rmtree(b.path / "rootfs")
    os.symlink("/", b.path / "rootfs")


def unknown_ns(b):
    b.config["linux"]["namespaces"].append({"type": "foo"})
    b.write()


def bad_args(b):
    b.config["process"]["args"] = "sh"
    b.write()


def missing_exec(b):
    b.args("/bin/nonexistent").write()


def bad_mount_source(b):
    b.config["mounts"].append({"destination": "/x", "type": "bind",
                               "source": "/nonexistent/source", "options": ["bind"]})
    b.write()


def bad_cgroup_value(b):
    b.config["linux"]["resources"] = {"cpu": {"cpus": "999999"}}
    b.write()


CASES = [
    ("malformed", break_json, "config.json: line 1 column"),
    ("missing_rootfs", no_rootfs, "rootfs ("),
    ("rootfs_is_host_root", rootfs_symlink_to_host_root, "resolves to the host's /"),
    ("unknown_namespace", unknown_ns, 'unknown namespace type "foo"'),
    ("args_not_array", bad_args, "config.json: process.args: expected an array"),
    ("missing_executable", missing_exec, 'exec: "/bin/nonexistent"'),
    ("bad_mount_source", bad_mount_source, "/nonexistent/source"),
    ("bad_cgroup_value", bad_cgroup_value, "cpuset.cpus"),
]


@pytest.mark.parametrize("name,breaker,msg", CASES, ids=[c[0] for c in CASES])
def test_broken_input(name, breaker, msg, vessel_rt, bundle, test_cgroup):
    breaker(bundle)
    for cmd in ("create", "run"):
        r = vessel_rt(cmd, "--bundle", bundle.path, uid())
        assert r.returncode == 1, r
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert msg in lines[0], r.stderr
        assert leftovers(vessel_rt, bundle.path, test_cgroup) == []


def test_invalid_id(vessel_rt, bundle):
    r = vessel_rt("create", "--bundle", bundle.write(), "../escape")
    assert r.returncode == 1
    assert "invalid container id" in r.stderr


def test_symlink_mount_target_stays_in_rootfs(vessel_rt, bundle, tmp_path):
    """CVE-2021-30465: a destination that is a symlink to a host path is
    resolved inside the rootfs (openat2 RESOLVE_IN_ROOT), never on the host."""
    host_dir = tmp_path / "host-target"
    host_dir.mkdir()
    src = tmp_path / "src"
    src.mkdir()
    (src / "marker").write_text("inside\n")
    os.symlink(str(host_dir), bundle.path / "rootfs/evil")
    os.symlink("../../../../../../../../" + str(host_dir), bundle.path / "rootfs/evil2")
    for dest in ("/evil", "/evil2"):
        bundle.config["mounts"].append({"destination": dest, "type": "bind",
                                        "source": str(src), "options": ["bind", "ro"]})
    bundle.args("sh", "-c", "cat /evil/marker /evil2/marker")
    r = vessel_rt("run", "--bundle", bundle.write(), uid())
    assert r.returncode == 0, r.stderr
    assert r.stdout == "inside\ninside\n"
    # the mount point was created inside the rootfs, the host dir untouched
    assert (bundle.path / "rootfs" / str(host_dir).lstrip("/")).is_dir()
    assert list(host_dir.iterdir()) == []


def test_no_host_fd_leak(vessel_rt, bundle, tmp_path):
    """CVE-2024-21626: fds the runtime inherits (beyond --preserve-fds) and
    its own fds never reach the container process."""
    leak = open(tmp_path / "host-secret", "w")
    os.set_inheritable(leak.fileno(), True)
    try:
        bundle.args("ctr-probe", "fds")
        r = vessel_rt("run", "--bundle", bundle.write(), uid())
    finally:
        leak.close()
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""


def test_preserve_fds(vessel_rt, bundle, tmp_path):
    import subprocess
    f = open(tmp_path / "kept", "w")
    try:
        os.dup2(f.fileno(), 3, inheritable=True) if f.fileno() != 3 else None
        bundle.args("ctr-probe", "fds")
        r = subprocess.run([vessel_rt.bin, "--root", vessel_rt.root, "run", "--preserve-fds",
                            "1", "--bundle", bundle.write(), uid()],
                           capture_output=True, text=True, pass_fds=(3,), timeout=30)
    finally:
        f.close()
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("3 -> ")
    assert r.stdout.strip().endswith("/kept")


def test_init_exe_unreachable_without_ptrace(vessel_rt, bundle):
    """CVE-2019-5736: while the init still runs vessel's code (created state)
    it is not dumpable, so a uid-0 process without CAP_SYS_PTRACE (what a
    container's root is) cannot open /proc/<init>/exe to reach the runtime
    binary. A dumpable root process is reachable in the same setup."""
    import subprocess
    from ocitest import PROBE
    if not shutil.which("capsh"):
        pytest.skip("capsh is not installed")
    b = bundle.args("sleep", "30").write()
    cid = uid()
    assert vessel_rt("create", "--bundle", b, cid).returncode == 0
    pid = vessel_rt.state(cid)["pid"]
    # reference: a dumpable root process with the same capabilities as the probe
    sleeper = subprocess.Popen(["capsh", "--drop=cap_sys_ptrace", "--", "-c", "exec sleep 30"])
    time.sleep(0.1)
    try:
        def probe(target):
            return subprocess.run(["capsh", "--drop=cap_sys_ptrace", "--", "-c",
                                   f"{PROBE} exe {target}"],
                                  capture_output=True, text=True).stdout.strip()
        assert probe(sleeper.pid) == "opened"
        assert probe(pid) == "Permission denied"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_entrypoint_reexecuting_proc_self_exe_gets_sealed_trampoline(vessel_rt, bundle):
    """CVE-2019-5736: an entrypoint that is /proc/self/exe (or a #! script
    naming it) must not re-execute the runtime binary. The init's last exec
    goes through a sealed memfd trampoline, so /proc/self/exe is that
    trampoline: exec'ing it runs nothing of vessel's (exit 127)."""
    (bundle.path / "rootfs/evil").write_text("#!/proc/self/exe --version\n")
    os.chmod(bundle.path / "rootfs/evil", 0o755)
    for argv in (["/proc/self/exe", "--version"], ["/evil"]):
        r = vessel_rt("run", "--bundle", bundle.args(*argv).write(), uid())
        assert "version" not in r.stdout, (argv, r)
        assert r.returncode == 127, (argv, r)


def test_runtime_runs_from_sealed_memfd_without_pid_ns(vessel_rt, bundle):
    """Sharing the host pid namespace, container processes could see the
    runtime's: create re-executes from a sealed memfd copy of itself, whose
    /proc/<pid>/exe cannot be opened for writing, even by root."""
    bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"]
                                            if n["type"] != "pid"]
    b = bundle.args("sleep", "30").write()
    cid = uid()
    assert vessel_rt("create", "--bundle", b, cid).returncode == 0
    pid = vessel_rt.state(cid)["pid"]
    assert os.readlink(f"/proc/{pid}/exe").startswith("/memfd:vessel-runc")
    with pytest.raises(OSError):
        os.open(f"/proc/{pid}/exe", os.O_WRONLY)


def test_exec_runs_from_sealed_memfd(vessel_rt, bundle):
    """exec's helper lives on while the process runs inside the container:
    it must be the sealed copy, not the binary on disk."""
    import subprocess
    b = bundle.args("sleep", "30").write()
    cid = uid()
    assert vessel_rt("run", "-d", "--bundle", b, cid).returncode == 0
    p = subprocess.Popen([vessel_rt.bin, "--root", vessel_rt.root, "exec", cid, "sleep", "3.5"])
    try:
        helper = None
        for _ in range(200):
            for d in os.listdir("/proc"):
                if d.isdigit():
                    try:
                        cmd = open(f"/proc/{d}/cmdline").read()
                        stat = open(f"/proc/{d}/stat").read()
                    except OSError:
                        continue
                    if cmd == "sleep\x003.5\x00":
                        helper = int(stat.rsplit(")", 1)[1].split()[1])
            if helper:
                break
            time.sleep(0.02)
        assert helper, "exec'd process not found"
        assert os.readlink(f"/proc/{helper}/exe").startswith("/memfd:vessel-runc")
    finally:
        p.wait(timeout=10)
