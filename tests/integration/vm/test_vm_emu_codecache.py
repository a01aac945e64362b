"""emu's decoded-block cache is bounded (issue 11, item 9): a guest that runs
through fresh code (guest/testkernel `codewalk`: a 3-byte stub at every
third byte of an 8 MiB window, each called once: 2.8M blocks, ~560 MB of
decoded blocks without a budget) must not grow the VMM past its budget
(EMU_CODE_CACHE_DEFAULT: 32 MiB for a 64 MiB guest) plus guest RAM and
the VMM's own few MiB; and the code it runs after the flushes is right."""
import os
import subprocess
import tempfile
import threading

from vesseltest import TESTKERNEL

MIB = 1024


def run_rss(args, timeout):
    """Runs args; returns (returncode, stdout, peak RSS in KiB of that child)."""
    with tempfile.TemporaryFile(mode="w+") as out:
        p = subprocess.Popen([str(a) for a in args], stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, text=True)
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            killer.cancel()
        out.seek(0)
        return os.waitstatus_to_exitcode(status), out.read(), ru.ru_maxrss


def test_codewalk_rss_bounded(vessel):
    rc, out, rss = run_rss([vessel, "vm", "run", "--accel", "emu", "--mem", "64M",
                            "--kernel", TESTKERNEL, "--append", "vessel.test=codewalk:8"],
                           timeout=240)
    assert rc == 0, out
    assert "vessel-test: codewalk: PASS" in out, out
    # budget 32 MiB + guest RAM 64 MiB + 32 MiB for the VMM and malloc slack
    assert rss < 128 * MIB, f"peak RSS {rss // MIB} MiB"
