#!/usr/bin/env bash
# src/net benchmarks, ours and the anchor side by side in one run (medians):
#  1. attaching a "container" namespace to a bridge (veth with the peer in
#     the namespace, port up on the bridge, lo+eth0 up, address, default
#     route): net-tool attach (one process; the library call alone is also
#     timed in-process) vs the same done with ip(8) commands;
#  2. TCP throughput container -> bridge -> container over a bridge and
#     veths made by the library vs a hand-made bridge+veth baseline (ip);
#  3. virtio-net frames/s guest -> host, the test guest under KVM, vessel
#     --net tap= vs qemu-system-x86_64 -accel kvm virtio-net-pci on the same
#     tap (bench/net-vm.py, which also runs alone; VM=0 skips it, VM_RUNS
#     and VM_FRAMES set its runs and frames per run of the CPL3 producer,
#     VM_CPL0_FRAMES those of the CPL0 one, 0 to skip it).
# Everything happens inside namespaces made here (vessel-bench-<pid>-*),
# deleted on exit. Needs root, iproute2, python3.
# Usage: bench/net.sh [BUILD_DIR] (default build); N=20 attaches, SECS=3 per
# throughput run, RUNS=3 runs of each.
set -euo pipefail
BUILD=${1:-build}
TOOL=$BUILD/tests/unit/net/net-tool
N=${N:-20}
SECS=${SECS:-3}
RUNS=${RUNS:-3}
P=vessel-bench-$$
[ -x "$TOOL" ] || { echo "bench/net.sh: $TOOL not built (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/net.sh: needs root" >&2; exit 1; }

cleanup() {
	for ns in $(ip netns list | awk -v p="$P-" 'index($1, p) == 1 {print $1}'); do
		ip netns del "$ns" 2>/dev/null || true
	done
}
trap cleanup EXIT

now_us() { echo $(( $(date +%s%N) / 1000 )); }
median() { sort -n | awk '{v[NR]=$1} END {m=int((NR+1)/2); if (NR%2) print v[m]; else print (v[m]+v[m+1])/2}'; }

# --- 1. attach --------------------------------------------------------------
H=$P-host
ip netns add "$H"
"$TOOL" -n "$H" bridge-add vessel-lib
"$TOOL" -n "$H" addr-add vessel-lib 10.250.0.1/24
"$TOOL" -n "$H" link-up vessel-lib up
ip -n "$H" link add vessel-ip type bridge
ip -n "$H" addr add 10.251.0.1/24 dev vessel-ip
ip -n "$H" link set vessel-ip up

lib=() ; libcall=() ; ipc=()
for i in $(seq 1 "$N"); do
	ip netns add "$P-l$i"
	t0=$(now_us)
	out=$("$TOOL" -n "$H" attach vessel-lib "vessel-l$i" "$P-l$i" eth0 "10.250.0.$((i + 1))/24" 10.250.0.1 --time)
	t1=$(now_us)
	lib+=($((t1 - t0)))
	libcall+=("${out#attach_us=}")
	ip netns add "$P-i$i"
	t0=$(now_us)
	ip -n "$H" link add "vessel-i$i" type veth peer name eth0 netns "$P-i$i"
	ip -n "$H" link set "vessel-i$i" master vessel-ip up
	ip -n "$P-i$i" link set lo up
	ip -n "$P-i$i" link set eth0 up
	ip -n "$P-i$i" addr add "10.251.0.$((i + 1))/24" dev eth0
	ip -n "$P-i$i" route add default via 10.251.0.1
	t1=$(now_us)
	ipc+=($((t1 - t0)))
done
m_lib=$(printf '%s\n' "${lib[@]}" | median)
m_call=$(printf '%s\n' "${libcall[@]}" | median)
m_ip=$(printf '%s\n' "${ipc[@]}" | median)
# the attached namespaces must work: ping across each bridge
ip netns exec "$P-l1" busybox ping -c1 -W2 "10.250.0.$((N + 1))" >/dev/null
ip netns exec "$P-i1" busybox ping -c1 -W2 "10.251.0.$((N + 1))" >/dev/null

echo "net bench $(date -u +%F) on $(uname -r), $N attaches each, medians"
printf '%-44s %10s\n' "attach a namespace to a bridge" "median"
printf '%-44s %8.0f us\n' "net-tool attach (process + library)" "$m_lib"
printf '%-44s %8.0f us\n' "  of which vs_attach_netns() itself" "$m_call"
printf '%-44s %8.0f us\n' "ip commands (anchor, 6 processes)" "$m_ip"
awk -v a="$m_lib" -v b="$m_ip" -v c="$m_call" 'BEGIN {
	printf "ratio ours/anchor: %.2fx (process), %.2fx (library call)\n", a / b, c / b }'

# --- 2. throughput ------------------------------------------------------------
RECV='import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201)); s.listen(1); print("ready", flush=True)
c,_=s.accept(); b=bytearray(1<<20); n=0; t0=None
while True:
    k=c.recv_into(b)
    if not k: break
    if t0 is None: t0=time.monotonic()
    n+=k
print("%.3f" % (n*8/(time.monotonic()-t0)/1e9))'
SEND='import socket,sys,time
c=socket.create_connection((sys.argv[1], 5201)); b=b"\0"*(1<<20); end=time.monotonic()+float(sys.argv[2])
while time.monotonic()<end: c.sendall(b)
c.close()'

# one sender -> receiver run between two namespaces; prints Gbit/s
tput() {
	local from=$1 to=$2 addr=$3 fifo gbps
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	ip netns exec "$to" python3 -c "$RECV" >"$fifo" &
	local rpid=$!
	exec 9<"$fifo"
	read -r _ <&9
	ip netns exec "$from" python3 -c "$SEND" "$addr" "$SECS"
	read -r gbps <&9
	exec 9<&-
	wait "$rpid"
	rm -f "$fifo"
	echo "$gbps"
}

lt=() ; it=()
for r in $(seq 1 "$RUNS"); do
	# alternate who goes first, so warm-up and drift do not favour one side
	if [ $((r % 2)) -eq 1 ]; then
		lt+=("$(tput "$P-l1" "$P-l2" 10.250.0.3)")
		it+=("$(tput "$P-i1" "$P-i2" 10.251.0.3)")
	else
		it+=("$(tput "$P-i1" "$P-i2" 10.251.0.3)")
		lt+=("$(tput "$P-l1" "$P-l2" 10.250.0.3)")
	fi
done
echo "runs (Gbit/s): library ${lt[*]}; anchor ${it[*]}"
m_lt=$(printf '%s\n' "${lt[@]}" | median)
m_it=$(printf '%s\n' "${it[@]}" | median)
printf '%-44s %10s\n' "TCP veth->bridge->veth, ${SECS}s x $RUNS" "median"
printf '%-44s %7.2f Gbit/s\n' "library-made bridge + veths" "$m_lt"
printf '%-44s %7.2f Gbit/s\n' "hand-made bridge + veths (anchor, ip)" "$m_it"
awk -v a="$m_lt" -v b="$m_it" 'BEGIN { printf "ratio ours/anchor: %.2fx\n", a / b }'

# --- 3. virtio-net frames/s guest -> host (bench/net-vm.py) -------------------
if [ "${VM:-1}" != 0 ]; then
	echo
	/usr/bin/python3 "$(dirname "$0")/net-vm.py" --vessel "$BUILD/vessel" \
		--bzimage "$BUILD/guest/testkernel.bzImage" --runs "${VM_RUNS:-5}" \
		--frames "${VM_FRAMES:-200000}" --cpl0-frames "${VM_CPL0_FRAMES:-10000}"
fi
