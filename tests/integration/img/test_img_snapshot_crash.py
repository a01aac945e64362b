"""`vessel img snapshot -c/-a/-d` killed between any two of its writes (the
VESSEL_BLOCK_KILL_AFTER_WRITES hook SIGKILLs the process before its N-th
write, for N = 0, 1, 2, ... until the operation completes): qemu-img check
never reports corruption, and the image is either in its old state or in its
new one (issue 4, crash safety of snapshot operations)."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, QEMU_IO, need_block_hooks, need_qemu, sh, to_raw  # noqa: E402

MAX_WRITES = 400


def _snapshots(img):
    out = sh(QEMU_IMG, "snapshot", "-l", img).stdout.splitlines()
    return sorted(line.split()[1] for line in out[2:] if line.strip())


def _view(img, tmp_path, snap=None):
    out = tmp_path / "view.raw"
    if snap is None:
        data = to_raw(img, "qcow2", out)
    else:
        sh(QEMU_IMG, "convert", "-f", "qcow2", "-l", f"snapshot.name={snap}", "-O", "raw",
           img, out)
        data = out.read_bytes()
    out.unlink()
    return data


def _base_image(path, cluster):
    """Data in many L2 tables, one qemu-made snapshot, then overwrites (COW),
    compressed clusters and zeroed ranges."""
    sh(QEMU_IMG, "create", "-f", "qcow2", "-o", f"cluster_size={cluster}", path, "24M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 1 0 6M", "-c", "write -P 2 10M 3M",
       "-c", "write -c -P 3 16M 64k", path)
    sh(QEMU_IMG, "snapshot", "-c", "old", path)
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 4 1M 2M", "-c", "write -z 11M 512k",
       "-c", "write -P 5 20M 1M", path)


def _run_killed(vessel, args, img, n):
    env = dict(os.environ, VESSEL_BLOCK_KILL_AFTER_WRITES=str(n))
    return subprocess.run([vessel, "img", "snapshot", *args, str(img)], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("cluster", [4096, 65536])
@pytest.mark.parametrize("op", ["create", "apply", "delete"])
def test_snapshot_killed_at_every_write(vessel, tmp_path, op, cluster):
    need_qemu()
    need_block_hooks()
    base = tmp_path / "base.qcow2"
    _base_image(base, cluster)
    args = {"create": ["-c", "new"], "apply": ["-a", "old"], "delete": ["-d", "old"]}[op]
    before = (_snapshots(base), _view(base, tmp_path))
    done = tmp_path / "done.qcow2"
    shutil.copy(base, done)
    sh(vessel, "img", "snapshot", *args, done)
    after = (_snapshots(done), _view(done, tmp_path))
    assert before != after
    img = tmp_path / "img.qcow2"
    for n in range(MAX_WRITES):
        shutil.copy(base, img)
        p = _run_killed(vessel, args, img, n)
        assert p.returncode in (0, -9), p.stderr
        c = sh(QEMU_IMG, "check", "-f", "qcow2", img, ok=(0, 3))
        assert "ERROR" not in c.stdout + c.stderr, f"killed before write {n}:\n{c.stderr}"
        state = (_snapshots(img), _view(img, tmp_path))
        assert state in (before, after), f"killed before write {n}: neither old nor new"
        if op == "create" and state == after:
            assert _view(img, tmp_path, "new") == after[1]
        sh(vessel, "img", "check", img, ok=(0, 3))
        if p.returncode == 0:
            assert state == after
            assert n > 2, "the kill hook did not stop the operation"
            break
    else:
        pytest.fail(f"snapshot {op} needed more than {MAX_WRITES} writes")
