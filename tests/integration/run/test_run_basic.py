"""vessel run: output, exit status, the image config, isolation of the
containers' layers, bad input."""
import json
import os

from runtest import wait_until


def test_echo_hi_rm(rt):
    img = rt.image()
    r = rt.run("run", "--rm", img, "echo", "hi")
    assert (r.returncode, r.stdout) == (0, "hi\n"), r.stderr
    assert rt.ps("-a") == []
    assert rt.ids() == []


def test_exit_status_and_stderr(rt):
    img = rt.image()
    r = rt.run("run", "--rm", img, "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (r.returncode, r.stdout, r.stderr) == (7, "out\n", "err\n")
    # the init is pid 1 of its namespace: signals it has no handler for
    # do not reach it from inside (kill from outside: test_run_detach.py)
    r = rt.run("run", "--rm", img, "sh", "-c", "kill -9 $$; exit 5")
    assert r.returncode == 5, r.stderr


def test_stdio_and_no_leaked_fds(rt):
    img = rt.image()
    r = rt.run("run", "--rm", img, "sh", "-c", "ls /proc/$$/fd; readlink /proc/$$/fd/0")
    assert (r.returncode, r.stdout) == (0, "0\n1\n2\n/dev/null\n"), r.stderr


def test_interactive_stdin(rt):
    import subprocess
    from vesseltest import VESSEL
    img = rt.image()
    r = subprocess.run([str(VESSEL), "--root", str(rt.state), "run", "-i", "--rm", img, "sh", "-c",
                        "cat; echo end"], input="line one\nline two\n", capture_output=True,
                       text=True, timeout=60)
    assert (r.returncode, r.stdout) == (0, "line one\nline two\nend\n"), r.stderr
    r = rt.run("run", "-i", "-d", img, "cat")
    assert r.returncode == 125 and "-i with -d" in r.stderr and rt.ids() == []


def test_kept_container_is_listed_exited(rt):
    img = rt.image()
    r = rt.run("run", "--name", "kept", img, "sh", "-c", "echo bye; exit 3")
    assert (r.returncode, r.stdout) == (3, "bye\n"), r.stderr
    assert rt.ps() == []
    [c] = rt.ps("-a")
    assert (c["name"], c["state"], c["exit_code"], c["oom_killed"]) == ("kept", "exited", 3, False)
    assert rt.run("logs", "kept", check=True).stdout == "bye\n"
    assert rt.run("wait", "kept", check=True).stdout == "3\n"
    # by id prefix too
    assert rt.inspect(c["id"][:8])["name"] == "kept"
    r = rt.run("run", "--name", "kept", img, "true")
    assert r.returncode == 125 and "already exists" in r.stderr and r.stderr.count("\n") == 1
    rt.run("rm", "kept", check=True)
    assert rt.ps("-a") == [] and rt.ids() == []


def test_image_config_honoured(tmp_path, rt):
    tar = tmp_path / "layout"
    # an OCI layout made like the image tests do, with Env, Cmd, WorkingDir, Entrypoint
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "image"))
    from imagetest import busybox_entries, d, oci_layout, tar_bytes
    layer = tar_bytes(busybox_entries() + [d("srv"), d("srv/app")])
    oci_layout(tar, {"cfg:1": ([layer], {"Env": ["GREETING=hello", "PATH=/bin"],
                                         "Cmd": ["-c", "echo $GREETING from $(pwd)"],
                                         "Entrypoint": ["/bin/sh"],
                                         "WorkingDir": "/srv/app"})})
    rt.run("image", "import", tar, check=True)
    r = rt.run("run", "--rm", "cfg:1")
    assert (r.returncode, r.stdout) == (0, "hello from /srv/app\n"), r.stderr
    # -e overrides, -w changes the directory, COMMAND replaces Cmd only
    r = rt.run("run", "--rm", "-e", "GREETING=bye", "-w", "/", "cfg:1", "-c",
               "echo $GREETING from $(pwd)")
    assert (r.returncode, r.stdout) == (0, "bye from /\n"), r.stderr
    # --entrypoint replaces both
    r = rt.run("run", "--rm", "--entrypoint", "/bin/busybox", "cfg:1", "echo", "plain")
    assert (r.returncode, r.stdout) == (0, "plain\n"), r.stderr
    # a working directory the image lacks is created (as docker does)
    r = rt.run("run", "--rm", "-w", "/new/dir", "cfg:1", "-c", "pwd")
    assert (r.returncode, r.stdout) == (0, "/new/dir\n"), r.stderr


def test_user_and_hostname(rt):
    img = rt.image()
    r = rt.run("run", "--rm", "-u", "app", "--hostname", "box", img, "sh", "-c",
               "id -u; id -g; hostname")
    assert (r.returncode, r.stdout) == (0, "1234\n4321\nbox\n"), r.stderr
    r = rt.run("run", "--rm", "-u", "77:88", img, "sh", "-c", "id -u; id -g")
    assert r.stdout == "77\n88\n", r.stderr
    r = rt.run("run", "--rm", "-u", "nosuchuser", img, "true")
    assert r.returncode == 125 and "nosuchuser" in r.stderr and rt.ids() == []


def test_containers_do_not_share_files(rt):
    img = rt.image()
    rt.run("run", "--name", "a", img, "sh", "-c", "echo mine > /tmp/a; rm /etc/group",
           check=True)
    r = rt.run("run", "--name", "b", img, "sh", "-c", "ls /tmp; cat /etc/group")
    assert (r.returncode, r.stdout) == (0, "root:x:0:\n"), r.stderr
    a = rt.inspect("a")
    upper = rt.state / "containers" / a["id"] / "upper"
    assert (upper / "tmp" / "a").read_text() == "mine\n"
    # the image's layer is untouched
    layers = json.loads(rt.run("image", "inspect", img, check=True).stdout)["Layers"]
    assert os.path.exists(os.path.join(layers[0]["Dir"], "etc", "group"))
    assert not os.path.exists(os.path.join(layers[0]["Dir"], "tmp", "a"))
    # the image is in use: rm refused
    r = rt.run("image", "rm", img)
    assert r.returncode != 0 and "container" in r.stderr
    rt.run("rm", "a", "b", check=True)
    assert rt.ids() == []


def test_volume_and_read_only(tmp_path, rt):
    img = rt.image()
    host = tmp_path / "vol"
    host.mkdir()
    (host / "in").write_text("from host\n")
    r = rt.run("run", "--rm", "-v", f"{host}:/data", img, "sh", "-c",
               "cat /data/in; echo back > /data/out")
    assert (r.returncode, r.stdout) == (0, "from host\n"), r.stderr
    assert (host / "out").read_text() == "back\n"
    r = rt.run("run", "--rm", "-v", f"{host}:/data:ro", img, "sh", "-c", "echo x > /data/y")
    assert r.returncode != 0 and not (host / "y").exists()
    r = rt.run("run", "--rm", "--read-only", "--tmpfs", "/scratch", img, "sh", "-c",
               "echo ok > /scratch/f && cat /scratch/f; touch /root/x")
    assert r.stdout == "ok\n" and r.returncode != 0


def test_bad_input_one_line_nothing_created(rt):
    img = rt.image()
    for args, what in ((["run", "--rm", "nosuch:image", "true"], "no such image"),
                       (["run", "--bogus", img, "true"], "unknown option"),
                       (["run", "-dx", img, "sh"], "unknown option"),
                       (["run", "--restart", "sometimes", img, "sh"], "--restart"),
                       (["run", "--env-file", "/nonexistent/env", img, "sh"], "--env-file"),
                       (["run", "-m", "lots", img, "true"], "-m lots"),
                       (["run", "--network", "nosuchnet", img, "true"], "no network named"),
                       (["run", "-v", "relative:/x", img, "true"], "absolute"),
                       (["run", "--name", "bad/name", img, "true"], "invalid container name"),
                       (["run"], "no image"),
                       (["stop", "nosuch"], "no container named"),
                       (["logs", "nosuch"], "no container named")):
        r = rt.run(*args)
        assert r.returncode != 0, args
        assert what in r.stderr and r.stderr.count("\n") == 1, (args, r.stderr)
        assert r.stdout == "", args
    assert rt.ps("-a") == [] and rt.ids() == []


def test_killed_create_leaves_nothing_listed_and_is_swept(rt):
    import subprocess
    import time
    from vesseltest import BUILD
    fault = BUILD / "vessel-fault"
    img = rt.image()
    for step in ("ctr-create:dir", "ctr-create:row"):
        r = subprocess.run([str(fault), "--root", str(rt.state), "run", "--name", "x", img,
                            "true"], env=dict(os.environ, VESSEL_FAULT_STEP=step),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == -9, (step, r.stderr)
        assert rt.ps("-a") == []
        # the name is free
        rt.run("create", "--name", "x", img, "true", check=True)
        rt.run("rm", "x", check=True)
    [orphan] = rt.ids()  # the directory of the create killed before its row
    old = time.time() - 120
    os.utime(rt.state / "containers" / orphan, (old, old))
    rt.run("create", "--name", "y", img, "true", check=True)
    assert orphan not in rt.ids() and len(rt.ids()) == 1
