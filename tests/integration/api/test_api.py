"""`vessel serve` over its unix socket and over loopback TCP with a token:
the VM lifecycle of the test guest (kvm), the CLI and the API agreeing
through the store, authentication, bad requests, and a SIGKILLed server
that leaves its VMs running."""
import json
import os
import socket
import stat
import subprocess
import time

from apitest import VESSEL, cli, cli_ls, counter_spec, wait_until


def one_line_error(text):
    j = json.loads(text)
    assert list(j) == ["error"] and isinstance(j["error"], str), text
    assert j["error"] and "\n" not in j["error"], text
    return j["error"]


def test_host_and_socket_mode(make_server):
    s = make_server()
    assert stat.S_IMODE(os.stat(s.sock).st_mode) == 0o600
    h = s.ok("GET", "/v1/host")
    assert h["cpus"] == os.cpu_count()
    assert h["memory"]["total"] > h["memory"]["available"] > 0
    assert h["disk"]["path"] == str(s.root) and h["disk"]["total"] > 0
    assert h["version"]
    assert s.ok("GET", "/v1/images") == []


def test_vm_lifecycle(server, testkernel, kvm):
    s = server
    info = s.ok("POST", "/v1/vms", counter_spec("life"), want=201)
    assert info["state"] == "created" and info["spec"]["append"] == "vessel.test=counter:100"
    assert [v["name"] for v in s.ok("GET", "/v1/vms")] == ["life"]
    assert cli_ls(s.root)["life"]["state"] == "created"

    info = s.ok("POST", "/v1/vms/life/start")
    assert info["state"] == "running" and info["pid"] > 0
    pid = info["pid"]
    assert cli_ls(s.root)["life"]["state"] == "running"
    assert cli_ls(s.root)["life"]["pid"] == pid
    wait_until(lambda: "counter: 2" in cli(s.root, "vm", "logs", "life").stdout,
               what="the guest's counter")

    st, _, text = s.request("POST", "/v1/vms/life/start")
    assert st == 409 and "already running" in one_line_error(text)
    st, _, text = s.request("DELETE", "/v1/vms/life")
    assert st == 409, text
    one_line_error(text)

    info = s.ok("POST", "/v1/vms/life/stop?timeout=5")
    assert info["state"] == "stopped"
    assert cli_ls(s.root)["life"]["state"] == "stopped"
    assert [v["state"] for v in s.ok("GET", "/v1/vms")] == ["stopped"]
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), what="the VMM to exit")

    s.ok("DELETE", "/v1/vms/life", want=204)
    assert s.ok("GET", "/v1/vms") == []
    assert cli_ls(s.root) == {}
    st, _, text = s.request("GET", "/v1/vms/life")
    assert st == 404 and one_line_error(text) == "no VM named 'life' (see vessel vm ls)"


def test_cli_and_api_agree(server, testkernel):
    """What the CLI creates the API lists, and the other way round; errors are
    the CLI's own line."""
    s = server
    r = cli(s.root, "vm", "create", "fromcli", "--kernel", testkernel, "--mem", "64M")
    assert r.returncode == 0, r.stderr
    assert [v["name"] for v in s.ok("GET", "/v1/vms")] == ["fromcli"]
    s.ok("POST", "/v1/vms", {"name": "fromapi", "kernel": str(testkernel), "mem": 64 << 20},
         want=201)
    assert sorted(cli_ls(s.root)) == ["fromapi", "fromcli"]
    st, _, text = s.request("POST", "/v1/vms", {"name": "fromcli", "kernel": str(testkernel)})
    r = cli(s.root, "vm", "create", "fromcli", "--kernel", testkernel)
    assert st == 409 and r.returncode == 1
    assert r.stderr == f"vessel: {one_line_error(text)}\n"
    assert s.ok("GET", "/v1/vms/fromapi") == cli_ls(s.root)["fromapi"] | {
        "uptime_ms": None}


BAD = [
    ("POST", "/v1/vms", b'{"name": ', 400, "malformed JSON"),
    ("POST", "/v1/vms", b'[1]', 400, "must be a JSON object"),
    ("POST", "/v1/vms", b'{"name": "a", "cpu": 2}', 400, "unknown field 'cpu'"),
    ("POST", "/v1/vms", b'{"name": "a", "cpus": "2"}', 400, "field 'cpus' must be an integer"),
    ("POST", "/v1/vms", b'{"name": 7}', 400, "field 'name' must be a string"),
    ("POST", "/v1/vms", b'{"cpus": 1}', 400, "field 'name' is required"),
    ("POST", "/v1/vms", b'{"name": "a", "disks": [{"path": "/x", "size": 1}]}', 400,
     "disks[0]: unknown field 'size'"),
    ("POST", "/v1/vms", b'{"name": "a", "name": "b"}', 400, "duplicate"),
    ("POST", "/v1/vms", b'{"name": "a", "cpus": 0}', 400, "spec:"),
    ("POST", "/v1/vms", b'{"name": "bad name"}', 400, None),
    ("POST", "/v1/vms", b'x' * (65 << 10), 413, "too large"),
    ("POST", "/v1/vms", b'x' * (3 << 20), 413, "too large"),
    ("POST", "/v1/vms/a/stop?timeout=abc", None, 400, "timeout"),
    ("POST", "/v1/vms/a/start?bogus=1", None, 400, "unknown query argument 'bogus'"),
    ("POST", "/v1/vms/a/start", b'{}', 400, "takes no body"),
    ("GET", "/v1/vms/nope", None, 404, "no VM named 'nope'"),
    ("POST", "/v1/vms/nope/kill", None, 404, "no VM named 'nope'"),
    ("GET", "/v2/anything", None, 404, "no such endpoint"),
    ("PUT", "/v1/vms", None, 405, "method not allowed"),
    ("DELETE", "/v1/host", None, 405, "method not allowed"),
]


def test_bad_requests_keep_serving(server):
    for method, path, body, want, part in BAD:
        st, _, text = server.request(method, path, body)
        assert st == want, (method, path, body[:40] if body else None, st, text)
        msg = one_line_error(text)
        assert part is None or part in msg, (path, msg)
        assert server.ok("GET", "/v1/host")["cpus"] > 0  # still serving
    assert server.ok("GET", "/v1/vms") == []  # nothing half-created


def test_tcp_token(make_server):
    s = make_server(tcp=True)
    st, _, text = s.request("GET", "/v1/vms", auth=False)
    assert st == 401 and "token" in one_line_error(text)
    st, _, text = s.request("GET", "/v1/vms", auth="Bearer " + "0" * 32)
    assert st == 401 and one_line_error(text) == "wrong token"
    st, _, text = s.request("POST", "/v1/vms", {"name": "x"}, auth=False)
    assert st == 401
    assert s.ok("GET", "/v1/vms") == []  # the right token works
    assert "wrong token" in s.log() or "127.0.0.1" in s.log()


def test_tcp_failed_attempts_limited_and_logged(make_server):
    s = make_server(tcp=True)
    for i in range(5):
        assert s.request("GET", "/v1/host", auth=f"Bearer wrong{i:028d}")[0] == 401
    st, _, text = s.request("GET", "/v1/host")  # even the right token, for a while
    assert st == 429 and "too many" in one_line_error(text)
    log = s.log()
    assert log.count("127.0.0.1: wrong token") == 5, log
    assert "refused: too many failed attempts" in log


def test_tcp_refused_without_token_file(tmp_path):
    r = subprocess.run([str(VESSEL), "--root", str(tmp_path / "root"), "serve", "--listen",
                        "127.0.0.1:1"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert "needs --token-file" in r.stderr


def test_token_file_readable_by_others_refused(tmp_path):
    tf = tmp_path / "token"
    tf.write_text("a" * 32)
    tf.chmod(0o644)
    r = subprocess.run([str(VESSEL), "--root", str(tmp_path / "root"), "serve", "--listen",
                        "127.0.0.1:1", "--token-file", str(tf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "chmod 600" in r.stderr, r.stderr


def test_second_server_on_same_socket_refused(make_server):
    s = make_server()
    r = subprocess.run([str(VESSEL), "--root", str(s.root), "serve"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1 and "another server is listening" in r.stderr, r.stderr
    assert s.ok("GET", "/v1/host")  # and the first still serves


def test_sigkill_of_server_leaves_vm_running(make_server, testkernel, kvm):
    s = make_server()
    pid = s.ok("POST", "/v1/vms", counter_spec("keep"), want=201) and \
        s.ok("POST", "/v1/vms/keep/start")["pid"]
    s.kill()  # SIGKILL
    time.sleep(0.3)
    assert os.path.exists(f"/proc/{pid}"), "the VMM died with the server"
    assert cli_ls(s.root)["keep"]["state"] == "running"
    logs = lambda: cli(s.root, "vm", "logs", "keep").stdout.count("counter: ")  # noqa: E731
    n = logs()
    wait_until(lambda: logs() > n + 2, what="the guest to go on counting")

    s2 = make_server()  # same root; the killed server's socket is stale
    vms = s2.ok("GET", "/v1/vms")
    assert [(v["name"], v["state"], v["pid"]) for v in vms] == [("keep", "running", pid)]
    s2.ok("POST", "/v1/vms/keep/kill")
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), what="the VMM to exit")
    assert cli_ls(s.root)["keep"]["state"] == "stopped"


def test_two_servers_one_store(make_server, testkernel):
    """A unix-socket server and a TCP server on one root: what one creates the
    other lists and can remove."""
    a = make_server()
    b = make_server(tcp=True, root=a.root)
    a.ok("POST", "/v1/vms", {"name": "shared", "kernel": str(testkernel), "mem": 64 << 20},
         want=201)
    assert [v["name"] for v in b.ok("GET", "/v1/vms")] == ["shared"]
    st, _, text = b.request("POST", "/v1/vms", {"name": "shared", "kernel": str(testkernel)})
    assert st == 409, text
    b.ok("DELETE", "/v1/vms/shared", want=204)
    assert a.ok("GET", "/v1/vms") == []


def test_stalled_client_does_not_block_others(make_server):
    s = make_server()
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    d = os.open(str(s.root), os.O_PATH)
    try:
        stalled.connect(f"/proc/self/fd/{d}/vessel.sock")
        stalled.sendall(b"POST /v1/vms HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        t0 = time.time()
        for _ in range(5):
            assert s.ok("GET", "/v1/vms") == []
        assert time.time() - t0 < 2
    finally:
        os.close(d)
        stalled.close()


def test_path_names_cannot_escape(server):
    for path in ("/v1/vms/..", "/v1/vms/.", "/v1/vms/%2e%2e", "/v1/vms/a%2fb"):
        st, _, text = server.request("GET", path)
        assert st in (400, 404), (path, st, text)
        one_line_error(text)
    st, _, text = server.request("POST", "/v1/vms/../start")
    assert st in (400, 404), text
    # bytes that are not a name: refused before the service layer, in one line
    st, _, text = server.request("DELETE", "/v1/vms/we%9b%c0%0arce")
    assert st == 400 and one_line_error(text) == "invalid name in the path", text
    st, _, text = server.request("POST", "/v1/vms", b'{"\\nname": 1}')
    assert st == 400 and one_line_error(text) == "unknown field '?name'", text
