"""An image's rootfs on overlay (vs_image_overlay_mount through `vessel
image mount`), in a private mount namespace of its own (unshare -m), so no
mount survives the test: the lower layers in order, a file deleted by an
upper layer stays deleted, an opaque directory hides the lower one, and
writes land in the upper directory only."""
import os
import shutil
import subprocess

from imagetest import busybox_entries, d, f, oci_layout, opaque, tar_bytes, whiteout
from vesseltest import VESSEL, skip


def test_overlay_rootfs(store, tmp_path):
    if not shutil.which("unshare"):
        skip("unshare(1) is absent")
    base = tar_bytes(busybox_entries([f("etc/deleted", b"base"), f("etc/kept", b"base"),
                                      d("opq"), f("opq/old", b"old"), f("over", b"base")]))
    top = tar_bytes([d("etc"), whiteout("etc/deleted"), d("opq"), opaque("opq"),
                     f("opq/new", b"new"), f("over", b"top")])
    oci_layout(tmp_path / "img", {"ovl:1": ([base, top], {})})
    store.run("import", tmp_path / "img", check=True)
    info = store.inspect("ovl:1")
    work = tmp_path / "c"
    for sub in ("upper", "work", "rootfs"):
        (work / sub).mkdir(parents=True)
    script = f"""set -e
{VESSEL} image mount ovl:1 {work}/rootfs --upper {work}/upper --work {work}/work
r={work}/rootfs
test ! -e $r/etc/deleted
test "$(cat $r/etc/kept)" = base
test "$(ls $r/opq)" = new
test "$(cat $r/over)" = top
test -x $r/bin/busybox
echo written > $r/etc/newfile
rm $r/etc/kept
grep -q " $r overlay " /proc/self/mounts
umount $r
! grep -q " $r " /proc/self/mounts
test ! -e $r/bin
echo ok
"""
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                       env=dict(os.environ, VESSEL_ROOT=str(store.root)),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    # unmounted (and the namespace gone anyway); writes are in upper only
    assert str(work / "rootfs") not in open("/proc/self/mounts").read()
    assert (work / "upper/etc/newfile").read_text() == "written\n"
    assert os.path.exists(work / "upper/etc/kept")  # the upper's whiteout of it
    for layer in info["Layers"]:
        assert not os.path.exists(os.path.join(layer["Dir"], "etc/newfile"))
    assert open(os.path.join(info["Layers"][0]["Dir"], "etc/kept")).read() == "base"
    assert not os.listdir(work / "rootfs")
