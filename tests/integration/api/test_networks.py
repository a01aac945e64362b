"""/v1/networks through `vessel serve` running inside a network namespace
the test makes (`ip netns exec`), so its bridges and nftables rules never
touch the host's: create, list, inspect, delete, seen the same by `vessel
network` in that namespace; refusals in one line with their status and
nothing left behind."""
import json
import os
import secrets
import subprocess

import jsonschema
import pytest
import yaml

from apitest import OPENAPI, VESSEL, openapi_schema
from vesseltest import skip

DOC = yaml.safe_load(OPENAPI.read_text())


@pytest.fixture
def netns():
    if os.geteuid() != 0:
        skip("needs root (network namespaces)")
    name = f"vessel-test-{secrets.token_hex(3)}-api"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def in_ns(ns, *args):
    return subprocess.run(["ip", "netns", "exec", ns, *map(str, args)], capture_output=True,
                          text=True, timeout=60)


def one_line_error(text):
    j = json.loads(text)
    assert list(j) == ["error"] and j["error"] and "\n" not in j["error"], text
    return j["error"]


def test_network_lifecycle(make_server, netns):
    s = make_server(prefix=["ip", "netns", "exec", netns])
    name = "api" + secrets.token_hex(2)
    body = {"name": name, "subnet": "10.231.7.0/24", "internal": True, "mtu": 1400}
    jsonschema.validate(body, openapi_schema(DOC, "NetSpec"))
    n = s.ok("POST", "/v1/networks", body, want=201)
    jsonschema.validate(n, openapi_schema(DOC, "NetInfo"))
    assert n["name"] == name and n["gateway"] == "10.231.7.1" and n["present"]
    assert n["internal"] and n["mtu"] == 1400
    link = in_ns(netns, "ip", "-j", "addr", "show", "dev", n["bridge"])
    assert link.returncode == 0 and "10.231.7.1" in link.stdout
    cli = in_ns(netns, VESSEL, "--root", s.root, "network", "ls", "--format", "json")
    assert [x["name"] for x in json.loads(cli.stdout)] == [name]
    got = s.ok("GET", f"/v1/networks/{name}")
    jsonschema.validate(got, openapi_schema(DOC, "NetInfo"))
    assert got["subnet"] == "10.231.7.0/24"
    assert [x["name"] for x in s.ok("GET", "/v1/networks")] == [name]

    st, _, text = s.request("POST", "/v1/networks", {"name": name + "b",
                                                     "subnet": "10.231.7.0/25"})
    assert st in (400, 409) and "10.231.7" in one_line_error(text)
    st, _, text = s.request("POST", "/v1/networks", {"name": name})
    assert st == 409, text
    one_line_error(text)

    s.ok("DELETE", f"/v1/networks/{name}", want=204)
    assert in_ns(netns, "ip", "link", "show", n["bridge"]).returncode != 0
    st, _, text = s.request("GET", f"/v1/networks/{name}")
    assert st == 404 and one_line_error(text)
    assert s.ok("GET", "/v1/networks") == []


@pytest.mark.parametrize("body,msg", [
    ({"subnet": "10.231.8.0/24"}, "field 'name' is required"),
    ({"name": "x", "mtu": 70000}, "field 'mtu' must be an integer 0-65535"),
    ({"name": "x", "dns": "1.1.1.1"}, "unknown field 'dns'"),
    ({"name": "x", "internal": "yes"}, "field 'internal' must be a boolean"),
    ({"name": "x", "subnet": "10.231.8.0/33"}, None),
    ({"name": "bad name"}, None),
])
def test_bad_network_one_line_nothing_made(make_server, netns, body, msg):
    s = make_server(prefix=["ip", "netns", "exec", netns])
    st, _, text = s.request("POST", "/v1/networks", body)
    assert st == 400, text
    e = one_line_error(text)
    assert msg is None or e == msg
    assert s.ok("GET", "/v1/networks") == []
    links = in_ns(netns, "ip", "-o", "link", "show", "type", "bridge").stdout
    assert links == "", links
    if msg:  # the schema refuses what the server refuses for its shape
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(body, openapi_schema(DOC, "NetSpec"))
