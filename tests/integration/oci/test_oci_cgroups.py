"""cgroups on this host's layout (hybrid here): limits work for real,
placement follows vessel's rule, and the cgroup is removed on delete."""
import os
import time

import pytest

from ocitest import CGROUP_FS, try_rmdir, uid

MIB = 1 << 20


def cg_read(ctl, path, f):
    return (CGROUP_FS / ctl / path.lstrip("/") / f).read_text().strip()


def proc_cgroups(pid):
    out = {}
    for line in open(f"/proc/{pid}/cgroup"):
        _, ctls, path = line.rstrip("\n").split(":", 2)
        for c in ctls.split(","):
            out[c] = path
    return out


def hybrid_or_v1():
    if (CGROUP_FS / "cgroup.controllers").exists():
        pytest.skip("pure cgroup v2 host: covered by the unit tests' fake tree")


def test_limits_written_and_removed(rt, bundle, test_cgroup):
    hybrid_or_v1()
    bundle.config["linux"]["resources"] = {
        "memory": {"limit": 64 * MIB, "swap": 96 * MIB}, "pids": {"limit": 77},
        "cpu": {"shares": 512, "quota": 30000, "period": 100000}}
    b = bundle.args("sleep", "30").write()
    cid = uid()
    assert rt("create", "--bundle", b, cid).returncode == 0
    pid = rt.state(cid)["pid"]
    assert cg_read("memory", test_cgroup, "memory.limit_in_bytes") == str(64 * MIB)
    if (CGROUP_FS / "memory" / test_cgroup.lstrip("/") / "memory.memsw.limit_in_bytes").exists():
        assert cg_read("memory", test_cgroup, "memory.memsw.limit_in_bytes") == str(96 * MIB)
    assert cg_read("pids", test_cgroup, "pids.max") == "77"
    assert cg_read("cpu", test_cgroup, "cpu.shares") == "512"
    assert cg_read("cpu", test_cgroup, "cpu.cfs_quota_us") == "30000"
    cgs = proc_cgroups(pid)
    for ctl in ("memory", "pids", "cpu", "blkio"):
        assert cgs[ctl] == test_cgroup, cgs
    assert rt("delete", "--force", cid).returncode == 0
    for ctl in ("memory", "pids", "cpu"):
        assert not (CGROUP_FS / ctl / test_cgroup.lstrip("/")).exists()


def test_memory_limit_oom_kills(rt, bundle):
    hybrid_or_v1()
    bundle.config["linux"]["resources"] = {"memory": {"limit": 32 * MIB, "swap": 32 * MIB}}
    b = bundle.args("ctr-probe", "alloc", "200").write()
    r = rt("run", "--bundle", b, uid(), timeout=60)
    assert r.returncode == 137, r
    assert "done" not in r.stdout


def test_pids_limit_stops_fork_bomb(rt, bundle):
    hybrid_or_v1()
    bundle.config["linux"]["resources"] = {"pids": {"limit": 20}}
    b = bundle.args("ctr-probe", "forks", "200").write()
    r = rt("run", "--bundle", b, uid(), timeout=60)
    forked = int(r.stdout.split()[0])
    assert 10 <= forked < 20, r


def test_cpu_quota_keeps_busy_loop_near_20_percent(vessel_rt, bundle, test_cgroup):
    hybrid_or_v1()
    bundle.config["linux"]["resources"] = {"cpu": {"quota": 20000, "period": 100000}}
    b = bundle.args("ctr-probe", "spin", "2").write()
    cid = uid()
    t0 = time.monotonic()
    assert vessel_rt("run", "-d", "--bundle", b, cid).returncode == 0
    while vessel_rt.state(cid)["status"] != "stopped":
        time.sleep(0.05)
    wall = time.monotonic() - t0
    used = int(cg_read("cpuacct", test_cgroup, "cpuacct.usage")) / 1e9
    share = used / wall
    print(f"cpu quota 0.2: used {used:.3f}s of {wall:.3f}s wall = {share:.2f}")
    # the quota caps it (upper bound); the lower bound allows for a busy host
    assert 0.10 <= share <= 0.28


@pytest.mark.parametrize("path,expect", [("", "/vessel/{id}"), ("rel/x", "/vessel/rel/x")])
def test_relative_and_empty_paths_go_under_vessel_subtree(vessel_rt, bundle, path, expect):
    """Never under the caller's own cgroup (here memory:/process_api/...)."""
    hybrid_or_v1()
    bundle.config["linux"]["cgroupsPath"] = path
    b = bundle.args("sleep", "30").write()
    cid = uid()
    want = expect.format(id=cid)
    try:
        assert vessel_rt("create", "--bundle", b, cid).returncode == 0
        cgs = proc_cgroups(vessel_rt.state(cid)["pid"])
        assert cgs["memory"] == want and cgs["pids"] == want, cgs
        assert vessel_rt("delete", "--force", cid).returncode == 0
        assert not (CGROUP_FS / "memory" / want.lstrip("/")).exists()
    finally:
        vessel_rt("delete", "--force", cid)
        for h in CGROUP_FS.iterdir():
            if path:
                try_rmdir(h / "vessel/rel/x")
                try_rmdir(h / "vessel/rel")
            try_rmdir(h / "vessel")  # only if empty: it may hold others' containers


def test_cgroup2_device_filter_bpf(vessel_rt, bundle, test_cgroup):
    """The device rules as a BPF_CGROUP_DEVICE program on the container's
    cgroup2 directory (what enforces them on pure v2 hosts). On this hybrid
    host the program sits on the unified hierarchy: a host shell that joins
    only that cgroup (its v1 devices cgroup stays the root, which allows
    everything) is still refused a device outside the rules."""
    unified = CGROUP_FS / "unified"
    if not (unified / "cgroup.procs").exists() or (CGROUP_FS / "cgroup.controllers").exists():
        pytest.skip("needs a hybrid host's unified hierarchy")
    bundle.config["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
    cid = uid()
    os.environ["VESSEL_HYBRID_DEVICE_BPF"] = "1"  # on hybrid hosts only on request
    try:
        r = vessel_rt("create", "--bundle", bundle.args("sleep", "30").write(), cid)
    finally:
        del os.environ["VESSEL_HYBRID_DEVICE_BPF"]
    assert r.returncode == 0, r.stderr
    procs = unified / test_cgroup.lstrip("/") / "cgroup.procs"
    script = (f"echo $$ > {procs} && {{ true < /dev/null && echo null-ok; "
              f"true < /dev/loop0 2>/dev/null && echo loop-ok || echo loop-denied; }}")
    import subprocess
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert r.stdout.split() == ["null-ok", "loop-denied"], r
