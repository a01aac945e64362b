"""Paths and helpers shared by the integration tests. A module of its own
(not conftest) so that `from vesseltest import ...` is unambiguous: every
test directory may have a conftest.py of its own.

Environment (set by `make check`): VESSEL (path to build/vessel),
VESSEL_BUILD (the build directory), VESSEL_GUEST_DIR (the default guest kit)."""
import os
import select
import pathlib
import subprocess
import sys
import threading
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("VESSEL_BUILD", REPO / "build"))
VESSEL = pathlib.Path(os.environ.get("VESSEL", BUILD / "vessel"))
GUEST_DIR = pathlib.Path(os.environ.get("VESSEL_GUEST_DIR",
                                        pathlib.Path.home() / ".cache/vessel/guest"))
TESTKERNEL = BUILD / "guest/testkernel.bzImage"


def ignore_signals_raw(sigs, block=()):
    """In a preexec_fn: ignores sigs and blocks block through the kernel's
    own calls, so glibc's two internal signals (32, 33), which Python and
    glibc refuse to touch, can be among them (a CI's parent may have them
    ignored: they survive execve like any other)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    ksa = (ctypes.c_ulong * 4)(1, 0, 0, 0)  # handler SIG_IGN, flags, restorer, mask
    for sig in sigs:
        assert libc.syscall(13, int(sig), ksa, None, 8) == 0  # rt_sigaction
    mask = ctypes.c_uint64(sum(1 << (int(s) - 1) for s in block))
    assert libc.syscall(14, 0, ctypes.byref(mask), None, 8) == 0  # rt_sigprocmask SIG_BLOCK


def skip(reason):
    """Skips the current test, printing the reason in the agreed form."""
    print(f"SKIP: {reason}")
    pytest.skip(reason)


def run(args, timeout=60, **kw):
    """Runs a command, returns CompletedProcess with text output."""
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, **kw)


# Forks and execs argv[2:], waits for it and writes "<wait status> <ru_maxrss
# KiB>" to the fd numbered argv[1]. A fresh interpreter of a few MiB, because a process forked
# straight from pytest inherits pytest's own RSS high-water mark into its
# ru_maxrss (the kernel keeps the largest mm a process ever had, exec or not),
# and pytest grows to GiBs over a full run.
_PEAK_RSS_LAUNCHER = """
import os, sys
fd = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    os.close(fd)
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
os.write(fd, b"%d %d" % (status, ru.ru_maxrss))
"""


def run_peak_rss(args, timeout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
    """Runs args with the given stdout/stderr (killed after timeout seconds);
    returns (exit code, peak RSS in KiB of that one command and what it
    waited for)."""
    rfd, wfd = os.pipe()
    try:
        p = subprocess.Popen([sys.executable, "-c", _PEAK_RSS_LAUNCHER, str(wfd)]
                             + [str(a) for a in args],
                             stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                             pass_fds=(wfd,))
        os.close(wfd)
        wfd = -1
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        try:
            p.wait()
        finally:
            killer.cancel()
        report = os.read(rfd, 64).split()
    finally:
        os.close(rfd)
        if wfd >= 0:
            os.close(wfd)
    if len(report) != 2:
        raise RuntimeError(f"{args[0]}: killed before it ended (timeout {timeout} s)")
    return os.waitstatus_to_exitcode(int(report[0])), int(report[1])


def read_until(fd, buf, want, timeout):
    """Reads the console fd (a pty's master) onto buf until want is in it;
    returns buf. Fails after timeout seconds, or when the console closes."""
    end = time.time() + timeout
    while want not in buf:
        left = end - time.time()
        if left <= 0:
            raise AssertionError(f"no {want!r} within {timeout} s:\n"
                                 + buf[-3000:].decode(errors="replace"))
        r, _, _ = select.select([fd], [], [], min(left, 0.5))
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the pty
                chunk = b""
            if not chunk:
                raise AssertionError(f"console closed before {want!r}:\n"
                                     + buf[-3000:].decode(errors="replace"))
            buf += chunk
    return buf
