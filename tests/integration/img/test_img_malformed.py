"""The hostile-image corpus (tests/fuzz/corpus/qcow2, made by gen-corpus.py):
bad-* images are refused with a one-line error, nothing crashes or hangs."""
import pathlib
import shutil
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import sh  # noqa: E402

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "fuzz" / "corpus" / "qcow2"
FILES = sorted(p.name for p in CORPUS.glob("*.qcow2"))


@pytest.mark.parametrize("name", FILES)
def test_corpus_file(vessel, tmp_path, name):
    img = tmp_path / name
    shutil.copy(CORPUS / name, img)  # writes below must not touch the corpus
    if name.startswith("bad-"):
        for verb in (["info"], ["check"], ["bench", "-c", "4"]):
            p = sh(vessel, "img", verb[0], "-f", "qcow2", *verb[1:], img, ok=(1,), timeout=30)
            lines = p.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("vessel img: "), p.stderr
        return
    # good-* and odd-*: whatever happens, it is an exit status, not a signal
    sh(vessel, "img", "info", "-f", "qcow2", img, ok=(0, 1), timeout=30)
    sh(vessel, "img", "check", "-f", "qcow2", img, ok=(0, 1, 2, 3), timeout=30)
    sh(vessel, "img", "bench", "-c", "16", "-s", "512", "-f", "qcow2", img, ok=(0, 1),
       timeout=30)
    sh(vessel, "img", "bench", "-w", "-c", "16", "-s", "700", "-S", "3000", "-f", "qcow2", img,
       ok=(0, 1), timeout=30)
    sh(vessel, "img", "map", "-f", "qcow2", img, ok=(0, 1), timeout=30)
    sh(vessel, "img", "check", "-f", "qcow2", img, ok=(0, 1, 2, 3), timeout=30)
    if name.startswith("good-"):
        sh(vessel, "img", "check", "-f", "qcow2", img, ok=(0,))


def test_raw_disk_crafted_as_qcow2_never_reaches_backing(vessel, tmp_path):
    """A raw guest disk whose content looks like qcow2 with a backing file is
    opened as raw when the format is given: the 'backing' is never read."""
    img = tmp_path / "guest.raw"
    secret = tmp_path / "secret"
    secret.write_bytes(b"S" * 4096)
    sh(vessel, "img", "create", "-f", "qcow2", "-b", str(secret), "-F", "raw", img, "4096")
    p = sh(vessel, "img", "info", "-f", "raw", img)
    assert "file format: raw" in p.stdout and "backing" not in p.stdout
    out = tmp_path / "copy.raw"
    sh(vessel, "img", "convert", "-f", "raw", "-O", "raw", img, out)
    assert b"SSSS" not in out.read_bytes()
