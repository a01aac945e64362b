"""/v1/containers through `vessel serve` on the unix socket and on loopback
TCP with the token: the lifecycle of a real container (create, start, logs,
stats, pause/resume, stop, restart, kill, remove) seen the same by the CLI
through the store; names and id prefixes in paths; one-line JSON errors
with their status and nothing left by a refused create; stats as
Server-Sent Events, bounded and released when clients go."""
import http.client
import json
import time

import jsonschema
import yaml

from apitest import OPENAPI, cli, import_busybox, openapi_schema, wait_until

DOC = yaml.safe_load(OPENAPI.read_text())


def check(name, instance):
    jsonschema.validate(instance, openapi_schema(DOC, name))


def one_line_error(text):
    j = json.loads(text)
    assert list(j) == ["error"] and j["error"] and "\n" not in j["error"], text
    return j["error"]


def cli_ctr(root, name):
    r = cli(root, "inspect", name)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_container_lifecycle(server, ctr_root):
    s = server
    img = import_busybox(s.root)
    spec = {"name": "web", "image": img, "memory": 64 << 20, "cpus": 0.5, "pids_limit": 50,
            "env": ["GREETING=hi"],
            "command": ["sh", "-c", "trap 'exit 3' TERM; echo $GREETING from $(hostname); "
                        "while :; do sleep 0.1; done"]}
    check("CtrSpec", spec)
    c = s.ok("POST", "/v1/containers", spec, want=201)
    check("CtrInfo", c)
    assert c["state"] == "created" and c["spec"]["cpu_millis"] == 500
    assert cli_ctr(s.root, "web")["state"] == "created"

    c = s.ok("POST", "/v1/containers/web/start")
    check("CtrInfo", c)
    assert c["state"] == "running" and c["pid"] > 0
    assert cli_ctr(s.root, "web")["pid"] == c["pid"]
    wait_until(lambda: "hi from" in s.request("GET", "/v1/containers/web/logs")[2],
               what="the container's output")
    st, _, text = s.request("GET", "/v1/containers/web/logs?tail=1")
    assert st == 200 and text.startswith("hi from ") and text.count("\n") == 1

    prefix = c["id"][:12]  # an id prefix works as a name does
    stats = s.ok("GET", f"/v1/containers/{prefix}/stats")
    check("CtrStats", stats)
    assert stats["name"] == "web" and stats["mem_limit"] == 64 << 20 and stats["pids"] >= 1

    c = s.ok("POST", "/v1/containers/web/pause")
    assert c["paused"] and c["state"] == "running"
    st, _, text = s.request("POST", "/v1/containers/web/pause")
    assert st == 409 and one_line_error(text) == "container web is already paused"
    assert not s.ok("POST", "/v1/containers/web/resume")["paused"]

    st, _, text = s.request("POST", "/v1/containers/web/start")
    assert st == 409 and one_line_error(text) == "container web is already running"
    st, _, text = s.request("DELETE", "/v1/containers/web")
    assert st == 409, text
    one_line_error(text)

    c = s.ok("POST", "/v1/containers/web/stop?timeout=2")
    assert c["state"] == "exited" and c["exit_code"] == 3  # its TERM trap ran
    assert cli_ctr(s.root, "web")["state"] == "exited"
    st, _, text = s.request("POST", "/v1/containers/web/stop")
    assert st == 409 and one_line_error(text) == "container web is not running"

    c = s.ok("POST", "/v1/containers/web/restart")
    assert c["state"] == "running"
    c = s.ok("POST", "/v1/containers/web/kill?signal=KILL")
    wait_until(lambda: s.ok("GET", "/v1/containers/web")["state"] == "exited",
               what="the kill to be recorded")
    assert s.ok("GET", "/v1/containers/web")["exit_code"] == 137

    assert [x["name"] for x in s.ok("GET", "/v1/containers")] == ["web"]
    s.ok("DELETE", "/v1/containers/web", want=204)
    st, _, text = s.request("GET", "/v1/containers/web")
    assert st == 404 and one_line_error(text) == "no container named 'web'"
    assert s.ok("GET", "/v1/containers") == []
    assert json.loads(cli(s.root, "ps", "-a", "--format", "json").stdout) == []


def test_cli_made_container_is_served(make_server, ctr_root):
    s = make_server()
    img = import_busybox(s.root)
    # --network none: the CLI's default network would be made in the host's
    # namespace, where this test runs
    r = cli(s.root, "run", "-d", "--network", "none", "--name", "fromcli", img, "sleep", "1000")
    assert r.returncode == 0, r.stderr
    c = s.ok("GET", "/v1/containers/fromcli")
    assert c["state"] == "running" and c["id"] == r.stdout.strip()
    s.ok("DELETE", "/v1/containers/fromcli?force=true", want=204)
    assert cli(s.root, "inspect", "fromcli").returncode != 0


BAD_CREATES = [
    ({"name": "x"}, 400, "field 'image' is required"),
    ({"image": "bb:1", "cmd": ["true"]}, 400, "unknown field 'cmd'"),
    ({"image": "bb:1", "command": "true"}, 400,
     "field 'command' must be an array of strings or null"),
    ({"image": "bb:1", "memory": -1}, 400, "field 'memory' must be an integer >= 0"),
    ({"image": "bb:1", "cpus": 1, "cpu_millis": 100}, 400,
     "give 'cpus' or 'cpu_millis', not both"),
    ({"image": "bb:1", "network": ""}, 400,
     "field 'network' must be \"none\", \"host\", \"bridge\" or a network's name"),
    ({"image": "bb:1", "network": "nosuchnet"}, 404, "no network named 'nosuchnet'"),
    ({"image": "bb:1", "restart": "sometimes"}, 400,
     "field 'restart' must be \"no\", \"on-failure\" or \"always\""),
    ({"image": "bb:1", "volumes": [{"source": "/tmp"}]}, 400,
     "volumes[0]: 'source' and 'destination' are required"),
    ({"image": "nope:1"}, 404, None),
    ({"image": "bb:1", "name": "bad/name"}, 400, None),
]


def test_bad_creates_one_line_nothing_made(make_server, ctr_root):
    s = make_server()
    import_busybox(s.root)
    for body, status, msg in BAD_CREATES:
        st, _, text = s.request("POST", "/v1/containers", body)
        assert st == status, (body, st, text)
        e = one_line_error(text)
        assert msg is None or e == msg, (body, e)
        try:
            jsonschema.validate(body, openapi_schema(DOC, "CtrSpec"))
            schema_ok = True
        except jsonschema.ValidationError:
            schema_ok = False
        assert schema_ok == (status != 400), ("the schema and the server disagree", body)
    assert s.ok("GET", "/v1/containers") == []
    assert not any(p for p in (s.root / "containers").glob("[0-9a-f]*"))
    s.ok("POST", "/v1/containers", {"image": "bb:1", "name": "taken"}, want=201)
    st, _, text = s.request("POST", "/v1/containers", {"image": "bb:1", "name": "taken"})
    assert st == 409, text
    for path, st_want in (("/v1/containers/taken/kill?signal=NOPE", 400),
                          ("/v1/containers/taken/kill", 409),
                          ("/v1/containers/taken/stop?timeout=x", 400),
                          ("/v1/containers/taken/pause", 409),
                          ("/v1/containers/nope/start", 404)):
        st, _, text = s.request("POST", path)
        assert st == st_want, (path, st, text)
        one_line_error(text)


def sse_events(s, path, n, timeout=15):
    """The first n events of an SSE stream, as parsed JSON, and the time taken."""
    c = s.conn(timeout=timeout)
    h = {"Authorization": f"Bearer {s.token}"} if s.tcp else {}
    t0 = time.monotonic()
    c.request("GET", path, headers=h)
    r = c.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    events = []
    while len(events) < n:
        line = r.readline().decode()
        assert line, "the stream ended"
        if line.startswith("data: "):
            events.append(json.loads(line[6:]))
    took = time.monotonic() - t0
    c.close()
    return events, took


def test_stats_stream(server, ctr_root):
    s = server
    img = import_busybox(s.root)
    s.ok("POST", "/v1/containers",
         {"name": "busy", "image": img, "command": ["sh", "-c", "while :; do :; done"]}, want=201)
    s.ok("POST", "/v1/containers/busy/start")
    events, took = sse_events(s, "/v1/containers/busy/stats?stream=true", 3)
    for e in events:
        check("CtrStats", e)
        assert e["name"] == "busy" and e["running"]
    assert events[0]["cpu_percent"] is None  # a rate needs two samples
    assert events[1]["cpu_percent"] > 0 and events[2]["cpu_percent"] > 0
    assert 1.5 <= took <= 6, took  # the first at once, then one a second
    gap = events[2]["read_at_ns"] - events[1]["read_at_ns"]
    assert 0.8e9 <= gap <= 2e9, gap
    # the server keeps serving (one thread, the stream suspended between events)
    assert s.ok("GET", "/v1/containers/busy")["state"] == "running"


def test_stats_stream_bounded_and_released(make_server, ctr_root):
    s = make_server()
    img = import_busybox(s.root)
    s.ok("POST", "/v1/containers", {"name": "idle", "image": img, "command": ["sleep", "1000"]},
         want=201)
    s.ok("POST", "/v1/containers/idle/start")
    conns = []
    for _ in range(32):
        c = s.conn()
        c.request("GET", "/v1/containers/idle/stats?stream=true")
        r = c.getresponse()
        assert r.status == 200
        r.readline()
        conns.append(c)
    st, _, text = s.request("GET", "/v1/containers/idle/stats?stream=true")
    assert st == 503 and "too many streams" in one_line_error(text)
    for c in conns:
        c.close()
    # a closed client is noticed at its next event (within a second or two)
    wait_until(lambda: s.conn() and _stream_opens(s), timeout=10, what="the streams to go")
    # a removed container ends its stream
    c = s.conn()
    c.request("GET", "/v1/containers/idle/stats?stream=true")
    r = c.getresponse()
    r.readline()
    s.ok("DELETE", "/v1/containers/idle?force=true", want=204)
    t0 = time.monotonic()
    rest = r.read()  # returns at the end of the stream
    assert time.monotonic() - t0 < 5 and rest.count(b"data: ") <= 2
    c.close()


def _stream_opens(s):
    c = s.conn()
    try:
        c.request("GET", "/v1/containers/idle/stats?stream=true")
        return c.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        c.close()


def test_tcp_needs_token_for_containers(make_server, ctr_root):
    s = make_server(tcp=True)
    st, _, text = s.request("GET", "/v1/containers", auth=False)
    assert st == 401 and one_line_error(text)
    st, _, text = s.request("POST", "/v1/containers", {"image": "bb:1"}, auth="Bearer nope")
    assert st == 401
    assert s.ok("GET", "/v1/containers") == []


def test_logs_follow_stream(server, ctr_root):
    """logs?follow=true: the output written after the request, as SSE events
    {"text": ...}; the stream ends once the container has stopped."""
    s = server
    img = import_busybox(s.root)
    s.ok("POST", "/v1/containers", {"name": "talk", "image": img, "command": [
        "sh", "-c", "echo before; sleep 2; i=0; while [ $i -lt 8 ]; do echo line-$i; "
        "i=$((i+1)); sleep 0.3; done"]}, want=201)
    s.ok("POST", "/v1/containers/talk/start")
    c = s.conn(timeout=20)
    h = {"Authorization": f"Bearer {s.token}"} if s.tcp else {}
    c.request("GET", "/v1/containers/talk/logs?follow=true", headers=h)
    r = c.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    text, t0 = "", time.monotonic()
    while True:
        line = r.readline().decode()
        if not line:
            break  # the end of the stream: the container stopped
        if line.startswith("data: "):
            text += json.loads(line[6:])["text"]
    c.close()
    assert "line-0" in text and "line-7" in text, text
    assert time.monotonic() - t0 < 15
    assert s.ok("GET", "/v1/containers/talk")["state"] == "exited"
    st, _, text = s.request("GET", "/v1/containers/talk/logs")
    assert text.startswith("before\n") and "line-7" in text
    st, _, text = s.request("GET", "/v1/containers/talk/logs?follow=maybe")
    assert st == 400
