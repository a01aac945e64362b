"""What the runtime must never do to the host (issue 10): write a sysctl
that no namespace of the container's own isolates, block on a FIFO given
as a namespace path. Each case runs on vessel and runc (`rt`) where runc
can run it safely; each leaves nothing behind even when it fails."""
import os
import stat
import time

import pytest

from ocitest import uid


def sysctl_value(key):
    return open("/proc/sys/" + key.replace(".", "/")).read().strip()


def drop_ns(c, name):
    c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != name]


# (key, namespace the config lacks or shares, the refusal's words). The
# values written are the host's current ones, so a regression that writes
# them anyway changes nothing on this shared machine.
HOST_SYSCTLS = [
    ("fs.lease-break-time", None, "is not in a separate kernel namespace"),
    ("kernel.pid_max", None, "is not in a separate kernel namespace"),
    ("net.core.somaxconn", "network", "not allowed in"),
    ("kernel.shmmni", "ipc", "not allowed in"),
    ("fs.mqueue.msg_max", "ipc", "not allowed in"),
]


@pytest.mark.parametrize("key,shared,words", HOST_SYSCTLS)
def test_host_sysctl_refused(rt, bundle, key, shared, words):
    before = sysctl_value(key)
    bundle.config["linux"]["sysctl"] = {key: before}
    if shared:
        drop_ns(bundle.config, shared)
    cid = uid()
    r = rt("create", "--bundle", bundle.write(), cid)
    assert r.returncode != 0, f"{rt.name} accepted host sysctl {key}"
    assert key in r.stderr and words in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert rt.state(cid) is None
    assert sysctl_value(key) == before


def test_sysctl_in_joined_host_netns_refused(rt, bundle):
    """A network namespace joined by path that is the host's own."""
    key = "net.core.somaxconn"
    bundle.config["linux"]["sysctl"] = {key: sysctl_value(key)}
    drop_ns(bundle.config, "network")
    bundle.config["linux"]["namespaces"].append({"type": "network", "path": f"/proc/{os.getpid()}/ns/net"})
    cid = uid()
    r = rt("create", "--bundle", bundle.write(), cid)
    assert r.returncode != 0 and key in r.stderr, r.stderr
    assert rt.state(cid) is None


def test_namespaced_sysctls_still_written(rt, bundle):
    """The container's own namespaces take their keys (the ipc, network and
    uts ones), without touching the host's values."""
    host = {k: sysctl_value(k) for k in ("kernel.shmmni", "net.ipv4.ip_forward")}
    want = {"kernel.shmmni": "1000", "net.ipv4.ip_forward": "1"}
    bundle.config["linux"]["sysctl"] = want
    b = bundle.args("sh", "-c", "cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_forward").write()
    r = rt("run", "--bundle", b, uid())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1000", "1"], r.stdout
    assert {k: sysctl_value(k) for k in host} == host


def test_fifo_namespace_path_refused(vessel_rt, bundle, tmp_path):
    """runc 1.1 opens the path with a blocking open(2) and hangs forever
    (not run on runc: it would leave a stuck process behind)."""
    fifo = tmp_path / "netns-fifo"
    os.mkfifo(fifo)
    drop_ns(bundle.config, "network")
    bundle.config["linux"]["namespaces"].append({"type": "network", "path": str(fifo)})
    cid = uid()
    t = time.monotonic()
    r = vessel_rt("create", "--bundle", bundle.write(), cid, timeout=20)
    assert time.monotonic() - t < 10
    assert r.returncode != 0
    assert "is not a namespace file" in r.stderr and str(fifo) in r.stderr, r.stderr
    assert vessel_rt.state(cid) is None
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_wrong_namespace_type_refused(vessel_rt, bundle):
    drop_ns(bundle.config, "network")
    bundle.config["linux"]["namespaces"].append({"type": "network", "path": "/proc/self/ns/uts"})
    cid = uid()
    r = vessel_rt("create", "--bundle", bundle.write(), cid)
    assert r.returncode != 0 and "is not a network namespace" in r.stderr, r.stderr
    assert vessel_rt.state(cid) is None


def test_fifo_config_and_pid_file_refused(vessel_rt, bundle, tmp_path):
    """config.json and the pid file's temporary name are opened without
    blocking too: a FIFO there is a one-line error, not a hang."""
    b = bundle.write()
    pidfile = tmp_path / "pid"
    os.mkfifo(str(pidfile) + ".tmp")
    cid = uid()
    r = vessel_rt("create", "--bundle", b, "--pid-file", pidfile, cid, timeout=20)
    assert r.returncode != 0 and "writing pid file" in r.stderr, r.stderr
    assert vessel_rt.state(cid) is None
    os.unlink(bundle.path / "config.json")
    os.mkfifo(bundle.path / "config.json")
    r = vessel_rt("create", "--bundle", b, cid, timeout=20)
    assert r.returncode != 0 and "config.json" in r.stderr, r.stderr
    assert vessel_rt.state(cid) is None


def gone(pid, wait=2.0):
    """True once pid no longer exists or is a zombie (waiting up to wait s)."""
    end = time.monotonic() + wait
    while True:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.01)


# --- cgroupsPath: the host's cgroups are not the container's (item 2) ---

def hierarchies():
    """One directory per cgroup hierarchy (symlinked aliases skipped)."""
    from ocitest import CGROUP_FS
    seen, out = set(), []
    for h in sorted(CGROUP_FS.iterdir()):
        if h.is_symlink() or not (h / "cgroup.procs").exists():
            continue
        st = os.stat(h)
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            out.append(h)
    return out


def join_cgroup(pid, path, only=None):
    """Moves pid into path in every hierarchy (or those named in only),
    creating the levels; a v1 cpuset level gets its parent's cpus/mems."""
    for h in hierarchies():
        if only and h.name not in only:
            continue
        d = h
        for part in path.strip("/").split("/"):
            d = d / part
            d.mkdir(exist_ok=True)
            for f in ("cpuset.cpus", "cpuset.mems"):
                if (d / f).exists() and not (d / f).read_text().strip():
                    (d / f).write_text((d.parent / f).read_text())
        (d / "cgroup.procs").write_text(str(pid))


@pytest.fixture
def sleeper():
    """A process of the test's own, killed at teardown."""
    import subprocess
    p = subprocess.Popen(["sleep", "120"])
    yield p
    p.kill()
    p.wait()


# The root cgroup ("/", "//", "/./") is refused by the same check, covered
# by the unit test ctr-cgroup (test_placement): never tried on this host.


def test_callers_own_cgroup_ancestor_refused(vessel_rt, bundle, test_cgroup):
    """The runtime runs in <test cgroup>/caller (pids hierarchy): the test
    cgroup, its ancestor, cannot be the container's. Not run on runc: it
    accepts it and moves the container (and writes limits) there."""
    import subprocess
    bundle.config["linux"]["cgroupsPath"] = test_cgroup
    b = bundle.write()
    cid = uid()
    procs = next(h for h in hierarchies() if h.name == "pids") / test_cgroup.lstrip("/")
    script = (f"mkdir -p {procs}/caller && echo $$ > {procs}/caller/cgroup.procs && "
              f"exec {vessel_rt.bin} --root {vessel_rt.root} create --bundle {b} {cid}")
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "runtime's own cgroup" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert vessel_rt.state(cid) is None


def test_populated_cgroup_is_never_mass_killed(rt, bundle, test_cgroup, sleeper):
    """A cgroup that already has a process of the test's: a container
    without a pid namespace placed there (runc 1.1 and vessel warn) must not
    take it down with kill --all or delete. runc 1.1 signals every process
    in the cgroup and kills the bystander; vessel refuses kill --all and
    deletes only the container's own init."""
    join_cgroup(sleeper.pid, test_cgroup)
    drop_ns(bundle.config, "pid")
    b = bundle.args("sleep", "60").write()
    cid = uid()
    r = rt("run", "-d", "--bundle", b, cid)
    assert r.returncode == 0, r.stderr
    init = rt.state(cid)["pid"]
    k = rt("kill", "--all", cid, "KILL")
    d = rt("delete", "--force", cid)
    time.sleep(0.2)
    if rt.name == "runc":
        assert sleeper.poll() is not None  # documented difference (docs/oci.md)
        return
    assert k.returncode != 0 and "held processes before the container" in k.stderr, k.stderr
    assert d.returncode == 0, d.stderr
    assert sleeper.poll() is None, "a process that was not the container's was killed"
    assert gone(init)
    assert rt.state(cid) is None


def test_delete_force_shared_cgroup_is_quick(rt, bundle_factory):
    """Two containers in one cgroupsPath; delete --force of the first
    leaves the cgroup to the second at once with a warning and exit 0 (as
    runc), instead of retrying rmdir for seconds and failing."""
    ids = [uid(), uid()]
    for cid in ids:
        b = bundle_factory().args("sleep", "60").write()
        assert rt("run", "-d", "--bundle", b, cid).returncode == 0
    t = time.monotonic()
    r = rt("delete", "--force", ids[0])
    took = time.monotonic() - t
    assert r.returncode == 0, r.stderr
    assert took < 2, took
    assert rt.state(ids[0]) is None
    assert rt.state(ids[1])["status"] == "running"
    assert rt("delete", "--force", ids[1]).returncode == 0


# --- seccomp: nothing of the runtime runs under the container's filter (item 6) ---

CONTAINERS_PROFILE = "/usr/share/containers/seccomp.json"


def real_world_profile(without=("close_range",)):
    """containers-common's default profile (podman's, installed on this
    host) reduced to its unconditional (and x86-64) allow list, errno by default, minus
    the syscalls in without: what older containerd/Kubernetes RuntimeDefault
    profiles look like (they lack close_range)."""
    import json
    if not os.path.exists(CONTAINERS_PROFILE):
        from ocitest import skip
        skip(f"{CONTAINERS_PROFILE} is absent (golang-github-containers-common)")
    prof = json.load(open(CONTAINERS_PROFILE))
    def ours(s):  # unconditional, or only for this architecture
        inc = s.get("includes") or {}
        return (s["action"] == "SCMP_ACT_ALLOW" and not s.get("excludes") and not s.get("args")
                and set(inc) <= {"arches"} and (not inc or "amd64" in inc["arches"]))
    names = sorted({n for s in prof["syscalls"] if ours(s) for n in s["names"]} - set(without))
    assert len(names) > 300 and "close_range" not in names
    return {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]}


@pytest.mark.parametrize("nnp,user", [(True, 0), (False, 0), (False, 1000), (True, 1000)])
def test_profile_denying_close_range_runs(rt, bundle, nnp, user):
    """The container runs under a profile that denies close_range (and
    everything else not on the list); the filter is in force in it."""
    bundle.config["linux"]["seccomp"] = real_world_profile()
    bundle.config["process"]["noNewPrivileges"] = nnp
    bundle.config["process"]["user"].update(uid=user, gid=user)
    b = bundle.args("sh", "-c", "echo ran; grep Seccomp: /proc/self/status").write()
    r = rt("run", "--bundle", b, uid())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:3] == ["ran", "Seccomp:", "2"], r.stdout


def test_profile_denying_close_range_exec(rt, bundle):
    """exec into such a container works too."""
    bundle.config["linux"]["seccomp"] = real_world_profile()
    b = bundle.args("sleep", "30").write()
    cid = uid()
    assert rt("run", "-d", "--bundle", b, cid).returncode == 0
    r = rt("exec", cid, "echo", "exec-ran")
    assert r.returncode == 0 and r.stdout == "exec-ran\n", r.stderr
    rt("delete", "--force", cid)


# --- the runtime spec, as runc and crun implement it (items 7-9) ---

@pytest.mark.parametrize("prop", ["shared", "rshared", "unbindable", "runbindable", "private",
                                  "rprivate", "slave", "rslave"])
def test_rootfs_propagation(rt, bundle, prop):
    """Every rootfsPropagation value runs (shared and unbindable used to
    fail pivot_root); on vessel the container's / carries it."""
    bundle.config["linux"]["rootfsPropagation"] = prop
    b = bundle.args("sh", "-c", "grep -E '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ' "
                                "/proc/self/mountinfo").write()
    r = rt("run", "--bundle", b, uid())
    if rt.name == "runc" and "unbindable" in prop:
        assert r.returncode != 0  # runc 1.1 refuses it (crun runs it): docs/oci.md
        return
    assert r.returncode == 0, r.stderr
    fields = r.stdout.split(" - ")[0].split()[6:]
    if rt.name == "runc":
        return
    # (slave and rslave show as private where the host's / is not shared)
    want = {"shared": "shared:", "unbindable": "unbindable"}
    for k, tag in want.items():
        if k in prop:
            assert any(f.startswith(tag) for f in fields), (prop, r.stdout)
    if "private" in prop:
        assert fields == [], (prop, r.stdout)


def host_mounts():
    """The host's mount table, less the network namespaces that concurrent
    vessel tests bind under /run/netns/vessel-test-* (nothing a container
    without a mount namespace could make)."""
    return [l for l in open("/proc/self/mountinfo").read().splitlines()
            if not l.split()[4].startswith("/run/netns/vessel-test-")]


def no_mount_ns(c):
    drop_ns(c, "mount")
    for k in ("maskedPaths", "readonlyPaths"):
        c["linux"].pop(k, None)
    c["mounts"] = []


def test_without_mount_namespace_runs_in_a_chroot(vessel_rt, bundle):
    """No mount namespace: the container shares the runtime's (runtime
    spec), its root is the rootfs, and the host's mount table is untouched;
    exec lands in the same root. runc 1.1 runs it too, but binds the rootfs
    and makes the config's mounts in the host's namespace and leaves them
    there after delete: not run on runc for that reason."""
    no_mount_ns(bundle.config)
    before = host_mounts()
    b = bundle.args("sh", "-c", "ls /bin/ctr-probe /bin/busybox && sleep 30").write()
    cid = uid()
    r = vessel_rt("run", "-d", "--bundle", b, cid)
    assert r.returncode == 0, r.stderr
    e = vessel_rt("exec", cid, "ls", "/bin/busybox", "/bin/ctr-probe")
    assert e.returncode == 0 and e.stdout.split() == ["/bin/busybox", "/bin/ctr-probe"], e
    assert vessel_rt("delete", "--force", cid).returncode == 0
    assert host_mounts() == before


@pytest.mark.parametrize("what,edit", [
    ("mounts", lambda c: c.update(mounts=[{"destination": "/proc", "type": "proc",
                                           "source": "proc"}])),
    ("maskedPaths", lambda c: c["linux"].update(maskedPaths=["/proc/kcore"])),
    ("root.readonly", lambda c: c["root"].update(readonly=True)),
])
def test_without_mount_namespace_refuses_host_mounts(vessel_rt, bundle, what, edit):
    no_mount_ns(bundle.config)
    edit(bundle.config)
    before = host_mounts()
    cid = uid()
    r = vessel_rt("create", "--bundle", bundle.write(), cid)
    assert r.returncode != 0
    assert what in r.stderr and "mount namespace" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert vessel_rt.state(cid) is None
    assert host_mounts() == before


def test_disable_oom_killer_v1(rt, bundle, test_cgroup):
    """linux.resources.memory.disableOOMKiller reaches the v1 memory
    cgroup's memory.oom_control, as runc does."""
    from ocitest import CGROUP_FS
    f = CGROUP_FS / "memory" / test_cgroup.lstrip("/") / "memory.oom_control"
    if not (CGROUP_FS / "memory" / "memory.oom_control").exists():
        from ocitest import skip
        skip("no cgroup v1 memory controller")
    bundle.config["linux"]["resources"] = {"memory": {"limit": 64 << 20,
                                                      "disableOOMKiller": True}}
    cid = uid()
    assert rt("create", "--bundle", bundle.args("sleep", "30").write(), cid).returncode == 0
    assert "oom_kill_disable 1" in f.read_text()
    rt("delete", "--force", cid)


def host_has_apparmor():
    try:
        return open("/sys/module/apparmor/parameters/enabled").read().startswith("Y")
    except OSError:
        return False


@pytest.mark.parametrize("what,edit", [
    ("apparmor", lambda c: c["process"].update(apparmorProfile="docker-default")),
    ("selinux", lambda c: c["process"].update(selinuxLabel="system_u:system_r:container_t:s0")),
    ("selinux", lambda c: c["linux"].update(mountLabel="system_u:object_r:container_file_t:s0")),
])
def test_lsm_label_without_the_lsm_is_refused(rt, bundle, what, edit):
    """A label whose LSM the host lacks is an error, never silently
    ignored. vessel refuses it before creating anything, in one line;
    runc 1.1 fails too (SELinux label up front, AppArmor and mountLabel in
    the init: different words)."""
    if what == "apparmor" and host_has_apparmor():
        from ocitest import skip
        skip("this host has AppArmor")
    if os.path.exists("/sys/fs/selinux/enforce"):
        from ocitest import skip
        skip("this host has SELinux")
    edit(bundle.config)
    cid = uid()
    r = rt("create", "--bundle", bundle.write(), cid)
    assert r.returncode != 0
    assert rt.state(cid) is None
    if rt.name == "vessel":
        assert what in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_exec_apparmor_flag_without_apparmor_is_refused(vessel_rt, bundle):
    if host_has_apparmor():
        from ocitest import skip
        skip("this host has AppArmor")
    cid = uid()
    assert vessel_rt("run", "-d", "--bundle", bundle.args("sleep", "30").write(),
                     cid).returncode == 0
    r = vessel_rt("exec", "--apparmor", "docker-default", cid, "true")
    assert r.returncode == 255 and "apparmor" in r.stderr, r.stderr
    vessel_rt("delete", "--force", cid)
