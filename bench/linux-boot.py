#!/usr/bin/env python3
"""Boot to the guest command's exit, Linux under vessel's software CPU
against Linux under QEMU's TCG (issue 12: Linux on vessel's software CPU).

For each kernel, the same kernel, initramfs and command line on every side:
the guest kit's initramfs (busybox, vessel's init), the kit's command line
with the command `true` encoded as vessel.cmd=, 512 MiB, one vCPU:
  vessel emu     vessel vm run --accel emu -- true
                 (the small kernel: VESSEL_GUEST_KERNEL=small)
  qemu microvm   -M microvm with tsc_early_khz=2000000 no_timer_check (TCG
                 needs them there; HOST-FACTS.md)
  qemu q35       -M q35
Kernels: `stock` (Debian's, the kit's vmlinuz) and `small` (`make
guest-kernel`, the kit's small/vmlinuz); both by default when the small one
is built. The guest init reports the command's status on port 0x501:
vessel's exit device, QEMU's isa-debug-exit (status N exits QEMU with
(N << 1) | 1). Sides are interleaved round by round (the machine is noisy);
medians of the wall time and of the CPU time (user + system: the steadier
figure on a loaded host) and the ratios to QEMU's best are printed per
kernel.

--profile adds one run per kernel with VESSEL_EMU_STATS=1 and
VESSEL_EMU_PROFILE (docs/emu.md "Where the boot time goes"): instructions
at CPL0 and CPL3, exits, block-cache hits, the hottest emu handlers
(addr2line on vessel) and the guest kernel functions that ran the most
instructions (the kernel's System.map: the small kernel's from its build,
the stock one's /proc/kallsyms, read once into ~/.cache/vessel/bench).
--initcalls adds one run per kernel with `initcall_debug` and prints the
slowest initcalls (guest time, which under emu is host time).

usage: bench/linux-boot.py [--vessel build/vessel] [--runs 3] [--guest-dir DIR]
                           [--kernel stock|small|both] [--profile] [--initcalls]
"""
import argparse
import base64
import bisect
import collections
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

QEMU = "qemu-system-x86_64"
KIT_CMDLINE = "console=ttyS0 reboot=k panic=-1 quiet vessel.tty=0"


def kit_cmdline(argv):
    """The kit's command line with argv encoded as vessel-init reads it
    (guest/init/cmdline-abi.h: base64url, RFC 4648 section 5, without
    padding, of the NUL-terminated arguments; standard base64's '+' and '/'
    made the init say "cannot decode vessel.cmd" whenever they occurred)."""
    raw = b"".join(a.encode() + b"\0" for a in argv)
    enc = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{KIT_CMDLINE} vessel.cmd={enc}"


def kernel_path(a, which):
    return a.guest_dir / ("vmlinuz" if which == "stock" else "small/vmlinuz")


def vessel_env(which, **extra):
    return dict(os.environ, VESSEL_GUEST_KERNEL=which, **extra)


def sides(a, which):
    kernel, initrd = kernel_path(a, which), a.guest_dir / "initramfs.cpio.gz"
    cmdline = kit_cmdline(["true"])
    qemu = [QEMU, "-accel", "tcg", "-cpu", "max", "-m", "512", "-nographic", "-nodefaults",
            "-no-user-config", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1",
            "-kernel", str(kernel), "-initrd", str(initrd)]
    return {
        "vessel emu": ([a.vessel, "vm", "run", "--accel", "emu", "--mem", "512M", "--", "true"],
                       0, vessel_env(which)),
        "qemu microvm": (qemu[:1] + ["-M", "microvm"] + qemu[1:] +
                         ["-append", cmdline + " tsc_early_khz=2000000 no_timer_check"], 1,
                         None),
        "qemu q35": (qemu[:1] + ["-M", "q35"] + qemu[1:] + ["-append", cmdline], 1, None),
    }


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_once(cmd, want, timeout, env=None, cpu=None):
    """Runs cmd; returns (wall seconds, stdout, stderr). cpu, a list, gets
    the CPU seconds (user + system) the command used: on a loaded host that
    is the steadier figure."""
    t0, c0 = time.monotonic(), cpu_seconds()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                       env=env)
    wall = time.monotonic() - t0
    if cpu is not None:
        cpu.append(cpu_seconds() - c0)
    if p.returncode != want:
        tail = "\n".join((p.stdout + p.stderr).decode(errors="replace").splitlines()[-5:])
        raise RuntimeError(f"{cmd[0]}: exit status {p.returncode}, wanted {want}:\n{tail}")
    return wall, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


# ---- symbols -------------------------------------------------------------------------

def stock_system_map(a):
    """The stock kernel's symbols. Debian's System.map is a placeholder
    (the real one is in the -dbg package), so they are read from the
    guest's /proc/kallsyms once, under emu (no KASLR there: the VMM unpacks
    the kernel), and cached."""
    kit = dict(l.split("=", 1) for l in (a.guest_dir / "kit.txt").read_text().splitlines()
               if "=" in l)
    cache = pathlib.Path.home() / ".cache/vessel/bench" / f"kallsyms-{kit['kernel_release']}"
    if cache.exists():
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    _, out, _ = run_once([a.vessel, "vm", "run", "--accel", "emu", "--", "cat",
                          "/proc/kallsyms"], 0, a.timeout, vessel_env("stock"))
    tmp = cache.with_suffix(".tmp")
    tmp.write_text("".join(l + "\n" for l in out.splitlines()
                           if re.match(r"[0-9a-f]{16} [tTwW] ", l)))
    tmp.rename(cache)
    return cache


class Symbols:
    def __init__(self, path):
        syms = []
        for line in pathlib.Path(path).read_text().splitlines():
            parts = line.split()
            # "ADDR t NAME" or, for a module's function, "ADDR t NAME [MODULE]"
            # (without those, module code was named after the kernel's last
            # symbol, mpls_gso_exit in Debian's)
            if len(parts) in (3, 4) and parts[1] in "tTwW":
                name = parts[2] + (" " + parts[3] if len(parts) == 4 else "")
                syms.append((int(parts[0], 16), name))
        syms.sort()
        self.addrs = [s[0] for s in syms]
        self.names = [s[1] for s in syms]

    def name(self, addr):
        i = bisect.bisect_right(self.addrs, addr) - 1
        return self.names[i] if i >= 0 else f"0x{addr:x}"


def entry_symbols(obj):
    """{offset: name} of the functions in obj's symbol table (static ones
    included). A handler's offset is its entry, so this names it exactly;
    addr2line names the innermost inlined function there instead (e.g.
    exec-fast.c's specialized handlers all began with an inlined helper)."""
    out = subprocess.run(["nm", "--defined-only", obj], capture_output=True,
                         text=True).stdout.splitlines()
    syms = {}
    for line in out:
        p = line.split()
        if len(p) == 3 and p[1] in "tTwW":
            syms.setdefault(int(p[0], 16), p[2])
    return syms


def resolve_handlers(obj_offsets):
    """{(object, offset): count} -> [(function, count)]: the symbol table,
    else addr2line, in one call per object."""
    by_obj = collections.defaultdict(list)
    for (obj, off) in obj_offsets:
        by_obj[obj].append(off)
    names = {}
    for obj, offs in by_obj.items():
        syms = entry_symbols(obj)
        out = subprocess.run(["addr2line", "-f", "-e", obj] + offs, capture_output=True,
                             text=True).stdout.splitlines()
        for off, fn in zip(offs, out[0::2]):
            try:
                names[(obj, off)] = syms.get(int(off, 16), fn)
            except ValueError:
                names[(obj, off)] = fn
    total = collections.Counter()
    for key, n in obj_offsets.items():
        total[names.get(key, key[1])] += n
    return total


def profile_counts(lines):
    """VESSEL_EMU_PROFILE's lines: instructions per emu handler (map,
    opcode) and per guest function."""
    handlers, guest = collections.Counter(), collections.Counter()
    for line in lines:
        p = line.split()
        if p[0] == "handler":
            handlers[(p[2], p[3])] += int(p[4])
        elif p[0] == "guest":
            guest[p[2]] += int(p[3])
    return handlers, guest


def profile(a, which, system_map):
    with tempfile.NamedTemporaryFile(prefix="vessel-prof-", suffix=".txt") as f:
        wall, _, err = run_once(sides(a, which)["vessel emu"][0], 0, a.timeout,
                                vessel_env(which, VESSEL_EMU_STATS="1",
                                           VESSEL_EMU_PROFILE=f.name))
        lines = pathlib.Path(f.name).read_text().splitlines()
    print(f"\n{which} kernel, one profiled run ({wall:.1f} s with the profiler on):")
    for line in err.splitlines():
        if "emu stats" in line:
            print("  " + line.split("vessel: ", 1)[-1])
    handlers, guest = profile_counts(lines)
    total = sum(guest.values()) or 1
    print("  hottest emu handlers (share of guest instructions):")
    for fn, n in resolve_handlers(handlers).most_common(12):
        print(f"    {100.0 * n / total:5.1f}%  {fn}")
    syms = Symbols(system_map) if system_map and system_map.exists() else None
    funcs = collections.Counter()
    for rip, n in guest.items():
        if rip == "other":
            funcs["(blocks past the profile table)"] += n
            continue
        addr = int(rip, 16)
        if addr < 0xffff800000000000:
            funcs["(user space)"] += n
        else:
            funcs[syms.name(addr) if syms else "(kernel)"] += n
    print("  guest functions that ran the most instructions:")
    for fn, n in funcs.most_common(20):
        print(f"    {100.0 * n / total:5.1f}%  {fn}")


def initcalls(a, which):
    cmd = [a.vessel, "vm", "run", "--accel", "emu", "--mem", "512M", "--append",
           "ignore_loglevel initcall_debug", "--", "true"]
    wall, out, err = run_once(cmd, 0, a.timeout, vessel_env(which))
    calls = []
    for m in re.finditer(r"initcall (\S+) returned -?\d+ after (\d+) usecs", out + err):
        calls.append((int(m.group(2)), m.group(1)))
    calls.sort(reverse=True)
    last = re.findall(r"^\[\s*([\d.]+)\] Run /init", out + err, re.M)
    print(f"\n{which} kernel with initcall_debug ({wall:.1f} s; /init at "
          f"{last[0] if last else '?'} s guest time; {len(calls)} initcalls, "
          f"{sum(c[0] for c in calls) / 1e6:.2f} s in all); the slowest:")
    for us, fn in calls[:15]:
        print(f"    {us / 1000:8.1f} ms  {fn}")


def bench(a, which):
    runs = sides(a, which)
    times = {k: [] for k in runs}
    cpu = {k: [] for k in runs}
    for r in range(a.runs):
        for name, (cmd, want, env) in runs.items():
            wall, _, _ = run_once(cmd, want, a.timeout, env, cpu[name])
            times[name].append(wall)
            print(f"round {r + 1}: {which:5s} {name:13s} {wall:6.2f} s "
                  f"(CPU {cpu[name][-1]:6.2f} s)", flush=True)
    return times, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default="build/vessel")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--kernel", choices=["stock", "small", "both"])
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--initcalls", action="store_true")
    ap.add_argument("--guest-dir", type=pathlib.Path,
                    default=pathlib.Path(os.environ.get("VESSEL_GUEST_DIR",
                                                        pathlib.Path.home() /
                                                        ".cache/vessel/guest")))
    a = ap.parse_args()
    if not (a.guest_dir / "vmlinuz").exists():
        sys.exit(f"no guest kit in {a.guest_dir}: run `make guest`")
    has_small = kernel_path(a, "small").exists()
    if a.kernel in ("small", "both") and not has_small:
        sys.exit(f"no small kernel in {a.guest_dir}/small: run `make guest-kernel`")
    kernels = {"stock": ["stock"], "small": ["small"], "both": ["stock", "small"],
               None: ["stock", "small"] if has_small else ["stock"]}[a.kernel]
    if a.kernel is None and not has_small:
        print("(no small kernel: `make guest-kernel` adds it to this table)")
    results = {k: bench(a, k) for k in kernels} if a.runs > 0 else {}
    if results:
        print(f"\n{time.strftime('%Y-%m-%d %H:%M %Z')}, load average "
              f"{os.getloadavg()[0]:.1f}, medians of {a.runs} runs, boot to `true`'s exit:")
    for which, (times, cpu) in results.items():
        med = {k: statistics.median(v) for k, v in times.items()}
        cmed = {k: statistics.median(v) for k, v in cpu.items()}
        best = min(med["qemu microvm"], med["qemu q35"])
        cbest = min(cmed["qemu microvm"], cmed["qemu q35"])
        for name, m in med.items():
            print(f"  {which:5s} {name:13s} {m:6.2f} s  (min {min(times[name]):.2f}; "
                  f"CPU {cmed[name]:.2f} s)")
        print(f"  {which:5s} vessel emu / QEMU TCG's best: {med['vessel emu'] / best:.2f}x "
              f"wall, {cmed['vessel emu'] / cbest:.2f}x CPU")
    for which in kernels:
        if a.profile:
            smap = (a.guest_dir / "small/System.map" if which == "small" else
                    stock_system_map(a))
            profile(a, which, smap)
        if a.initcalls:
            initcalls(a, which)


if __name__ == "__main__":
    main()
