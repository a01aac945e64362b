"""GET /v1/vms/{name}/stats: the test guest under kvm, its VMM's CPU time
checked against the VMM's own utime+stime in /proc, its resident memory
against /proc's; as Server-Sent Events (one a second, a rate from the
second); zeros once stopped; the stream ends when the VM is removed."""
import os
import time

import jsonschema
import yaml

from apitest import OPENAPI, counter_spec, openapi_schema
from test_containers import sse_events

DOC = yaml.safe_load(OPENAPI.read_text())
HZ = os.sysconf("SC_CLK_TCK")


def proc_cpu_ns(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1e9 / HZ


def test_vm_stats_and_stream(server, testkernel, kvm):
    s = server
    s.ok("POST", "/v1/vms", counter_spec("st"), want=201)
    st = s.ok("GET", "/v1/vms/st/stats")
    jsonschema.validate(st, openapi_schema(DOC, "VmStats"))
    assert not st["running"] and st["cpu_ns"] == 0 and st["mem"] == 64 << 20
    pid = s.ok("POST", "/v1/vms/st/start")["pid"]
    before = proc_cpu_ns(pid)
    st = s.ok("GET", "/v1/vms/st/stats")
    after = proc_cpu_ns(pid)
    jsonschema.validate(st, openapi_schema(DOC, "VmStats"))
    assert st["running"] and not st["paused"] and st["cpus"] == 1
    # /proc counts in ticks: the VMM's own figure lies between two readings
    assert before - 2e9 / HZ <= st["cpu_ns"] <= after + 2e9 / HZ, (before, st, after)
    rss = int(open(f"/proc/{pid}/statm").read().split()[1]) * os.sysconf("SC_PAGESIZE")
    assert 0.5 * rss <= st["rss"] <= 2 * rss, (st["rss"], rss)

    events, took = sse_events(s, "/v1/vms/st/stats?stream=true", 3)
    for e in events:
        jsonschema.validate(e, openapi_schema(DOC, "VmStats"))
        assert e["name"] == "st" and e["running"]
    assert events[0]["cpu_percent"] is None and events[2]["cpu_percent"] is not None
    assert events[2]["cpu_ns"] >= events[1]["cpu_ns"] >= events[0]["cpu_ns"]
    assert events[2]["uptime_ms"] > events[0]["uptime_ms"] >= 0
    assert 1.5 <= took <= 6, took

    st, _, text = s.request("GET", "/v1/vms/st/logs")  # the console's log, as text
    assert st == 200 and "counter: 1" in text, text[-500:]
    st, _, text = s.request("GET", "/v1/vms/st/logs?tail=1")
    assert st == 200 and text.count("\n") <= 1 and text.startswith("counter: "), text

    assert s.ok("POST", "/v1/vms/st/pause")["state"] == "paused"
    assert s.ok("GET", "/v1/vms/st/stats")["paused"]
    s.ok("POST", "/v1/vms/st/kill")
    deadline = time.time() + 10
    while s.ok("GET", "/v1/vms/st/stats")["running"] and time.time() < deadline:
        time.sleep(0.1)
    st = s.ok("GET", "/v1/vms/st/stats")
    assert not st["running"] and st["cpu_ns"] == 0 and st["rss"] == 0
    s.ok("DELETE", "/v1/vms/st", want=204)
    status, _, _ = s.request("GET", "/v1/vms/st/stats")
    assert status == 404
