"""ls, rm and prune: rm drops the name and what only that image used;
prune removes what no image names and the work of imports that died."""
import os
import subprocess
import sys

from imagetest import busybox_entries, f, oci_layout, tar_bytes


def test_ls_rm_keeps_shared(store, tmp_path):
    base = tar_bytes(busybox_entries())
    oci_layout(tmp_path / "a", {"a:1": ([base, tar_bytes([f("a", b"a")])], {})})
    oci_layout(tmp_path / "b", {"b:1": ([base, tar_bytes([f("b", b"b")])], {})})
    store.run("import", tmp_path / "a", check=True)
    store.run("import", tmp_path / "b", check=True)
    assert store.run("ls").stdout.splitlines()[0].split()[:2] == ["NAME", "DIGEST"]
    ia = store.inspect("a:1")
    r = store.run("rm", "a:1")
    assert r.returncode == 0 and r.stdout == "a:1\n", r.stderr
    assert [i["Name"] for i in store.ls()] == ["b:1"]
    assert os.path.isdir(ia["Layers"][0]["Dir"])       # shared with b
    assert not os.path.exists(ia["Layers"][1]["Dir"])  # a's own
    assert not (store.images / "blobs/sha256" / ia["Digest"][7:]).exists()
    store.run("rm", "b:1", check=True)
    assert store.ls() == []
    assert not list((store.images / "layers").iterdir())
    assert not list((store.images / "blobs/sha256").iterdir())


def test_prune(store, tmp_path):
    oci_layout(tmp_path / "a", {"a:1": ([tar_bytes([f("a", b"a")])], {})})
    store.run("import", tmp_path / "a", check=True)
    # leftovers: an orphan blob and layer, a dead import's work directory
    (store.images / "blobs/sha256" / ("0" * 64)).write_bytes(b"orphan")
    (store.images / "layers" / ("1" * 64)).mkdir()
    dead = store.images / "tmp/1-dead"
    dead.mkdir()
    (dead / ".lock").write_text("")
    # a live import's work directory (its lock held) is left alone
    live = store.images / "tmp/2-live"
    live.mkdir()
    (live / ".lock").write_text("")
    holder = subprocess.Popen([sys.executable, "-c",
                               "import fcntl,sys,time;f=open(sys.argv[1]);"
                               "fcntl.flock(f,fcntl.LOCK_EX);print('locked',flush=True);"
                               "time.sleep(60)", str(live / ".lock")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        r = store.run("prune")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("removed 1 blobs"), r.stdout
        assert "1 layers, 1 import work directories" in r.stdout
        assert live.exists() and not dead.exists()
    finally:
        holder.kill()
        holder.wait()
    assert [i["Name"] for i in store.ls()] == ["a:1"]
    assert os.path.isdir(store.inspect("a:1")["Layers"][0]["Dir"])
