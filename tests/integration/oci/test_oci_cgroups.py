"""cgroups on this host's layout (hybrid here): limits work for real,
placement follows vessel's rule, and the cgroup is removed on delete."""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest

from ocitest import CGROUP_FS, skip, try_rmdir, uid

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


# --- linux.resources fields beyond memory/cpu/pids: blockIO.weightDevice,
# hugepageLimits on a hybrid host, unified, network, rdma, and their errors.

def leftovers(rt, bundle_path, cgroup):
    """State directories, cgroups and mounts a failed create left behind."""
    found = [p.name for p in rt.root.iterdir()]
    found += [str(h) for h in CGROUP_FS.iterdir() if (h / cgroup.lstrip("/")).exists()]
    found += [line for line in open("/proc/self/mountinfo") if str(bundle_path) in line]
    return found


def is_hybrid():
    unified = CGROUP_FS / "unified"
    return (unified / "cgroup.procs").exists() and not (CGROUP_FS / "cgroup.controllers").exists()


def v1_mounted(ctl):
    return any(ctl in h.name.split(",") for h in CGROUP_FS.iterdir()
               if (h / "cgroup.procs").exists() and h.name != "unified")


@pytest.fixture
def bfq_loop():
    """A loop device of our own (backed by a file under /tmp) with the BFQ
    scheduler, so that blkio.bfq.weight_device accepts it. Detached and the
    file removed even when the test fails. Yields "major:minor"."""
    if not shutil.which("losetup"):
        skip("losetup is not installed")
    fd, img = tempfile.mkstemp(prefix="vessel-wd-", suffix=".img", dir="/tmp")
    dev = None
    try:
        os.ftruncate(fd, 8 << 20)
        os.close(fd)
        fd = -1
        r = subprocess.run(["losetup", "--find", "--show", img], capture_output=True, text=True)
        if r.returncode != 0:
            skip(f"no free loop device: {r.stderr.strip()}")
        dev = r.stdout.strip()
        name = os.path.basename(dev)
        sched = pathlib.Path(f"/sys/block/{name}/queue/scheduler")
        if "bfq" not in sched.read_text().replace("[", " ").replace("]", " ").split():
            skip("the bfq I/O scheduler is not available")
        sched.write_text("bfq")
        yield pathlib.Path(f"/sys/block/{name}/dev").read_text().strip()
    finally:
        if fd >= 0:
            os.close(fd)
        if dev:
            subprocess.run(["losetup", "-d", dev], capture_output=True)
        os.unlink(img)


def test_blkio_weight_device_v1(rt, bundle, test_cgroup, bfq_loop):
    """weightDevice lands in the container's blkio cgroup, as runc writes it
    (blkio.weight_device with CFQ, blkio.bfq.weight_device without)."""
    hybrid_or_v1()
    if not v1_mounted("blkio"):
        skip("no v1 blkio hierarchy")
    major, minor = map(int, bfq_loop.split(":"))
    bundle.config["linux"]["resources"] = {"blockIO": {"weightDevice": [
        {"major": major, "minor": minor, "weight": 300}]}}
    cid = uid()
    r = rt("create", "--bundle", bundle.args("sleep", "30").write(), cid)
    assert r.returncode == 0, r.stderr
    d = CGROUP_FS / "blkio" / test_cgroup.lstrip("/")
    f = d / "blkio.weight_device"
    if not f.exists():
        f = d / "blkio.bfq.weight_device"
    lines = f.read_text().splitlines()
    print(f"{f.name}: {lines}")
    assert f"{bfq_loop} 300" in lines, lines
    # update -r: runc 1.1 ignores weightDevice there; so do we
    upd = bundle.path / "upd.json"
    upd.write_text(json.dumps({"blockIO": {"weightDevice": [
        {"major": major, "minor": minor, "weight": 700}]}}))
    assert rt("update", "-r", upd, cid).returncode == 0
    assert f"{bfq_loop} 300" in f.read_text().splitlines()
    # --blkio-weight still writes the cgroup's default weight
    r = rt("update", "--blkio-weight", "250", cid)
    assert r.returncode == 0, r.stderr
    w = d / "blkio.weight" if (d / "blkio.weight").exists() else d / "blkio.bfq.weight"
    assert w.read_text().split()[-1] == "250"
    assert rt("delete", "--force", cid).returncode == 0
    assert not d.exists()


def test_hugetlb_on_hybrid_is_a_clear_error(rt, bundle, test_cgroup):
    """Here hugetlb exists only in the host's unified hierarchy, whose
    subtree_control nobody enabled it in (and vessel never touches it): a
    one-line error, as runc fails too, and nothing left behind."""
    unified = CGROUP_FS / "unified"
    if not is_hybrid() or v1_mounted("hugetlb"):
        skip("needs a hybrid host without a v1 hugetlb hierarchy")
    if "hugetlb" not in (unified / "cgroup.controllers").read_text().split():
        skip("the unified hierarchy has no hugetlb controller")
    bundle.config["linux"]["resources"] = {"hugepageLimits": [
        {"pageSize": "2MB", "limit": 4 << 20}]}
    subtree = (unified / "cgroup.subtree_control").read_text()
    r = rt("create", "--bundle", bundle.write(), uid())
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot set hugetlb limit" in lines[0], r.stderr
    if rt.name == "vessel":
        assert "hugetlb is only available in the unified hierarchy and is not enabled " \
               "for the container's cgroup" in lines[0]
        assert leftovers(rt, bundle.path, test_cgroup) == []
    assert (unified / "cgroup.subtree_control").read_text() == subtree


def test_unified_on_hybrid(vessel_rt, bundle, test_cgroup):
    """A key of a controller that is not in the unified hierarchy is refused
    with runc's message before anything is written; a file the container's
    unified cgroup has (here a core cgroup.* file) is written there."""
    if not is_hybrid():
        skip("needs a hybrid host")
    bundle.config["linux"]["resources"] = {"unified": {"memory.high": "1000000"}}
    for cmd in ("create", "run"):
        r = vessel_rt(cmd, "--bundle", bundle.write(), uid())
        assert r.returncode == 1, r
        assert r.stderr.strip().splitlines() == [
            'invalid configuration: cannot use unified on cgroup v1: "memory.high" is not a '
            "file of the container's cgroup in the unified hierarchy /sys/fs/cgroup/unified"]
        assert leftovers(vessel_rt, bundle.path, test_cgroup) == []
    bundle.config["linux"]["resources"] = {"unified": {"cgroup.max.descendants": "10"}}
    cid = uid()
    r = vessel_rt("create", "--bundle", bundle.args("sleep", "30").write(), cid)
    assert r.returncode == 0, r.stderr
    f = CGROUP_FS / "unified" / test_cgroup.lstrip("/") / "cgroup.max.descendants"
    assert f.read_text().strip() == "10"
    # update -r applies unified, as runc's update does
    upd = bundle.path / "upd.json"
    upd.write_text(json.dumps({"unified": {"cgroup.max.descendants": "7"}}))
    r = vessel_rt("update", "-r", upd, cid)
    assert r.returncode == 0, r.stderr
    assert f.read_text().strip() == "7"
    upd.write_text(json.dumps({"unified": {"pids.max": "7"}}))
    r = vessel_rt("update", "-r", upd, cid)
    assert r.returncode == 1 and "cannot use unified on cgroup v1" in r.stderr, r


@pytest.mark.parametrize("field,ctl", [
    ({"network": {"classID": 0x100001}}, "net_cls"),
    ({"network": {"priorities": [{"name": "lo", "priority": 3}]}}, "net_prio"),
    ({"rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 100}}}, "rdma"),
], ids=["net_cls", "net_prio", "rdma"])
def test_v1_network_and_rdma(rt, bundle, test_cgroup, field, ctl):
    """Where the controller is mounted the value is written; where it is not
    (net_cls, net_prio and rdma here) creation fails in one line like runc's
    "cannot set <ctl> limit", leaving nothing behind."""
    hybrid_or_v1()
    bundle.config["linux"]["resources"] = field
    cid = uid()
    r = rt("create", "--bundle", bundle.args("sleep", "30").write(), cid)
    if v1_mounted(ctl):
        assert r.returncode == 0, r.stderr
        d = next(h for h in CGROUP_FS.iterdir() if ctl in h.name.split(","))
        d = d / test_cgroup.lstrip("/")
        got = {"net_cls": "net_cls.classid", "net_prio": "net_prio.ifpriomap",
               "rdma": "rdma.max"}[ctl]
        content = (d / got).read_text()
        print(f"{got}: {content!r}")
        want = {"net_cls": "1048577", "net_prio": "lo 3", "rdma": "mlx5_1"}[ctl]
        assert want in content
        return
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot set {ctl} limit" in lines[0], r.stderr
    if rt.name == "vessel":
        assert leftovers(rt, bundle.path, test_cgroup) == []


BROKEN = [
    ("weight_negative", {"blockIO": {"weightDevice": [{"major": 7, "minor": 0, "weight": -5}]}},
     "config.json: linux.resources.blockIO.weightDevice[0].weight: out of range [0, 65535]"),
    ("weight_device_not_array", {"blockIO": {"weightDevice": {"major": 7}}},
     "config.json: linux.resources.blockIO.weightDevice: expected an array"),
    ("weight_device_no_major", {"blockIO": {"weightDevice": [{"minor": 0, "weight": 5}]}},
     "config.json: linux.resources.blockIO.weightDevice[0].major: major and minor are required"),
    ("unified_slash", {"unified": {"../memory.max": "1"}},
     'config.json: linux.resources.unified: key "../memory.max" must be a cgroup file name'),
    ("unified_dotdot", {"unified": {"..": "1"}},
     'config.json: linux.resources.unified: key ".." must be a cgroup file name'),
    ("unified_not_string", {"unified": {"memory.max": 5}},
     "config.json: linux.resources.unified.memory.max: expected a string"),
    ("rdma_bad_name", {"rdma": {"a/b": {"hcaHandles": 1}}},
     'config.json: linux.resources.rdma: invalid name "a/b"'),
    ("rdma_negative", {"rdma": {"mlx5_1": {"hcaObjects": -1}}},
     "config.json: linux.resources.rdma.mlx5_1.hcaObjects: out of range"),
    ("classid_string", {"network": {"classID": "0x100001"}},
     "config.json: linux.resources.network.classID: expected an integer"),
]


@pytest.mark.parametrize("name,res,msg", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_resource_fields(name, res, msg, vessel_rt, bundle, test_cgroup):
    bundle.config["linux"]["resources"] = res
    bundle.write()
    for cmd in ("create", "run"):
        r = vessel_rt(cmd, "--bundle", bundle.path, uid())
        assert r.returncode == 1, r
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and msg in lines[0], r.stderr
        assert leftovers(vessel_rt, bundle.path, test_cgroup) == []


def test_features_cgroup_fields(vessel_rt):
    """features' linux.cgroup has every field runc's has (v1, v2, systemd,
    systemdUser) plus the runtime spec's rdma, now that rdma limits are
    written."""
    r = vessel_rt("features")
    assert r.returncode == 0, r.stderr
    cg = json.loads(r.stdout)["linux"]["cgroup"]
    assert cg == {"v1": True, "v2": True, "systemd": False, "systemdUser": False, "rdma": True}
    runc = shutil.which("runc")
    if runc:
        theirs = json.loads(subprocess.run([runc, "features"], capture_output=True,
                                           text=True).stdout)["linux"]["cgroup"]
        assert set(theirs) <= set(cg), (theirs, cg)
