"""The global --root selects the image store: two roots do not see each
other's images, and --root wins over $VESSEL_ROOT."""
import json
import os
import shutil
import subprocess
import tempfile

from imagetest import busybox_entries, tar_bytes
from vesseltest import VESSEL


def image(root, *args, env_root=None):
    env = dict(os.environ)
    env.pop("VESSEL_ROOT", None)
    if env_root:
        env["VESSEL_ROOT"] = env_root
    return subprocess.run([str(VESSEL), "--root", root, "image"] + [str(a) for a in args],
                          env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def names(root, env_root=None):
    r = image(root, "ls", "--format", "json", env_root=env_root)
    assert r.returncode == 0, r.stderr
    return [i["Name"] for i in json.loads(r.stdout)]


def test_two_roots_are_separate(store, tmp_path):
    a = tempfile.mkdtemp(prefix="vessel-imgroot-", dir="/tmp")
    b = tempfile.mkdtemp(prefix="vessel-imgroot-", dir="/tmp")
    try:
        tar = tmp_path / "rootfs.tar"
        tar.write_bytes(tar_bytes(busybox_entries()))
        r = image(a, "import", tar, "onlya:1")
        assert r.returncode == 0, r.stderr
        assert os.path.isdir(os.path.join(a, "images", "layers"))
        assert names(a) == ["onlya:1"]
        assert names(b) == []
        # --root wins over $VESSEL_ROOT
        assert names(b, env_root=a) == []
        assert names(a, env_root=b) == ["onlya:1"]
        assert not os.path.exists(os.path.join(store.root, "images", "index.json"))
    finally:
        shutil.rmtree(a, ignore_errors=True)
        shutil.rmtree(b, ignore_errors=True)
