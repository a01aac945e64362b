"""Mount options that need more than mount(2): runc 1.1's recursive
attributes ("rro", "rnosuid", ... applied with mount_setattr AT_RECURSIVE),
"tmpcopyup" tmpfs mounts, and idmapped bind mounts (OCI 1.1
mounts[].uidMappings/gidMappings). Each case that runc 1.1 also supports
runs on vessel and runc (the `rt` fixture) with the same expected output.

Host mounts the tests make (a tmpfs inside a bind source, to have a
submount) live under /tmp/vessel-* and are unmounted in finally blocks."""
import os
import shutil
import subprocess
import tempfile

import pytest

from ocitest import Runtime, uid


def add_mount(bundle, **m):
    bundle.config["mounts"].append(m)


def run(rt, bundle, *argv):
    bundle.args(*argv)
    r = rt("run", "--bundle", bundle.write(), uid())
    return r.returncode, r.stdout, r.stderr


@pytest.fixture
def src_with_submount(root):
    """/tmp/vessel-mnt-*/src (a plain directory with a file) holding a tmpfs
    at src/sub: what a recursive bind carries along as a submount."""
    base = tempfile.mkdtemp(prefix="vessel-mnt-", dir="/tmp")
    src = os.path.join(base, "src")
    sub = os.path.join(src, "sub")
    os.makedirs(sub)
    with open(os.path.join(src, "top"), "w") as f:
        f.write("top\n")
    mounted = False
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "vessel-test", sub], check=True)
        mounted = True
        yield src
    finally:
        if mounted and subprocess.run(["umount", sub]).returncode != 0:
            subprocess.run(["umount", "-l", sub])
        shutil.rmtree(base, ignore_errors=True)


WRITE_BOTH = ("touch /data/sub/x 2>&1; echo sub=$?; touch /data/y 2>&1; echo top=$?")


@pytest.mark.parametrize("options,want", [
    # rro: the bind and every submount read-only
    (["rbind", "rro"], ["Read-only file system", "sub=1", "top=1"]),
    # ro alone is the top mount only: the submount stays writable, which
    # is why rro exists
    (["rbind", "ro"], ["sub=0", "top=1"]),
    (["rbind"], ["sub=0", "top=0"]),
    # both given: runc 1.1 passes both to mount_setattr, which clears
    # first and then sets, so rro wins whatever the order
    (["rbind", "rrw", "rro"], ["sub=1", "top=1"]),
    (["rbind", "rro", "rrw"], ["sub=1", "top=1"]),
], ids=["rro", "ro", "rw", "rrw-rro", "rro-rrw"])
def test_rro_makes_submounts_read_only(options, want, rt, bundle_factory, src_with_submount):
    b = bundle_factory(rt.name)
    add_mount(b, destination="/data", type="bind", source=src_with_submount, options=options)
    rc, out, err = run(rt, b, "sh", "-c", WRITE_BOTH)
    assert rc == 0, f"{rt.name}: {err}"
    for w in want:
        assert w in out, f"{rt.name}: {out!r}"
    # the host's own mounts are left as they were
    assert not os.path.exists(os.path.join(src_with_submount, "sub", "x")) or "sub=0" in out
    assert os.statvfs(os.path.join(src_with_submount, "sub")).f_flag & os.ST_RDONLY == 0


def sub_mount_options(out):
    """The per-mount options of /data/sub from the container's mountinfo."""
    for line in out.splitlines():
        f = line.split()
        if len(f) > 5 and f[4] == "/data/sub":
            return set(f[5].split(","))
    raise AssertionError(f"/data/sub not in mountinfo: {out!r}")


@pytest.mark.parametrize("options,want,unwanted", [
    (["rbind", "rnosuid", "rnodev", "rnoexec"], {"nosuid", "nodev", "noexec"}, set()),
    (["rbind", "rnoatime"], {"noatime"}, {"relatime"}),
    (["rbind", "rnodiratime", "rstrictatime"], {"nodiratime"}, {"relatime", "noatime"}),
    (["rbind", "rnosymfollow"], {"nosymfollow"}, set()),
], ids=["nosuid-nodev-noexec", "noatime", "nodiratime-strictatime", "nosymfollow"])
def test_recursive_attributes_reach_submounts(options, want, unwanted, rt, bundle_factory,
                                               src_with_submount):
    b = bundle_factory(rt.name)
    add_mount(b, destination="/data", type="bind", source=src_with_submount, options=options)
    rc, out, err = run(rt, b, "cat", "/proc/self/mountinfo")
    assert rc == 0, f"{rt.name}: {err}"
    got = sub_mount_options(out)
    assert want <= got, f"{rt.name}: {got}"
    assert not (unwanted & got), f"{rt.name}: {got}"


def make_copyup_rootfs(b):
    d = b.path / "rootfs/etc/copy"
    (d / "sub").mkdir(parents=True)
    (d / "f").write_text("orig\n")
    os.chown(d / "f", 0, 5678)
    os.chmod(d / "f", 0o660)
    (d / "o").write_text("")  # only stat'ed: root has no CAP_DAC_OVERRIDE there
    os.chown(d / "o", 1234, 5678)
    os.chmod(d / "o", 0o640)
    (d / "sub/g").write_text("deep\n")
    os.symlink("f", d / "l")
    os.chmod(d, 0o751)
    return d


COPYUP_CHECK = ("cat /etc/copy/f /etc/copy/sub/g; "
                "stat -c '%a %u %g %F' /etc/copy/f /etc/copy/o /etc/copy; "
                "readlink /etc/copy/l; grep -c ' /etc/copy .* - tmpfs ' /proc/self/mountinfo; "
                "echo new > /etc/copy/f && cat /etc/copy/f")


def test_tmpcopyup_starts_with_rootfs_contents(rt, bundle_factory):
    b = bundle_factory(rt.name)
    d = make_copyup_rootfs(b)
    add_mount(b, destination="/etc/copy", type="tmpfs", source="tmpfs",
              options=["nosuid", "tmpcopyup", "size=1m"])
    rc, out, err = run(rt, b, "sh", "-c", COPYUP_CHECK)
    assert rc == 0, f"{rt.name}: {err}"
    assert out.splitlines() == [
        "orig", "deep",
        "660 0 5678 regular file", "640 1234 5678 regular empty file", "751 0 0 directory",
        "f", "1", "new"], f"{rt.name}: {out!r}"
    # the writes went to the tmpfs: the rootfs is unchanged
    assert (d / "f").read_text() == "orig\n"


def test_tmpcopyup_where_the_rootfs_has_nothing(rt, bundle_factory):
    """podman's --tmpfs shape: the mount point is made by the runtime, so
    the tmpfs root keeps tmpfs' own 1777 (podman's test with --user relies
    on it)."""
    b = bundle_factory(rt.name)
    add_mount(b, destination="/scratch", type="tmpfs", source="tmpfs",
              options=["rw", "noexec", "nosuid", "nodev", "tmpcopyup"])
    rc, out, err = run(rt, b, "sh", "-c", "stat -c '%a %u' /scratch; ls -A /scratch")
    assert (rc, out) == (0, "1777 0\n"), f"{rt.name}: {out!r} {err}"


def test_tmpfs_without_tmpcopyup_is_empty(rt, bundle_factory):
    b = bundle_factory(rt.name)
    make_copyup_rootfs(b)
    add_mount(b, destination="/etc/copy", type="tmpfs", source="tmpfs", options=["nosuid"])
    rc, out, err = run(rt, b, "ls", "-A", "/etc/copy")
    assert (rc, out) == (0, ""), f"{rt.name}: {out!r} {err}"


def test_tmpcopyup_read_only_tmpfs(vessel_rt, bundle_factory):
    """ro: filled first, then read-only."""
    b = bundle_factory()
    make_copyup_rootfs(b)
    add_mount(b, destination="/etc/copy", type="tmpfs", source="tmpfs",
              options=["ro", "tmpcopyup"])
    rc, out, err = run(vessel_rt, b, "sh", "-c", "cat /etc/copy/f; touch /etc/copy/n; echo $?")
    assert rc == 0, err
    assert out.splitlines()[0] == "orig" and out.splitlines()[-1] == "1", out


def assert_nothing_left(rt, test_cgroup):
    assert rt("list", "-q").stdout.strip() == ""
    for h in os.listdir("/sys/fs/cgroup"):
        assert not os.path.exists(f"/sys/fs/cgroup/{h}{test_cgroup}"), h


def test_tmpcopyup_on_a_bind_is_an_error(vessel_rt, bundle_factory, tmp_path, test_cgroup):
    b = bundle_factory()
    add_mount(b, destination="/data", type="bind", source=str(tmp_path), options=["rbind",
                                                                                  "tmpcopyup"])
    rc, out, err = run(vessel_rt, b, "true")
    assert rc != 0
    assert err.strip().endswith("mount /data: tmpcopyup is only for tmpfs mounts"), err
    assert len(err.strip().splitlines()) == 1, err
    assert_nothing_left(vessel_rt, test_cgroup)


@pytest.fixture
def owned_src(root):
    base = tempfile.mkdtemp(prefix="vessel-idmap-", dir="/tmp")
    os.chmod(base, 0o755)
    for name, owner in (("f0", 0), ("f1000", 1000)):
        p = os.path.join(base, name)
        with open(p, "w") as f:
            f.write(name + "\n")
        os.chown(p, owner, owner)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


IDMAP = [{"containerID": 0, "hostID": 2000, "size": 1001}]


@pytest.mark.parametrize("options", [["rbind"], ["rbind", "ridmap"], ["bind", "idmap"]])
def test_idmapped_bind_mount(options, vessel_rt, bundle_factory, owned_src):
    """runc 1.1 has no idmapped mounts: vessel only. On-disk ids 0 and 1000
    show as 2000 and 3000 through the mount; the host files keep theirs."""
    b = bundle_factory()
    add_mount(b, destination="/data", type="bind", source=owned_src, options=options,
              uidMappings=IDMAP, gidMappings=IDMAP)
    rc, out, err = run(vessel_rt, b, "stat", "-c", "%n %u %g", "/data/f0", "/data/f1000")
    if rc != 0 and "Invalid argument" in err and "MOUNT_ATTR_IDMAP" in err:
        pytest.fail(f"the host's filesystem refused idmapping: {err}")
    assert rc == 0, err
    assert out.splitlines() == ["/data/f0 2000 2000", "/data/f1000 3000 3000"], out
    st = os.stat(os.path.join(owned_src, "f1000"))
    assert (st.st_uid, st.st_gid) == (1000, 1000)


@pytest.mark.parametrize("case", ["no-mappings", "not-a-bind", "uid-only", "in-userns"])
def test_idmap_refused_cleanly(case, vessel_rt, bundle_factory, owned_src, test_cgroup):
    """What vessel cannot idmap is a one-line error and leaves nothing behind,
    never a mount with the host's ownership."""
    b = bundle_factory()
    (b.path / "rootfs/data").mkdir()  # a user-namespaced root could not make it
    m = dict(destination="/data", type="bind", source=owned_src, options=["rbind"],
             uidMappings=IDMAP, gidMappings=IDMAP)
    if case == "no-mappings":
        m = dict(destination="/data", type="bind", source=owned_src, options=["rbind", "idmap"])
    elif case == "not-a-bind":
        m = dict(destination="/data", type="tmpfs", source="tmpfs", options=["idmap"])
    elif case == "uid-only":
        del m["gidMappings"]
    else:
        # the user-namespaced root (host uid 100000) must reach the bundle
        for d in [b.path] + list(b.path.parents)[:-2]:
            if str(d).startswith("/tmp/"):
                d.chmod(d.stat().st_mode | 0o111)
        c = b.config["linux"]
        c["namespaces"].append({"type": "user"})
        c["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    add_mount(b, **m)
    rc, out, err = run(vessel_rt, b, "true")
    assert rc != 0
    assert "idmapped mounts are not supported: mount /data" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert_nothing_left(vessel_rt, test_cgroup)


@pytest.mark.parametrize("options,want", [
    (["nosymfollow"], "cat=1"),  # MS_NOSYMFOLLOW: the kernel refuses to follow
    (["nosymfollow", "symfollow"], "cat=0"),
    ([], "cat=0"),
], ids=["nosymfollow", "symfollow-wins", "default"])
def test_nosymfollow_tmpfs(options, want, rt, bundle_factory):
    b = bundle_factory(rt.name)
    add_mount(b, destination="/data", type="tmpfs", source="tmpfs", options=options)
    rc, out, err = run(rt, b, "sh", "-c",
                       "echo hi > /data/f; ln -s /data/f /data/l; cat /data/l >/dev/null 2>&1;"
                       " echo cat=$?")
    assert rc == 0, f"{rt.name}: {err}"
    assert want in out, f"{rt.name}: {out!r}"


def test_features_mount_options_cover_runcs(vessel_rt):
    """Every mount option runc 1.1 says it knows, vessel acts on too (the
    list comes from the same tables the parser uses), plus idmap/ridmap."""
    import json
    ours = set(json.loads(vessel_rt("features").stdout)["mountOptions"])
    assert {"rro", "rnosymfollow", "tmpcopyup", "idmap", "ridmap", "nosymfollow"} <= ours
    runc = shutil.which("runc")
    if runc:
        theirs = set(json.loads(subprocess.run([runc, "features"], capture_output=True,
                                               text=True, check=True).stdout)["mountOptions"])
        assert theirs <= ours, sorted(theirs - ours)
