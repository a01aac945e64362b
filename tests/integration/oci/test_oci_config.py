"""Table-driven config.json cases: each runs on vessel and, in the same
test, on runc when installed; both must give the same exit status and
output, and vessel's output must show the feature worked."""
import shutil
import subprocess

import pytest

from ocitest import uid

SECCOMP_MKDIR = {"defaultAction": "SCMP_ACT_ALLOW",
                 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                               "errnoRet": 1}]}
# two conditions on one argument: an OR of two rules (libseccomp refuses
# both in one rule; runc splits them too)
SECCOMP_MKDIR_SAME_ARG = {"defaultAction": "SCMP_ACT_ALLOW",
                          "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO",
                                        "args": [{"index": 2, "value": 0o755, "op": "SCMP_CMP_EQ"},
                                                 {"index": 2, "value": 0o711, "op": "SCMP_CMP_EQ"}]},
                                       {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                        "args": [{"index": 1, "value": 0o755, "op": "SCMP_CMP_EQ"},
                                                 {"index": 1, "value": 0o711, "op": "SCMP_CMP_EQ"}]}]}
SECCOMP_MKDIR_0755 = {"defaultAction": "SCMP_ACT_ALLOW",
                      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                    "args": [{"index": 1, "value": 0o755, "op": "SCMP_CMP_EQ"}]},
                                   {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO",
                                    "args": [{"index": 2, "value": 0o755, "op": "SCMP_CMP_EQ"}]}]}


def set_user(c, **kw):
    c["process"]["user"].update(kw)


def add_mount(c, **m):
    c["mounts"].append(m)


def drop_ns(c, name):
    c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != name]


def userns(c):
    c["linux"]["namespaces"].append({"type": "user"})
    c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def device_cgroup(c):
    """deny-all device rules (runc's default spec) and CAP_MKNOD: the
    container may create a node for the host's root disk but not open it."""
    c["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
    for k in ("bounding", "effective", "permitted"):
        c["process"]["capabilities"][k].append("CAP_MKNOD")


# /dev/loop0: a host block device root can open here (the sandbox refuses
# the real disk to everyone), not in the default allowed devices
HOST_DISK = "7 0"


def _root_disk():
    """major, minor of the whole disk under /, for throttling rules."""
    import os
    st = os.stat("/")
    major = os.major(st.st_dev)
    for line in open("/proc/partitions").read().splitlines()[2:]:
        f = line.split()
        if int(f[0]) == major:
            return major, int(f[1])  # the first entry of a major is the disk
    return 7, 0


ROOT_MAJOR, ROOT_MINOR = _root_disk()


# (name, config edit, argv, check on vessel's (status, stdout))
CASES = [
    ("hostname", None, ["hostname"], lambda rc, out: out == "vessel\n"),
    ("env_cwd", lambda c: (c["process"]["env"].append("FOO=bar"),
                           c["process"].update(cwd="/tmp")),
     ["sh", "-c", "pwd; echo $FOO"], lambda rc, out: out == "/tmp\nbar\n"),
    ("user_groups", lambda c: set_user(c, uid=1000, gid=1001, additionalGids=[5, 6]),
     ["ctr-probe", "ids"], lambda rc, out: out == "uid=1000 gid=1001 groups=5,6\n"),
    ("umask", lambda c: set_user(c, umask=0o77), ["sh", "-c", "umask"],
     lambda rc, out: out == "0077\n"),
    ("caps_default", None, ["ctr-probe", "caps"],
     lambda rc, out: "CapBnd:\t0000000020000420" in out),
    ("caps_root_nonroot", lambda c: set_user(c, uid=1000, gid=1000), ["ctr-probe", "caps"],
     lambda rc, out: "CapEff:\t0000000000000000" in out),
    ("no_new_privs", None, ["ctr-probe", "nnp"], lambda rc, out: out == "NoNewPrivs:\t1\n"),
    ("rlimits", lambda c: c["process"].update(
        rlimits=[{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]),
     ["ctr-probe", "rlimit"], lambda rc, out: out == "100 200\n"),
    ("oom_score_adj", lambda c: c["process"].update(oomScoreAdj=500),
     ["cat", "/proc/self/oom_score_adj"], lambda rc, out: out == "500\n"),
    ("readonly_root", lambda c: c["root"].update(readonly=True),
     ["sh", "-c", "touch /x 2>/dev/null; echo $?"], lambda rc, out: out == "1\n"),
    ("masked_paths", None, ["sh", "-c", "wc -c < /proc/timer_list; ls /sys/firmware | wc -l"],
     lambda rc, out: out.split() == ["0", "0"]),
    ("readonly_paths", None,
     ["sh", "-c", "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null; echo $?"],
     lambda rc, out: out == "1\n"),
    ("tmpfs_options", lambda c: add_mount(c, destination="/scratch", type="tmpfs",
                                          source="tmpfs", options=["mode=1777", "size=1m"]),
     ["stat", "-c", "%a", "/scratch"], lambda rc, out: out == "1777\n"),
    ("bind_ro", "BIND", ["sh", "-c", "cat /data/f; touch /data/g 2>/dev/null; echo $?"],
     lambda rc, out: out == "hello\n1\n"),
    ("bind_file_rw", "BINDFILE", ["sh", "-c", "cat /etc/greeting; echo more >> /etc/greeting"],
     lambda rc, out: out == "hi\n"),
    ("devices", None, ["ls", "/dev"],
     lambda rc, out: {"null", "zero", "full", "random", "urandom", "tty", "pts", "shm",
                      "mqueue", "ptmx", "fd", "stdin", "stdout", "stderr"} <= set(out.split())),
    ("dev_null_node", None, ["stat", "-c", "%t:%T %a", "/dev/null"],
     lambda rc, out: out == "1:3 666\n"),
    ("pid_ns", None, ["sh", "-c", "echo $$"], lambda rc, out: out == "1\n"),
    ("no_pid_ns", lambda c: drop_ns(c, "pid"), ["sh", "-c", "test $$ -ne 1 && echo host"],
     lambda rc, out: out == "host\n"),
    ("seccomp_errno", lambda c: c["linux"].update(seccomp=SECCOMP_MKDIR),
     ["ctr-probe", "mkdir", "/tmp/x"], lambda rc, out: out == "Operation not permitted\n"),
    ("seccomp_args", lambda c: c["linux"].update(seccomp=SECCOMP_MKDIR_0755),
     ["sh", "-c", "ctr-probe mkdir /tmp/x; mkdir -m 700 /tmp/y && echo ok2"],
     lambda rc, out: out == "Operation not permitted\nok2\n"),
    ("seccomp_same_arg_twice", lambda c: c["linux"].update(seccomp=SECCOMP_MKDIR_SAME_ARG),
     ["sh", "-c", "ctr-probe mkdir /tmp/a 711; ctr-probe mkdir /tmp/b 700; "
      "ctr-probe mkdir /tmp/c 755"],
     lambda rc, out: out == "Operation not permitted\nok\nOperation not permitted\n"),
    ("sysctl", lambda c: c["linux"].update(sysctl={"net.ipv4.ip_forward": "1"}),
     ["cat", "/proc/sys/net/ipv4/ip_forward"], lambda rc, out: out == "1\n"),
    ("user_namespace", userns, ["sh", "-c", "cat /proc/self/uid_map; ctr-probe ids"],
     lambda rc, out: out.split() == ["0", "100000", "65536", "uid=0", "gid=0", "groups="]),
    ("session_keyring", lambda c: c["linux"]["maskedPaths"].remove("/proc/keys"),
     # earlier containers' keyrings may linger in /proc/keys until collected
     ["sh", "-c", r"grep -q 'perm 3f1b0000 .* keyring *_ses\.' /proc/keys && echo yes"],
     lambda rc, out: out == "yes\n"),
    ("no_fd_leak", None, ["ctr-probe", "fds"], lambda rc, out: out == ""),
    ("device_cgroup", device_cgroup,
     ["sh", "-c", f"mknod /tmp/disk b {HOST_DISK} && true < /tmp/disk 2>/dev/null;"
      " echo $?; head -c 3 /dev/zero | wc -c; echo x > /dev/null && echo null-ok"],
     lambda rc, out: out == "1\n3\nnull-ok\n"),
    ("blkio_throttle", lambda c: c["linux"].update(resources={"blockIO": {
        "throttleReadBpsDevice": [{"major": ROOT_MAJOR, "minor": ROOT_MINOR, "rate": 1048576}],
        "throttleWriteIOPSDevice": [{"major": ROOT_MAJOR, "minor": ROOT_MINOR, "rate": 100}]}}),
     ["sh", "-c", "cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device "
      "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device"],
     lambda rc, out: out == f"{ROOT_MAJOR}:{ROOT_MINOR} 1048576\n{ROOT_MAJOR}:{ROOT_MINOR} 100\n"),
    ("memory_swappiness", lambda c: c["linux"].update(resources={"memory": {"swappiness": 7}}),
     ["cat", "/sys/fs/cgroup/memory/memory.swappiness"], lambda rc, out: out == "7\n"),
    ("domainname", lambda c: c.update(domainname="example.test"),
     ["cat", "/proc/sys/kernel/domainname"], lambda rc, out: out == "example.test\n"),
    ("cpuset_and_reservation", lambda c: c["linux"].update(resources={
        "cpu": {"cpus": "0", "mems": "0"}, "memory": {"reservation": 16 << 20}}),
     ["cat", "/sys/fs/cgroup/cpuset/cpuset.cpus", "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes"],
     lambda rc, out: out == f"0\n{16 << 20}\n"),
    ("exit_code", None, ["sh", "-c", "exit 42"], lambda rc, out: rc == 42),
    ("not_found", None, ["/bin/nonexistent"], lambda rc, out: rc != 0),
]


def prepare(bundle, edit, tmp_path):
    c = bundle.config
    if edit == "BIND":
        d = tmp_path / "data"
        d.mkdir(exist_ok=True)
        (d / "f").write_text("hello\n")
        add_mount(c, destination="/data", type="bind", source=str(d), options=["rbind", "ro"])
    elif edit == "BINDFILE":
        f = tmp_path / "greeting"
        f.write_text("hi\n")
        add_mount(c, destination="/etc/greeting", type="bind", source=str(f),
                  options=["bind", "rw"])
    elif edit:
        edit(c)


def run_case(rt, bundle_factory, tmp_path, edit, argv):
    # a user-namespaced root (host uid 100000) must be able to reach the
    # bundle: open the search bit on the directories pytest made 0700
    for d in [tmp_path] + list(tmp_path.parents)[:-2]:
        if str(d).startswith("/tmp/"):
            d.chmod(d.stat().st_mode | 0o111)
    b = bundle_factory(rt.name)
    prepare(b, edit, tmp_path)
    b.args(*argv)
    r = rt("run", "--bundle", b.write(), uid())
    return r.returncode, r.stdout, r.stderr


# Where a reference runtime differs from runc for a reason of its own, the
# case is compared with runc only.
RUNC_DIFFERS = {
    "domainname",  # runc 1.1.5 does not set it (crun and the spec do)
}
CRUN_DIFFERS = {
    "devices",  # crun creates /dev/core even where the kernel has no /proc/kcore
    "session_keyring",  # crun names it <id>, without runc's "_ses." and search bit
}


@pytest.mark.parametrize("name,edit,argv,check", CASES, ids=[c[0] for c in CASES])
def test_config_case(name, edit, argv, check, vessel_rt, bundle_factory, tmp_path):
    """Same config on vessel, then runc and crun (those installed)."""
    from ocitest import Runtime
    rc, out, err = run_case(vessel_rt, bundle_factory, tmp_path, edit, argv)
    assert check(rc, out), f"vessel: rc={rc} out={out!r} err={err!r}"
    for ref in ("runc", "crun"):
        if not shutil.which(ref) or name in (CRUN_DIFFERS if ref == "crun" else RUNC_DIFFERS):
            continue
        other = Runtime(ref, tmp_path)
        try:
            rrc, rout, rerr = run_case(other, bundle_factory, tmp_path, edit, argv)
        finally:
            other.cleanup()
        assert (rc == 0) == (rrc == 0), f"{ref} rc={rrc} err={rerr!r}; vessel rc={rc} err={err!r}"
        if name != "not_found":
            assert (rc, out) == (rrc, rout), f"{ref}: rc={rrc} out={rout!r} err={rerr!r}"
