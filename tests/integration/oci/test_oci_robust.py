"""The runtime survives being killed and damaged state (issue 10): a
create SIGKILLed at any moment is finished by delete --force; a corrupt
state.json does not make a container unmanageable; hooks fail as the
runtime spec says."""
import json
import os
import random
import signal
import subprocess
import time

import pytest

from ocitest import CGROUP_FS, remove_cgroup_tree, uid


def procs_mentioning(token):
    """Pids (not zombies) whose command line contains token."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            cmd = open(f"/proc/{d}/cmdline", "rb").read()
            state = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if token.encode() in cmd and state not in ("Z", "X"):
            out.append(int(d))
    return out


def cgroup_dirs(path):
    return [h / path.lstrip("/") for h in CGROUP_FS.iterdir()
            if (h / path.lstrip("/")).exists()]


def wait_no_procs(token, wait=3.0):
    end = time.monotonic() + wait
    while procs_mentioning(token) and time.monotonic() < end:
        time.sleep(0.01)
    return procs_mentioning(token)


def holders(root, token):
    """Live processes with an fd open under root (an init waiting on its
    state directory or exec.fifo: vessel's and runc's both hold one) or
    with token in their command line (vessel's init is a clone of create)."""
    out = set(procs_mentioning(token))
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{d}/fd"):
                if os.readlink(f"/proc/{d}/fd/{fd}").startswith(str(root) + "/"):
                    out.add(int(d))
        except OSError:
            continue
    return sorted(p for p in out if p != os.getpid())


def test_killed_create_leaves_nothing_after_delete_force(rt, bundle, test_cgroup):
    """Many rounds: create SIGKILLed after a random delay (covering the whole
    create: 0-15 ms for vessel, 0-60 ms for runc), then delete --force.
    Every round ends with no state directory, no cgroup and no process, and
    the id is reused throughout. runc leaves no directory or process either,
    but often the cgroup."""
    b = bundle.args("sleep", "60").write()
    cid = uid()  # the same id every round: it must stay reusable
    rng = random.Random(os.getpid())
    window = 0.015 if rt.name == "vessel" else 0.06
    outcomes = {"killed": 0, "finished": 0}
    for rnd in range(60):
        p = subprocess.Popen([rt.bin, "--root", rt.root, "create", "--bundle", b, cid],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, window))
        p.send_signal(signal.SIGKILL)
        rc = p.wait()
        outcomes["finished" if rc == 0 else "killed"] += 1
        r = rt("delete", "--force", cid)
        assert r.returncode == 0, (rnd, r.stderr)
        assert not os.path.exists(rt.root / cid), (rnd, os.listdir(rt.root / cid))
        end = time.monotonic() + 3
        while holders(rt.root, cid) and time.monotonic() < end:
            time.sleep(0.01)
        assert holders(rt.root, cid) == [], (rnd, holders(rt.root, cid))
        if cgroup_dirs(test_cgroup):
            outcomes["cgroup left"] = outcomes.get("cgroup left", 0) + 1
            # runc 1.1 leaves the cgroup of a killed create behind (its
            # delete --force does not know it): documented in docs/oci.md
            assert rt.name == "runc", rnd
            remove_cgroup_tree(test_cgroup)
    print(rt.name, outcomes)
    assert outcomes["killed"] > 10, outcomes
    r = rt("run", "--bundle", bundle.args("true").write(), cid)
    assert r.returncode == 0, r.stderr


def test_state_of_killed_create(vessel_rt, bundle):
    """A create killed while its init waits in its namespaces (a prestart
    hook runs): the init dies with it (parent-death signal), `state` says
    stopped, and delete --force removes what is left."""
    token = f"29.{random.randrange(10**8):08d}"  # the hook's own argument, to find it
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", token]}]}
    b = bundle.args("sleep", "60").write()
    cid = uid()
    p = subprocess.Popen([vessel_rt.bin, "--root", vessel_rt.root, "create", "--bundle", b, cid],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        st = None
        for _ in range(300):  # until the hook runs: the init is cloned and recorded
            st = vessel_rt.state(cid)
            if st and st["pid"] and procs_mentioning(token):
                break
            time.sleep(0.01)
        assert st and st["status"] == "creating", st
        init = st["pid"]
        p.kill()
        p.wait()
        assert wait_no_procs(cid) == []
        # a killed init's cmdline is empty once its memory is gone, but it is
        # dead only when its namespaces are torn down too (slow under load)
        end = time.monotonic() + 30
        while not _dead(init) and time.monotonic() < end:
            time.sleep(0.01)
        assert _dead(init), f"the init {init} outlived its create"
        assert vessel_rt.state(cid)["status"] == "stopped"
        assert vessel_rt("delete", "--force", cid).returncode == 0
        assert not os.path.exists(vessel_rt.root / cid)
        assert not os.path.exists(f"/proc/{init}/cmdline") or cid not in open(
            f"/proc/{init}/cmdline").read()
    finally:
        p.kill()
        p.wait()
        for pid in procs_mentioning(token):  # the hook: the test's own process
            os.kill(pid, signal.SIGKILL)


def _dead(pid):
    """pid is gone or a zombie (its parent died with SIGKILL: nobody reaps it
    here, the host's init will)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def corrupt(path, how):
    text = path.read_text()
    path.write_text(text[: len(text) // 2] if how == "truncated" else "\x00garbage{")


@pytest.mark.parametrize("how,started", [("truncated", True), ("truncated", False),
                                         ("garbage", False)])
def test_corrupt_state_delete_force_cleans_up(vessel_rt, bundle, test_cgroup, how, started):
    """A damaged state.json: the container is still listed, and delete
    --force kills its init, removes its cgroup and its directory; the id is
    reusable. (A created container's init is found by the state directory
    it holds open even when nothing of the file is readable.) runc 1.1
    fails on such a file ("delete --force" exits 1, everything stays)."""
    b = bundle.args("sleep", "60").write()
    cid = uid()
    assert vessel_rt("create", "--bundle", b, cid).returncode == 0
    if started:
        assert vessel_rt("start", cid).returncode == 0
    init = vessel_rt.state(cid)["pid"]
    corrupt(vessel_rt.root / cid / "state.json", how)
    assert vessel_rt.state(cid) is None
    listed = json.loads(vessel_rt("list", "--format", "json").stdout)
    assert [c["status"] for c in listed if c["id"] == cid] == ["unknown"], listed
    r = vessel_rt("delete", "--force", cid)
    assert r.returncode == 0, r.stderr
    end = time.monotonic() + 3
    while os.path.exists(f"/proc/{init}") and time.monotonic() < end:
        time.sleep(0.01)
    assert not os.path.exists(f"/proc/{init}") or \
        open(f"/proc/{init}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    assert not os.path.exists(vessel_rt.root / cid)
    assert cgroup_dirs(test_cgroup) == []
    assert vessel_rt("run", "--bundle", bundle.args("true").write(), cid).returncode == 0


# --- hooks as the runtime spec says (item 10) ---

def marker_hook(path):
    return {"path": "/bin/sh", "args": ["sh", "-c", f"echo ran >> {path}"]}


def test_failing_poststop_hook_warns_and_runs_the_rest(rt, bundle, tmp_path):
    """runtime spec: poststop errors are logged and the remaining hooks run;
    delete succeeds (crun does; runc 1.1 stops at the failing hook and
    fails delete)."""
    mark = tmp_path / "after"
    bundle.config["hooks"] = {"poststop": [{"path": "/bin/false"}, marker_hook(mark)]}
    b = bundle.args("true").write()
    cid = uid()
    assert rt("run", "-d", "--bundle", b, cid).returncode == 0
    time.sleep(0.1)
    r = rt("delete", cid)
    if rt.name == "runc":
        return  # documented difference: see docs/oci.md
    assert r.returncode == 0, r.stderr
    assert "poststop hook #0" in r.stderr, r.stderr
    assert mark.read_text() == "ran\n"
    assert rt.state(cid) is None


def test_failing_poststart_hook_stops_the_container(rt, bundle, tmp_path):
    """runtime spec 1.1+: a failing poststart hook is an error and the
    container is stopped; nothing of it keeps running."""
    bundle.config["hooks"] = {"poststart": [{"path": "/bin/false"}]}
    b = bundle.args("sleep", "60").write()
    cid = uid()
    r = rt("create", "--bundle", b, cid)
    if rt.name == "runc":
        # runc 1.1 runs poststart hooks during create: create fails, and
        # nothing is left (documented difference)
        assert r.returncode != 0 and "hook" in r.stderr, r.stderr
        assert rt.state(cid) is None
        return
    assert r.returncode == 0, r.stderr
    init = rt.state(cid)["pid"]
    r = rt("start", cid)
    assert r.returncode != 0
    assert "poststart" in r.stderr, r.stderr
    end = time.monotonic() + 3
    while rt.state(cid)["status"] != "stopped" and time.monotonic() < end:
        time.sleep(0.02)
    assert rt.state(cid)["status"] == "stopped", (rt.name, init)
    assert rt("delete", cid).returncode == 0


def test_run_console_socketpair_failure_is_reported(vessel_rt, bundle):
    """`run` in the foreground makes a socketpair for the pty master first;
    when that fails (no fd left) it says so instead of going on without it."""
    import resource

    def few_fds():
        resource.setrlimit(resource.RLIMIT_NOFILE, (4, 4))
    cid = uid()
    r = subprocess.run([vessel_rt.bin, "--root", vessel_rt.root, "run", "--bundle",
                        bundle.write(), cid], preexec_fn=few_fds, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr.startswith("socketpair for the console:"), r.stderr
    assert vessel_rt.state(cid) is None


# --- rootless (item 12) ---

NOBODY = 65534


@pytest.fixture
def rootless_dir():
    """A directory an unprivileged user can use (pytest's tmp_path is
    root's, mode 0700), removed at teardown."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="vessel-rootless-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def as_nobody():
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


@pytest.mark.parametrize("name", ["vessel", "runc"])
def test_rootless_without_cgroups_path(rootless_dir, name, root):
    """Unprivileged (uid 65534, a one-id mapping, no cgroupsPath): the
    container runs without a cgroup, as runc runs it, whether or not a root
    run made vessel's cgroup directories before (they are root's either
    way). Limits without a cgroupsPath are refused in one line."""
    import pathlib
    from ocitest import Bundle, runtime_bin
    binary = runtime_bin(name)
    b = Bundle(pathlib.Path(rootless_dir) / "bundle", "")
    c = b.config
    c["linux"].pop("cgroupsPath")
    c["linux"]["namespaces"].append({"type": "user"})
    c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": NOBODY, "size": 1}]
    c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": NOBODY, "size": 1}]
    c["linux"].pop("resources", None)
    c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
    c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/sys/fs/cgroup"]
    for m in c["mounts"]:  # as `runc spec --rootless`: no gid= the map lacks,
        m["options"] = [o for o in m.get("options", []) if not o.startswith("gid=")]
        if m["destination"] == "/sys":  # and /sys bound, not a sysfs of its own
            m.update(type="none", source="/sys",
                     options=["rbind", "nosuid", "noexec", "nodev", "ro"])
    b.args("sh", "-c", "id -u; cat /proc/self/uid_map").write()
    for dirpath, dirs, files in os.walk(rootless_dir):
        for n in dirs + files:
            os.lchown(os.path.join(dirpath, n), NOBODY, NOBODY)
    os.chown(rootless_dir, NOBODY, NOBODY)
    state = os.path.join(rootless_dir, "state")
    cid = uid()
    r = subprocess.run([binary, "--root", state, "run", "--bundle", str(b.path), cid],
                       preexec_fn=as_nobody, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:4] == ["0", "0", str(NOBODY), "1"], r.stdout
    assert cgroup_dirs(f"/vessel/{cid}") == []
    if name != "vessel":
        return
    # without --root: under $XDG_RUNTIME_DIR, as runc
    xdg = os.path.join(rootless_dir, "xdg")
    os.mkdir(xdg, 0o700)
    os.chown(xdg, NOBODY, NOBODY)
    r = subprocess.run([binary, "run", "-d", "--bundle", str(b.path), cid], preexec_fn=as_nobody,
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, XDG_RUNTIME_DIR=xdg))
    assert r.returncode == 0, r.stderr
    assert os.path.isdir(os.path.join(xdg, "vessel-runc", cid))
    r = subprocess.run([binary, "delete", "--force", cid], preexec_fn=as_nobody,
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, XDG_RUNTIME_DIR=xdg))
    assert r.returncode == 0 and not os.path.exists(os.path.join(xdg, "vessel-runc", cid))
    c["linux"]["resources"] = {"pids": {"limit": 10}}
    b.write()
    r = subprocess.run([binary, "--root", state, "run", "--bundle", str(b.path), cid],
                       preexec_fn=as_nobody, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "need a cgroup" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(state, cid))
