"""Bad input: one line on stderr, a non-zero exit, and the store exactly as
it was (no blob, no layer, no work directory, index.json unchanged)."""
import gzip
import json
import pathlib

import pytest

from imagetest import (busybox_entries, d, docker_archive, f, hard, oci_layout, sym,
                       tar_bytes)


def refused(store, args, words):
    before = store.state()
    r = store.run(*args)
    assert r.returncode != 0, r.stdout
    assert r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("vessel image"), r.stderr
    for w in words:
        assert w in r.stderr, r.stderr
    assert store.state() == before
    return r


@pytest.fixture
def seeded(store, tmp_path):
    """A store with one image in it already, so that 'unchanged' means something."""
    oci_layout(tmp_path / "seed", {"seed:1": ([tar_bytes(busybox_entries())], {})})
    store.run("import", tmp_path / "seed", check=True)
    return store


def test_corrupted_blob_digest(seeded, tmp_path):
    blobs = oci_layout(tmp_path / "bad", {"bad:1": ([tar_bytes([f("a", b"a" * 100)])], {})})
    layer = [dg for dg, data in blobs.items() if data[:2] == b"\x1f\x8b"][0]
    p = tmp_path / "bad/blobs/sha256" / layer[7:]
    data = bytearray(p.read_bytes())
    data[-5] ^= 0xff
    p.write_bytes(bytes(data))
    refused(seeded, ["import", tmp_path / "bad"], ["corrupt", layer])
    # as an archive too
    oci_layout(tmp_path / "bad2.tar", {"bad:2": ([tar_bytes([f("b", b"b")])], {})})
    raw = bytearray((tmp_path / "bad2.tar").read_bytes())
    i = raw.find(b'"architecture"')  # the config blob
    raw[i + 1] = ord("A")
    (tmp_path / "bad2.tar").write_bytes(bytes(raw))
    refused(seeded, ["import", tmp_path / "bad2.tar"], ["corrupt"])


def test_corrupted_docker_layer(seeded, tmp_path):
    docker_archive(tmp_path / "d.tar", "dock:1", [tar_bytes([f("a", b"a" * 100)])])
    raw = bytearray((tmp_path / "d.tar").read_bytes())
    i = raw.find(b"a" * 100)
    raw[i] = ord("b")
    (tmp_path / "d.tar").write_bytes(bytes(raw))
    refused(seeded, ["import", tmp_path / "d.tar"], ["corrupt"])


def test_diff_id_mismatch(seeded, tmp_path):
    """A gzip layer whose content is not what the config's diff_id says."""
    oci_layout(tmp_path / "l", {"m:1": ([tar_bytes([f("a", b"a")])], {})})
    idx = json.loads((tmp_path / "l/index.json").read_text())
    man_p = tmp_path / "l/blobs/sha256" / idx["manifests"][0]["digest"][7:]
    man = json.loads(man_p.read_text())
    cfg_p = tmp_path / "l/blobs/sha256" / man["config"]["digest"][7:]
    # swap the layer for another one with a correct blob digest
    other = gzip.compress(tar_bytes([f("evil", b"e")]))
    import hashlib
    odg = hashlib.sha256(other).hexdigest()
    (tmp_path / "l/blobs/sha256" / odg).write_bytes(other)
    man["layers"][0].update(digest="sha256:" + odg, size=len(other))
    mb = json.dumps(man).encode()
    mdg = hashlib.sha256(mb).hexdigest()
    (tmp_path / "l/blobs/sha256" / mdg).write_bytes(mb)
    idx["manifests"][0].update(digest="sha256:" + mdg, size=len(mb))
    (tmp_path / "l/index.json").write_text(json.dumps(idx))
    assert cfg_p.exists()
    refused(seeded, ["import", tmp_path / "l"], ["config says"])


@pytest.mark.parametrize("name,entries,words", [
    ("dotdot", [f("../escape", b"x")], ["'..'"]),
    ("dotdot-deep", [d("a"), f("a/../../escape", b"x")], ["'..'"]),
    ("absolute", [f("/etc/evil", b"x")], ["absolute"]),
    ("symlink-escape", [sym("esc", "/"), f("esc/tmp/evil", b"x")], ["symlink"]),
    ("symlink-dotdot", [sym("up", "../../.."), f("up/evil", b"x")], ["symlink"]),
    ("hardlink-outside", [hard("h", "../../etc/passwd")], ["hard link"]),
    ("hardlink-absolute", [hard("h", "/etc/passwd")], ["hard link"]),
    ("hardlink-missing", [hard("h", "nothere")], ["hard link"]),
])
def test_hostile_layer(seeded, tmp_path, name, entries, words):
    layer = tar_bytes(busybox_entries(entries))
    (tmp_path / "rootfs.tar").write_bytes(layer)
    refused(seeded, ["import", tmp_path / "rootfs.tar", "evil"], words)
    oci_layout(tmp_path / "oci", {"evil:1": ([layer], {})})
    refused(seeded, ["import", tmp_path / "oci"], words)
    assert not pathlib.Path("/escape").exists() and not pathlib.Path("/tmp/evil").exists()


def test_entry_count_limit(seeded, tmp_path):
    (tmp_path / "many.tar").write_bytes(tar_bytes([f(f"f{i}") for i in range(200)]))
    refused(seeded, ["import", tmp_path / "many.tar", "many", "--max-entries", "100"],
            ["more than 100 entries"])
    r = seeded.run("import", tmp_path / "many.tar", "many", "--max-entries", "200")
    assert r.returncode == 0, r.stderr


def test_decompression_bomb(seeded, tmp_path):
    """64 MiB of zeros in a ~64 KiB gzip, against a 16 MiB limit."""
    zeros = tar_bytes([f("zeros", bytes(64 << 20))])
    (tmp_path / "bomb.tar.gz").write_bytes(gzip.compress(zeros, 9))
    refused(seeded, ["import", tmp_path / "bomb.tar.gz", "bomb", "--max-bytes", "16M"],
            ["decompressed size limit"])


def test_not_an_archive(seeded, tmp_path):
    (tmp_path / "junk").write_bytes(b"\x00garbage" * 100)
    refused(seeded, ["import", tmp_path / "junk", "junk"], [])
    (tmp_path / "emptydir").mkdir()
    refused(seeded, ["import", tmp_path / "emptydir"], ["index.json"])
    refused(seeded, ["import", tmp_path / "nonexistent"], ["nonexistent"])


def test_missing_image_and_bad_names(seeded, tmp_path):
    for verb in (["inspect", "nosuch"], ["rm", "nosuch"], ["export", "nosuch", tmp_path / "o"],
                 ["mount", "nosuch", tmp_path, "--upper", tmp_path, "--work", tmp_path]):
        refused(seeded, verb, ["no such image: nosuch"])
    assert not (tmp_path / "o").exists()
    (tmp_path / "r.tar").write_bytes(tar_bytes(busybox_entries()))
    refused(seeded, ["import", tmp_path / "r.tar", "Bad/Name"], ["invalid image name"])


def test_unknown_flag(seeded, tmp_path):
    for args in (["ls", "--bogus"], ["import", "--bogus", "x"], ["rm", "--bogus", "x"],
                 ["inspect", "--bogus"], ["prune", "--bogus"], ["frobnicate"]):
        r = refused(seeded, args, [])
        assert r.returncode == 2
