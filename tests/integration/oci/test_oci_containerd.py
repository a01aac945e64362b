"""containerd as a client: a containerd started by the test with its own
config, root, state and socket under a temporary directory; an image
imported from a docker-archive built here; `ctr run --runc-binary
build/vessel-runc`. Cgroups under /vessel-test, runtime state under the
temporary directory (--runc-root)."""
import hashlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid

import pytest

from ocitest import BUSYBOX, VESSEL_RUNC, remove_cgroup_tree

APPLETS = ["sh", "echo", "true", "cat", "sleep", "hostname", "id"]
IMAGE = "docker.io/vessel/bb:test"


def docker_archive(path, tmp):
    rootfs = tmp / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, rootfs / "bin/busybox")
    for a in APPLETS:
        os.symlink("busybox", rootfs / "bin" / a)
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as t:
        t.add(rootfs, arcname=".")
    layer = layer.getvalue()
    diff = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
    cname = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": cname, "RepoTags": ["vessel/bb:test"],
                            "Layers": ["layer.tar"]}]).encode()
    with tarfile.open(path, "w") as t:
        for name, data in (("layer.tar", layer), (cname, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


@pytest.fixture
def containerd(root, tmp_path):
    for b in ("containerd", "ctr", "containerd-shim-runc-v2"):
        if not shutil.which(b):
            pytest.skip(f"{b} is not installed")
    d = pathlib.Path(tempfile.mkdtemp(prefix="vctd-", dir="/tmp"))  # short socket path
    # ctr and the shim also use /run/containerd whatever the config says:
    # removed at the end of the session (conftest.py)
    sock = d / "c.sock"
    (d / "config.toml").write_text(f"""version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
""")
    log = open(d / "containerd.log", "w")
    proc = subprocess.Popen(["containerd", "--config", str(d / "config.toml")],
                            stdout=log, stderr=log)
    cg = f"/vessel-test/ctd-{uuid.uuid4().hex[:8]}"
    ctr = ["ctr", "--address", str(sock), "--namespace", "vessel-test"]

    def run(*args, timeout=60):
        return subprocess.run(ctr + [str(a) for a in args], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    run.cgroup, run.dir = cg, d
    try:
        for _ in range(100):
            if sock.exists() and run("version").returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("containerd did not start: " + (d / "containerd.log").read_text())
        docker_archive(tmp_path / "image.tar", tmp_path)
        r = run("image", "import", tmp_path / "image.tar")
        assert r.returncode == 0, r.stderr
        yield run
    finally:
        for c in run("containers", "ls", "-q").stdout.split():
            run("task", "kill", "-s", "KILL", c)
            run("task", "delete", "-f", c)
            run("containers", "delete", c)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        for line in reversed(open("/proc/self/mountinfo").read().splitlines()):
            mnt = line.split()[4]
            if mnt.startswith(str(d)):
                subprocess.run(["umount", "-l", mnt])
        shutil.rmtree(d, ignore_errors=True)
        remove_cgroup_tree(cg)


def test_ctr_run_rm_echo(containerd):
    cid = "c" + uuid.uuid4().hex[:8]
    r = containerd("run", "--rm", "--runc-binary", VESSEL_RUNC,
                   "--runc-root", containerd.dir / "runc", "--cgroup",
                   f"{containerd.cgroup}/{cid}", IMAGE, cid, "echo", "hi")
    assert r.returncode == 0, r.stderr
    assert r.stdout.replace("\r", "") == "hi\n"


def test_ctr_detached_exec_kill(containerd):
    """The shim's other calls: exec --process --detach --pid-file, kill, delete."""
    cid = "c" + uuid.uuid4().hex[:8]
    r = containerd("run", "-d", "--runc-binary", VESSEL_RUNC, "--runc-root",
                   containerd.dir / "runc", "--cgroup", f"{containerd.cgroup}/{cid}", IMAGE, cid,
                   "sleep", "60")
    assert r.returncode == 0, r.stderr
    r = containerd("task", "exec", "--exec-id", "e1", cid, "sh", "-c", "echo from-exec; hostname")
    assert r.returncode == 0, r.stderr
    assert r.stdout.replace("\r", "").startswith("from-exec\n")
    r = containerd("task", "kill", "-s", "SIGKILL", cid)
    assert r.returncode == 0, r.stderr
    for _ in range(100):
        if "STOPPED" in containerd("task", "ls").stdout:
            break
        time.sleep(0.05)
    assert containerd("task", "delete", cid).returncode == 0
    assert containerd("containers", "delete", cid).returncode == 0
