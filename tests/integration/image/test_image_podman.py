"""podman as the anchor: images made with `podman import` of a busybox
rootfs and written by `podman save` (oci-archive and docker-archive) are
imported by vessel; `vessel image export` is loaded back by `podman load`
with the same layers. podman runs offline with storage under a temporary
root (HOST-FACTS.md)."""
import json
import pathlib
import shutil
import subprocess
import tempfile

import pytest

from imagetest import busybox_entries, have_podman, tar_bytes
from vesseltest import skip


@pytest.fixture
def podman(store):
    if not have_podman():
        skip("podman is not installed")
    # podman refuses a runroot longer than 50 characters
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="vpi-", dir="/tmp"))
    base = ["podman", "--root", str(tmp / "s"), "--runroot", str(tmp / "r"),
            "--storage-driver", "vfs", "--cgroup-manager=cgroupfs", "--events-backend=file"]

    def pm(*args, check=True):
        r = subprocess.run(base + [str(a) for a in args], capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        if check:
            assert r.returncode == 0, r.stderr
        return r
    pm.tmp = tmp
    (tmp / "rootfs.tar").write_bytes(tar_bytes(busybox_entries()))
    pm("import", "--change", "CMD [\"/bin/sh\"]", "--change", "ENV FOO=bar",
       "--change", "WORKDIR /etc", tmp / "rootfs.tar", "localhost/vessel-pm:1")
    yield pm
    pm("rmi", "--all", "--force", check=False)
    shutil.rmtree(tmp, ignore_errors=True)


def podman_layers(pm, name):
    return json.loads(pm("image", "inspect", name).stdout)[0]["RootFS"]["Layers"]


@pytest.mark.parametrize("fmt", ["oci-archive", "docker-archive"])
def test_import_podman_save(store, podman, fmt):
    out = podman.tmp / f"{fmt}.tar"
    podman("save", "--format", fmt, "-o", out, "localhost/vessel-pm:1")
    r = store.run("import", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "localhost/vessel-pm:1\n"
    info = store.inspect("vessel-pm:1")
    assert [l["DiffID"] for l in info["Layers"]] == podman_layers(podman,
                                                                  "localhost/vessel-pm:1")
    assert info["Config"]["Env"][-1] == "FOO=bar" and info["Config"]["WorkingDir"] == "/etc"
    assert pathlib.Path(info["Layers"][0]["Dir"], "bin/busybox").is_file()


def test_export_loads_in_podman(store, podman):
    podman("save", "--format", "oci-archive", "-o", podman.tmp / "o.tar",
           "localhost/vessel-pm:1")
    store.run("import", podman.tmp / "o.tar", "localhost/vessel-rt:2", check=True)
    info = store.inspect("localhost/vessel-rt:2")
    exp = podman.tmp / "export.tar"
    r = store.run("export", "localhost/vessel-rt:2", exp)
    assert r.returncode == 0, r.stderr
    r = podman("load", "-i", exp)
    assert "localhost/vessel-rt:2" in r.stdout, r.stdout
    assert podman_layers(podman, "localhost/vessel-rt:2") == [l["DiffID"]
                                                              for l in info["Layers"]]
    # and back again: the round trip keeps the manifest digest
    store.run("rm", "localhost/vessel-rt:2", check=True)
    r = store.run("import", exp)
    assert r.returncode == 0, r.stderr
    assert store.inspect("localhost/vessel-rt:2")["Digest"] == info["Digest"]
