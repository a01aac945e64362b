"""exec into a running container, on vessel and runc."""
import json
import os
import time

from ocitest import run_in_pty, uid


def running(rt, bundle):
    b = bundle.args("sleep", "30").write()
    cid = uid()
    assert rt("run", "-d", "--bundle", b, cid).returncode == 0
    return cid


def test_exec_args_env_cwd_status(rt, bundle):
    cid = running(rt, bundle)
    r = rt("exec", "--env", "FOO=bar", "--cwd", "/dev", cid,
           "sh", "-c", "echo $FOO; pwd; hostname; exit 5")
    assert r.returncode == 5, r.stderr
    assert r.stdout == "bar\n/dev\nvessel\n"


def test_exec_joins_pid_namespace_and_cgroup(rt, bundle, test_cgroup):
    cid = running(rt, bundle)
    r = rt("exec", cid, "sh", "-c", "echo $$; grep memory /proc/self/cgroup")
    pid, cg = r.stdout.split()
    assert int(pid) > 1
    assert cg.endswith(":/")  # in the container's cgroup namespace, rooted at its cgroup


def test_exec_process_json_user_and_caps(rt, bundle, tmp_path):
    cid = running(rt, bundle)
    proc = {"args": ["ctr-probe", "ids"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 1000, "gid": 1000}}
    (tmp_path / "p.json").write_text(json.dumps(proc))
    r = rt("exec", "--process", tmp_path / "p.json", cid)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "uid=1000 gid=1000 groups=\n"


def test_exec_user_and_additional_gids(rt, bundle):
    cid = running(rt, bundle)
    r = rt("exec", "--user", "1000:1001", "-g", "5", "-g", "7", cid,
           "ctr-probe", "ids")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "uid=1000 gid=1001 groups=5,7\n"


def test_exec_detach_pid_file(rt, bundle, tmp_path, test_cgroup):
    cid = running(rt, bundle)
    pf = tmp_path / "exec.pid"
    r = rt("exec", "--detach", "--pid-file", pf, cid, "sleep", "20")
    assert r.returncode == 0, r.stderr
    pid = int(pf.read_text())
    # runc writes the pid file while that pid is still `runc init`, which
    # then execs the command: give the exec a bounded moment to happen.
    deadline = time.monotonic() + 5
    while ("sleep" not in open(f"/proc/{pid}/cmdline").read()
           and time.monotonic() < deadline):
        time.sleep(0.01)
    assert "sleep" in open(f"/proc/{pid}/cmdline").read()
    assert f"memory:{test_cgroup}\n" in open(f"/proc/{pid}/cgroup").read()
    os.kill(pid, 9)


def test_exec_errors(rt, bundle):
    cid = running(rt, bundle)
    r = rt("exec", cid, "/nonexistent")
    assert r.returncode != 0
    r = rt("exec", "nope-" + cid, "true")
    assert r.returncode == 255
    assert "exec failed: container" in r.stderr
    assert rt("kill", cid, "KILL").returncode == 0
    time.sleep(0.2)
    r = rt("exec", cid, "true")
    assert r.returncode == 255
    assert "stopped" in r.stderr


def test_exec_no_fd_leak(rt, bundle):
    cid = running(rt, bundle)
    r = rt("exec", cid, "ctr-probe", "fds")
    assert r.returncode == 0
    assert r.stdout == ""


def test_exec_tty_foreground(rt, bundle):
    """exec --tty without --console-socket: the runtime proxies the pty."""
    cid = running(rt, bundle)
    status, text = run_in_pty([str(rt.bin), "--root", str(rt.root), "exec", "--tty", cid,
                               "sh", "-c", "test -t 0 && echo is-a-tty; exit 6"])
    assert status == 6, text
    assert "is-a-tty" in text


def test_exec_gets_the_containers_seccomp_and_caps(rt, bundle):
    """exec'd processes get the container's seccomp profile and, from the
    config's process, its capability sets (runc's behaviour)."""
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
    cid = running(rt, bundle)
    r = rt("exec", cid, "sh", "-c", "ctr-probe mkdir /tmp/x; grep CapBnd /proc/self/status")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Operation not permitted\nCapBnd:\t0000000020000420\n"
