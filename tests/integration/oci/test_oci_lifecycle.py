"""runc's state machine (creating/created/running/stopped), state JSON, exit
codes and error messages; each test runs on vessel and on runc."""
import json
import os
import signal
import subprocess
import time

from ocitest import run_files, uid
from vesseltest import ignore_signals_raw


def wait_status(rt, cid, want, timeout=5.0):
    end = time.time() + timeout
    st = None
    while time.time() < end:
        st = rt.state(cid)
        if st and st["status"] == want:
            return st
        time.sleep(0.02)
    raise AssertionError(f"{rt.name}: {cid} never reached {want}: {st}")


def test_run_exit_status_and_output(rt, bundle):
    b = bundle.args("sh", "-c", "echo out; echo err >&2; exit 7").write()
    r = rt("run", "--bundle", b, uid())
    assert r.returncode == 7
    assert r.stdout == "out\n"
    assert "err\n" in r.stderr
    assert rt("list", "-q").stdout == ""


def test_run_killed_by_signal(rt, bundle):
    """Foreground run reports a signal death as 128+N, like a shell."""
    b = bundle.args("sleep", "30").write()
    cid = uid()
    p = subprocess.Popen([rt.bin, "--root", rt.root, "run", "--bundle", b, cid],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_status(rt, cid, "running")
        assert rt("kill", cid, "9").returncode == 0
        assert p.wait(timeout=10) == 137
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_process_starts_with_default_signals(rt, bundle):
    """Signals ignored by whoever started the runtime (a background job of a
    script has SIGINT and SIGQUIT ignored, Python SIGXFSZ) are not ignored
    in the container, as runc does; vessel also unblocks what was blocked
    (runc 1.1.5 passes the blocked mask on)."""
    b = bundle.args("cat", "/proc/self/status").write()

    def ignoring():  # 32 and 33 are glibc's own, which a CI's parent had ignored
        ignore_signals_raw((signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGPIPE,
                            signal.SIGXFSZ, 32, 33), block=(signal.SIGUSR1, 32))
    r = subprocess.run([rt.bin, "--root", rt.root, "run", "--bundle", b, uid()],
                       preexec_fn=ignoring, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    f = dict(ln.split(":\t", 1) for ln in r.stdout.splitlines() if ":\t" in ln)
    assert r.returncode == 0, (r.stdout, r.stderr)
    if rt.name == "vessel":
        assert (int(f["SigIgn"], 16), int(f["SigBlk"], 16)) == (0, 0), r.stdout
    else:  # runc (Go) resets signals 1-31 only
        assert int(f["SigIgn"], 16) & 0x7fffffff == 0, r.stdout


def test_create_start_state_delete(rt, bundle, tmp_path):
    b = bundle.args("sleep", "30").write()
    cid = uid()
    pidfile = tmp_path / "pid"
    r = rt("create", "--bundle", b, "--pid-file", pidfile, cid)
    assert r.returncode == 0, r.stderr
    st = rt.state(cid)
    assert st["status"] == "created"
    assert st["id"] == cid
    assert st["pid"] == int(pidfile.read_text())
    assert st["bundle"] == b
    assert st["ociVersion"]
    assert os.path.exists(f"/proc/{st['pid']}")
    # the init waits for start: it has not exec'd sleep yet
    assert "sleep" not in open(f"/proc/{st['pid']}/cmdline").read()
    assert rt("start", cid).returncode == 0
    st = wait_status(rt, cid, "running")
    # start returns once the init has its go (runc's too); the exec follows
    end = time.time() + 5
    while "sleep" not in open(f"/proc/{st['pid']}/cmdline").read() and time.time() < end:
        time.sleep(0.02)
    assert "sleep" in open(f"/proc/{st['pid']}/cmdline").read()
    r = rt("delete", cid)
    assert r.returncode == 1
    assert "not stopped" in r.stderr
    assert rt("kill", cid, "KILL").returncode == 0
    st = wait_status(rt, cid, "stopped")
    assert st["pid"] == 0
    r = rt("start", cid)
    assert r.returncode == 1 and "stopped" in r.stderr
    assert rt("delete", cid).returncode == 0
    r = rt("state", cid)
    assert r.returncode == 1
    assert "does not exist" in r.stderr


def test_delete_created_and_force_running(rt, bundle):
    b = bundle.args("sleep", "30").write()
    c1, c2 = uid(), uid()
    assert rt("create", "--bundle", b, c1).returncode == 0
    pid = rt.state(c1)["pid"]
    assert rt("delete", c1).returncode == 0
    assert rt.state(c1) is None
    time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}/cmdline") or \
        open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert rt("run", "-d", "--bundle", b, c2).returncode == 0
    assert rt.state(c2)["status"] == "running"
    assert rt("delete", "--force", c2).returncode == 0
    assert rt.state(c2) is None


def test_duplicate_id_and_missing(rt, bundle):
    b = bundle.args("sleep", "30").write()
    cid = uid()
    assert rt("create", "--bundle", b, cid).returncode == 0
    r = rt("create", "--bundle", b, cid)
    assert r.returncode == 1
    assert "exists" in r.stderr
    assert rt.state(cid)["status"] == "created"
    for cmd in (["start"], ["kill"], ["delete"], ["state"]):
        r = rt(*cmd, "nope-" + cid)
        assert r.returncode == 1, cmd
        assert "does not exist" in r.stderr, (cmd, r.stderr)
    assert rt("delete", "--force", "nope-" + cid).returncode == 0


def test_kill_default_term_and_named_signals(rt, bundle):
    b = bundle.args("sh", "-c", "trap 'exit 3' TERM; while true; do sleep 0.05; done").write()
    cid = uid()
    assert rt("run", "-d", "--bundle", b, cid).returncode == 0
    time.sleep(0.2)
    assert rt("kill", cid).returncode == 0
    wait_status(rt, cid, "stopped")
    r = rt("kill", cid, "SIGKILL")
    assert r.returncode == 1
    r = rt("kill", cid, "NOSUCHSIG")
    assert r.returncode == 1


def test_list_and_json(rt, bundle):
    b = bundle.args("sleep", "30").write()
    ids = sorted([uid(), uid()])
    for cid in ids:
        assert rt("create", "--bundle", b, cid).returncode == 0
    lst = json.loads(rt("list", "--format", "json").stdout)
    assert sorted(c["id"] for c in lst) == ids
    assert all(c["status"] == "created" for c in lst)
    table = rt("list").stdout.splitlines()
    assert table[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert sorted(rt("list", "-q").stdout.split()) == ids


def test_global_log_json(rt, tmp_path):
    log = tmp_path / "log.json"
    r = rt("--log", log, "--log-format", "json", "start", "nope")
    assert r.returncode == 1
    line = json.loads(log.read_text().splitlines()[-1])
    assert line["level"] == "error"
    assert "does not exist" in line["msg"]
    assert "time" in line


def test_version_and_features(vessel_rt):
    r = vessel_rt("--version")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0].startswith("vessel-runc version ")
    assert any(x.startswith("spec: ") for x in lines)
    f = json.loads(vessel_rt("features").stdout)
    assert "pid" in f["linux"]["namespaces"]
    assert "CAP_SYS_ADMIN" in f["linux"]["capabilities"]
    assert f["linux"]["seccomp"]["enabled"]


def test_spec_refuses_to_overwrite(vessel_rt, tmp_path):
    assert vessel_rt("spec", "--bundle", tmp_path).returncode == 0
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["process"]["args"] == ["sh"]
    assert cfg["root"]["path"] == "rootfs"
    r = vessel_rt("spec", "--bundle", tmp_path)
    assert r.returncode == 1 and "exists" in r.stderr


def test_pause_resume(rt, bundle):
    b = bundle.args("sleep", "30").write()
    cid = uid()
    assert rt("run", "-d", "--bundle", b, cid).returncode == 0
    assert rt("pause", cid).returncode == 0
    assert rt.state(cid)["status"] == "paused"
    assert rt("resume", cid).returncode == 0
    assert rt.state(cid)["status"] == "running"
    assert rt("delete", "-f", cid).returncode == 0


def test_kill_all_and_ps(rt, bundle):
    b = bundle.args("sh", "-c", "sleep 30 & sleep 30 & wait").write()
    cid = uid()
    assert rt("run", "-d", "--bundle", b, cid).returncode == 0
    pids = []
    for _ in range(100):
        pids = json.loads(rt("ps", "--format", "json", cid).stdout or "[]")
        if len(pids) == 3:
            break
        time.sleep(0.02)
    assert len(pids) == 3, pids
    assert rt.state(cid)["pid"] in pids
    table = rt("ps", cid).stdout.splitlines()  # ps -ef, filtered to the container
    assert "PID" in table[0].split()
    assert sum(line.endswith(" sleep 30") for line in table[1:]) == 2, table
    assert len(table) == 4, table
    custom = rt("ps", cid, "-o", "pid,comm").stdout.split()
    assert custom[:2] == ["PID", "COMMAND"] and custom.count("sleep") == 2, custom
    assert rt("kill", "--all", cid, "KILL").returncode == 0
    wait_status(rt, cid, "stopped")
    for p in pids:
        assert not os.path.exists(f"/proc/{p}") or \
            open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"


def test_vessel_oci_verb_is_the_same_runtime(vessel_rt, bundle):
    """`vessel oci ARGS` == `vessel-runc ARGS`, including the commands that
    re-execute themselves from a sealed memfd (exec)."""
    import pathlib
    vessel = str(pathlib.Path(vessel_rt.bin).parent / "vessel")
    b = bundle.args("sleep", "30").write()
    cid = uid()
    base = [vessel, "oci", "--root", str(vessel_rt.root)]
    r = run_files(base + ["run", "-d", "--bundle", b, cid])
    assert r.returncode == 0, r.stderr
    r = run_files(base + ["exec", cid, "echo", "via-oci"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "via-oci\n"
    assert vessel_rt.state(cid)["status"] == "running"


def test_delete_kills_leftovers_without_pid_ns(rt, bundle, test_cgroup):
    """No pid namespace: a child that outlives the init is killed on delete
    so the cgroup can go."""
    bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"]
                                            if n["type"] != "pid"]
    b = bundle.args("sh", "-c", "sleep 30 & exit 0").write()
    cid = uid()
    assert rt("run", "-d", "--bundle", b, cid).returncode == 0
    wait_status(rt, cid, "stopped")
    assert rt("delete", cid).returncode == 0
    import pathlib
    assert not (pathlib.Path("/sys/fs/cgroup/memory") / test_cgroup.lstrip("/")).exists()


def test_concurrent_deletes(vessel_rt, bundle):
    """Deletes racing on one container: exactly one removes it, the others
    find it gone; nothing is left behind."""
    b = bundle.args("sleep", "30").write()
    cid = uid()
    assert vessel_rt("run", "-d", "--bundle", b, cid).returncode == 0
    procs = [subprocess.Popen([vessel_rt.bin, "--root", vessel_rt.root, "delete", "--force", cid],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    codes = [p.wait(timeout=30) for p in procs]
    assert codes == [0] * 6, [p.stderr.read() for p in procs]
    assert vessel_rt.state(cid) is None
    assert os.listdir(vessel_rt.root) == []
