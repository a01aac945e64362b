"""Joining another container's namespaces by path, --no-pivot, and a
terminal over --console-socket; on vessel and runc."""
import array
import os
import socket
import time

from ocitest import run_in_pty, uid


def test_join_namespaces_by_path(rt, bundle_factory):
    a = bundle_factory("a")
    a.config["hostname"] = "first"
    ida = uid()
    assert rt("run", "-d", "--bundle", a.args("sleep", "30").write(), ida).returncode == 0
    pid = rt.state(ida)["pid"]
    b = bundle_factory("b")
    b.config["hostname"] = ""
    for ns in b.config["linux"]["namespaces"]:
        if ns["type"] in ("uts", "network", "ipc"):
            ns["path"] = f"/proc/{pid}/ns/" + {"uts": "uts", "network": "net", "ipc": "ipc"}[ns["type"]]
    b.args("sh", "-c", "hostname; readlink /proc/self/ns/net")
    r = rt("run", "--bundle", b.write(), uid())
    assert r.returncode == 0, r.stderr
    host, net = r.stdout.split()
    assert host == "first"
    assert net == os.readlink(f"/proc/{pid}/ns/net")


def test_no_pivot(rt, bundle):
    r = rt("run", "--no-pivot", "--bundle", bundle.args("sh", "-c", "ls /bin/busybox").write(),
           uid())
    assert r.returncode == 0, r.stderr
    assert r.stdout == "/bin/busybox\n"


def recv_fd(conn):
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(1024, socket.CMSG_SPACE(fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:fds.itemsize])
    return fds[0]


def test_terminal_console_socket(rt, bundle, tmp_path):
    sock_path = str(tmp_path / "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    bundle.config["process"]["terminal"] = True
    b = bundle.args("sh", "-c", "tty; test -t 0 && echo is-a-tty").write()
    cid = uid()
    r = rt("create", "--bundle", b, "--console-socket", sock_path, cid)
    assert r.returncode == 0, r.stderr
    conn, _ = srv.accept()
    master = recv_fd(conn)
    assert rt("start", cid).returncode == 0
    out = b""
    end = time.time() + 10
    while time.time() < end and b"is-a-tty" not in out:
        try:
            out += os.read(master, 4096)
        except OSError:
            break
    os.close(master)
    conn.close()
    srv.close()
    text = out.decode().replace("\r", "")
    assert "/dev/pts/0\n" in text or "/dev/console\n" in text, text
    assert "is-a-tty" in text


def test_run_terminal_foreground(rt, bundle):
    """terminal: true and no --console-socket: `run` proxies the pty itself
    (the default `spec` config works as is)."""
    bundle.config["process"]["terminal"] = True
    b = bundle.args("sh", "-c", "tty; test -t 1 && echo is-a-tty; exit 4").write()
    status, text = run_in_pty([str(rt.bin), "--root", str(rt.root), "run", "--bundle", str(b),
                               uid()])
    text = text.replace("\r", "")
    assert status == 4, text
    assert "/dev/pts/0\n" in text or "/dev/console\n" in text, text
    assert "is-a-tty" in text
