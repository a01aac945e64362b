#!/bin/sh
# bench/oci.sh [VESSEL_RUNC] [RUNS]: side-by-side OCI runtime figures, one run.
#   1. `run` of /bin/true in a busybox bundle: median and min of RUNS (>= 30)
#   2. peak RSS of the runtime process (GNU time %M) for the same `run`
#   3. 100 containers created+started detached, then all deleted: total time
#   4. exec of /bin/true into a running container: median of RUNS
# for vessel-runc, runc and crun (those installed). crun 1.8.1 refuses this
# host's hybrid cgroups unless /sys/fs/cgroup/unified/cgroup.controllers is
# empty, so the whole benchmark runs in a private mount namespace with an
# empty file bound over it (HOST-FACTS); vessel and runc do not need it.
# Containers use cgroupsPath /vessel-test/bench-<runtime>-N, removed at exit.
set -eu
VR=${1:-build/vessel-runc}
VR=$(cd "$(dirname "$VR")" && pwd)/$(basename "$VR")
RUNS=${2:-30}
[ "$(id -u)" = 0 ] || { echo "bench/oci.sh: needs root" >&2; exit 1; }
[ -x "$VR" ] || { echo "bench/oci.sh: $VR not built" >&2; exit 1; }
if [ -z "${VESSEL_BENCH_INNER:-}" ]; then
	exec unshare -m --propagation private env VESSEL_BENCH_INNER=1 "$0" "$VR" "$RUNS"
fi
W=$(mktemp -d /tmp/vessel-oci-bench.XXXXXX)
cleanup() {
	for r in vessel runc crun; do
		for id in $(ls "$W/state-$r" 2>/dev/null); do
			case $r in vessel) b=$VR ;; *) b=$r ;; esac
			"$b" --root "$W/state-$r" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	for h in /sys/fs/cgroup/*/; do
		for d in "$h"vessel-test/bench-*; do [ -d "$d" ] && rmdir "$d" 2>/dev/null || true; done
		rmdir "${h}vessel-test" 2>/dev/null || true
	done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
: > "$W/empty"
mount --bind "$W/empty" /sys/fs/cgroup/unified/cgroup.controllers
mkdir -p "$W/bundle/rootfs/bin" "$W/bundle/rootfs/proc" "$W/bundle/rootfs/dev" "$W/bundle/rootfs/sys"
cp /bin/busybox "$W/bundle/rootfs/bin/"
ln -s busybox "$W/bundle/rootfs/bin/true"
ln -s busybox "$W/bundle/rootfs/bin/sleep"
"$VR" spec --bundle "$W/bundle"
RUNTIMES="vessel"
command -v runc >/dev/null && RUNTIMES="$RUNTIMES runc"
command -v crun >/dev/null && RUNTIMES="$RUNTIMES crun"
export W VR RUNS RUNTIMES
/usr/bin/python3 - <<'PY'
import json, os, statistics, subprocess, time
W, VR, RUNS = os.environ["W"], os.environ["VR"], int(os.environ["RUNS"])
bundle = f"{W}/bundle"
cfg = json.load(open(f"{bundle}/config.json"))
cfg["process"].update(terminal=False, args=["/bin/true"])
cfg["root"]["readonly"] = True
cfg["linux"].pop("resources", None)

def binary(r):
    return VR if r == "vessel" else r

def use_cgroup(r, n):
    cfg["linux"]["cgroupsPath"] = f"/vessel-test/bench-{r}-{n}"
    json.dump(cfg, open(f"{bundle}/config.json", "w"))

def rt(r, *args, timed=False):
    os.makedirs(f"{W}/state-{r}", exist_ok=True)
    argv = [binary(r), "--root", f"{W}/state-{r}", *args]
    if timed:
        argv = ["/usr/bin/time", "-f", "%M", "-o", f"{W}/rss"] + argv
    # stderr goes to a file: a detached container inherits it, and a pipe
    # would keep us waiting for its EOF
    with open(f"{W}/err", "w+") as err:
        t = time.perf_counter()
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=err)
        dt = time.perf_counter() - t
        if p.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{r} {args[0]} failed: {err.read().strip()}")
    return dt

runtimes = os.environ["RUNTIMES"].split()
times = {r: [] for r in runtimes}
rss = {r: [] for r in runtimes}
many = {}
# round-robin, so that load from elsewhere on the host hits all alike
for i in range(RUNS + 2):
    for r in runtimes:
        use_cgroup(r, 0)
        dt = rt(r, "run", "--bundle", bundle, f"b{i}")
        if i >= 2:  # two warm-up runs
            times[r].append(dt * 1000)
for i in range(5):
    for r in runtimes:
        use_cgroup(r, 0)
        rt(r, "run", "--bundle", bundle, f"m{i}", timed=True)
        rss[r].append(int(open(f"{W}/rss").read().split()[-1]) / 1024)
# exec /bin/true into a running container (it waits in `sleep`, hence busybox)
cfg["process"]["args"] = ["/bin/sleep", "600"]
exec_times = {r: [] for r in runtimes}
for r in runtimes:
    use_cgroup(r, 1000)
    rt(r, "run", "-d", "--bundle", bundle, "ex")
for i in range(RUNS + 2):
    for r in runtimes:
        dt = rt(r, "exec", "ex", "/bin/true")
        if i >= 2:
            exec_times[r].append(dt * 1000)
for r in runtimes:
    rt(r, "delete", "--force", "ex")
cfg["process"]["args"] = ["/bin/true"]
for r in runtimes:
    t0 = time.perf_counter()
    for i in range(100):
        use_cgroup(r, i + 1)
        rt(r, "run", "-d", "--bundle", bundle, f"d{i}")
    for i in range(100):
        rt(r, "delete", "--force", f"d{i}")
    many[r] = time.perf_counter() - t0
rows = [(r, statistics.median(times[r]), min(times[r]), max(rss[r]), many[r],
         statistics.median(exec_times[r])) for r in runtimes]
print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {RUNS} runs each, same bundle")
print(f"{'runtime':<8} {'run true median':>16} {'min':>8} {'peak RSS':>9} {'100 run -d + delete':>20}"
      f" {'exec true median':>17}")
for r, med, mn, rss, many, ex in rows:
    print(f"{r:<8} {med:>13.1f} ms {mn:>5.1f} ms {rss:>5.1f} MiB {many:>18.2f} s {ex:>14.1f} ms")
base = {r: (med, rss, many, ex) for r, med, _, rss, many, ex in rows}
if "crun" in base:
    v, c = base["vessel"], base["crun"]
    print(f"vessel/crun: run {v[0]/c[0]:.2f}x, RSS {v[1]/c[1]:.2f}x, 100 containers {v[2]/c[2]:.2f}x,"
          f" exec {v[3]/c[3]:.2f}x")
if "runc" in base:
    v, c = base["vessel"], base["runc"]
    print(f"vessel/runc: run {v[0]/c[0]:.2f}x, RSS {v[1]/c[1]:.2f}x, 100 containers {v[2]/c[2]:.2f}x,"
          f" exec {v[3]/c[3]:.2f}x")
PY
