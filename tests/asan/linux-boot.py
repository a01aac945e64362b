#!/usr/bin/env python3
"""The 'asan' suite (meson test --suite asan; `make check-asan` runs it in
build-asan/, the only build that defines it): Linux boots under vessel's
software CPU with ASan/UBSan on and runs a command, and the sanitizers
report nothing (issue 12: "Under ASan/UBSan, a Linux boot runs clean").

The small kernel (`make guest-kernel`) when it is cached, it boots in a
fraction of the stock one's time; else Debian's stock kernel (`make guest`).
Two vCPUs, so that the AP bring-up, IPIs and the shared block cache run
under the sanitizers too. Exit 77 (meson's skip) with 'SKIP: <reason>'
when there is no kernel at all.

usage: linux-boot.py VESSEL"""
import os
import pathlib
import subprocess
import sys

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer")


def main():
    vessel = sys.argv[1]
    gdir = pathlib.Path(os.environ.get("VESSEL_GUEST_DIR") or
                        pathlib.Path.home() / ".cache/vessel/guest")
    if not (gdir / "initramfs.cpio.gz").exists():
        print(f"SKIP: no guest kit in {gdir} (make guest)")
        return 77
    if (gdir / "small/vmlinuz").exists():
        which = "small"
    elif (gdir / "vmlinuz").exists():
        which = "stock"
    else:
        print(f"SKIP: no kernel in {gdir} (make guest, make guest-kernel)")
        return 77
    env = dict(os.environ, VESSEL_GUEST_KERNEL=which)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    cmd = [vessel, "vm", "run", "--accel", "emu", "--cpus", "2", "--mem", "256M", "--",
           "sh", "-c", "echo asan-boot-ok $(nproc); head -c 100000 /bin/busybox | sha256sum; "
           "exit 3"]
    print(f"booting the {which} kernel: {' '.join(cmd)}", flush=True)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       errors="replace", env=env, timeout=1500)
    print(p.stdout[-3000:])
    print(p.stderr[-6000:], file=sys.stderr)
    bad = [m for m in SANITIZER_MARKS if m in p.stderr or m in p.stdout]
    if bad:
        print(f"FAIL: the sanitizers reported: {bad}")
        return 1
    if p.returncode != 3 or "asan-boot-ok 2" not in p.stdout:
        print(f"FAIL: exit status {p.returncode} (want 3) or no 'asan-boot-ok 2' in the output")
        return 1
    want = subprocess.run("head -c 100000 /bin/busybox | sha256sum", shell=True,
                          capture_output=True, text=True).stdout.split()[0]
    if want not in p.stdout:
        print(f"FAIL: the guest's sha256 of busybox's first 100000 bytes is not {want}")
        return 1
    print(f"the {which} kernel booted clean under the sanitizers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
