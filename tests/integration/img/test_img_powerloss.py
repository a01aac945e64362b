"""Power loss, simulated: `vessel img bench -w` runs with VESSEL_BLOCK_TRACE,
which records every file write, hole punch and fdatasync. A power loss keeps
everything before the last completed fdatasync and any subset of the writes
after it (the kernel writes dirty pages back in any order). For many such
states we rebuild the file and ask qemu-img check: with the default
cache=writeback-safe, none is corrupt (leaks allowed); with -t unsafe (no
barriers) some are, which shows the simulation can tell (issue 4)."""
import os
import pathlib
import random
import shutil
import struct
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, QEMU_IO, need_block_hooks, need_qemu, sh  # noqa: E402


def _parse(trace):
    """Epochs: lists of ('W', off, data) / ('P', off, len), split at syncs."""
    epochs, cur, p = [], [], 0
    while p < len(trace):
        tag = chr(trace[p])
        if tag == "S":
            epochs.append(cur)
            cur, p = [], p + 1
            continue
        off, ln = struct.unpack_from("<QQ", trace, p + 1)
        p += 17
        if tag == "W":
            cur.append(("W", off, trace[p:p + ln]))
            p += ln
        else:
            cur.append(("P", off, ln))
    epochs.append(cur)
    return epochs


def _apply(buf, op):
    if op[0] == "W":
        _, off, data = op
        end = off + len(data)
        if end > len(buf):
            buf.extend(b"\0" * (end - len(buf)))
        buf[off:end] = data
    else:
        _, off, ln = op
        end = min(off + ln, len(buf))
        if off < end:
            buf[off:end] = b"\0" * (end - off)


def _subsets(ops, rnd):
    n = len(ops)
    picks = [[], list(range(n)), list(range(n // 2, n)), list(range(0, n, 2)),
             list(range(1, n, 2))]
    picks += [sorted(rnd.sample(range(n), rnd.randint(0, n))) for _ in range(3)]
    seen = set()
    for p in picks:
        if tuple(p) not in seen:
            seen.add(tuple(p))
            yield [ops[i] for i in p]


def _base(path):
    """Data, compressed clusters and a snapshot: later writes allocate, copy
    shared L2 tables and clusters, and release old references."""
    sh(QEMU_IMG, "create", "-f", "qcow2", "-o", "cluster_size=4096", path, "16M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 1 0 2M", "-c", "write -c -P 2 2M 256k",
       path)
    sh(QEMU_IMG, "snapshot", "-c", "s", path)


def _corrupt_states(vessel, tmp_path, cache, max_states=160):
    base = tmp_path / "base.qcow2"
    _base(base)
    img, trace = tmp_path / "img.qcow2", tmp_path / "trace.bin"
    shutil.copy(base, img)
    env = dict(os.environ, VESSEL_BLOCK_TRACE=str(trace))
    subprocess.run([vessel, "img", "bench", "-w", "-t", cache, "-f", "qcow2", "-c", "400",
                    "-s", "6000", "-S", str(9 * 4096 + 512), "-d", "1",
                    "--flush-interval", "100", "--pattern", "7", str(img)],
                   env=env, check=True, capture_output=True)
    epochs = _parse(trace.read_bytes())
    rnd = random.Random(f"powerloss-{cache}")
    durable = bytearray(base.read_bytes())
    states, bad = 0, []
    probe = tmp_path / "probe.qcow2"
    for k, ops in enumerate(epochs):
        for sub in _subsets(ops, rnd):
            if states >= max_states:
                break
            buf = bytearray(durable)
            for op in sub:
                _apply(buf, op)
            probe.write_bytes(buf)
            states += 1
            c = sh(QEMU_IMG, "check", "-f", "qcow2", probe, ok=(0, 2, 3))
            if c.returncode == 2 or "ERROR" in c.stdout + c.stderr:
                bad.append((k, len(sub), len(ops), c.stderr.splitlines()[:3]))
        for op in ops:
            _apply(durable, op)
    assert states > 20, "the trace has too few states to be a test"
    return bad


def test_power_loss_never_corrupts(vessel, tmp_path):
    need_qemu()
    need_block_hooks()
    bad = _corrupt_states(vessel, tmp_path, "writeback")
    assert not bad, f"corrupt after a simulated power loss: {bad[:3]}"


def test_power_loss_simulation_catches_unsafe(vessel, tmp_path):
    """Without barriers (-t unsafe, the old write-through order) the same
    simulation finds corrupt states: the check above has teeth."""
    need_qemu()
    need_block_hooks()
    assert _corrupt_states(vessel, tmp_path, "unsafe")
