"""Consoles over WebSocket: GET /v1/vms/{name}/console upgrades to a
WebSocket relaying the VMM's console (control.md "console"): the test
guest's output arrives as binary frames, pings get pongs, a close gets a
close, a frame RFC 6455 forbids ends it with 1002, the VM's end closes it
with 1000; a Linux guest (the kit, under emu) runs a command typed through
the WebSocket and its output comes back. Refusals in one line: no upgrade
headers, a VM that does not run, a container without a terminal; a
container's shell (`tty`) over the same kind of WebSocket, whose window
size follows a resize message; a VM's serial console ignores one."""
import json
import struct
import time

from apitest import WsClient, counter_spec, import_busybox
from vesseltest import GUEST_DIR, skip


def one_line_error(text):
    j = json.loads(text)
    assert list(j) == ["error"] and j["error"] and "\n" not in j["error"], text
    return j["error"]


def test_vm_console_websocket(server, testkernel, kvm):
    s = server
    s.ok("POST", "/v1/vms", counter_spec("con"), want=201)
    st, _, text = s.request("GET", "/v1/vms/con/console")
    assert st == 409 and one_line_error(text) == "VM 'con' is not running"
    s.ok("POST", "/v1/vms/con/start")

    st, _, text = s.request("GET", "/v1/vms/con/console")  # plain GET: no upgrade
    assert st == 400 and "WebSocket" in one_line_error(text)

    ws = WsClient(s, "/v1/vms/con/console")
    assert ws.status == 101 and ws.accept_ok, ws.head
    out = ws.read_until(b"counter: 3", 30)
    assert b"counter: 1" in out  # the replay: output from before we connected
    ws.send(b"are you there", opcode=9)
    while True:
        op, data = ws.recv()
        if op == 10:
            assert data == b"are you there"
            break
    ws.send(struct.pack(">H", 1000), opcode=8)
    while True:
        op, data = ws.recv()
        if op == 8:
            assert struct.unpack(">H", data[:2])[0] == 1000
            break
    ws.close()

    ws = WsClient(s, "/v1/vms/con/console?replay=false")
    ws.send(b"x", mask=False)  # clients must mask (RFC 6455 5.1)
    while True:
        op, data = ws.recv()
        if op == 8:
            assert struct.unpack(">H", data[:2])[0] == 1002
            break
    ws.close()

    ws = WsClient(s, "/v1/vms/con/console?replay=false")
    assert ws.status == 101
    s.ok("POST", "/v1/vms/con/kill")
    end = time.time() + 15
    while time.time() < end:  # the VM's end closes the console with 1000
        op, data = ws.recv()
        if op == 8:
            assert struct.unpack(">H", data[:2])[0] == 1000
            break
    else:
        raise AssertionError("no close frame after the VM ended")
    ws.close()
    assert s.ok("GET", "/v1/host")["version"]  # still serving


def test_browser_token_as_subprotocol(make_server, testkernel, kvm):
    """Over TCP a browser's WebSocket cannot send Authorization: it offers
    `vessel, bearer.<token>` as subprotocols; the server takes the token and
    selects `vessel`. A wrong one is a 401."""
    s = make_server(tcp=True)
    s.ok("POST", "/v1/vms", counter_spec("br"), want=201)
    s.ok("POST", "/v1/vms/br/start")
    ws = WsClient(s, "/v1/vms/br/console", auth=False, protocols=f"vessel, bearer.{s.token}")
    assert ws.status == 101 and ws.accept_ok, ws.head
    assert "sec-websocket-protocol: vessel" in ws.head.lower()
    ws.read_until(b"counter: 1", 30)
    ws.close()
    ws = WsClient(s, "/v1/vms/br/console", auth=False, protocols="vessel, bearer.wrong")
    assert ws.status == 401
    ws.close()
    ws = WsClient(s, "/v1/vms/br/console", auth=False)
    assert ws.status == 401
    ws.close()
    s.ok("POST", "/v1/vms/br/kill")


def test_container_attach_over_websocket(make_server, ctr_root):
    """A container run with a terminal ("tty": true): its shell over the
    WebSocket runs a typed command. Without a terminal, or not running: a
    409 in one line; an unknown container: 404."""
    s = make_server()
    img = import_busybox(s.root)
    s.ok("POST", "/v1/containers", {"name": "c", "image": img, "command": ["true"]}, want=201)
    st, _, text = s.request("GET", "/v1/containers/c/attach")
    assert st == 409 and one_line_error(text) == "container c has no terminal (run it with -t)"
    st, _, text = s.request("GET", "/v1/containers/nope/attach")
    assert st == 404
    s.ok("POST", "/v1/containers", {"name": "t", "image": img, "command": ["sh"], "tty": True},
         want=201)
    st, _, text = s.request("GET", "/v1/containers/t/attach")
    assert st == 409 and one_line_error(text) == "container t is not running"
    s.ok("POST", "/v1/containers/t/start")
    ws = WsClient(s, "/v1/containers/t/attach")
    assert ws.status == 101 and ws.accept_ok, ws.head
    ws.send(b"echo hello-$((6*7))\r", opcode=1)
    ws.read_until(b"hello-42", 30)
    ws.close()
    s.ok("DELETE", "/v1/containers/t?force=true", want=204)


def resize(cols, rows):
    return json.dumps({"resize": [cols, rows]}).encode()


def close_code(ws, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        op, data = ws.recv()
        if op == 8:
            return struct.unpack(">H", data[:2])[0], data[2:].decode()
    raise AssertionError("no close frame")


def test_container_resize_over_websocket(make_server, ctr_root):
    """A text frame {"resize":[cols,rows]} sets the container's window size
    (the monitor's TIOCSWINSZ, as `vessel attach` on SIGWINCH): `stty size`
    in its shell shows it, then another after a second resize; a JSON
    object that is not exactly a resize is keys; a malformed resize closes
    the WebSocket with 1007 and the reason, and the container runs on."""
    s = make_server()
    img = import_busybox(s.root)
    s.ok("POST", "/v1/containers", {"name": "rs", "image": img, "command": ["sh"], "tty": True},
         want=201)
    s.ok("POST", "/v1/containers/rs/start")
    ws = WsClient(s, "/v1/containers/rs/attach")
    assert ws.status == 101, ws.head
    ws.send(resize(132, 43), opcode=1)
    ws.send(b"echo size-$(stty size | tr ' ' x)\r", opcode=1)
    ws.read_until(b"size-43x132", 30)
    ws.send(resize(77, 19), opcode=1)
    ws.send(b"echo again-$(stty size | tr ' ' x)\r", opcode=1)
    ws.read_until(b"again-19x77", 30)
    # not a control message: typed as is (the shell sees and echoes it)
    ws.send(b'echo \'{"resize":[1,1],"x":0}\'\r', opcode=1)
    ws.read_until(b'{"resize":[1,1],"x":0}', 30)
    ws.send(b"echo still-$(stty size | tr ' ' x)\r", opcode=1)
    ws.read_until(b"still-19x77", 30)
    ws.send(resize(0, 24), opcode=1)
    code, why = close_code(ws)
    assert code == 1007 and why == "resize: expected [cols, rows], integers from 1 to 65535"
    ws.close()
    assert s.ok("GET", "/v1/containers/rs")["state"] == "running"
    s.ok("DELETE", "/v1/containers/rs?force=true", want=204)


def test_vm_console_ignores_resize(server, testkernel, kvm):
    """A serial console has no window size: a resize on a VM's console is
    taken without a close or an error, and the console goes on."""
    s = server
    s.ok("POST", "/v1/vms", counter_spec("rsv"), want=201)
    s.ok("POST", "/v1/vms/rsv/start")
    ws = WsClient(s, "/v1/vms/rsv/console?replay=false")
    assert ws.status == 101, ws.head
    ws.send(resize(100, 30), opcode=1)
    ws.send(b"ping", opcode=9)
    while True:  # still served after the resize: the pong comes, no close
        op, data = ws.recv()
        assert op != 8, data
        if op == 10:
            break
    ws.read_until(b"counter: ", 30)
    ws.close()
    s.ok("POST", "/v1/vms/rsv/kill")


def test_linux_shell_over_websocket(make_server):
    if not (GUEST_DIR / "vmlinuz").exists() or not (GUEST_DIR / "kit.txt").exists():
        skip(f"no guest kit in {GUEST_DIR} (make guest)")
    s = make_server()
    s.ok("POST", "/v1/vms", {"name": "lx", "accel": "emu", "mem": 256 << 20}, want=201)
    s.ok("POST", "/v1/vms/lx/start")
    ws = WsClient(s, "/v1/vms/lx/console")
    assert ws.status == 101
    ws.read_until(b"vessel:~# ", 300)
    ws.send(b"echo hello-$((6*7))\r", opcode=1)
    ws.read_until(b"hello-42", 60)
    ws.close()
    s.ok("POST", "/v1/vms/lx/kill")

