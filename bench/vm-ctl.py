"""bench/vm-ctl.sh: the cost of vessel's management layer (docs/vm.md
"Named VMs"), with the test guest's `counter` mode under kvm.

  start:  `vm start NAME -a` (start, then the console with replay) to the
          first byte of guest output on its stdout, vs `vm run` to the first
          byte on its stdout.
  stop:   `vm stop -t 0` and `vm kill` to the CLI's return (it returns once
          the VMM has exited and released its lock), vs SIGTERM to `vm run`
          until it has exited; and `vm stop` with the power button (the guest
          polls it at 50 Hz, so up to 20 ms of that is the guest's).
  ls:     `vm ls` with 100 registered VMs (wall time of the process).
  rss:    VmRSS of a paused VMM minus the resident part of its guest RAM
          mapping (from /proc/PID/smaps).

Anchor: libvirt 9.0 (virsh, a private libvirtd and QEMU 7.2 -M microvm with
the same test guest, bench/libvirt_anchor.py), in the same rounds: `virsh
start` to the first byte in the domain's serial file, `virsh destroy` to its
return (QEMU gone), `virsh list --all` with 100 defined domains, and the RSS
of a suspended QEMU beyond its guest memory. Without libvirt installed the
anchor is skipped with the reason.

On a host that other work keeps busy, every handoff between processes waits
for a CPU: `vm start -a` has five in a row (CLI, reaper, VMM, its vCPU
thread, the console relay back to the CLI) where `vm run` has one, so its
median says more about the neighbours than about vessel. `chrt -f 1
bench/vm-ctl.sh` runs everything (vessel, libvirtd and QEMU alike) ahead of
the other work: what an otherwise idle host would show."""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

import libvirt_anchor

APPEND = "vessel.test=counter:100"


def first_byte(cmd, env=None):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    b = p.stdout.read(1)
    t = time.perf_counter() - t0
    assert b, "no output"
    return p, t


def vs(args, root, check=True):
    r = subprocess.run([ARGS.vessel, "--root", root, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"{args}: {r.stderr}")
    return r


def vm_pid(root, name):
    import json
    for v in json.loads(vs(["vm", "ls", "--format", "json"], root).stdout):
        if v["name"] == name:
            return v["pid"]
    return None


def bench_start_stop(root, rounds, lv):
    spec = ["--kernel", ARGS.bzimage, "--append", APPEND, "--accel", "kvm", "--mem", "64M"]
    vs(["vm", "create", "b", *spec], root)
    if lv:
        lv.define("b")
    res = {k: [] for k in ("run_first", "start_first", "run_term", "stop0", "kill", "stop_btn",
                           "virsh_first", "virsh_destroy")}
    for i in range(rounds):
        p, t = first_byte([ARGS.vessel, "vm", "run", *spec])
        res["run_first"].append(t)
        time.sleep(0.05)
        t0 = time.perf_counter()
        p.send_signal(signal.SIGTERM)
        p.wait()
        res["run_term"].append(time.perf_counter() - t0)

        p, t = first_byte([ARGS.vessel, "--root", root, "vm", "start", "b", "-a"])
        res["start_first"].append(t)
        p.kill()
        p.wait()
        time.sleep(0.05)
        verb = ("stop0", ["vm", "stop", "b", "-t", "0"]) if i % 3 == 0 else \
            ("kill", ["vm", "kill", "b"]) if i % 3 == 1 else ("stop_btn", ["vm", "stop", "b"])
        t0 = time.perf_counter()
        vs(verb[1], root)
        res[verb[0]].append(time.perf_counter() - t0)

        if lv:
            res["virsh_first"].append(lv.start_first_byte("b"))
            time.sleep(0.05)
            res["virsh_destroy"].append(lv.destroy("b"))
    return res


def timed(cmd, rounds):
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t0)
    return ts


def bench_ls(root, n, rounds, lv):
    for i in range(n):
        vs(["vm", "create", f"v{i:03d}", "--kernel", ARGS.bzimage, "--accel", "kvm"], root)
        if lv:
            lv.define(f"v{i:03d}")
    ls, virsh = [], []
    for _ in range(rounds):  # interleaved
        ls += timed([ARGS.vessel, "--root", root, "vm", "ls"], 1)
        if lv:
            virsh += timed(["virsh", "-c", lv.uri, "list", "--all"], 1)
    return ls, virsh


def guest_rss_kib(pid, mem_kib):
    rss_total = guest = 0
    size = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            k = line.split()
            if k[0] == "Size:":
                size = int(k[1])
            elif k[0] == "Rss:":
                rss_total += int(k[1])
                if mem_kib <= size <= mem_kib + 4096:  # QEMU may align its RAM block
                    guest += int(k[1])
    return rss_total, guest


def bench_rss(root, lv):
    vs(["vm", "create", "idle", "--kernel", ARGS.bzimage, "--append", APPEND, "--accel", "kvm",
        "--mem", "64M"], root)
    vs(["vm", "start", "idle"], root)
    time.sleep(0.5)
    vs(["vm", "pause", "idle"], root)
    time.sleep(0.2)
    pid = vm_pid(root, "idle")
    total, guest = guest_rss_kib(pid, 64 * 1024)
    vs(["vm", "kill", "idle"], root)
    q_total = q_guest = None
    if lv:
        lv.define("idle")
        lv.virsh("start", "idle")
        time.sleep(0.5)
        lv.virsh("suspend", "idle")
        time.sleep(0.2)
        q_total, q_guest = guest_rss_kib(lv.qemu_pid("idle"), 64 * 1024)
        lv.virsh("destroy", "idle")
    return total, guest, q_total, q_guest


def ms(v):
    """Median (and minimum): on a loaded shared host the minimum shows the
    cost of the path itself, the median what a user waits."""
    if not v:
        return "      -"
    return f"{statistics.median(v) * 1000:.2f} ms (min {min(v) * 1000:.2f})"


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--bzimage", required=True)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--no-libvirt", action="store_true", help="skip the libvirt anchor")
    ARGS = ap.parse_args()
    ARGS.vessel = os.path.abspath(ARGS.vessel)
    tmp = tempfile.mkdtemp(prefix="vessel-bench-ctl-")
    lv_why = "--no-libvirt" if ARGS.no_libvirt else libvirt_anchor.why_not()
    elf = os.path.join(os.path.dirname(os.path.abspath(ARGS.bzimage)), "testkernel", "testkernel.elf")
    if not lv_why and not os.path.exists(elf):
        lv_why = f"{elf} is missing"
    lv = None
    try:
        if not lv_why:
            lv = libvirt_anchor.Libvirt(elf, APPEND)
        r = bench_start_stop(os.path.join(tmp, "a"), ARGS.rounds, lv)
        ls, virsh_ls = bench_ls(os.path.join(tmp, "b"), 100, 20, lv)
        total, guest, q_total, q_guest = bench_rss(os.path.join(tmp, "c"), lv)
    finally:
        if lv:
            lv.close()
        for root in ("a", "b", "c"):
            d = os.path.join(tmp, root)
            if os.path.exists(os.path.join(d, "vessel.db")):
                subprocess.run([ARGS.vessel, "--root", d, "vm", "rm", "-f", "b", "idle"],
                               capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"vm-ctl bench, {time.strftime('%Y-%m-%d %H:%M')}, test guest under kvm, medians "
          f"of {ARGS.rounds} rounds, load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    d_start = statistics.median(r["start_first"]) - statistics.median(r["run_first"])
    d_start_min = min(r["start_first"]) - min(r["run_first"])
    print(f"first serial byte   vm run {ms(r['run_first'])}   vm start -a {ms(r['start_first'])}"
          f"   difference {d_start * 1000:+.2f} ms, of minimums {d_start_min * 1000:+.2f} ms "
          f"(target <= +5 ms)")
    d_stop = statistics.median(r["stop0"]) - statistics.median(r["run_term"])
    d_stop_min = min(r["stop0"]) - min(r["run_term"])
    print(f"stop to VMM gone    vm run+SIGTERM {ms(r['run_term'])}   vm stop -t 0 "
          f"{ms(r['stop0'])}   difference {d_stop * 1000:+.2f} ms, of minimums "
          f"{d_stop_min * 1000:+.2f} ms (target <= +5 ms)")
    print(f"                    vm kill {ms(r['kill'])}   vm stop (power button, "
          f"guest polls at 50 Hz) {ms(r['stop_btn'])}")
    print(f"vm ls, 100 VMs      {ms(ls)} (target <= 10 ms)")
    print(f"paused VMM RSS      total {total} KiB, guest RAM resident {guest} KiB, beyond guest "
          f"memory {(total - guest) / 1024:.2f} MiB (target <= 4 MiB)")
    if not lv:
        print(f"virsh               not measured: {lv_why}")
        return
    ratio = statistics.median(r["start_first"]) / statistics.median(r["virsh_first"])
    print(f"virsh (libvirt 9.0, QEMU -M microvm)   start to first serial byte "
          f"{ms(r['virsh_first'])} (vm start -a / virsh start: {ratio:.3g}x)")
    ratio = statistics.median(r["stop0"]) / statistics.median(r["virsh_destroy"])
    print(f"                    destroy {ms(r['virsh_destroy'])} (vm stop -t 0 / virsh destroy: "
          f"{ratio:.3g}x)")
    ratio = statistics.median(ls) / statistics.median(virsh_ls)
    print(f"                    list --all, 100 domains {ms(virsh_ls)} (vm ls / virsh list: "
          f"{ratio:.3g}x)")
    print(f"                    suspended QEMU RSS total {q_total} KiB, guest RAM resident "
          f"{q_guest} KiB, beyond guest memory {(q_total - q_guest) / 1024:.2f} MiB")


if __name__ == "__main__":
    main()
