"""-t/-it under a real pty (prompt, window-size changes seen by `stty size`,
detach keys, attach), exec (namespaces, cgroup, -e/-w/-u, exit status,
-it), top, restart and --restart, --env-file."""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time

from runtest import wait_until
from vesseltest import VESSEL, ignore_signals_raw

CTRL_P, CTRL_Q = b"\x10", b"\x11"


class Pty:
    """`vessel ARGS...` on the slave side of a pty of its own."""

    def __init__(self, rt, *args, rows=30, cols=100, ignore=()):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            for sig in ignore:  # as whoever started vessel may have left them
                signal.signal(sig, signal.SIG_IGN)
            os.execv(str(VESSEL), [str(VESSEL), "--root", str(rt.state)] + [str(a) for a in args])
        self.resize(rows, cols)
        self.buf = b""

    def resize(self, rows, cols):
        # the kernel sends SIGWINCH to the pty's foreground process group: vessel
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def expect(self, pattern, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(pattern.encode(), self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    d = os.read(self.fd, 4096)
                except OSError:
                    d = b""
                if not d:
                    break
                self.buf += d
        raise AssertionError(f"no {pattern!r} in {self.buf!r}")

    def send(self, data):
        os.write(self.fd, data if isinstance(data, bytes) else data.encode())

    def wait(self, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                self.pid = None
                return os.waitstatus_to_exitcode(st)
            try:  # keep draining: a full pty would block the writer
                if select.select([self.fd], [], [], 0.05)[0]:
                    self.buf += os.read(self.fd, 4096)
            except OSError:
                time.sleep(0.05)
        raise AssertionError("vessel did not exit")

    def interrupt(self, within):
        """Types ^C until the shell's prompt is back, which must be within
        `within` seconds. A ^C typed before the shell has put the tty back
        in cooked mode for its command is a plain byte in its queue (a
        loaded host can be that slow), so it is retyped."""
        start = time.time()
        while True:
            time.sleep(0.3)
            self.send("\x03")
            try:
                self.expect(r"/ # ", timeout=2)
                return
            except AssertionError:
                assert time.time() - start < within, "^C did not interrupt sleep"

    def kill(self):
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            os.close(self.fd)
            self.pid = None


def test_run_it_prompt_and_resize(rt):
    img = rt.image()
    p = Pty(rt, "run", "-it", "--name", "tty", img, "sh")
    try:
        p.expect(r"/ # ")
        p.send("stty size; tty; echo $TERM\n")
        p.expect(r"30 100\r\n/dev/pts/\d+\r\nxterm\r\n")
        p.resize(42, 133)
        time.sleep(0.3)
        p.send("stty size\n")
        p.expect(r"42 133\r\n")
        # raw mode: ^C is a byte for the container's terminal, not a signal for vessel
        p.send("sleep 30\n")
        p.expect(r"sleep 30\r\n")  # the shell took the line; any prompt now is a new one
        p.interrupt(within=20)
        p.send("exit 5\n")
        assert p.wait() == 5
    finally:
        p.kill()
    c = rt.inspect("tty")
    assert (c["state"], c["exit_code"], c["spec"]["tty"]) == ("exited", 5, True)
    # the pty's output is the container's log
    assert "42 133" in rt.run("logs", "tty", check=True).stdout


# what a background job of a non-interactive shell has ignored (POSIX), as
# CI's `bash .ci/run` and so its pytest had; plus what nohup and Python ignore
INHERITED_IGN = (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGPIPE, signal.SIGXFSZ)


def test_run_it_ctrl_c_when_vessel_was_started_ignoring_sigint(rt):
    """The container's processes start with every signal at its default, not
    with what vessel inherited: ^C on the pty interrupts a sleep although
    vessel was started with SIGINT ignored (before the fix the ignore reached
    the shell and its sleep, which ran its 30 s: "vessel did not exit")."""
    img = rt.image()
    p = Pty(rt, "run", "-it", "--name", "ign", img, "sh", ignore=INHERITED_IGN)
    try:
        p.expect(r"/ # ")
        p.send("sleep 30\n")
        p.expect(r"sleep 30\r\n")
        p.interrupt(within=10)
        p.send("exit 6\n")
        assert p.wait() == 6
    finally:
        p.kill()


def _sig_masks(status):
    """SigIgn and SigBlk of a /proc/PID/status text, as ints."""
    f = dict(ln.split(":\t", 1) for ln in status.splitlines() if ":\t" in ln)
    return int(f["SigIgn"], 16), int(f["SigBlk"], 16)


def test_container_signals_start_at_default(rt):
    """A `vessel` that has signals ignored and blocked passes neither to the
    container: not to a foreground run's process, a detached init, or an
    exec'd process."""
    img = rt.image()

    def ignoring():  # 32 and 33: glibc's own, which a CI's parent had ignored
        ignore_signals_raw(INHERITED_IGN + (32, 33), block=(signal.SIGUSR1, signal.SIGTERM, 32))

    def vessel(*args):
        r = subprocess.run([str(VESSEL), "--root", str(rt.state)] + list(args),
                           preexec_fn=ignoring, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r
        return r.stdout

    assert _sig_masks(vessel("run", "--rm", img, "cat", "/proc/self/status")) == (0, 0)
    vessel("run", "-d", "--name", "box", img, "sleep", "100")
    init = rt.inspect("box")["pid"]
    assert _sig_masks(open(f"/proc/{init}/status").read()) == (0, 0)
    assert _sig_masks(vessel("exec", "box", "cat", "/proc/self/status")) == (0, 0)
    # and through a pty
    r = vessel("exec", "-t", "box", "cat", "/proc/self/status").replace("\r\n", "\n")
    assert _sig_masks(r) == (0, 0)


def test_tty_size_from_the_start(rt):
    img = rt.image()
    # the pty has our size before the command runs: no race with a resize
    for args in (("run", "-it", "--rm", img, "stty", "size"),
                 ("run", "-t", "--rm", img, "stty", "size")):
        p = Pty(rt, *args, rows=33, cols=77)
        try:
            p.expect(r"33 77\r\n")
            assert p.wait() == 0
        finally:
            p.kill()
    rt.run("run", "-d", "--name", "box", img, "sleep", "100", check=True)
    p = Pty(rt, "exec", "-t", "box", "stty", "size", rows=21, cols=61)
    try:
        p.expect(r"21 61\r\n")
        assert p.wait() == 0
    finally:
        p.kill()


def test_detach_keys_and_attach(rt):
    img = rt.image()
    r = rt.run("run", "-dit", "--name", "bg", img, "sh", check=True)
    assert len(r.stdout.strip()) == 64
    p = Pty(rt, "attach", "bg", rows=25, cols=70)
    try:
        p.send("echo hello-$((6*7)); stty size\n")
        p.expect(r"hello-42\r\n25 70\r\n")
        p.send(CTRL_P + CTRL_Q)
        assert p.wait() == 0
    finally:
        p.kill()
    assert rt.inspect("bg")["state"] == "running"
    # a Ctrl-P that is not followed by Ctrl-Q reaches the container
    p = Pty(rt, "attach", "bg")
    try:
        p.send("wc -c\n")
        time.sleep(0.3)
        p.send(CTRL_P + b"ab\n\x04")
        p.expect(r"\n\s*4\r\n")  # ^P a b newline
        p.send("exit 3\n")
        assert p.wait() == 3
    finally:
        p.kill()
    c = rt.inspect("bg")
    assert (c["state"], c["exit_code"]) == ("exited", 3)
    assert not (rt.state / "containers" / c["id"] / "attach.sock").exists()
    # a foreground -it detaches too and leaves the container running
    p = Pty(rt, "run", "-it", "--name", "fg", img, "sh")
    try:
        p.expect(r"/ # ")
        p.send(CTRL_P + CTRL_Q)
        assert p.wait() == 0
    finally:
        p.kill()
    assert rt.inspect("fg")["state"] == "running"
    r = rt.run("attach", "bg")
    assert r.returncode == 1 and "not running" in r.stderr and r.stderr.count("\n") == 1
    rt.run("run", "-d", "--name", "notty", img, "sleep", "30", check=True)
    r = rt.run("attach", "notty")
    assert r.returncode == 1 and "no terminal" in r.stderr


def test_exec_namespaces_files_and_options(rt):
    img = rt.image()
    rt.run("run", "-d", "--name", "box", "--hostname", "boxhost", img, "sh", "-c",
           "echo secret > /tmp/f; exec sleep 100", check=True)
    # the file is written before the exec of sleep: wait for both (a loaded
    # host ran the cat below while pid 1 was still sh)
    wait_until(lambda: rt.run("exec", "box", "cat", "/tmp/f", "/proc/1/comm").stdout ==
               "secret\nsleep\n", what="the file written by the container, then its sleep")
    # its pid namespace: pid 1 is the container's sleep, the exec'd shell is
    # not the host's; its uts and mount namespaces
    r = rt.run("exec", "box", "sh", "-c", "cat /proc/1/comm; echo $$; hostname; "
               "ls /proc | awk '/^[0-9]+$/ { n++ } END { print n }'")
    lines = r.stdout.split("\n")
    assert lines[0] == "sleep" and lines[2] == "boxhost", r
    # sleep, sh, ls, awk: nothing of the host's
    assert 1 < int(lines[1]) < 10 and 2 <= int(lines[3]) <= 4, r
    r = rt.run("exec", "-e", "FOO=bar", "-e", "PATH=/bin", "-w", "/tmp", "-u", "app", "box", "sh",
               "-c", "echo $FOO $PATH; pwd; id -u; id -g")
    assert (r.returncode, r.stdout) == (0, "bar /bin\n/tmp\n1234\n4321\n"), r.stderr
    cid = rt.inspect("box")["id"]
    r = rt.run("exec", cid[:10], "hostname")  # a unique id prefix works as a name
    assert (r.returncode, r.stdout) == (0, "boxhost\n"), r
    # -u NAME: the container's /etc/passwd, symlinks resolved inside it
    # (here to the container's /tmp/pw, not the host's)
    rt.run("exec", "box", "sh", "-c", "echo ghost:x:4242:4343::/:/bin/sh > /tmp/pw; "
           "ln -sf /tmp/pw /etc/passwd", check=True)
    r = rt.run("exec", "-u", "ghost", "box", "id")
    assert r.stdout == "uid=4242(ghost) gid=4343\n", r
    r = rt.run("exec", "-u", "app", "box", "id")
    assert r.returncode == 125 and "app" in r.stderr and r.stderr.count("\n") == 1, r
    r = rt.run("exec", "-u", "7:8", "box", "id")
    assert r.stdout.startswith("uid=7 gid=8"), r
    r = rt.run("exec", "box", "sh", "-c", "echo out; echo err >&2; exit 42")
    assert (r.returncode, r.stdout, r.stderr) == (42, "out\n", "err\n")
    r = rt.run("exec", "box", "/no/such/thing")
    assert r.returncode == 127 and r.stderr.count("\n") == 1, r
    # stdin: /dev/null without -i, ours with it
    assert rt.run("exec", "box", "cat").stdout == ""
    r = subprocess.run([str(VESSEL), "--root", str(rt.state), "exec", "-i", "box", "sh", "-c",
                        "cat; echo end"], input="in\n", capture_output=True, text=True,
                       timeout=30)
    assert (r.returncode, r.stdout) == (0, "in\nend\n"), r.stderr


def test_exec_joins_the_cgroup_and_top(rt):
    img = rt.image()
    r = rt.run("run", "-d", "--name", "box", img, "sleep", "100", check=True)
    cid = r.stdout.strip()
    p = subprocess.Popen([str(VESSEL), "--root", str(rt.state), "exec", "box", "sleep", "77"],
                         stdin=subprocess.DEVNULL)
    try:
        def exec_row():
            out = rt.run("top", "box", check=True).stdout.splitlines()
            return [ln.split() for ln in out[1:] if ln.split()[5:] == ["sleep", "77"]]
        [row] = wait_until(exec_row, what="the exec'd process in top")
        out = rt.run("top", "box", check=True).stdout.splitlines()
        assert out[0].split() == ["PID", "CPID", "PPID", "UID", "TIME", "CMD"]
        [init] = [ln.split() for ln in out[1:] if ln.split()[5:] == ["sleep", "100"]]
        assert len(out) == 3  # the init and the exec'd process, not vessel's exec helper
        assert init[1] == "1" and init[0] == str(rt.inspect("box")["pid"])
        hpid = row[0]
        assert 1 < int(row[1]) < 10  # its pid in the container's namespace
        procs = (rt.cgroup(cid) / "cgroup.procs").read_text().split()
        assert hpid in procs and init[0] in procs
        assert os.readlink(f"/proc/{hpid}/ns/pid") == os.readlink(f"/proc/{init[0]}/ns/pid")
        assert os.readlink(f"/proc/{hpid}/ns/mnt") == os.readlink(f"/proc/{init[0]}/ns/mnt")
        assert os.readlink(f"/proc/{hpid}/ns/net") == os.readlink(f"/proc/{init[0]}/ns/net")
    finally:
        p.kill()
        p.wait()
    rt.run("stop", "-t", "0", "box", check=True)
    # a stopped container: refused in one line
    for verb in (("exec", "box", "true"), ("top", "box")):
        r = rt.run(*verb)
        assert r.returncode in (1, 125) and "not running" in r.stderr, r
        assert r.stderr.count("\n") == 1
    r = rt.run("exec", "nosuch", "true")
    assert r.returncode == 125 and "no container" in r.stderr
    r = rt.run("exec", "box")
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_exec_it_resize(rt):
    img = rt.image()
    rt.run("run", "-d", "--name", "box", img, "sleep", "100", check=True)
    p = Pty(rt, "exec", "-it", "box", "sh", rows=20, cols=60)
    try:
        p.expect(r"/ # ")
        p.send("stty size; tty\n")
        p.expect(r"20 60\r\n/dev/pts/\d+\r\n")
        p.resize(50, 150)
        time.sleep(0.3)
        p.send("stty size\n")
        p.expect(r"50 150\r\n")
        p.send("exit 9\n")
        assert p.wait() == 9
    finally:
        p.kill()


def test_restart_verb(rt):
    img = rt.image()
    rt.run("run", "-d", "--name", "r", img, "sh", "-c", "echo up; exec sleep 100", check=True)
    pid = rt.inspect("r")["pid"]
    t = time.monotonic()
    assert rt.run("restart", "-t", "1", "r", check=True).stdout == "r\n"
    assert time.monotonic() - t < 8
    c = rt.inspect("r")
    assert c["state"] == "running" and c["pid"] != pid
    wait_until(lambda: rt.run("logs", "r").stdout == "up\nup\n", what="two runs in the log")
    rt.run("stop", "-t", "0", "r", check=True)
    rt.run("restart", "r", check=True)  # an exited container: started
    assert rt.inspect("r")["state"] == "running"


def test_restart_policy(rt):
    img = rt.image()
    r = rt.run("run", "--name", "of", "--restart", "on-failure:2", img, "sh", "-c",
               "echo run; exit 3", timeout=30)
    assert (r.returncode, r.stdout) == (3, "run\nrun\nrun\n"), r.stderr
    c = rt.inspect("of")
    assert (c["state"], c["exit_code"], c["restart_count"]) == ("exited", 3, 2)
    # on-failure does not restart a success
    rt.run("run", "--name", "ok", "--restart", "on-failure", img, "true", check=True)
    assert rt.inspect("ok")["restart_count"] == 0
    # always: restarted after a success too, with a growing backoff; stop
    # ends it for good
    rt.run("run", "-d", "--name", "al", "--restart", "always", img, "sh", "-c",
           "echo x; exit 0", check=True)
    wait_until(lambda: rt.inspect("al")["restart_count"] >= 3, timeout=20, what="3 restarts")
    t0 = time.monotonic()
    rt.run("stop", "-t", "1", "al", check=True)
    assert time.monotonic() - t0 < 5
    c = rt.inspect("al")
    assert c["state"] == "exited"
    n = c["restart_count"]
    time.sleep(1.5)
    c = rt.inspect("al")
    assert (c["state"], c["restart_count"]) == ("exited", n)
    logs = rt.run("logs", "al", check=True).stdout
    # one x a run (the last run may have been killed by the stop before its echo)
    assert logs in ("x\n" * (n + 1), "x\n" * n), (logs, n)
    # a SIGKILL of the init is a failure: restarted; rm -f is not undone
    rt.run("run", "-d", "--name", "k", "--restart", "on-failure", img, "sleep", "100", check=True)
    pid = rt.inspect("k")["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: rt.inspect("k")["restart_count"] == 1 and rt.inspect("k")["pid"]
               not in (None, pid), what="k restarted")
    cid = rt.inspect("k")["id"]
    rt.run("rm", "-f", "k", check=True)
    assert cid not in rt.ids() and not rt.cgroup(cid).exists()
    n_ids = len(rt.ids())
    r = rt.run("run", "--rm", "--restart", "always", img, "true")
    assert r.returncode == 125 and "conflict" in r.stderr and len(rt.ids()) == n_ids
    for bad in ("sometimes", "on-failure:x", "on-failure:0"):
        r = rt.run("run", "--restart", bad, img, "true")
        assert r.returncode == 125 and r.stderr.count("\n") == 1 and "--restart" in r.stderr


def test_env_file(rt, tmp_path):
    img = rt.image()
    f = tmp_path / "env"
    f.write_text("# a comment\n\nA=1\n  B=two words\nFROM_HOST\nUNSET_ONE\nC=x=y\n")
    env = dict(os.environ, FROM_HOST="hostval")
    env.pop("UNSET_ONE", None)
    r = subprocess.run([str(VESSEL), "--root", str(rt.state), "run", "--rm", "--env-file", str(f),
                        "-e", "A=override", img, "sh", "-c",
                        "echo $A; echo $B; echo $FROM_HOST; echo ${UNSET_ONE-unset}; echo $C"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert (r.returncode, r.stdout) == (0, "override\ntwo words\nhostval\nunset\nx=y\n"), r.stderr
    r = rt.run("run", "--env-file", tmp_path / "missing", img, "true")
    assert r.returncode == 125 and r.stderr.count("\n") == 1 and "missing" in r.stderr
    f.write_text("=novar\n")
    r = rt.run("run", "--env-file", f, img, "true")
    assert r.returncode == 125 and r.stderr.count("\n") == 1
    assert rt.ps("-a") == [] and rt.ids() == []


def test_logs_follow_tail_timestamps(rt):
    img = rt.image()
    script = ("echo to-stderr >&2; i=1; while [ $i -le 300 ]; do echo line-$i; "
              "[ $((i % 20)) = 0 ] && sleep 0.05; i=$((i+1)); done")
    rt.run("run", "-d", "--name", "lg", "--log-opt", "max-size=4k", img, "sh", "-c",
           "sleep 0.5; " + script, check=True)
    t = time.monotonic()
    r = rt.run("logs", "-f", "lg", timeout=30)
    # followed from the start to the container's end, through about four
    # rotations of a 4k log, nothing lost or repeated
    assert r.returncode == 0 and time.monotonic() - t > 0.5
    assert r.stdout == "".join(f"line-{i}\n" for i in range(1, 301))
    assert r.stderr == "to-stderr\n"
    assert rt.inspect("lg")["state"] == "exited"
    # after the end: what the two files still hold
    r = rt.run("logs", "--tail", "5", "lg", check=True)
    assert r.stdout == "".join(f"line-{i}\n" for i in range(296, 301)) and r.stderr == ""
    assert rt.run("logs", "--tail", "0", "lg", check=True).stdout == ""
    t = time.monotonic()
    r = rt.run("logs", "-f", "-t", "--tail", "50", "lg", check=True)
    assert time.monotonic() - t < 5  # -f of an exited container returns at once
    lines = r.stdout.splitlines()
    assert len(lines) == 50
    stamps = []
    for i, ln in enumerate(lines):
        m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) line-(\d+)$", ln)
        assert m and int(m.group(2)) == 251 + i, ln
        stamps.append(m.group(1))
    assert stamps == sorted(stamps)
    # a partial last line is a line
    rt.run("run", "--name", "part", img, "sh", "-c", "echo a; printf b; printf c", check=True)
    assert rt.run("logs", "--tail", "1", "part", check=True).stdout == "bc"
    for bad in (("--tail", "x", "part"), ("-x", "part"), ()):
        r = rt.run("logs", *bad)
        assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_run_it_without_a_terminal(rt):
    img = rt.image()
    # our input is a pipe: its end is the pty's end-of-file for the shell
    r = subprocess.run([str(VESSEL), "--root", str(rt.state), "run", "-it", "--rm", img, "sh"],
                       input=b"echo hi-$((2+3)); exit 4\n", capture_output=True, timeout=30)
    assert r.returncode == 4 and b"hi-5\r\n" in r.stdout, r
    r = subprocess.run([str(VESSEL), "--root", str(rt.state), "run", "-it", "--rm", img, "cat"],
                       input="", capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r
    # -t alone: output through the pty, input not taken
    r = subprocess.run([str(VESSEL), "--root", str(rt.state), "run", "-t", "--rm", img, "sh",
                        "-c", "tty; echo done"], capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and re.match(rb"/dev/pts/\d+\r\ndone\r\n$", r.stdout), r
    assert rt.ps("-a") == []


def test_idle_monitor_is_small(rt):
    img = rt.image()
    rt.run("run", "-d", "--name", "idle", img, "sh", "-c", "echo up; exec sleep 100", check=True)
    c = rt.inspect("idle")
    mon = c["monitor_pid"]
    # a second after the start, the monitor is the small static
    # vessel-ctr-mon (same pid: the init stays its child), not vessel with
    # SQLite & co.
    wait_until(lambda: os.readlink(f"/proc/{mon}/exe").endswith("/vessel-ctr-mon"),
               what="the idle exec")
    assert open(f"/proc/{mon}/comm").read() == "vessel-ctr-mon\n"
    status = dict(ln.split(":", 1) for ln in open(f"/proc/{mon}/status").read().splitlines())
    assert int(status["VmRSS"].split()[0]) <= 1024, status["VmRSS"]
    maps = open(f"/proc/{mon}/maps").read()
    assert "libsqlite3" not in maps and "libc.so" not in maps
    assert int(status["PPid"].split()[0]) != os.getpid()
    assert open(f"/proc/{c['pid']}/stat").read().split(") ")[1].split()[1] == str(mon)
    # it still holds the lock, the log and the init: stop is recorded
    assert rt.run("logs", "idle", check=True).stdout == "up\n"
    rt.run("stop", "-t", "1", "idle", check=True)
    c = rt.inspect("idle")
    assert (c["state"], c["exit_code"], c["monitor_pid"]) == ("exited", 137, None)
    def gone():  # or a zombie of whatever reaps it
        try:
            return open(f"/proc/{mon}/stat").read().split(") ")[1][0] == "Z"
        except FileNotFoundError:
            return True
    wait_until(gone, what="the monitor's end")
    r = rt.run("__ctr-monitor-resume")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
