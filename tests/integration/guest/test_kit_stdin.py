"""`vessel vm run -- CMD` with stdin a pipe or a file: the command reads it
to its end, byte for byte, as under `docker run -i` or `ssh host cmd <file`.

The VMM passes vessel.stdin=pipe; the kit's init then gives the command a
pipe fed from framed console input, which carries the end of stdin
(guest/init/cmdline-abi.h). Each case is one boot of the kit under emu,
with the stock kernel and, when the kit has it, the small one. With stdin
a terminal the console stays the command's stdin, as typed: one boot
through a pty checks that ^D typed there still ends `cat`."""
import hashlib
import os
import pty
import subprocess
import time

import pytest

from vesseltest import GUEST_DIR, VESSEL, read_until, skip

BOOT_TIMEOUT = 300
MARK = b"<<start>>"  # printed by the command before its output: what precedes is the kernel's


@pytest.fixture(scope="module", params=["stock", "small"])
def kernel(request):
    k = GUEST_DIR / ("vmlinuz" if request.param == "stock" else "small/vmlinuz")
    if not k.exists() or not (GUEST_DIR / "initramfs.cpio.gz").exists():
        skip(f"no {request.param} kernel in {GUEST_DIR} (make guest / make guest-kernel)")
    return request.param


def vm_run(kernel, args, stdin, timeout=BOOT_TIMEOUT):
    """Runs `vessel vm run --accel emu -- args` with stdin (bytes, a file or
    subprocess.PIPE left open); returns (status, stdout bytes, stderr)."""
    env = dict(os.environ, VESSEL_GUEST_KERNEL=kernel)
    data = stdin if isinstance(stdin, bytes) else None
    p = subprocess.Popen([str(VESSEL), "vm", "run", "--accel", "emu", "--", *args],
                         stdin=subprocess.PIPE if data is not None else stdin,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = p.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"no exit within {timeout} s: {out[-2000:]!r} {err[-2000:]!r}")
    return p.returncode, out, err.decode(errors="replace")


def after_mark(out):
    assert MARK in out, out[-2000:]
    return out.split(MARK, 1)[1]


def test_wc_counts_piped_input(kernel):
    status, out, err = vm_run(kernel, ["wc", "-c"], b"data\n")
    assert status == 0, (out[-2000:], err)
    assert out.splitlines()[-1].strip() == b"5", out[-2000:]


def test_partial_last_line_round_trips(kernel):
    """No newline added, the line after the last newline not lost."""
    status, out, err = vm_run(kernel, ["sh", "-c", f"printf '{MARK.decode()}'; cat"],
                              b"a\nb")
    assert status == 0, (out[-2000:], err)
    assert after_mark(out) == b"a\nb"


def test_control_bytes_are_data(kernel):
    """^D, ^C, ^Z, ^S, ^\\, DEL, CR, ^V and the framing's own 0xff inside
    the input are data: none ends the input, signals, edits or stops it."""
    data = b"one\x04two\x03\x1a\x13\x11\x1c\x7f\r\x16\x15\xff\xff\x04\xffthree\x04"
    status, out, err = vm_run(kernel, ["sh", "-c", f"printf '{MARK.decode()}'; cat"], data)
    assert status == 0, (out[-2000:], err)
    assert after_mark(out) == data


def test_every_byte_value_round_trips(kernel, tmp_path):
    """All 256 byte values, in a file: md5sum in the guest agrees with the
    host's, and cat gives the same bytes back (stdout is a pipe here, so the
    console's output is byte-exact too: vessel.tty=0)."""
    f = tmp_path / "bytes"
    data = bytes(range(256)) * 4
    f.write_bytes(data)
    want = hashlib.md5(data).hexdigest()
    with open(f, "rb") as stdin:
        status, out, err = vm_run(kernel, ["md5sum"], stdin)
    assert status == 0, (out[-2000:], err)
    assert out.split()[-2].decode() == want, out[-2000:]
    with open(f, "rb") as stdin:
        status, out, err = vm_run(kernel, ["sh", "-c", f"printf '{MARK.decode()}'; cat"],
                                  stdin)
    assert status == 0, (out[-2000:], err)
    assert after_mark(out) == data


# Waits (10 s at most) until the UART has received N bytes, before reading.
WAIT_RX = ("i=0; while [ $i -lt 40 ] && [ $(sed -n 's/^0:.* rx:\\([0-9]*\\).*/\\1/p' "
           "/proc/tty/driver/serial) -lt {n} ]; do sleep 0.25; i=$((i+1)); done; ")


def test_slow_reader_loses_nothing(kernel, tmp_path):
    """A command that reads its input late: what it reads is all of it. It
    waits for the UART to have received as much as the input (it cannot
    while the guest's tty holds RTS down, full: the VMM waits) or 10 s;
    without that flow control the tty's buffers overflow (far less than
    2 MiB) and bytes are lost."""
    f = tmp_path / "big"
    data = os.urandom(2 << 20)
    f.write_bytes(data)
    with open(f, "rb") as stdin:
        status, out, err = vm_run(kernel, ["sh", "-c", WAIT_RX.format(n=len(data)) + "md5sum"],
                                  stdin)
    assert status == 0, (out[-2000:], err)
    assert out.split()[-2].decode() == hashlib.md5(data).hexdigest(), out[-2000:]


def test_command_that_does_not_read_exits(kernel):
    """stdin a pipe that never ends: a command that does not read it still
    ends the VM, with its status."""
    status, out, err = vm_run(kernel, ["sh", "-c", "echo done; exit 3"], subprocess.PIPE)
    assert status == 3, (out[-2000:], err)
    assert out.splitlines()[-1] == b"done", out[-2000:]


def test_terminal_stdin_ctrl_d_as_typed(kernel):
    """stdin a terminal: the console is the command's terminal, it echoes
    what is typed, and a typed ^D at a line start ends cat's input."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["VESSEL_GUEST_KERNEL"] = kernel
        os.execv(str(VESSEL), [str(VESSEL), "vm", "run", "--accel", "emu", "--", "sh", "-c",
                               "echo ready; cat; echo cat-done"])
    try:
        buf = read_until(fd, b"", b"ready", BOOT_TIMEOUT)
        time.sleep(0.5)
        os.write(fd, b"hello\r")
        buf = read_until(fd, buf, b"hello", 60)  # the echo
        echoed = buf.index(b"hello") + len(b"hello")
        buf = buf[:echoed] + read_until(fd, buf[echoed:], b"hello", 60)  # cat's copy
        os.write(fd, b"\x04")
        buf = read_until(fd, buf, b"cat-done", 60)
        _, st = os.waitpid(pid, 0)
        pid = 0
        assert os.waitstatus_to_exitcode(st) == 0, buf[-2000:]
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
