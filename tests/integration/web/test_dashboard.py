"""The dashboard in a real browser (Playwright driving Debian's chromium,
browser.mjs) against `vessel serve` on loopback TCP with a token: the list
shows a running VM (the test guest under kvm), the stop button stops one,
a create dialog starts a VM, the console shows the guest's output, the
login form, and the assets the server sends (types, caching, gzip, no path
outside the table). Screenshots of every view go to build/screenshots/."""
import gzip
import http.client
import json
import os
import pathlib
import subprocess

import pytest

from apitest import TESTKERNEL, counter_spec, wait_until
from vesseltest import GUEST_DIR, skip

HERE = pathlib.Path(__file__).resolve().parent  # browser.mjs ("conftest" is another dir's
# module when pytest runs several directories at once)

# A loose bound: the target is 300 ms (docs/dashboard.md); the tests run on a
# shared, loaded machine, so this catches a regression of another order.
INTERACTIVE_MAX_MS = 3000


def browse(env, server, scenario, timeout=240, **cfg):
    cfg = {"url": f"http://127.0.0.1:{server.port}", "token": server.token,
           "shots": str(env["shots"]), **cfg}
    r = subprocess.run([env["node"], str(HERE / "browser.mjs"), scenario],
                       env={**os.environ, "VESSEL_WEB": json.dumps(cfg)},
                       capture_output=True, text=True, timeout=timeout)
    out = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {}
    assert r.returncode == 0, f"{scenario}: {r.stderr.strip()}\n{server.log()[-2000:]}"
    assert not out.get("pageErrors"), out["pageErrors"]
    print(f"{scenario}: {json.dumps(out)}")
    return out


def get(server, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


@pytest.fixture(scope="module")
def running_vm(web_server, browser_env):
    if not os.path.exists("/dev/kvm"):
        skip("/dev/kvm is absent")
    if not TESTKERNEL.exists():
        pytest.fail(f"{TESTKERNEL} is not built")
    s = web_server
    for name in ("web-a", "web-b"):
        s.ok("POST", "/v1/vms", counter_spec(name), want=201)
        s.ok("POST", f"/v1/vms/{name}/start")
    return s


def has_endpoint(server, path):
    st, _, text = server.request("GET", path)
    return not (st == 404 and "no such endpoint" in text)


@pytest.fixture(scope="module")
def running_ctr(web_server, browser_env):
    """A running busybox container, where the server has /v1/containers."""
    s = web_server
    if not has_endpoint(s, "/v1/containers"):
        skip("the server has no /v1/containers (issue 17, branch api-ctr)")
    if os.geteuid() != 0:
        skip("containers need root")
    if not s.image:
        skip("/bin/busybox (busybox-static) is absent")
    s.ok("POST", "/v1/containers", {"name": "web-c", "image": s.image,
                                    "command": ["sh", "-c", "while :; do echo tick; sleep 1; done"]},
         want=201)
    s.ok("POST", "/v1/containers/web-c/start")
    return s


def test_assets_served(web_server):
    s = web_server
    st, h, body = get(s, "/", {"Accept-Encoding": "gzip"})
    assert st == 200 and h["content-type"] == "text/html; charset=utf-8"
    assert h["content-encoding"] == "gzip" and h["cache-control"] == "no-cache"
    html = gzip.decompress(body).decode()
    assert '<div id="app">' in html
    st, h2, plain = get(s, "/")  # no gzip asked: inflated
    assert st == 200 and "content-encoding" not in h2 and plain.decode() == html
    st, _, _ = get(s, "/", {"If-None-Match": h["etag"]})
    assert st == 304
    total = len(body)
    js = html.split('src="')[1].split('"')[0]
    css = html.split('stylesheet" href="')[1].split('"')[0]
    for path, ctype in ((js, "text/javascript; charset=utf-8"), (css, "text/css; charset=utf-8")):
        st, h, body = get(s, path, {"Accept-Encoding": "gzip, deflate"})
        assert st == 200 and h["content-type"] == ctype, (path, h)
        assert h["cache-control"] == "public, max-age=31536000, immutable"
        assert h["x-content-type-options"] == "nosniff" and "frame-ancestors 'none'" in h[
            "content-security-policy"]
        gzip.decompress(body)
        total += len(body)
    # what a first load fetches, and the whole bundle (xterm.js is loaded
    # with the first console): both within 300 KiB gzipped
    assert total <= 300 << 10, total
    print(f"first-load assets: {total} B gzipped")
    st, h, _ = get(s, "/", {"Accept-Encoding": "gzip;q=0"})
    assert st == 200 and "content-encoding" not in h
    # only the table's paths exist: no file system behind them
    for bad in ("/../../etc/passwd", "/assets/../../etc/passwd", "/assets/", "/index.htm",
                "/%2e%2e/etc/passwd", "/assets/app.js"):
        st, h, body = get(s, bad)
        assert st == 404 and json.loads(body) == {"error": "no such endpoint"}, bad
    st, _, body = get(s, "/dashboard.json")
    assert st == 200 and json.loads(body) == {"token_required": True}
    # the API behind it still wants the token
    st, _, _ = get(s, "/v1/vms")
    assert st == 401
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    c.request("POST", "/", body="x")
    assert c.getresponse().status == 405
    c.close()


def test_list_and_first_load(browser_env, running_vm):
    out = browse(browser_env, running_vm, "overview", running=["web-a", "web-b"])
    rows = {r[0]: r for r in out["rows"]}
    assert rows["web-a"][1:] == ["vm", "running"] and rows["web-b"][1:] == ["vm", "running"]
    print(f"first load to interactive: median {out['interactive_ms']:.0f} ms "
          f"of {[round(t) for t in out['interactive_all_ms']]}")
    assert out["interactive_ms"] <= INTERACTIVE_MAX_MS
    # streaming stats and uptimes do not move the layout: the cumulative
    # layout shift over 9 s of updates is 0 here; value columns that size to
    # their text measured 0.0014, so this bound catches them
    print(f"layout shift while streaming: {out['shift']:.4f}")
    assert out["shift"] < 0.0005, out["shift"]


def test_views_screenshots(browser_env, running_vm):
    out = browse(browser_env, running_vm, "views", name="web-a")
    for v in ("detail-vm", "detail-vm-log", "list-images", "list-networks", "list-disks",
              "create-vm-dialog", "detail-vm-dark", "detail-vm-phone"):
        assert (browser_env["shots"] / f"{v}.png").stat().st_size > 5000, v


def test_console_shows_guest_output(browser_env, running_vm):
    s = running_vm
    if not has_endpoint(s, "/v1/vms/web-a/console"):
        skip("the server has no /v1/vms/{name}/console (issue 17, branch api-ctr)")
    out = browse(browser_env, s, "console", kind="vm", name="web-a", expect="counter: ")
    assert "counter: " in out["before"]


def test_console_runs_typed_command(browser_env, web_server):
    """The kit's Linux guest (emu: its kernel cannot boot under this host's
    kvm) gives a shell on the console; a command typed into xterm.js runs."""
    s = web_server
    if not has_endpoint(s, "/v1/vms/x/console"):
        skip("the server has no /v1/vms/{name}/console (issue 17, branch api-ctr)")
    if not (GUEST_DIR / "vmlinuz").exists() or not (GUEST_DIR / "kit.txt").exists():
        skip(f"no guest kit in {GUEST_DIR} (make guest)")
    s.ok("POST", "/v1/vms", {"name": "web-lx", "accel": "emu", "mem": 256 << 20}, want=201)
    s.ok("POST", "/v1/vms/web-lx/start")
    try:
        out = browse(browser_env, s, "console", timeout=700, kind="vm", name="web-lx",
                     expect="vessel:~# ", type="echo hello-$((6*7))", want="hello-42",
                     wait_ms=300000)
        assert "hello-42" in out["after"]
    finally:
        s.request("POST", "/v1/vms/web-lx/kill")


def test_vm_disk_snapshot(browser_env, web_server):
    """A VM's page lists its disk from /v1/disks and takes a snapshot of it
    (the VM is not running: a running VM holds its disk's lock)."""
    s = web_server
    if not has_endpoint(s, "/v1/disks"):
        skip("the server has no /v1/disks (issue 17, branch api-ctr)")
    d = s.ok("POST", "/v1/disks", {"name": "web-disk", "size": "16M"}, want=201)
    s.ok("POST", "/v1/vms", {"name": "web-dvm", "kernel": str(TESTKERNEL), "mem": 64 << 20,
                             "disks": [{"path": d["path"]}]}, want=201)
    out = browse(browser_env, s, "snapshot", name="web-dvm", disk=d["path"],
                 diskName="web-disk", snap="snap1")
    assert any("snap1" in r for r in out["rows"]), out
    assert [x["name"] for x in s.ok("GET", "/v1/disks/web-disk")["snapshots"]] == ["snap1"]


def test_stop_button(browser_env, running_vm):
    s = running_vm
    out = browse(browser_env, s, "stop", name="web-b")
    assert out["state"] == "stopped"
    assert s.ok("GET", "/v1/vms/web-b")["state"] == "stopped"


def test_pause_resume_remove(browser_env, running_vm):
    s = running_vm
    if s.ok("GET", "/v1/vms/web-b")["state"] != "stopped":
        s.ok("POST", "/v1/vms/web-b/stop?timeout=5")
    out = browse(browser_env, s, "actions", name="web-a", gone="web-b")
    assert out == {"paused": True, "resumed": True, "removed": True}
    assert s.ok("GET", "/v1/vms/web-a")["state"] == "running"
    st, _, _ = s.request("GET", "/v1/vms/web-b")
    assert st == 404


def test_create_dialog_starts_vm(browser_env, running_vm):
    s = running_vm
    browse(browser_env, s, "create", kind="vm", name="web-new",
           fields={"name": "web-new", "kernel": str(TESTKERNEL), "append": "vessel.test=counter:100",
                   "mem": 64, "accel": "kvm"})
    info = s.ok("GET", "/v1/vms/web-new")
    assert info["state"] == "running" and info["mem"] == 64 << 20
    assert info["spec"]["kernel"] == str(TESTKERNEL)
    wait_until(lambda: s.ok("GET", "/v1/vms/web-new")["pid"], what="the VMM's pid")


def test_list_shows_container(browser_env, running_ctr):
    out = browse(browser_env, running_ctr, "overview", running=["web-c", "web-a"])
    rows = {r[0]: r for r in out["rows"]}
    assert rows["web-c"][1:] == ["container", "running"]


def test_container_page(browser_env, running_ctr):
    out = browse(browser_env, running_ctr, "ctrviews", name="web-c", expect="tick")
    cpu, mem = out["graph"][0], out["graph"][1]
    assert cpu.endswith("%") and mem.endswith("B"), out["graph"]  # values from the stream
    assert "tick" in out["log"]


def test_container_console_follows_window_size(browser_env, running_ctr):
    """A tty container's shell in the browser: `stty size` shows xterm.js's
    rows and columns, and the new ones once the window shrinks."""
    s = running_ctr
    s.ok("POST", "/v1/containers", {"name": "web-t", "image": s.image, "command": ["sh"],
                                    "tty": True}, want=201)
    s.ok("POST", "/v1/containers/web-t/start")
    try:
        out = browse(browser_env, s, "ttysize", name="web-t")
        assert out["before"] != out["after"], out
        assert out["after"][0] < out["before"][0] or out["after"][1] < out["before"][1], out
    finally:
        s.request("DELETE", "/v1/containers/web-t?force=true")


def test_create_dialog_starts_container(browser_env, running_ctr):
    s = running_ctr
    browse(browser_env, s, "create", kind="container", name="web-d",
           fields={"name": "web-d", "image": s.image, "command": "sleep 1000"})
    info = s.ok("GET", "/v1/containers/web-d")
    assert info["state"] == "running" and info["spec"]["command"] == ["sleep", "1000"]


def test_login_form(browser_env, web_server):
    out = browse(browser_env, web_server, "login")
    assert out["wrong"] == "The token was refused." or "token" in out["wrong"]
    assert out["stored"] is True
    assert "token=" not in out["url"]
