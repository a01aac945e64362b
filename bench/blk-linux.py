#!/usr/bin/env python3
"""virtio-blk under Linux's own driver (issue 13): Linux under vessel's
software CPU against Linux under QEMU's TCG, the same kernel (the guest
kit's stock Debian kernel), initramfs, command line and disk image, 512 MiB
and one vCPU. In the guest, busybox dd moves MIB MiB in 1 MiB requests with
O_DIRECT: writes of /dev/zero to /dev/vda, then reads of /dev/vda, timed
with /proc/uptime in the guest (guest time: the host's clock on both
sides), so the boot does not count.

  vessel emu   vessel vm run --accel emu --disk IMG,format=raw,cache=none
               (its default engine: io_uring where the host allows it)
  vessel emu threads   the same with aio=threads
  qemu q35     qemu-system-x86_64 -accel tcg -M q35, virtio-blk-pci
               (modern), cache=none,aio=threads

Sides are interleaved round by round (the machine is noisy); medians of
MB/s and the ratios are printed. --also PATH (repeatable) adds another
vessel binary's emu side (e.g. the build before a change) to the same
rounds; --no-threads leaves out the aio=threads side. --holes leaves out
the writes: the guest reads a sparse image that nothing wrote, so the
host's reads are of holes and what is timed is the guest's and the VMM's
path without this host's own (virtual, erratic) disk. --profile adds one
vessel run with
VESSEL_EMU_STATS=1 and VESSEL_EMU_PROFILE with dd moving MIB MiB and one
moving nothing, and prints the difference: the guest instructions the dd
part took, and the guest functions and emu handlers that ran them.

usage: bench/blk-linux.py [--vessel build/vessel] [--also PATH ...] [--runs 3]
                          [--mib 128] [--no-threads] [--holes] [--guest-dir DIR]
                          [--profile]
"""
import argparse
import collections
import importlib.util
import os
import pathlib
import re
import statistics
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("linux_boot", HERE / "linux-boot.py")
lb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lb)

SCRIPT = ("u(){{ cut -d' ' -f1 /proc/uptime;}};a=$(u);"
          "dd if=/dev/zero of=/dev/vda bs=1M count={mib} oflag=direct||echo blk-linux: failed;"
          "b=$(u);dd if=/dev/vda of=/dev/null bs=1M count={mib} iflag=direct||"
          "echo blk-linux: failed;echo blk-linux: $a $b $(u)")
# --holes: reads only, of a disk never written (all holes)
HOLES = ("u(){{ cut -d' ' -f1 /proc/uptime;}};a=$(u);"
         "dd if=/dev/vda of=/dev/null bs=1M count={mib} iflag=direct||"
         "echo blk-linux: failed;echo blk-linux: $a $a $(u)")


def sides(a, img, mib):
    argv = ["sh", "-c", (HOLES if getattr(a, "holes", False) else SCRIPT).format(mib=mib)]
    kernel, initrd = a.guest_dir / "vmlinuz", a.guest_dir / "initramfs.cpio.gz"
    qemu = [lb.QEMU, "-accel", "tcg", "-cpu", "max", "-M", "q35", "-m", "512", "-nographic",
            "-nodefaults", "-no-user-config", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1",
            "-kernel", str(kernel), "-initrd", str(initrd),
            "-append", lb.kit_cmdline(argv),
            "-drive", f"file={img},format=raw,if=none,id=d0,cache=none,aio=threads",
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]
    def vessel(binary, opts):
        return ([binary, "vm", "run", "--accel", "emu", "--mem", "512M", "--disk",
                 f"{img},format=raw,cache=none{opts}", "--", *argv], 0, lb.vessel_env("stock"))
    out = {"vessel emu": vessel(a.vessel, "")}
    if not getattr(a, "no_threads", False):
        out["vessel threads"] = vessel(a.vessel, ",aio=threads")
    for path in getattr(a, "also", None) or []:
        out[f"emu {path}"] = vessel(path, "")
    out["qemu tcg q35"] = (qemu, 1, None)
    return out


def rates(out, mib):
    m = re.search(r"blk-linux: ([\d.]+) ([\d.]+) ([\d.]+)", out)
    if not m or "failed" in out:
        raise RuntimeError("blk-linux: no result:\n" + "\n".join(out.splitlines()[-8:]))
    t0, t1, t2 = (float(x) for x in m.groups())
    mb = mib * (1 << 20) / 1e6
    return mb / max(t1 - t0, 0.01), mb / max(t2 - t1, 0.01)


def profile_once(a, img, mib):
    with tempfile.NamedTemporaryFile(prefix="vessel-prof-", suffix=".txt") as f:
        cmd, want, env = sides(a, img, mib)["vessel emu"]
        env = dict(env, VESSEL_EMU_STATS="1", VESSEL_EMU_PROFILE=f.name)
        _, _, err = lb.run_once(cmd, want, a.timeout, env)
        lines = pathlib.Path(f.name).read_text().splitlines()
    insns = sum(int(m.group(1)) for m in re.finditer(r"(\d+) instructions", err))
    handlers, guest = lb.profile_counts(lines)
    return insns, err, handlers, guest


def profile(a, img):
    """The dd part: a run moving a.mib MiB minus one moving nothing."""
    syms = lb.Symbols(lb.stock_system_map(a))
    full, empty = profile_once(a, img, a.mib), profile_once(a, img, 0)
    print(f"\nwhere the time goes under emu (one profiled run with dd of {a.mib} MiB "
          "each way, minus one with none):")
    for line in full[1].splitlines():
        if "emu stats" in line:
            print("  with dd:    " + line.split("vessel: ", 1)[-1])
    for line in empty[1].splitlines():
        if "emu stats" in line:
            print("  without dd: " + line.split("vessel: ", 1)[-1])
    funcs = collections.Counter()
    for prof, sign in ((full, 1), (empty, -1)):
        for rip, n in prof[3].items():
            addr = int(rip, 16) if rip != "other" else 0
            name = ("(other)" if rip == "other" else "(user space)"
                    if addr < 0xffff800000000000 else syms.name(addr))
            funcs[name] += sign * n
    total = sum(v for v in funcs.values() if v > 0) or 1
    print(f"  guest instructions for the dd part: {total / 1e6:.1f} M "
          f"({total / (2 * a.mib) / 1e3:.0f} k per 1 MiB request)")
    print("  guest functions that ran the most of them:")
    for fn, n in funcs.most_common(15):
        print(f"    {100.0 * n / total:5.1f}%  {fn}")
    h = collections.Counter(lb.resolve_handlers(full[2]))
    h.subtract(lb.resolve_handlers(empty[2]))
    print("  emu handlers:")
    for fn, n in h.most_common(8):
        print(f"    {100.0 * n / total:5.1f}%  {fn}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default="build/vessel")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=128)
    ap.add_argument("--guest-dir", type=pathlib.Path,
                    default=pathlib.Path(os.environ.get(
                        "VESSEL_GUEST_DIR", pathlib.Path.home() / ".cache/vessel/guest")))
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--also", action="append", help="another vessel binary's emu side")
    ap.add_argument("--no-threads", action="store_true", help="without the aio=threads side")
    ap.add_argument("--holes", action="store_true", help="only reads, of a disk never written")
    a = ap.parse_args()
    if not (a.guest_dir / "vmlinuz").exists():
        print(f"SKIP: no guest kit in {a.guest_dir} (make guest)")
        return
    with tempfile.TemporaryDirectory(prefix="vessel-blklinux-", dir="/var/tmp") as d:
        img = os.path.join(d, "disk.raw")
        with open(img, "wb") as f:
            f.truncate((a.mib + 16) << 20)
        res = collections.defaultdict(list)
        for _ in range(a.runs):
            for name, (cmd, want, env) in sides(a, img, a.mib).items():
                _, out, _ = lb.run_once(cmd, want, a.timeout, env)
                res[name].append(rates(out, a.mib))
        med = {s: [statistics.median(r[i] for r in v) for i in range(2)]
               for s, v in res.items()}
        if a.runs < 1:  # --runs 0 --profile: the profile alone
            if a.profile:
                profile(a, img)
            return
        print(f"in-guest dd O_DIRECT, 1 MiB requests, {a.mib} MiB "
              f"{'read from holes' if a.holes else 'each way'}, stock kernel, "
              f"medians of {a.runs} interleaved runs (MB/s)")
        width = max(22, *(len(s) + 9 for s in med))
        cols = [1] if a.holes else [0, 1]  # --holes: no write was timed
        print(f"{'':{width}}" + "".join(f"{('write', 'read')[i]:>10}" for i in cols))
        for s, v in med.items():
            print(f"{s:{width}}" + "".join(f"{v[i]:>10.1f}" for i in cols))
        q = med["qemu tcg q35"]
        for s, v in med.items():
            if s != "qemu tcg q35":
                print(f"{s + ' / qemu':{width}}" + "".join(f"{v[i] / q[i]:>9.2f}x" for i in cols))
        if a.profile:
            profile(a, img)


if __name__ == "__main__":
    sys.exit(main())
