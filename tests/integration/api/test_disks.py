"""/v1/disks: disk images under <root>/disks made and read through src/block
and checked by qemu-img (qcow2, raw, a linked clone, an internal snapshot);
a disk another process holds open (QEMU's image locks, here qemu-io) and a
disk that backs another are not removed; refusals in one line, nothing
half-made."""
import json
import shutil
import subprocess
import time

import jsonschema
import pytest
import yaml

from apitest import OPENAPI, openapi_schema

DOC = yaml.safe_load(OPENAPI.read_text())
MIB = 1 << 20


def check(name, x):
    jsonschema.validate(x, openapi_schema(DOC, name))


def one_line_error(text):
    j = json.loads(text)
    assert list(j) == ["error"] and j["error"] and "\n" not in j["error"], text
    return j["error"]


def qemu_img(*args):
    if not shutil.which("qemu-img"):
        pytest.skip("qemu-img is absent")
    r = subprocess.run(["qemu-img", *map(str, args)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_disk_lifecycle(make_server):
    s = make_server()
    body = {"name": "base", "size": "64M"}
    check("DiskSpec", body)
    d = s.ok("POST", "/v1/disks", body, want=201)
    check("DiskInfo", d)
    assert d["format"] == "qcow2" and d["virtual_size"] == 64 * MIB
    assert d["path"] == str(s.root / "disks" / "base.qcow2")
    info = json.loads(qemu_img("info", "--output", "json", d["path"]))
    assert info["format"] == "qcow2" and info["virtual-size"] == 64 * MIB

    clone = s.ok("POST", "/v1/disks", {"name": "clone", "backing": "base"}, want=201)
    assert clone["backing"] == "base.qcow2" and clone["virtual_size"] == 64 * MIB
    info = json.loads(qemu_img("info", "--output", "json", clone["path"]))
    assert info["full-backing-filename"] == d["path"]
    raw = s.ok("POST", "/v1/disks", {"name": "r", "size": MIB, "format": "raw"}, want=201)
    assert raw["format"] == "raw" and (s.root / "disks" / "r.raw").stat().st_size == MIB

    snap = s.ok("POST", "/v1/disks/base/snapshots", {"name": "before"}, want=201)
    check("DiskInfo", snap)
    assert [x["name"] for x in snap["snapshots"]] == ["before"]
    assert "before" in qemu_img("snapshot", "-l", d["path"])
    qemu_img("check", d["path"])
    st, _, text = s.request("POST", "/v1/disks/r/snapshots", {"name": "x"})
    assert st == 409 and one_line_error(text) == "disk r is raw: snapshots need qcow2"

    assert [x["name"] for x in s.ok("GET", "/v1/disks")] == ["base", "clone", "r"]
    for x in s.ok("GET", "/v1/disks"):
        check("DiskInfo", x)
    assert s.ok("GET", "/v1/disks/clone")["backing"] == "base.qcow2"

    st, _, text = s.request("DELETE", "/v1/disks/base")
    assert st == 409 and one_line_error(text) == "disk base is the backing disk of clone"
    for name in ("clone", "base", "r"):
        s.ok("DELETE", f"/v1/disks/{name}", want=204)
    assert s.ok("GET", "/v1/disks") == []
    assert list((s.root / "disks").iterdir()) == []


def test_disk_in_use_is_kept(make_server):
    if not shutil.which("qemu-io"):
        pytest.skip("qemu-io is absent")
    s = make_server()
    d = s.ok("POST", "/v1/disks", {"name": "busy", "size": MIB}, want=201)
    # qemu-io holds the image open (and QEMU's locks) while it sleeps
    p = subprocess.Popen(["qemu-io", "-c", "sleep 20000", d["path"]],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        st, _, text = s.request("DELETE", "/v1/disks/busy")
        assert st == 409 and one_line_error(text) == "disk busy is in use (a VM has it open)"
        st, _, text = s.request("POST", "/v1/disks/busy/snapshots", {"name": "s"})
        assert st == 409, text
        assert s.ok("GET", "/v1/disks/busy")["name"] == "busy"  # info is shared
    finally:
        p.kill()
        p.wait()
    s.ok("DELETE", "/v1/disks/busy", want=204)


@pytest.mark.parametrize("body,status,msg", [
    ({"size": "1G"}, 400, "field 'name' is required"),
    ({"name": "a", "size": "1Q"}, 400, "field 'size' must be bytes or a size like \"10G\""),
    ({"name": "a", "size": 1000}, 400, "disk size: a multiple of 512 bytes"),
    ({"name": "a"}, 400, "disk size: 1 byte to 64 TiB"),
    ({"name": "a", "size": "65T"}, 400, "disk size: 1 byte to 64 TiB"),
    ({"name": "a", "size": "1M", "format": "vmdk"}, 400, "disk format 'vmdk': qcow2 or raw"),
    ({"name": "a", "size": "1M", "colour": 1}, 400, "unknown field 'colour'"),
    ({"name": "../x", "size": "1M"}, 400, None),
    ({"name": "a", "backing": "nope"}, 404, "no backing disk named 'nope'"),
    ({"name": "a", "size": "1M", "format": "raw", "backing": "x"}, 400,
     "a disk with a backing disk must be qcow2"),
])
def test_bad_disk_one_line_nothing_made(make_server, body, status, msg):
    s = make_server()
    st, _, text = s.request("POST", "/v1/disks", body)
    assert st == status, text
    e = one_line_error(text)
    assert msg is None or e == msg
    assert s.ok("GET", "/v1/disks") == []
    assert list((s.root / "disks").iterdir()) == []


def test_taken_name(make_server):
    s = make_server()
    s.ok("POST", "/v1/disks", {"name": "t", "size": "1M"}, want=201)
    st, _, text = s.request("POST", "/v1/disks", {"name": "t", "size": "1M", "format": "raw"})
    assert st == 409 and one_line_error(text) == "disk t exists"
    assert [p.name for p in (s.root / "disks").iterdir()] == ["t.qcow2"]
