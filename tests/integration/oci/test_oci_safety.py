"""What the runtime must never do to the host (issue 10): write a sysctl
that no namespace of the container's own isolates, block on a FIFO given
as a namespace path. Each case runs on vessel and runc (`rt`) where runc
can run it safely; each leaves nothing behind even when it fails."""
import os
import stat
import time

import pytest

from ocitest import uid


def sysctl_value(key):
    return open("/proc/sys/" + key.replace(".", "/")).read().strip()


def drop_ns(c, name):
    c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != name]


# (key, namespace the config lacks or shares, the refusal's words). The
# values written are the host's current ones, so a regression that writes
# them anyway changes nothing on this shared machine.
HOST_SYSCTLS = [
    ("fs.lease-break-time", None, "is not in a separate kernel namespace"),
    ("kernel.pid_max", None, "is not in a separate kernel namespace"),
    ("net.core.somaxconn", "network", "not allowed in"),
    ("kernel.shmmni", "ipc", "not allowed in"),
    ("fs.mqueue.msg_max", "ipc", "not allowed in"),
]


@pytest.mark.parametrize("key,shared,words", HOST_SYSCTLS)
def test_host_sysctl_refused(rt, bundle, key, shared, words):
    before = sysctl_value(key)
    bundle.config["linux"]["sysctl"] = {key: before}
    if shared:
        drop_ns(bundle.config, shared)
    cid = uid()
    r = rt("create", "--bundle", bundle.write(), cid)
    assert r.returncode != 0, f"{rt.name} accepted host sysctl {key}"
    assert key in r.stderr and words in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert rt.state(cid) is None
    assert sysctl_value(key) == before


def test_sysctl_in_joined_host_netns_refused(rt, bundle):
    """A network namespace joined by path that is the host's own."""
    key = "net.core.somaxconn"
    bundle.config["linux"]["sysctl"] = {key: sysctl_value(key)}
    drop_ns(bundle.config, "network")
    bundle.config["linux"]["namespaces"].append({"type": "network", "path": f"/proc/{os.getpid()}/ns/net"})
    cid = uid()
    r = rt("create", "--bundle", bundle.write(), cid)
    assert r.returncode != 0 and key in r.stderr, r.stderr
    assert rt.state(cid) is None


def test_namespaced_sysctls_still_written(rt, bundle):
    """The container's own namespaces take their keys (the ipc, network and
    uts ones), without touching the host's values."""
    host = {k: sysctl_value(k) for k in ("kernel.shmmni", "net.ipv4.ip_forward")}
    want = {"kernel.shmmni": "1000", "net.ipv4.ip_forward": "1"}
    bundle.config["linux"]["sysctl"] = want
    b = bundle.args("sh", "-c", "cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_forward").write()
    r = rt("run", "--bundle", b, uid())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1000", "1"], r.stdout
    assert {k: sysctl_value(k) for k in host} == host


def test_fifo_namespace_path_refused(vessel_rt, bundle, tmp_path):
    """runc 1.1 opens the path with a blocking open(2) and hangs forever
    (not run on runc: it would leave a stuck process behind)."""
    fifo = tmp_path / "netns-fifo"
    os.mkfifo(fifo)
    drop_ns(bundle.config, "network")
    bundle.config["linux"]["namespaces"].append({"type": "network", "path": str(fifo)})
    cid = uid()
    t = time.monotonic()
    r = vessel_rt("create", "--bundle", bundle.write(), cid, timeout=20)
    assert time.monotonic() - t < 10
    assert r.returncode != 0
    assert "is not a namespace file" in r.stderr and str(fifo) in r.stderr, r.stderr
    assert vessel_rt.state(cid) is None
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_wrong_namespace_type_refused(vessel_rt, bundle):
    drop_ns(bundle.config, "network")
    bundle.config["linux"]["namespaces"].append({"type": "network", "path": "/proc/self/ns/uts"})
    cid = uid()
    r = vessel_rt("create", "--bundle", bundle.write(), cid)
    assert r.returncode != 0 and "is not a network namespace" in r.stderr, r.stderr
    assert vessel_rt.state(cid) is None


def test_fifo_config_and_pid_file_refused(vessel_rt, bundle, tmp_path):
    """config.json and the pid file's temporary name are opened without
    blocking too: a FIFO there is a one-line error, not a hang."""
    b = bundle.write()
    pidfile = tmp_path / "pid"
    os.mkfifo(str(pidfile) + ".tmp")
    cid = uid()
    r = vessel_rt("create", "--bundle", b, "--pid-file", pidfile, cid, timeout=20)
    assert r.returncode != 0 and "writing pid file" in r.stderr, r.stderr
    assert vessel_rt.state(cid) is None
    os.unlink(bundle.path / "config.json")
    os.mkfifo(bundle.path / "config.json")
    r = vessel_rt("create", "--bundle", b, cid, timeout=20)
    assert r.returncode != 0 and "config.json" in r.stderr, r.stderr
    assert vessel_rt.state(cid) is None
