"""Helpers of the API tests: a `vessel serve` started on its own --root, an
HTTP client over AF_UNIX or loopback TCP, and the OpenAPI schemas as JSON
Schema. Each server is killed by pid at the end, with the VMMs its root
records (only this test can have started them)."""
import base64
import hashlib
import http.client
import json
import os
import pathlib
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from vesseltest import TESTKERNEL, VESSEL  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[3]
OPENAPI = REPO / "docs/api/openapi.yaml"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        # through the directory's fd: pytest's tmp paths can exceed sun_path
        d = os.open(os.path.dirname(self.unix_path), os.O_PATH)
        try:
            s.connect(f"/proc/self/fd/{d}/{os.path.basename(self.unix_path)}")
        finally:
            os.close(d)
        self.sock = s


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`vessel --root ROOT serve ...`; .request() speaks to it."""

    def __init__(self, root, tcp=False, token=None, prefix=()):
        self.prefix = list(prefix)  # e.g. ip netns exec NS: the server runs in it
        self.root = pathlib.Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.tcp = tcp
        self.token = token
        self.proc = None
        self.port = None

    def start(self, extra=()):
        args = self.prefix + [str(VESSEL), "--root", str(self.root), "serve", *extra]
        if self.tcp:
            self.port = free_port()
            tf = self.root.parent / f"token-{os.getpid()}"
            tf.write_text(self.token + "\n")
            tf.chmod(0o600)
            args += ["--listen", f"127.0.0.1:{self.port}", "--token-file", str(tf)]
        self.err = open(self.root.parent / "serve.log", "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.err,
                                     start_new_session=True)
        end = time.time() + 10
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"vessel serve exited: {self.log()}")
            try:
                if self.request("GET", "/v1/host", auth=True)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("vessel serve did not answer within 10 s")

    def log(self):
        return (self.root.parent / "serve.log").read_text(errors="replace")

    @property
    def sock(self):
        return str(self.root / "vessel.sock")

    def conn(self, timeout=60):
        if self.tcp:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        return UnixHTTPConnection(self.sock, timeout=timeout)

    def request(self, method, path, body=None, auth=True, headers=None, raw=False):
        """Returns (status, parsed JSON or None, raw text)."""
        h = dict(headers or {})
        if self.tcp and auth is True:
            h["Authorization"] = f"Bearer {self.token}"
        elif isinstance(auth, str):
            h["Authorization"] = auth
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if body is not None:
            h["Content-Type"] = "application/json"
        c = self.conn()
        try:
            try:
                c.request(method, path, body=body, headers=h)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer (413) before reading a body; read that
            r = c.getresponse()
            text = r.read().decode(errors="replace")
        finally:
            c.close()
        is_json = (r.getheader("Content-Type") or "").startswith("application/json")
        return r.status, (json.loads(text) if text and is_json else None), text

    def ok(self, method, path, body=None, want=200):
        st, j, text = self.request(method, path, body)
        assert st == want, f"{method} {path}: {st} {text}"
        return j

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.proc:
            self.err.close()


def cli(root, *args, timeout=60):
    return subprocess.run([str(VESSEL), "--root", str(root), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def cli_ls(root):
    r = cli(root, "vm", "ls", "--format", "json")
    assert r.returncode == 0, r.stderr
    return {v["name"]: v for v in json.loads(r.stdout)}


def kill_vmms(root):
    if not (pathlib.Path(root) / "vessel.db").exists():
        return
    try:
        vms = cli_ls(root).values()
    except Exception:  # a broken store must not hide the test's own failure
        return
    for v in vms:
        if v.get("pid"):
            try:
                os.kill(v["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass


class WsClient:
    """A minimal RFC 6455 client (masked frames, ping, close) over the server's
    unix socket or TCP, for the console tests."""

    def __init__(self, server, path, timeout=30, tls=None, protocols=None, auth=True):
        if tls is not None:  # an ssl.SSLContext: HTTPS on server.port
            raw = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
            self.s = tls.wrap_socket(raw, server_hostname="127.0.0.1")
        elif server.tcp:
            self.s = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
        else:
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.settimeout(timeout)
            d = os.open(os.path.dirname(server.sock), os.O_PATH)
            try:
                self.s.connect(f"/proc/self/fd/{d}/{os.path.basename(server.sock)}")
            finally:
                os.close(d)
        key = base64.b64encode(os.urandom(16)).decode()
        auth = f"Authorization: Bearer {server.token}\r\n" if server.tcp and auth else ""
        if protocols:  # as a browser offers them (it cannot set Authorization)
            auth += f"Sec-WebSocket-Protocol: {protocols}\r\n"
        self.s.sendall((f"GET {path} HTTP/1.1\r\nHost: v\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        f"Sec-WebSocket-Version: 13\r\n{auth}\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            assert chunk, f"closed during the handshake: {self.buf!r}"
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head.decode()
        self.status = int(self.head.split()[1])
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.accept_ok = any(
            line.lower().startswith("sec-websocket-accept:") and line.split(":", 1)[1].strip()
            == want for line in self.head.split("\r\n"))

    def send(self, data, opcode=2, fin=True, mask=True):
        n = len(data)
        hdr = bytes([(0x80 if fin else 0) | opcode])
        m = 0x80 if mask else 0
        if n < 126:
            hdr += bytes([m | n])
        elif n < 65536:
            hdr += bytes([m | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([m | 127]) + struct.pack(">Q", n)
        key = os.urandom(4) if mask else b""
        body = bytes(b ^ key[i % 4] for i, b in enumerate(data)) if mask else data
        self.s.sendall(hdr + key + body)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("the server closed the connection")
            self.buf += chunk

    def recv(self):
        """(opcode, payload) of the next frame."""
        self._need(2)
        op, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
        off = 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n)
        data, self.buf = self.buf[off:off + n], self.buf[off + n:]
        return op, data

    def read_until(self, want, timeout):
        out, end = b"", time.time() + timeout
        while want not in out:
            self.s.settimeout(max(0.1, end - time.time()))
            try:
                op, data = self.recv()
            except socket.timeout:
                raise AssertionError(f"no {want!r} within {timeout} s: {out[-2000:]!r}")
            if op == 8:
                raise AssertionError(f"closed ({data!r}) before {want!r}: {out[-2000:]!r}")
            if op in (1, 2):
                out += data
        return out

    def close(self):
        self.s.close()


def import_busybox(root):
    """The busybox image of the container tests (tests/integration/run), as bb:1."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "run"))
    from runtest import busybox_tar
    tar = pathlib.Path(root).parent / "bb.tar"
    busybox_tar(tar)
    r = cli(root, "image", "import", tar, "bb:1")
    assert r.returncode == 0, r.stderr
    return "bb:1"


def remove_containers(root):
    """Every container of root removed (monitors and processes die), then any
    cgroup the store lost, by the ids under <root>/containers."""
    if not (pathlib.Path(root) / "vessel.db").exists():
        return
    try:
        cs = json.loads(cli(root, "ps", "-a", "--format", "json").stdout)
    except Exception:  # a broken store must not hide the test's own failure
        cs = []
    for c in cs:
        if c.get("kind") == "container":
            cli(root, "rm", "-f", c["id"])
    d = pathlib.Path(root) / "containers"
    for cid in [p.name for p in d.iterdir() if not p.name.startswith(".")] if d.exists() else []:
        for ctl in ("memory", "pids", "cpu,cpuacct", "freezer", "devices", "blkio", "cpuset",
                    "perf_event", "net_cls,net_prio", "hugetlb", "unified"):
            cg = pathlib.Path("/sys/fs/cgroup") / ctl / "vessel" / cid
            try:
                for pid in (cg / "cgroup.procs").read_text().split():
                    os.kill(int(pid), signal.SIGKILL)
                cg.rmdir()
            except OSError:
                pass


def counter_spec(name, accel="kvm"):
    return {"name": name, "kernel": str(TESTKERNEL), "append": "vessel.test=counter:100",
            "accel": accel, "mem": 64 << 20}


def wait_until(fn, timeout=10, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if fn():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def openapi_schema(doc, name):
    """components.schemas[name] as a JSON Schema (OpenAPI 3.0's nullable
    turned into a null type) that resolves its $refs in doc."""
    def conv(x):
        if isinstance(x, dict):
            y = {k: conv(v) for k, v in x.items() if k != "nullable"}
            if x.get("nullable"):
                if "type" in y:
                    y["type"] = [y["type"], "null"]
                if "enum" in y:
                    y["enum"] = y["enum"] + [None]
            return y
        if isinstance(x, list):
            return [conv(v) for v in x]
        return x
    return {"$ref": f"#/components/schemas/{name}", "components": conv(doc["components"])}
