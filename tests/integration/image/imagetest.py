"""Builders of images by hand (layer tars, OCI layouts and archives,
docker-archives) and a runner for `vessel image` against a private store.
Everything is made in the test from bytes or from the host's busybox-static:
nothing is downloaded."""
import gzip
import hashlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import tarfile

from vesseltest import VESSEL

BUSYBOX = pathlib.Path("/bin/busybox")


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Store:
    """A VESSEL_ROOT of its own; run() calls `vessel image ...` with it."""

    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.images = self.root / "images"

    def run(self, *args, timeout=120, check=False):
        env = dict(os.environ, VESSEL_ROOT=str(self.root))
        r = subprocess.run([str(VESSEL), "image"] + [str(a) for a in args], env=env,
                           capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check:
            assert r.returncode == 0, r.stderr
        return r

    def inspect(self, name):
        r = self.run("inspect", name, check=True)
        return json.loads(r.stdout)

    def ls(self):
        return json.loads(self.run("ls", "--format", "json", check=True).stdout)

    def state(self):
        """What a failed import must leave exactly as it was."""
        def names(d):
            return sorted(p.name for p in d.iterdir()) if d.exists() else []
        idx = self.images / "index.json"
        return (idx.read_text() if idx.exists() else None, names(self.images / "blobs/sha256"),
                names(self.images / "layers"), names(self.images / "tmp"))


# ---- tar entries -------------------------------------------------------

def f(name, data=b"", mode=0o644, uid=0, gid=0, mtime=1700000000, xattrs=None):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.uid, ti.gid, ti.mtime = len(data), mode, uid, gid, mtime
    if xattrs:
        ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
    return ti, data


def d(name, mode=0o755, uid=0, gid=0):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid = tarfile.DIRTYPE, mode, uid, gid
    return ti, None


def sym(name, target):
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, target, 0o777
    return ti, None


def hard(name, target):
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.mode = tarfile.LNKTYPE, target, 0o644
    return ti, None


def chrdev(name, major, minor):
    ti = tarfile.TarInfo(name)
    ti.type, ti.devmajor, ti.devminor, ti.mode = tarfile.CHRTYPE, major, minor, 0o666
    return ti, None


def whiteout(path):
    head, _, base = path.rpartition("/")
    return f((head + "/" if head else "") + ".wh." + base)


def opaque(dirpath):
    return f(dirpath.rstrip("/") + "/.wh..wh..opq")


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def busybox_entries(extra_files=()):
    """A minimal busybox rootfs: /bin/busybox, /bin/sh, /etc/passwd."""
    bb = BUSYBOX.read_bytes()
    return [d("bin"), f("bin/busybox", bb, 0o755), sym("bin/sh", "busybox"), d("etc"),
            f("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")] + list(extra_files)


# ---- images ------------------------------------------------------------

def config_json(diff_ids, **cfg):
    return json.dumps({"architecture": "amd64", "os": "linux",
                       "created": "2026-12-07T00:00:00Z", "config": cfg,
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()


class Blobs:
    def __init__(self):
        self.blobs = {}

    def add(self, data):
        self.blobs[sha(data)] = data
        return sha(data)


def oci_image(blobs, layers, gz=True, **cfg):
    """Adds an image's blobs; returns (manifest digest, manifest size)."""
    descs, diff_ids = [], []
    for raw in layers:
        diff_ids.append(sha(raw))
        # mtime=0: the same layer compresses to the same blob (same digest) in
        # every call, not only in calls within the same second
        blob = gzip.compress(raw, 1, mtime=0) if gz else raw
        mt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else "")
        descs.append({"mediaType": mt, "digest": blobs.add(blob), "size": len(blob)})
    c = config_json(diff_ids, **cfg)
    man = json.dumps({"schemaVersion": 2,
                      "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": blobs.add(c), "size": len(c)},
                      "layers": descs}).encode()
    return blobs.add(man), len(man)


def oci_layout(path, images, gz=True):
    """images: {name: (layers, cfg dict)}. Writes a layout directory, or a
    tar of it when path ends in .tar. Returns the blobs by digest."""
    blobs, manifests = Blobs(), []
    for name, (layers, cfg) in images.items():
        dg, size = oci_image(blobs, layers, gz, **cfg)
        manifests.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "digest": dg, "size": size,
                          "annotations": {"org.opencontainers.image.ref.name": name}})
    files = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
             "index.json": json.dumps({"schemaVersion": 2, "manifests": manifests}).encode()}
    for dg, data in blobs.blobs.items():
        files["blobs/sha256/" + dg[7:]] = data
    write_files(path, files)
    return blobs.blobs


def docker_archive(path, name, layers, links=(), **cfg):
    """As `docker save` writes it; links: {name: symlink target} entries
    (docker links duplicate layers "<id>/layer.tar -> ../<id2>/layer.tar")."""
    diff_ids = [sha(raw) for raw in layers]
    c = config_json(diff_ids, **cfg)
    files = {sha(c)[7:] + ".json": c}
    names = []
    for i, raw in enumerate(layers):
        n = links[i][0] if i < len(links) and links[i] else sha(raw)[7:] + "/layer.tar"
        if not (i < len(links) and links[i]):
            files[n] = raw
        names.append(n)
    files["manifest.json"] = json.dumps([{"Config": sha(c)[7:] + ".json", "RepoTags": [name],
                                          "Layers": names}]).encode()
    write_files(path, files, dict(l for l in links if l))


def write_files(path, files, symlinks=None):
    path = pathlib.Path(path)
    if str(path).endswith(".tar"):
        with tarfile.open(path, "w") as t:
            for n, data in files.items():
                ti = tarfile.TarInfo(n)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            for n, target in (symlinks or {}).items():
                ti = tarfile.TarInfo(n)
                ti.type, ti.linkname = tarfile.SYMTYPE, target
                t.addfile(ti)
        return
    for n, data in files.items():
        (path / n).parent.mkdir(parents=True, exist_ok=True)
        (path / n).write_bytes(data)


def have_podman():
    return shutil.which("podman") is not None
