#!/usr/bin/env python3
"""Writes the seed corpus of the API request core (tests/fuzz/api-one.c):
each file is "METHOD PATH[?QUERY]\\n" followed by the body. Every route with
good and bad arguments and bodies. Rewrites tests/fuzz/corpus/api."""
import json
import pathlib

OUT = pathlib.Path(__file__).parent / "corpus" / "api"

SPEC = {"name": "new", "kernel": "/boot/vmlinuz", "initrd": None, "append": "quiet",
        "command": ["sh", "-c", "true"], "cpus": 2, "mem": 67108864, "cpu_model": "host",
        "accel": "kvm", "overcommit": False, "autostart": True,
        "disks": [{"path": "/srv/d.qcow2", "format": "qcow2", "readonly": False}]}

CTR = {"name": "c1", "image": "bb:1", "command": ["sh", "-c", "true"], "entrypoint": None,
       "env": ["A=1"], "workdir": "/work", "user": "1:1", "hostname": "h", "memory": 1 << 26,
       "cpu_millis": 500, "pids_limit": 20, "tmpfs": ["/t"], "network": "none",
       "volumes": [{"source": "/srv", "destination": "/srv", "readonly": True}],
       "read_only": False, "auto_remove": False, "log_max": 1 << 20}

SEEDS = {
    "host": "GET /v1/host\n",
    "host-arg": "GET /v1/host?x=1\n",
    "list": "GET /v1/vms\n",
    "images": "GET /v1/images\n",
    "get": "GET /v1/vms/web\n",
    "get-missing": "GET /v1/vms/nope\n",
    "get-empty-name": "GET /v1/vms/\n",
    "create-full": "POST /v1/vms\n" + json.dumps(SPEC),
    "create-min": 'POST /v1/vms\n{"name": "a"}',
    "create-taken": 'POST /v1/vms\n{"name": "web"}',
    "create-unknown": 'POST /v1/vms\n{"name": "a", "cpu": 2}',
    "create-type": 'POST /v1/vms\n{"name": "a", "cpus": "2"}',
    "create-noname": 'POST /v1/vms\n{"cpus": 1}',
    "create-array": "POST /v1/vms\n[1, 2]",
    "create-trunc": 'POST /v1/vms\n{"name": "a", "disks": [{"path": ',
    "create-disk-bad": 'POST /v1/vms\n{"name": "a", "disks": [{"path": "/x", "size": 1}]}',
    "create-disk-notobj": 'POST /v1/vms\n{"name": "a", "disks": ["/x"]}',
    "create-dup": 'POST /v1/vms\n{"name": "a", "name": "b"}',
    "create-nul": 'POST /v1/vms\n{"name": "a\\u0000b"}',
    "create-huge-int": 'POST /v1/vms\n{"name": "a", "mem": 99999999999999999999999}',
    "create-empty": "POST /v1/vms\n",
    "start": "POST /v1/vms/web/start\n",
    "start-overcommit": "POST /v1/vms/web/start?overcommit=true\n",
    "start-bad-bool": "POST /v1/vms/web/start?overcommit=maybe\n",
    "start-body": "POST /v1/vms/web/start\n{}",
    "stop": "POST /v1/vms/web/stop?timeout=0\n",
    "stop-big": "POST /v1/vms/web/stop?timeout=86401\n",
    "stop-neg": "POST /v1/vms/web/stop?timeout=-1\n",
    "stop-many-args": "POST /v1/vms/web/stop?a&b&c&d&e&f&g&h&i\n",
    "restart": "POST /v1/vms/web/restart?timeout=1\n",
    "kill": "POST /v1/vms/web/kill\n",
    "pause": "POST /v1/vms/web/pause\n",
    "resume": "POST /v1/vms/nope/resume\n",
    "delete": "DELETE /v1/vms/web?force\n",
    "delete-busy": "DELETE /v1/vms/web\n",
    "wrong-method": "PUT /v1/vms\n",
    "unknown-path": "GET /v2/vms\n",
    "action-unknown": "POST /v1/vms/web/explode\n",
    "long-name": "GET /v1/vms/" + "a" * 300 + "\n",
    # found by the fuzzer: a name that is not UTF-8 made an error reply
    # json_pack could not encode (an empty body)
    "bad-utf8-name": b"DELETE /v1/vms/we\x9b\xc0\x99\x90rce\n",
    "ctl-key": 'POST /v1/vms\n{"\\name": "web"}',  # a newline in a quoted key
    "ctl-name": b"GET /v1/vms/a\x01b\n",
    "create-utf8": 'POST /v1/vms\n{"name": "a", "cpus": 0, "append": "\u00e9\U0001f600"}',
    # containers
    "ctr-list": "GET /v1/containers\n",
    "ctr-get-prefix": "GET /v1/containers/b0b\n",
    "ctr-create-full": "POST /v1/containers\n" + json.dumps(CTR),
    "ctr-create-min": 'POST /v1/containers\n{"image": "bb:1"}',
    "ctr-create-cpus": 'POST /v1/containers\n{"image": "bb:1", "cpus": 0.5}',
    "ctr-create-both-cpus": 'POST /v1/containers\n{"image": "bb", "cpus": 1, "cpu_millis": 9}',
    "ctr-create-noimage": 'POST /v1/containers\n{"name": "x"}',
    "ctr-create-taken": 'POST /v1/containers\n{"image": "bb", "name": "box"}',
    "ctr-create-badvol": 'POST /v1/containers\n{"image": "bb", "volumes": [{"source": "/a"}]}',
    "ctr-create-badnet": 'POST /v1/containers\n{"image": "bb", "network": "bridge"}',
    "ctr-create-argv": 'POST /v1/containers\n{"image": "bb", "command": ["a", 1]}',
    "ctr-start": "POST /v1/containers/box/start\n",
    "ctr-stop": "POST /v1/containers/box/stop?timeout=3&signal=INT\n",
    "ctr-stop-badsig": "POST /v1/containers/box/stop?signal=NOPE\n",
    "ctr-kill": "POST /v1/containers/box/kill?signal=9\n",
    "ctr-kill-zero": "POST /v1/containers/box/kill?signal=0\n",
    "ctr-pause": "POST /v1/containers/box/pause\n",
    "ctr-resume": "POST /v1/containers/nope/resume\n",
    "ctr-restart": "POST /v1/containers/box/restart?timeout=0\n",
    "ctr-delete": "DELETE /v1/containers/box?force=true\n",
    "ctr-logs": "GET /v1/containers/box/logs?tail=10\n",
    "ctr-logs-zero": "GET /v1/containers/box/logs?tail=0\n",
    "ctr-logs-follow": "GET /v1/containers/box/logs?follow=true\n",
    "ctr-stats": "GET /v1/containers/box/stats\n",
    "ctr-stats-stream": "GET /v1/containers/box/stats?stream=true\n",
    "ctr-stats-bad": "GET /v1/containers/box/stats?stream=maybe\n",
    "vm-stats": "GET /v1/vms/web/stats\n",
    "vm-logs": "GET /v1/vms/web/logs?tail=3\n",
    "vm-logs-bad": "GET /v1/vms/web/logs?tail=x\n",
    "vm-stats-stream": "GET /v1/vms/web/stats?stream=1\n",
    "vm-stats-missing": "GET /v1/vms/nope/stats?stream=true\n",
    # networks
    "net-list": "GET /v1/networks\n",
    "net-get": "GET /v1/networks/lan\n",
    "net-get-missing": "GET /v1/networks/wan\n",
    "net-create": 'POST /v1/networks\n{"name": "n2", "subnet": "10.1.2.0/24", "gateway": null, '
                  '"internal": true, "mtu": 1400, "vlan": 5}',
    "net-create-taken": 'POST /v1/networks\n{"name": "lan"}',
    "net-create-noname": 'POST /v1/networks\n{"subnet": "10.1.2.0/24"}',
    "net-create-badmtu": 'POST /v1/networks\n{"name": "x", "mtu": 70000}',
    "net-create-unknown": 'POST /v1/networks\n{"name": "x", "dns": "1.1.1.1"}',
    "net-delete": "DELETE /v1/networks/lan\n",
    # disks
    "disk-list": "GET /v1/disks\n",
    "disk-get": "GET /v1/disks/d0\n",
    "disk-create": 'POST /v1/disks\n{"name": "d1", "size": "10G", "format": "qcow2"}',
    "disk-create-bytes": 'POST /v1/disks\n{"name": "d1", "size": 1048576, "format": "raw"}',
    "disk-create-clone": 'POST /v1/disks\n{"name": "d1", "backing": "d0"}',
    "disk-create-badsize": 'POST /v1/disks\n{"name": "d1", "size": "10Q"}',
    "disk-create-huge": 'POST /v1/disks\n{"name": "d1", "size": "99999T"}',
    "disk-create-unknown": 'POST /v1/disks\n{"name": "d1", "size": 1, "color": "red"}',
    "disk-snapshot": 'POST /v1/disks/d0/snapshots\n{"name": "before"}',
    "disk-snapshot-noname": "POST /v1/disks/d0/snapshots\n{}",
    "disk-delete": "DELETE /v1/disks/d0\n",
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    for name, text in SEEDS.items():
        (OUT / name).write_bytes(text if isinstance(text, bytes) else text.encode())


if __name__ == "__main__":
    main()
