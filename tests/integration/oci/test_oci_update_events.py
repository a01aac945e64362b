"""update (limits of a running container) and events (stats, OOM)."""
import json
import subprocess
import time

import pytest

from ocitest import CGROUP_FS, uid

MIB = 1 << 20


def v1_only():
    if (CGROUP_FS / "cgroup.controllers").exists():
        pytest.skip("pure cgroup v2 host")


def cg(path, ctl, f):
    return (CGROUP_FS / ctl / path.lstrip("/") / f).read_text().strip()


def test_update_limits(rt, bundle, test_cgroup):
    v1_only()
    bundle.config["linux"]["resources"] = {"memory": {"limit": 64 * MIB, "swap": 64 * MIB},
                                           "pids": {"limit": 20}}
    cid = uid()
    assert rt("run", "-d", "--bundle", bundle.args("sleep", "30").write(), cid).returncode == 0
    # growing past the current memsw needs memsw raised first
    r = rt("update", "--memory", "128m", "--memory-swap", "256m", "--pids-limit", "50",
           "--cpu-quota", "50000", cid)
    assert r.returncode == 0, r.stderr
    assert cg(test_cgroup, "memory", "memory.limit_in_bytes") == str(128 * MIB)
    if (CGROUP_FS / "memory" / test_cgroup.lstrip("/") / "memory.memsw.limit_in_bytes").exists():
        assert cg(test_cgroup, "memory", "memory.memsw.limit_in_bytes") == str(256 * MIB)
    assert cg(test_cgroup, "pids", "pids.max") == "50"
    assert cg(test_cgroup, "cpu", "cpu.cfs_quota_us") == "50000"


def test_update_resources_file(rt, bundle, test_cgroup, tmp_path):
    v1_only()
    cid = uid()
    assert rt("run", "-d", "--bundle", bundle.args("sleep", "30").write(), cid).returncode == 0
    (tmp_path / "r.json").write_text(json.dumps({"pids": {"limit": 33}}))
    r = rt("update", "-r", tmp_path / "r.json", cid)
    assert r.returncode == 0, r.stderr
    assert cg(test_cgroup, "pids", "pids.max") == "33"


def test_events_stats(rt, bundle):
    v1_only()
    bundle.config["linux"]["resources"] = {"memory": {"limit": 64 * MIB}}
    cid = uid()
    assert rt("run", "-d", "--bundle", bundle.args("sleep", "30").write(), cid).returncode == 0
    r = rt("events", "--stats", cid)
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout.splitlines()[0])
    assert ev["type"] == "stats" and ev["id"] == cid
    assert ev["data"]["memory"]["usage"]["limit"] == 64 * MIB
    assert ev["data"]["memory"]["usage"]["usage"] > 0
    assert ev["data"]["pids"]["current"] >= 1


def test_events_reports_oom(vessel_rt, bundle):
    v1_only()
    bundle.config["linux"]["resources"] = {"memory": {"limit": 32 * MIB, "swap": 32 * MIB}}
    cid = uid()
    b = bundle.args("sh", "-c", "sleep 1; ctr-probe alloc 200").write()
    assert vessel_rt("run", "-d", "--bundle", b, cid).returncode == 0
    p = subprocess.run([vessel_rt.bin, "--root", vessel_rt.root, "events", "--interval", "60",
                        cid], capture_output=True, text=True, timeout=30)
    types = [json.loads(line)["type"] for line in p.stdout.splitlines()]
    assert "oom" in types, p
    st = vessel_rt.state(cid)
    assert st["status"] == "stopped"
    assert int(st["annotations"]["org.vessel.oom-kills"]) >= 1


def test_events_ends_with_the_container_without_polling(vessel_rt, bundle):
    """events --interval 60 returns as soon as the container's cgroup is
    empty: woken by cgroup.events (inotify), not by the stats interval."""
    import time
    cid = uid()
    b = bundle.args("sleep", "0.5").write()
    assert vessel_rt("run", "-d", "--bundle", b, cid).returncode == 0
    t = time.monotonic()
    p = subprocess.run([vessel_rt.bin, "--root", vessel_rt.root, "events", "--interval", "60",
                        cid], capture_output=True, text=True, timeout=30)
    took = time.monotonic() - t
    assert p.returncode == 0, p.stderr
    assert took < 1.5, took
