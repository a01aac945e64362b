"""`vessel serve --tls-cert C --tls-key K` over loopback TCP: HTTPS with a
certificate the test makes (openssl), the token still required, plain HTTP
refused, a WebSocket console through TLS; refusals at start in one line (a
key others can read, one of the two files missing, TLS on the unix socket, a
key that does not match the certificate)."""
import http.client
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from apitest import TESTKERNEL, VESSEL, WsClient, counter_spec, free_port


def make_cert(d, name="c"):
    if not shutil.which("openssl"):
        pytest.skip("openssl is absent")
    cert, key = d / f"{name}.pem", d / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    key.chmod(0o600)
    return cert, key


def start(tmp_path, *extra):
    token = secrets.token_hex(16)
    tf = tmp_path / "token"
    tf.write_text(token + "\n")
    tf.chmod(0o600)
    port = free_port()
    p = subprocess.Popen([str(VESSEL), "--root", str(tmp_path / "root"), "serve", "--listen",
                          f"127.0.0.1:{port}", "--token-file", str(tf), *map(str, extra)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return p, port, token


def https(port, cert, token, path="/v1/host"):
    ctx = ssl.create_default_context(cafile=str(cert))
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    h = {"Authorization": f"Bearer {token}"} if token else {}
    c.request("GET", path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def test_https_with_token(tmp_path):
    cert, key = make_cert(tmp_path)
    p, port, token = start(tmp_path, "--tls-cert", cert, "--tls-key", key)
    try:
        end = time.time() + 10
        while True:
            try:
                st, body = https(port, cert, token)
                break
            except OSError:
                assert p.poll() is None and time.time() < end, p.stderr.read()
                time.sleep(0.05)
        assert st == 200 and b'"version"' in body
        assert https(port, cert, None)[0] == 401
        # plain HTTP to the TLS port gets no HTTP answer
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /v1/host HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            reply = s.recv(100)
        except (ConnectionResetError, socket.timeout):
            reply = b""
        s.close()
        assert not reply.startswith(b"HTTP/1.1 200"), reply
        if os.access("/dev/kvm", os.R_OK | os.W_OK) and TESTKERNEL.exists():
            console_through_tls(tmp_path, port, cert, token)
    finally:
        p.kill()
        p.wait()


class _Srv:  # what WsClient needs of a server
    tcp, sock = True, None

    def __init__(self, port, token):
        self.port, self.token = port, token


def console_through_tls(tmp_path, port, cert, token):
    """The test guest's console over a WebSocket inside TLS (MHD hands the
    relay a socketpair then, not the client's socket)."""
    import json
    ctx = ssl.create_default_context(cafile=str(cert))

    def call(method, path, body=None):
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
        c.request(method, path, body=json.dumps(body) if body else None,
                  headers={"Authorization": f"Bearer {token}"})
        r = c.getresponse()
        data = r.read()
        c.close()
        assert r.status in (200, 201), (path, r.status, data)
        return json.loads(data)

    call("POST", "/v1/vms", counter_spec("tlsvm"))
    pid = call("POST", "/v1/vms/tlsvm/start")["pid"]
    try:
        ws = WsClient(_Srv(port, token), "/v1/vms/tlsvm/console", tls=ctx)
        assert ws.status == 101 and ws.accept_ok, ws.head
        ws.read_until(b"counter: 2", 30)
        ws.close()
    finally:
        call("POST", "/v1/vms/tlsvm/kill")
        end = time.time() + 10
        while os.path.exists(f"/proc/{pid}") and time.time() < end:
            time.sleep(0.05)


@pytest.mark.parametrize("case", ["world-readable", "only-cert", "unix", "mismatch", "not-pem"])
def test_tls_refusals_one_line(tmp_path, case):
    cert, key = make_cert(tmp_path)
    cert2, key2 = make_cert(tmp_path, "other")
    args = {"world-readable": ["--tls-cert", cert, "--tls-key", key],
            "only-cert": ["--tls-cert", cert],
            "mismatch": ["--tls-cert", cert, "--tls-key", key2],
            "not-pem": ["--tls-cert", tmp_path / "token", "--tls-key", key]}.get(case)
    if case == "world-readable":
        key.chmod(0o644)
    if case == "unix":
        r = subprocess.run([str(VESSEL), "--root", str(tmp_path / "root"), "serve",
                            "--tls-cert", cert, "--tls-key", key], capture_output=True,
                           text=True, timeout=20)
    else:
        p, _, _ = start(tmp_path, *args)
        try:
            p.wait(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        r = subprocess.CompletedProcess(p.args, p.returncode, "", p.stderr.read())
    assert r.returncode == 1, (case, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vessel: "), (case, r.stderr)
    want = {"world-readable": "chmod 600", "only-cert": "both --tls-cert and --tls-key",
            "unix": "are for TCP", "mismatch": "matching PEM certificate and private key",
            "not-pem": "not a PEM file"}[case]
    assert want in lines[0], (case, lines[0])
    assert not os.path.exists(tmp_path / "root" / "vessel.sock")


def test_self_signed_made_once_and_pinned(tmp_path):
    """--tls-self-signed: <root>/tls/{cert,key}.pem made on first start (key
    0600), the fingerprint printed matches openssl's, HTTPS verifies against
    that certificate (SANs: localhost, 127.0.0.1), a second start reuses it."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is absent")
    fps = []
    for _ in range(2):
        p, port, token = start(tmp_path, "--tls-self-signed")
        try:
            line = p.stderr.readline()  # printed before it listens
            assert "SHA-256 fingerprint" in line, line
            fps.append(line.rsplit(" ", 1)[1].strip())
            cert = tmp_path / "root" / "tls" / "cert.pem"
            end = time.time() + 10
            while True:
                try:
                    st, body = https(port, cert, token)
                    break
                except OSError:
                    assert p.poll() is None and time.time() < end
                    time.sleep(0.05)
            assert st == 200
        finally:
            p.kill()
            p.wait()
    key = tmp_path / "root" / "tls" / "key.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    out = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint",
                          "-sha256"], capture_output=True, text=True, check=True).stdout
    assert fps[0] == fps[1] == out.strip().split("=", 1)[1]
    p, _, _ = start(tmp_path, "--tls-self-signed", "--tls-cert", cert, "--tls-key", key)
    assert p.wait(timeout=20) == 1
    assert "not both" in p.stderr.read()
