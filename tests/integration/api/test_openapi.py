"""docs/api/openapi.yaml and the server agree: every route of the router's
table is documented and every documented route is routed (answers something
other than 404/405); the replies validate against the documented schemas."""
import subprocess

import jsonschema
import yaml

from apitest import OPENAPI, VESSEL, import_busybox, openapi_schema

METHODS = {"get", "post", "put", "delete", "patch"}


def documented(doc):
    return {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m in METHODS}


def test_every_route_documented():
    doc = yaml.safe_load(OPENAPI.read_text())
    r = subprocess.run([str(VESSEL), "serve", "--list-routes"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    routes = {tuple(line.split(" ", 1)) for line in r.stdout.splitlines()}
    assert len(routes) >= 37
    assert routes == documented(doc), (routes ^ documented(doc))


# route families with their own test below (they need root or other set-up)
# test_networks.py (in a netns), test_disks.py: every route of theirs
OWN_TESTS = ("/v1/containers", "/v1/networks", "/v1/disks")


def check(doc, name, instance):
    jsonschema.validate(instance, openapi_schema(doc, name))


def test_documented_routes_answer_and_match_schemas(make_server, testkernel, tmp_path):
    doc = yaml.safe_load(OPENAPI.read_text())
    s = make_server()
    disk = tmp_path / "doc.raw"
    disk.write_bytes(b"\0" * (1 << 20))
    # a VM with a disk: it cannot start (no virtio-blk yet), so no action
    # below runs a guest, yet each reaches the service layer
    spec = {"name": "doc", "kernel": str(testkernel), "mem": 64 << 20,
            "disks": [{"path": str(disk), "format": "raw", "readonly": False}]}
    check(doc, "VmSpec", spec)
    created = s.ok("POST", "/v1/vms", spec, want=201)
    check(doc, "VmInfo", created)
    # DELETE last: the others need the VM
    order = sorted(documented(doc), key=lambda mp: (mp[0] == "DELETE", mp[1], mp[0]))
    for method, path in order:
        if (method == "POST" and path == "/v1/vms") or path.startswith(OWN_TESTS):
            continue  # done above, or below
        st, j, text = s.request(method, path.replace("{name}", "doc"))
        assert st not in (404, 405), (method, path, st, text)
        responses = doc["paths"][path][method.lower()]["responses"]
        assert str(st) in responses or "default" in responses, (method, path, st)
        if st >= 400:
            check(doc, "Error", j)
        elif path == "/v1/host":
            check(doc, "Host", j)
        elif path == "/v1/vms":
            for v in j:
                check(doc, "VmInfo", v)
        elif path == "/v1/images":
            for i in j:
                check(doc, "Image", i)
        elif path == "/v1/vms/{name}/stats":
            check(doc, "VmStats", j)
        elif path == "/v1/vms/{name}/logs":
            assert j is None and text == ""  # it never ran
        elif st != 204:
            check(doc, "VmInfo", j)
    assert s.ok("GET", "/v1/vms") == []


def test_container_routes_answer_and_match_schemas(make_server, ctr_root):
    """Every documented /v1/containers route on a real container "doc"."""
    doc = yaml.safe_load(OPENAPI.read_text())
    s = make_server()
    spec = {"name": "doc", "image": import_busybox(s.root), "command": ["sleep", "1000"]}
    check(doc, "CtrSpec", spec)
    created = s.ok("POST", "/v1/containers", spec, want=201)
    check(doc, "CtrInfo", created)
    check(doc, "CtrSpec", created["spec"])  # inspect's spec can be posted back
    routes = [mp for mp in documented(doc) if mp[1].startswith("/v1/containers")]
    assert len(routes) == 13
    # start first, DELETE last
    order = sorted(routes, key=lambda mp: (mp[0] == "DELETE", not mp[1].endswith("/start"),
                                           mp[1], mp[0]))
    for method, path in order:
        if method == "POST" and path == "/v1/containers":
            continue
        st, j, text = s.request(method, path.replace("{name}", "doc"))
        assert st not in (404, 405), (method, path, st, text)
        op = doc["paths"][path][method.lower()]
        assert str(st) in op["responses"] or "default" in op["responses"], (method, path, st)
        if st >= 400:
            check(doc, "Error", j)
        elif path.endswith("/stats"):
            check(doc, "CtrStats", j)
        elif path.endswith("/logs"):
            assert j is None and isinstance(text, str)
        elif path == "/v1/containers":
            for c in j:
                check(doc, "CtrInfo", c)
        elif st != 204:
            check(doc, "CtrInfo", j)
    assert s.ok("GET", "/v1/containers") == []


def test_schema_refuses_what_the_server_refuses():
    """The request schema is as strict as the server: unknown fields and wrong
    types are invalid in both (test_api.py's BAD list holds the server side)."""
    doc = yaml.safe_load(OPENAPI.read_text())
    schema = openapi_schema(doc, "VmSpec")
    for bad in ({"name": "a", "cpu": 2}, {"name": "a", "cpus": "2"}, {"name": 7}, {"cpus": 1},
                {"name": "a", "disks": [{"path": "/x", "size": 1}]}, {"name": "a", "cpus": 0}):
        try:
            jsonschema.validate(bad, schema)
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"the schema accepts {bad}")
    jsonschema.validate({"name": "a", "kernel": None, "command": ["sh"], "accel": "emu"},
                        schema)
