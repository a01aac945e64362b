"""vessel image import of every format, made by hand from busybox-static:
a rootfs tarball, an OCI layout directory and archive, a docker-archive;
the config fields exposed; layers shared between images stored once;
concurrent imports."""
import concurrent.futures
import gzip
import os
import stat

from imagetest import (busybox_entries, d, docker_archive, f, oci_layout, sha, tar_bytes,
                       whiteout)

CFG = dict(Entrypoint=["/bin/sh", "-c"], Cmd=["echo hi"], Env=["PATH=/bin", "FOO=bar"],
           WorkingDir="/work", User="1000:1000", ExposedPorts={"80/tcp": {}, "53/udp": {}},
           StopSignal="SIGQUIT")


def check_busybox(store, name, n_layers=1):
    info = store.inspect(name)
    assert len(info["Layers"]) == n_layers
    bottom = info["Layers"][0]["Dir"]
    assert os.path.isfile(os.path.join(bottom, "bin/busybox"))
    assert os.readlink(os.path.join(bottom, "bin/sh")) == "busybox"
    assert os.stat(os.path.join(bottom, "bin/busybox")).st_mode & 0o777 == 0o755
    return info


def test_rootfs_tarball(store, tmp_path):
    for comp in ("", ".gz"):
        raw = tar_bytes(busybox_entries())
        p = tmp_path / ("rootfs.tar" + comp)
        p.write_bytes(gzip.compress(raw, 1) if comp else raw)
        r = store.run("import", p, "bb" + comp.replace(".", "-"))
        assert r.returncode == 0, r.stderr
        assert r.stdout == "bb%s:latest\n" % comp.replace(".", "-")
        info = check_busybox(store, "bb" + comp.replace(".", "-"))
        assert info["Layers"][0]["DiffID"] == sha(raw)
        assert info["Config"]["Cmd"] == ["/bin/sh"]
    # the same content, plain and gzipped: one unpacked layer
    assert len(list((store.images / "layers").iterdir())) == 1


def test_rootfs_tarball_needs_a_name(store, tmp_path):
    (tmp_path / "r.tar").write_bytes(tar_bytes(busybox_entries()))
    before = store.state()
    r = store.run("import", tmp_path / "r.tar")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "NAME" in r.stderr
    assert store.state()[1:] == before[1:]


def test_oci_layout_dir_and_archive_with_config(store, tmp_path):
    layers = [tar_bytes(busybox_entries()), tar_bytes([d("work"), f("work/x", b"x")])]
    oci_layout(tmp_path / "dir", {"localhost/bb:dir": (layers, CFG)})
    oci_layout(tmp_path / "arch.tar", {"localhost/bb:tar": (layers, CFG)}, gz=False)
    for src, name in ((tmp_path / "dir", "localhost/bb:dir"),
                      (tmp_path / "arch.tar", "localhost/bb:tar")):
        r = store.run("import", src)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == name
        info = check_busybox(store, name, 2)
        c = info["Config"]
        assert c["Entrypoint"] == ["/bin/sh", "-c"] and c["Cmd"] == ["echo hi"]
        assert c["Env"] == ["PATH=/bin", "FOO=bar"] and c["WorkingDir"] == "/work"
        assert c["User"] == "1000:1000" and c["StopSignal"] == "SIGQUIT"
        assert sorted(c["ExposedPorts"]) == ["53/udp", "80/tcp"]
        assert [l["DiffID"] for l in info["Layers"]] == [sha(x) for x in layers]
    # "bb:dir" finds "localhost/bb:dir"; a digest prefix finds it too
    assert store.inspect("bb:dir")["Name"] == "localhost/bb:dir"
    dg = store.inspect("bb:dir")["Digest"]
    assert store.inspect(dg[7:19])["Digest"] == dg
    # gzip and plain blobs of the same layers: blobs differ, layers are shared
    assert len(list((store.images / "layers").iterdir())) == 2


def test_docker_archive(store, tmp_path):
    layers = [tar_bytes(busybox_entries()), tar_bytes([whiteout("etc/passwd")])]
    docker_archive(tmp_path / "d.tar", "localhost/dock:1", layers, **CFG)
    r = store.run("import", tmp_path / "d.tar")
    assert r.returncode == 0, r.stderr
    info = check_busybox(store, "localhost/dock:1", 2)
    assert info["Config"]["WorkingDir"] == "/work"
    # the name given on the command line wins
    r = store.run("import", tmp_path / "d.tar", "renamed:v2")
    assert r.returncode == 0 and r.stdout == "renamed:v2\n", r.stderr
    wh = os.lstat(os.path.join(info["Layers"][1]["Dir"], "etc/passwd"))
    assert stat.S_ISCHR(wh.st_mode) and wh.st_rdev == 0


def test_docker_archive_symlinked_layers(store, tmp_path):
    """docker save links a layer that appears twice to its first copy,
    through "..": "<id2>/layer.tar -> ../<id1>/layer.tar"."""
    base = tar_bytes(busybox_entries())
    top = tar_bytes([f("top", b"t")])
    id1 = sha(base)[7:]
    docker_archive(tmp_path / "d.tar", "dup:1", [base, top, base],
                   links=[None, None, ("x" * 64 + "/layer.tar", f"../{id1}/layer.tar")])
    r = store.run("import", tmp_path / "d.tar")
    assert r.returncode == 0, r.stderr
    info = store.inspect("dup:1")
    assert [l["DiffID"] for l in info["Layers"]] == [sha(base), sha(top), sha(base)]
    # a link that climbs out of the archive names nothing
    docker_archive(tmp_path / "e.tar", "dup:2", [base],
                   links=[("y" * 64 + "/layer.tar", f"../../{id1}/layer.tar")])
    before = store.state()
    r = store.run("import", tmp_path / "e.tar")
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert store.state() == before


def test_shared_layers_stored_once(store, tmp_path):
    base = tar_bytes(busybox_entries())
    a = tar_bytes([f("a", b"a")])
    b = tar_bytes([f("b", b"b")])
    oci_layout(tmp_path / "a", {"img:a": ([base, a], {})})
    oci_layout(tmp_path / "b", {"img:b": ([base, b], {})})
    store.run("import", tmp_path / "a", check=True)
    store.run("import", tmp_path / "b", check=True)
    ia, ib = store.inspect("img:a"), store.inspect("img:b")
    assert ia["Layers"][0]["Dir"] == ib["Layers"][0]["Dir"]
    assert ia["Layers"][0]["Digest"] == ib["Layers"][0]["Digest"]
    assert len(list((store.images / "layers").iterdir())) == 3
    # 2 manifests + 2 configs + 3 layer blobs
    assert len(list((store.images / "blobs/sha256").iterdir())) == 7
    assert not list((store.images / "tmp").iterdir())


def test_concurrent_imports(store, tmp_path):
    base = tar_bytes(busybox_entries())
    for i in range(6):
        oci_layout(tmp_path / f"i{i}", {f"c:{i}": ([base, tar_bytes([f(f"f{i}", b"x")])], {})})

    def imp(i):
        return store.run("import", tmp_path / f"i{i}")
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        results = list(ex.map(imp, range(6)))
    for r in results:
        assert r.returncode == 0, r.stderr
    assert sorted(i["Name"] for i in store.ls()) == [f"c:{i}" for i in range(6)]
    assert len(list((store.images / "layers").iterdir())) == 7
    assert not list((store.images / "tmp").iterdir())


def test_reimport_replaces_the_name(store, tmp_path):
    oci_layout(tmp_path / "v1", {"x:1": ([tar_bytes([f("v", b"1")])], {})})
    oci_layout(tmp_path / "v2", {"x:1": ([tar_bytes([f("v", b"2")])], {})})
    store.run("import", tmp_path / "v1", check=True)
    store.run("import", tmp_path / "v2", check=True)
    imgs = store.ls()
    assert len(imgs) == 1
    assert open(os.path.join(imgs[0]["Layers"][0]["Dir"], "v")).read() == "2"


def test_progress_bar_only_on_a_terminal(store, tmp_path):
    import pty
    import subprocess
    from vesseltest import VESSEL
    (tmp_path / "r.tar").write_bytes(tar_bytes(busybox_entries()))
    r = store.run("import", tmp_path / "r.tar", "plain")
    assert r.returncode == 0 and r.stderr == ""
    master, slave = pty.openpty()
    p = subprocess.run([str(VESSEL), "image", "import", tmp_path / "r.tar", "tty"],
                       env=dict(os.environ, VESSEL_ROOT=str(store.root)), stderr=slave,
                       stdout=subprocess.PIPE, timeout=60)
    os.close(slave)
    out = os.read(master, 65536).decode()
    os.close(master)
    assert p.returncode == 0 and p.stdout == b"tty:latest\n"
    assert "unpacking" in out and "[" in out and "MiB" in out
