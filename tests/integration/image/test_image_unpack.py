"""What a layer becomes on disk: OverlayFS whiteouts and opaque
directories, owners, modes (set-id bits too), mtimes, xattrs, hard links,
symlinks and device nodes, as the tarball says."""
import os
import stat

from imagetest import chrdev, d, f, hard, opaque, sym, tar_bytes, whiteout


def unpack(store, tmp_path, entries, name="u"):
    (tmp_path / "l.tar").write_bytes(tar_bytes(entries))
    store.run("import", tmp_path / "l.tar", name, check=True)
    return store.inspect(name)["Layers"][0]["Dir"]


def test_whiteouts_and_opaque(store, tmp_path):
    root = unpack(store, tmp_path, [d("etc"), whiteout("etc/gone"), d("var"), opaque("var"),
                                    f("var/kept", b"k"), whiteout("top")])
    for p in ("etc/gone", "top"):
        st = os.lstat(os.path.join(root, p))
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0, p
        assert (st.st_uid, st.st_gid) == (0, 0)
    assert os.getxattr(os.path.join(root, "var"), "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(os.path.join(root, "var"))) == ["kept"]
    assert not any(n.startswith(".wh.") for _, ds, fs in os.walk(root) for n in ds + fs)


def test_metadata_links_and_nodes(store, tmp_path):
    root = unpack(store, tmp_path, [
        f("suid", b"#!", mode=0o4755, uid=1234, gid=5678, mtime=1234567890),
        f("xa", b"x", xattrs={"user.vessel": "yes"}),
        f("orig", b"data"), hard("link", "orig"),
        sym("abs", "/etc/passwd"), sym("rel", "../x"),
        chrdev("null", 1, 3),
        d("dir", mode=0o700, uid=42),
    ])
    st = os.lstat(os.path.join(root, "suid"))
    assert stat.S_IMODE(st.st_mode) == 0o4755
    assert (st.st_uid, st.st_gid, int(st.st_mtime)) == (1234, 5678, 1234567890)
    assert os.getxattr(os.path.join(root, "xa"), "user.vessel") == b"yes"
    a, b = os.lstat(os.path.join(root, "orig")), os.lstat(os.path.join(root, "link"))
    assert a.st_ino == b.st_ino and a.st_nlink == 2
    # symlinks are kept as written (resolved later, inside the container)
    assert os.readlink(os.path.join(root, "abs")) == "/etc/passwd"
    assert os.readlink(os.path.join(root, "rel")) == "../x"
    st = os.lstat(os.path.join(root, "null"))
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 3
    st = os.lstat(os.path.join(root, "dir"))
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == 42


def test_overlay_xattrs_from_the_tarball_are_dropped(store, tmp_path):
    root = unpack(store, tmp_path, [d("d"), f("d/x", b"x",
                                                xattrs={"trusted.overlay.redirect": "/etc"})])
    assert "trusted.overlay.redirect" not in os.listxattr(os.path.join(root, "d/x"))


def test_duplicate_entries_last_wins(store, tmp_path):
    root = unpack(store, tmp_path, [f("a", b"1"), f("a", b"2"), d("b"), f("b/x"),
                                    f("b", b"file now")])
    assert open(os.path.join(root, "a")).read() == "2"
    assert open(os.path.join(root, "b")).read() == "file now"
