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


def test_prune_while_importing(store, tmp_path):
    """prune takes the store lock, imports place and name their content in
    one hold of it: pruning in a loop during parallel imports loses nothing."""
    import concurrent.futures
    import threading
    base = tar_bytes(busybox_entries())
    for i in range(4):
        oci_layout(tmp_path / f"i{i}", {f"p:{i}": ([base, tar_bytes([f(f"f{i}", b"x")])], {})})
    stop = threading.Event()
    prunes = []

    def pruner():
        while not stop.is_set():
            prunes.append(store.run("prune").returncode)
    t = threading.Thread(target=pruner)
    t.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            results = list(ex.map(lambda i: store.run("import", tmp_path / f"i{i}"), range(4)))
    finally:
        stop.set()
        t.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert prunes and set(prunes) == {0}
    for i in range(4):
        info = store.inspect(f"p:{i}")
        for layer in info["Layers"]:
            assert os.path.isdir(layer["Dir"])
            assert (store.images / "blobs/sha256" / layer["Digest"][7:]).exists()
    assert os.path.isfile(os.path.join(store.inspect("p:0")["Layers"][0]["Dir"], "bin/busybox"))


def test_killed_import_lists_nothing_and_prune_cleans(store, tmp_path):
    """SIGKILL in the middle of an import: nothing is listed, the work
    directory stays until prune finds its lock free and removes it."""
    import time
    from vesseltest import VESSEL
    big = [tar_bytes([f(f"d{k}/f{j}", os.urandom(1 << 20)) for j in range(16)])
           for k in range(4)]
    oci_layout(tmp_path / "big.tar", {"big:1": (big, {})}, gz=False)
    env = dict(os.environ, VESSEL_ROOT=str(store.root))
    p = subprocess.Popen([str(VESSEL), "image", "import", tmp_path / "big.tar"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp = store.images / "tmp"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and p.poll() is None:
        work = list(tmp.iterdir()) if tmp.exists() else []
        if work and len(list(work[0].iterdir())) > 2:
            break
        time.sleep(0.002)
    assert p.poll() is None, "the import finished before it could be killed"
    p.kill()
    p.wait()
    assert store.ls() == []
    assert len(list(tmp.iterdir())) == 1
    r = store.run("prune")
    assert r.returncode == 0 and "1 import work directories" in r.stdout, r.stdout
    assert not list(tmp.iterdir())
    assert not list((store.images / "layers").iterdir())


def test_readers_during_rm(store, tmp_path):
    """ls, inspect and export hold the store lock shared: an rm never pulls
    a blob from under them (an export sees its image whole, or not at all)."""
    import threading
    import time
    layer = tar_bytes([f("big", os.urandom(16 << 20))])
    for i in range(5):
        oci_layout(tmp_path / f"r{i}", {f"r:{i}": ([layer, tar_bytes([f(f"f{i}", b"x")])], {})},
                   gz=False)
        store.run("import", tmp_path / f"r{i}", check=True)
    exports, ls_runs = [], []
    for i in range(5):
        def export():
            exports.append(store.run("export", f"r:{i}", tmp_path / f"e{i}.tar"))
        t = threading.Thread(target=export)
        t.start()
        time.sleep(0.002 * i)  # rm lands at different points of the export
        ls_runs.append(store.run("ls", "--format", "json"))
        r = store.run("rm", f"r:{i}")
        assert r.returncode == 0, r.stderr
        t.join()
    for i, r in enumerate(exports):
        if r.returncode != 0:  # only ever because the image was gone first
            assert "no such image" in r.stderr, r.stderr
            assert not (tmp_path / f"e{i}.tar").exists()
    assert all(r.returncode == 0 for r in ls_runs), [r.stderr for r in ls_runs]
    assert store.ls() == []
