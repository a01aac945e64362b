#!/bin/bash
# Container start-up benchmark: `vessel run --rm IMG true` vs `podman run
# --rm IMG true` on the same busybox rootfs image (imported into each from
# one tarball), alternating, in one run. podman runs offline as
# HOST-FACTS.md says (cgroupfs, file events, --network none, runc: crun
# refuses this hybrid cgroup host). Prints the median of REPS runs each and
# the ratio vessel/podman (the issue's target: <= 0.3). Then the resident
# memory of an idle monitor: vessel's (vessel-ctr-mon once the container
# runs) vs podman's conmon, each holding a detached `sleep` (the target:
# <= 1 MiB; conmon is 1-2 MiB). RSS counts the shared pages of libc & co.,
# PSS shares them out: both are printed. Then N_IDLE (default 100) idle
# containers started with -d in a loop by each (the target: <= 0.5x
# podman's time), and the PSS of all their monitors.
# Usage: bench/run.sh [path/to/vessel]
# Environment: REPS (default 11), N_IDLE (default 100; 0: skip), WORKDIR.
set -euo pipefail

VESSEL=${1:-build/vessel}
REPS=${REPS:-11}
command -v podman >/dev/null || { echo "SKIP: podman not installed"; exit 0; }
[ -x "$VESSEL" ] || { echo "bench/run.sh: $VESSEL is not built" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "SKIP: /bin/busybox (busybox-static) is absent"; exit 0; }
VESSEL=$(realpath "$VESSEL")
W=$(mktemp -d "${WORKDIR:-/tmp}/vessel-runbench.XXXXXX")
PM=(podman --root "$W/pm/s" --runroot "$W/pm/r" --cgroup-manager=cgroupfs --events-backend=file)
cleanup() {
	for c in $("$VESSEL" --root "$W/vs" ps -a --format json 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; [print(c["id"]) for c in json.load(sys.stdin) if c["kind"]=="container"]' 2>/dev/null); do
		"$VESSEL" --root "$W/vs" rm -f "$c" >/dev/null 2>&1 || true
	done
	"${PM[@]}" rm -a -f >/dev/null 2>&1 || true
	"${PM[@]}" rmi -a -f >/dev/null 2>&1 || true
	grep -o " $W[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/rootfs/bin" "$W/rootfs/etc" "$W/rootfs/tmp"
cp /bin/busybox "$W/rootfs/bin/"
for a in sh true echo sleep; do ln -s busybox "$W/rootfs/bin/$a"; done
echo "root:x:0:0:root:/root:/bin/sh" >"$W/rootfs/etc/passwd"
tar -C "$W/rootfs" -cf "$W/rootfs.tar" .
"$VESSEL" --root "$W/vs" image import "$W/rootfs.tar" bench:1 >/dev/null
"${PM[@]}" import -q "$W/rootfs.tar" localhost/bench:1 >/dev/null

ms() {
	local t0 t1
	t0=$(date +%s%N); "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; exit 1; }; t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# one warm-up each (page cache, podman's first-run setup)
ms "$VESSEL" --root "$W/vs" run --rm --network none bench:1 true >/dev/null
PMRUN=("${PM[@]}" run --rm --runtime runc --network none --ulimit nofile=1024:1024
	--ulimit nproc=4096:4096 localhost/bench:1 true)
ms "${PMRUN[@]}" >/dev/null
v=() p=()
for i in $(seq "$REPS"); do
	v+=("$(ms "$VESSEL" --root "$W/vs" run --rm --network none bench:1 true)")
	p+=("$(ms "${PMRUN[@]}")")
done
vm=$(printf '%s\n' "${v[@]}" | median)
pm=$(printf '%s\n' "${p[@]}" | median)
echo "$(date -u +%F) run --rm true, median of $REPS (ms): vessel $(echo "scale=1; $vm/1000" | bc)" \
	"podman $(echo "scale=1; $pm/1000" | bc) ratio $(echo "scale=2; $vm/$pm" | bc)"

# kB of VmRSS and of Pss (smaps_rollup) of a pid
mem() { echo "$(awk '/^VmRSS:/ {print $2}' /proc/$1/status) $(awk '/^Pss:/ {print $2}' /proc/$1/smaps_rollup)"; }
"$VESSEL" --root "$W/vs" run -d --name idle bench:1 sleep 1000 >/dev/null
"${PM[@]}" run -d --name idle --runtime runc --network none --ulimit nofile=1024:1024 \
	--ulimit nproc=4096:4096 localhost/bench:1 sleep 1000 >/dev/null
sleep 2 # let both settle (vessel's monitor goes small after 1 s)
vmon=$("$VESSEL" --root "$W/vs" inspect idle | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["monitor_pid"])')
cmon=$("${PM[@]}" inspect --format '{{.State.ConmonPid}}' idle)
read -r vr vp <<<"$(mem "$vmon")"
read -r cr cp <<<"$(mem "$cmon")"
echo "$(date -u +%F) idle monitor (KiB): vessel ($(cat /proc/$vmon/comm)) RSS $vr PSS $vp," \
	"podman's conmon RSS $cr PSS $cp; RSS ratio $(echo "scale=2; $vr/$cr" | bc)"

N_IDLE=${N_IDLE:-100}
[ "$N_IDLE" -gt 0 ] || exit 0
pss_sum() { local t=0 p; for p in "$@"; do t=$((t + $(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup))); done; echo $t; }
t0=$(date +%s%N)
for i in $(seq "$N_IDLE"); do "$VESSEL" --root "$W/vs" run -d --name "i$i" bench:1 sleep 1000 >/dev/null; done
t1=$(date +%s%N)
for i in $(seq "$N_IDLE"); do
	"${PM[@]}" run -d --name "i$i" --runtime runc --network none --ulimit nofile=1024:1024 \
		--ulimit nproc=4096:4096 localhost/bench:1 sleep 1000 >/dev/null
done
t2=$(date +%s%N)
sleep 2
vpids=$("$VESSEL" --root "$W/vs" ps --format json | /usr/bin/python3 -c 'import json,sys; [print(c["monitor_pid"]) for c in json.load(sys.stdin) if c["kind"]=="container"]')
cpids=$("${PM[@]}" ps -q | xargs "${PM[@]}" inspect --format '{{.State.ConmonPid}}')
vt=$(((t1 - t0) / 1000000)) pt=$(((t2 - t1) / 1000000))
echo "$(date -u +%F) $N_IDLE x run -d sleep (ms): vessel $vt podman $pt ratio $(echo "scale=2; $vt/$pt" | bc);" \
	"PSS of all monitors (KiB): vessel $(pss_sum $vpids) conmon $(pss_sum $cpids)"
