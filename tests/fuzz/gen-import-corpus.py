#!/usr/bin/env python3
"""Writes the image import seed corpus (tests/fuzz/corpus/import).

good-*: archives that import (OCI archives with plain and gzip layers and a
nested index, docker-archives with linked layers, a rootfs tarball).
bad-*: archives that must be refused (corrupt blobs, wrong sizes, a layer
that is not its diff_id, broken JSON, missing files, link loops and escapes,
nesting past the limit). The harness names the image when the first byte is
odd. Run from anywhere: python3 tests/fuzz/gen-import-corpus.py."""
import gzip
import hashlib
import io
import json
import pathlib
import shutil
import tarfile

OUT = pathlib.Path(__file__).parent / "corpus" / "import"
MT_M = "application/vnd.oci.image.manifest.v1+json"
MT_I = "application/vnd.oci.image.index.v1+json"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def tar(files, links=()):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for n, data in files:
            ti = tarfile.TarInfo(n)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1700000000
            t.addfile(ti, io.BytesIO(data))
        for n, target in links:
            ti = tarfile.TarInfo(n)
            ti.type, ti.linkname = tarfile.SYMTYPE, target
            t.addfile(ti)
    return buf.getvalue()


L1 = tar([("etc/hostname", b"fuzz\n"), ("bin/sh", b"#!/bin/true\n")])
L2 = tar([("etc/.wh.hostname", b""), ("var/.wh..wh..opq", b""), ("var/x", b"x")])


def config(layers):
    return json.dumps({"architecture": "amd64", "os": "linux",
                       "config": {"Cmd": ["/bin/sh"], "Env": ["A=b"]},
                       "rootfs": {"type": "layers",
                                  "diff_ids": [sha(l) for l in layers]}}).encode()


def oci(layers, gz=False, name="fuzz:oci", mutate=None, nested=False):
    blobs = {}

    def add(b):
        blobs[sha(b)] = b
        return sha(b)
    descs = []
    for l in layers:
        b = gzip.compress(l, 6, mtime=0) if gz else l
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" +
                      ("+gzip" if gz else ""), "digest": add(b), "size": len(b)})
    c = config(layers)
    man = json.dumps({"schemaVersion": 2, "mediaType": MT_M,
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": add(c), "size": len(c)}, "layers": descs}).encode()
    top = {"mediaType": MT_M, "digest": add(man), "size": len(man),
           "platform": {"os": "linux", "architecture": "amd64"}}
    if nested:
        inner = json.dumps({"schemaVersion": 2, "manifests": [top]}).encode()
        top = {"mediaType": MT_I, "digest": add(inner), "size": len(inner)}
    top["annotations"] = {"org.opencontainers.image.ref.name": name}
    files = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
             "index.json": json.dumps({"schemaVersion": 2, "manifests": [top]}).encode()}
    for d, b in blobs.items():
        files["blobs/sha256/" + d[7:]] = b
    if mutate:
        mutate(files, blobs)
    return tar(sorted(files.items()))


def docker(layers, links=(), drop=()):
    c = config(layers)
    files = {sha(c)[7:] + ".json": c}
    names = []
    for i, l in enumerate(layers):
        n = sha(l)[7:] + "/layer.tar"
        names.append(n)
        files[n] = l
    for n in drop:
        files.pop(n, None)
    files["manifest.json"] = json.dumps([{"Config": sha(c)[7:] + ".json",
                                          "RepoTags": ["fuzz:docker"], "Layers": names}]).encode()
    return tar(sorted(files.items()), links)


def flip_blob(files, blobs):
    k = [n for n in files if n.startswith("blobs/") and files[n] in (L1, L2)][0]
    files[k] = files[k][:-1] + b"\x01"


def wrong_size(files, blobs):
    idx = json.loads(files["index.json"])
    idx["manifests"][0]["size"] += 1
    files["index.json"] = json.dumps(idx).encode()


def swap_layer(files, blobs):
    """A layer blob that is another tar than the config's diff_id."""
    man_name = "blobs/sha256/" + json.loads(files["index.json"])["manifests"][0]["digest"][7:]
    man = json.loads(files[man_name])
    other = tar([("evil", b"e")])
    files.pop("blobs/sha256/" + man["layers"][0]["digest"][7:])
    man["layers"][0].update(digest=sha(other), size=len(other))
    files["blobs/sha256/" + sha(other)[7:]] = other
    mb = json.dumps(man).encode()
    files.pop(man_name)
    files["blobs/sha256/" + sha(mb)[7:]] = mb
    idx = json.loads(files["index.json"])
    idx["manifests"][0].update(digest=sha(mb), size=len(mb))
    files["index.json"] = json.dumps(idx).encode()


def many_images(files, blobs):
    idx = json.loads(files["index.json"])
    idx["manifests"] = [dict(idx["manifests"][0], annotations={
        "org.opencontainers.image.ref.name": f"m:{i}"}) for i in range(70)]
    files["index.json"] = json.dumps(idx).encode()


def broken_index(files, blobs):
    files["index.json"] = b'{"manifests": [ {"digest": '


CASES = {
    "good-oci.tar": oci([L1, L2]),
    "good-oci-gzip.tar": oci([L1, L2], gz=True),
    "good-oci-nested.tar": oci([L1], nested=True),
    "good-docker.tar": docker([L1, L2]),
    "good-docker-links.tar": docker([L1, L2, L1]),
    "good-rootfs.tar": tar([("etc/passwd", b"root:x:0:0::/:/bin/sh\n"), ("bin/sh", b"x")]),
    "good-rootfs.tar.gz": gzip.compress(tar([("etc/x", b"x")]), 6, mtime=0),
    "bad-oci-corrupt-blob.tar": oci([L1, L2], mutate=flip_blob),
    "bad-oci-wrong-size.tar": oci([L1], mutate=wrong_size),
    "bad-oci-diff-id.tar": oci([L1], mutate=swap_layer),
    "bad-oci-many-images.tar": oci([L1], mutate=many_images),
    "bad-oci-broken-index.tar": oci([L1], mutate=broken_index),
    "bad-docker-missing-layer.tar": docker([L1, L2], drop=[sha(L2)[7:] + "/layer.tar"]),
    "bad-docker-link-loop.tar": docker([L1], drop=[sha(L1)[7:] + "/layer.tar"],
                                       links=[(sha(L1)[7:] + "/layer.tar", "../x/layer.tar"),
                                              ("x/layer.tar", "../" + sha(L1)[7:] + "/layer.tar")]),
    "bad-docker-link-escape.tar": docker([L1], drop=[sha(L1)[7:] + "/layer.tar"],
                                         links=[(sha(L1)[7:] + "/layer.tar", "../../../etc/passwd")]),
    "bad-rootfs-dotdot.tar": tar([("etc/x", b"x"), ("../escape", b"x")]),
    "bad-empty": b"",
}


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    for name, data in CASES.items():
        (OUT / name).write_bytes(data)


if __name__ == "__main__":
    main()
