"""nftables through libnftables: rules removed one by one by their
comment, published ports (DNAT) from another namespace, from the host's
own localhost and hairpin, conflicts, teardown."""
import os
import subprocess
import sys
import time

from netlab import BUSYBOX, NET_TOOL


def has_rule(lab, ns, comment):
    return f'comment "{comment}"' in lab.tool(ns, "nat-list").stdout


def test_isolation_rules_are_what_isolates(world, lab):
    h = world["host"]
    assert not lab.ping(world["a1"], "10.202.0.2")
    # without b's rules (and b out of the bridges set), a and b route freely
    lab.tool(h, "nat-net-del", "vessel-b")
    assert not has_rule(lab, h, "vessel:net:vessel-b:isolate")
    assert has_rule(lab, h, "vessel:net:vessel-a:isolate")
    assert lab.ping(world["a1"], "10.202.0.2", count=2)
    lab.tool(h, "nat-net-add", "vessel-b", "10.202.0.0/24")
    assert not lab.ping(world["a1"], "10.202.0.2")
    # the masquerade rule is what lets a1 out (outside has no route back)
    lab.tool(h, "nat-net-del", "vessel-a")
    assert not lab.ping(world["a1"], "172.31.0.2")
    lab.tool(h, "nat-net-add", "vessel-a", "10.201.0.0/24")
    assert lab.ping(world["a1"], "172.31.0.2")
    # an internal network's rules are what keep it in
    lab.tool(h, "nat-net-del", "vessel-i")
    lab.tool(h, "nat-net-add", "vessel-i", "10.203.0.0/24")  # now not internal
    assert lab.ping(world["i1"], "172.31.0.2")
    lab.tool(h, "nat-net-del", "vessel-i")
    lab.tool(h, "nat-net-add", "vessel-i", "10.203.0.0/24", "--internal")
    assert not lab.ping(world["i1"], "172.31.0.2")


def httpd(lab, ns, tmp_path, body):
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_text(body)
    p = lab.spawn(ns, BUSYBOX, "httpd", "-f", "-p", "80", "-h", root,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if fetch(lab, ns, "http://127.0.0.1/") == body:
            return p
        time.sleep(0.1)
    raise AssertionError("httpd did not come up")


# busybox 1.35's `wget -q` crashes here; a few lines of Python fetch instead
FETCH = ("import sys, urllib.request\n"
         "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())")


def fetch(lab, ns, url):
    """The body served at url as seen from namespace ns, None if unreachable."""
    p = lab.sh(ns, sys.executable, "-c", FETCH, url, timeout=30)
    return p.stdout if p.returncode == 0 else None


def test_published_port(world, lab, tmp_path):
    h = world["host"]
    body = f"vessel-{os.getpid()}\n"
    httpd(lab, world["a1"], tmp_path, body)
    assert fetch(lab, world["out"], "http://172.31.0.1:8080/") is None
    lab.tool(h, "nat-port-add", "8080:80", "10.201.0.2")
    assert has_rule(lab, h, "vessel:port:tcp:0.0.0.0:8080:10.201.0.2:80")
    assert lab.tool(h, "nat-port-list").stdout == "8080:80/tcp -> 10.201.0.2\n"
    assert fetch(lab, world["out"], "http://172.31.0.1:8080/") == body, "from another namespace"
    assert fetch(lab, h, "http://127.0.0.1:8080/") == body, "from the host's localhost"
    assert fetch(lab, h, "http://172.31.0.1:8080/") == body, "from the host's own address"
    assert fetch(lab, world["a2"], "http://172.31.0.1:8080/") == body, "hairpin"
    # a port already published is refused, in one line, and nothing is added
    before = lab.tool(h, "nat-list").stdout.count("dnat ip to")
    for spec in ("8080:81", "127.0.0.1:8080:80"):
        p = lab.tool(h, "nat-port-add", spec, "10.201.0.3", check=False)
        assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
        assert "already published" in p.stderr
    assert lab.tool(h, "nat-list").stdout.count("dnat ip to") == before
    lab.tool(h, "nat-port-add", "8080:80/udp", "10.201.0.3")  # other protocol: fine
    lab.tool(h, "nat-port-del", "8080:80/udp")
    # removed alone: the port stops answering, the network rules stay
    lab.tool(h, "nat-port-del", "8080:80")
    assert not has_rule(lab, h, "vessel:port:tcp:0.0.0.0:8080:10.201.0.2:80")
    assert lab.tool(h, "nat-port-list").stdout == ""
    assert has_rule(lab, h, "vessel:net:vessel-a:masquerade")
    assert fetch(lab, world["out"], "http://172.31.0.1:8080/") is None
    p = lab.tool(h, "nat-port-del", "8080:80", check=False)
    assert p.returncode == 1 and "is not published" in p.stderr


def test_port_on_one_host_address(world, lab, tmp_path):
    h = world["host"]
    body = "bound\n"
    httpd(lab, world["b1"], tmp_path, body)
    lab.tool(h, "nat-port-add", "127.0.0.1:9090:80", "10.202.0.2")
    assert fetch(lab, h, "http://127.0.0.1:9090/") == body
    assert fetch(lab, world["out"], "http://172.31.0.1:9090/") is None


def test_ports_removed_by_destination(world, lab):
    """An instance going away takes all its ports, and only its."""
    h = world["host"]
    for spec, dest in (("8080:80", "10.201.0.2"), ("8443:443", "10.201.0.2"),
                       ("5353:53/udp", "10.201.0.2"), ("8081:80", "10.201.0.3")):
        lab.tool(h, "nat-port-add", spec, dest)
    assert lab.tool(h, "nat-port-del-dest", "10.201.0.2").stdout == "removed 3\n"
    assert lab.tool(h, "nat-port-list").stdout == "8081:80/tcp -> 10.201.0.3\n"
    assert lab.tool(h, "nat-port-del-dest", "10.201.0.2").stdout == "removed 0\n"
    # the freed host port can be published again
    lab.tool(h, "nat-port-add", "8080:80", "10.201.0.3")


def test_teardown_removes_everything(world, lab):
    h = world["host"]
    lab.tool(h, "nat-port-add", "8080:80", "10.201.0.2")
    for br in ("vessel-a", "vessel-b", "vessel-i"):
        lab.tool(h, "nat-net-del", br)
    listing = lab.tool(h, "nat-list").stdout
    # only the published port is left: networks' rules and set elements went
    assert listing.count("comment") == 1 and "vessel:port:tcp:0.0.0.0:8080" in listing
    assert "vessel-" not in listing
    lab.tool(h, "nat-teardown")
    p = lab.tool(h, "nat-list", check=False)
    assert p.returncode == 1 and "No such file or directory" in p.stderr
    lab.tool(h, "nat-teardown")  # idempotent
    for br in ("vessel-a", "vessel-b", "vessel-i"):
        lab.tool(h, "link-del", br)
        assert lab.tool(h, "link-show", br, check=False).returncode != 0
    # deleting the host end of a veth removes the container's eth0
    lab.tool(h, "link-del", "vessel-a1")
    assert lab.tool(world["a1"], "link-show", "eth0", check=False).returncode != 0


def test_concurrent_first_use_makes_one_table(lab):
    """Eight networks added at once on a namespace without the table: the
    table is created once (its layout batch is atomic), every rule lands."""
    h = lab.netns("host")
    for i in range(8):
        lab.tool(h, "bridge-add", f"vessel-c{i}")
    procs = [subprocess.Popen([str(NET_TOOL), "-n", h, "nat-net-add", f"vessel-c{i}",
                               f"10.{240 + i}.0.0/24"], stderr=subprocess.PIPE, text=True)
             for i in range(8)]
    errs = [p.communicate(timeout=60)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errs
    listing = lab.tool(h, "nat-list").stdout
    assert listing.count("jump ports") == 2  # prerouting and output, once each
    for i in range(8):
        assert f'comment "vessel:net:vessel-c{i}:masquerade"' in listing


def test_forwarding_only_when_needed(lab):
    """An internal network routes nothing: forwarding stays off; the first
    network with outside access turns it on and says so, once."""
    h = lab.netns("host")
    fwd = "/proc/sys/net/ipv4/ip_forward"
    assert lab.sh(h, "cat", fwd).stdout.strip() == "0"
    for br in ("vessel-i", "vessel-n", "vessel-m"):
        lab.tool(h, "bridge-add", br)
    p = lab.tool(h, "nat-net-add", "vessel-i", "10.204.0.0/24", "--internal")
    assert p.stdout == "" and lab.sh(h, "cat", fwd).stdout.strip() == "0"
    p = lab.tool(h, "nat-net-add", "vessel-n", "10.205.0.0/24")
    assert p.stdout == "enabled IPv4 forwarding\n"
    assert lab.sh(h, "cat", fwd).stdout.strip() == "1"
    p = lab.tool(h, "nat-net-add", "vessel-m", "10.206.0.0/24")
    assert p.stdout == ""
