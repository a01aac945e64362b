#!/usr/bin/env bash
# Containers on networks, ours and the anchors side by side in one run (medians):
#  1. attach cost: `run --rm --network NET IMG true` minus `run --rm --network
#     none IMG true`, in pairs (the veth, address, route, hosts/resolv.conf,
#     lease, and giving them back),
#     vessel vs podman 4.3 on a CNI bridge network (bridge, host-local IPAM,
#     portmap, firewall, tuning: Debian's containernetworking-plugins; no
#     netavark in Debian 12), alternating;
#  2. TCP throughput container -> container (the same Python sender and
#     receiver run in each container's network namespace with nsenter):
#     two vessel containers on a vessel network vs two podman containers on
#     its CNI bridge vs two namespaces on a bridge + veths made by hand (ip).
# Everything runs inside one network namespace made here (vessel-bench-<pid>)
# with vessel's and podman's state in a temporary directory (podman's CNI
# config and IPAM data too), deleted on exit. Needs root, podman, python3.
# Usage: bench/ctr-net.sh [path/to/vessel]   Environment: REPS (default 21)
# attach runs each, RUNS (default 5) throughput runs of SECS (default 3) each.
set -euo pipefail
VESSEL=$(realpath "${1:-build/vessel}")
REPS=${REPS:-21}
RUNS=${RUNS:-5}
SECS=${SECS:-3}
P=vessel-bench-$$
[ -x "$VESSEL" ] || { echo "bench/ctr-net.sh: $VESSEL not built (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/ctr-net.sh: needs root" >&2; exit 1; }
W=$(mktemp -d "${WORKDIR:-/tmp}/vessel-ctr-net-bench.XXXXXX")
PODMAN=1
command -v podman >/dev/null && [ -x /usr/lib/cni/bridge ] || PODMAN=0

in_ns() { nsenter --net="/run/netns/$P" "$@"; }
V() { in_ns "$VESSEL" --root "$W/vs" "$@"; }
PM() {
	in_ns podman --root "$W/pm" --runroot "$W/pmrun" --cgroup-manager=cgroupfs \
		--events-backend=file --network-backend cni --cni-config-dir "$W/cni" "$@"
}
PMRUN=(run --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

cleanup() {
	set +e
	V ps -a --format json 2>/dev/null | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    if c.get("kind") == "container": print(c["id"])' | while read -r id; do V rm -f "$id" >/dev/null; done
	[ $PODMAN = 1 ] && PM rm -af -t 0 >/dev/null 2>&1
	for ns in $(ip netns list | awk -v p="$P" 'index($1, p) == 1 {print $1}'); do
		ip netns del "$ns"
	done
	rm -rf "$W"
}
trap cleanup EXIT

now_us() { echo $(($(date +%s%N) / 1000)); }
median() { sort -n | awk '{v[NR]=$1} END {m=int((NR+1)/2); if (NR%2) print v[m]; else print (v[m]+v[m+1])/2}'; }
us() {
	local t0 t1
	t0=$(now_us)
	"$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
	t1=$(now_us)
	echo $((t1 - t0))
}

# --- setup: namespace, image, networks ----------------------------------------
ip netns add "$P"
ip -n "$P" link set lo up
mkdir -p "$W/rootfs/bin" "$W/cni" "$W/cnidata"
cp "$(command -v busybox)" "$W/rootfs/bin/busybox"
for a in sh true sleep; do ln -s busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -cf "$W/bb.tar" .
V image import "$W/bb.tar" bench:1 >/dev/null
V network create vbench --subnet 10.76.0.0/24 >/dev/null 2>&1
if [ $PODMAN = 1 ]; then
	PM import "$W/bb.tar" localhost/bench:1 >/dev/null 2>&1
	PM network create --subnet 10.77.0.0/24 pbench >/dev/null
	# host-local keeps its leases under /var/lib/cni unless told: keep them here
	python3 - "$W" <<'EOF'
import json, sys
p = sys.argv[1] + "/cni/pbench.conflist"
c = json.load(open(p))
c["plugins"][0]["ipam"]["dataDir"] = sys.argv[1] + "/cnidata"
json.dump(c, open(p, "w"))
EOF
fi

# --- 1. attach cost -------------------------------------------------------------
# one warm-up each (page cache, the first network use)
V run --rm --network vbench bench:1 true >/dev/null
[ $PODMAN = 1 ] && PM "${PMRUN[@]}" --rm --network pbench localhost/bench:1 true >/dev/null
vn=() vb=() vd=() pn=() pb=() pd=()
for i in $(seq "$REPS"); do
	# paired: the attach cost of one pair is the difference of its two runs,
	# so the host's load drifting between pairs cancels out
	a=$(us V run --rm --network none bench:1 true)
	b=$(us V run --rm --network vbench bench:1 true)
	vn+=("$a") vb+=("$b") vd+=($((b - a)))
	if [ $PODMAN = 1 ]; then
		a=$(us PM "${PMRUN[@]}" --rm --network none localhost/bench:1 true)
		b=$(us PM "${PMRUN[@]}" --rm --network pbench localhost/bench:1 true)
		pn+=("$a") pb+=("$b") pd+=($((b - a)))
	fi
done
med() { printf '%s\n' "$@" | median; }
row() { awk -v n="$2" -v b="$3" -v d="$4" -v w="$1" 'BEGIN {
	printf "%-42s %9.1f ms %9.1f ms %9.1f ms\n", w, n / 1000, b / 1000, d / 1000 }'; }
echo "ctr-net bench $(date -u +%F) on $(uname -r), medians"
printf '%-42s %12s %12s %12s\n' "run --rm true, $REPS pairs" "--network none" "on a network" "attach"
row vessel "$(med "${vn[@]}")" "$(med "${vb[@]}")" "$(med "${vd[@]}")"
if [ $PODMAN = 1 ]; then
	row "podman 4.3 + runc, CNI bridge (anchor)" "$(med "${pn[@]}")" "$(med "${pb[@]}")" \
		"$(med "${pd[@]}")"
	awk -v vd="$(med "${vd[@]}")" -v pd="$(med "${pd[@]}")" -v vb="$(med "${vb[@]}")" \
		-v pb="$(med "${pb[@]}")" 'BEGIN {
		printf "ratio vessel/podman: attach %.2fx, whole run on a network %.2fx\n",
			vd / pd, vb / pb }'
else
	echo "podman or the CNI plugins are absent: no podman row"
fi
echo "attach = median over pairs of (on a network - none): veth, address, route,"
echo "hosts/resolv.conf, lease and their release; per-pair values (ms): vessel" \
	"$(printf '%s\n' "${vd[@]}" | awk '{printf "%.1f ", $1 / 1000}')"
[ $PODMAN = 1 ] && echo "  podman $(printf '%s\n' "${pd[@]}" | awk '{printf "%.1f ", $1 / 1000}')"

# --- 2. throughput --------------------------------------------------------------
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

# one sender -> receiver run between two network namespaces (paths); Gbit/s
tput() {
	local from=$1 to=$2 addr=$3 fifo gbps rpid
	fifo=$(mktemp -u "$W/fifo.XXXXXX")
	mkfifo "$fifo"
	nsenter --net="$to" python3 -c "$RECV" >"$fifo" &
	rpid=$!
	exec 9<"$fifo"
	read -r _ <&9
	nsenter --net="$from" python3 -c "$SEND" "$addr" "$SECS"
	read -r gbps <&9
	exec 9<&-
	wait "$rpid"
	rm -f "$fifo"
	echo "$gbps"
}
vpid() { V inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'; }
vaddr() {
	V network inspect vbench | python3 -c "import json,sys
print([a['address'] for a in json.load(sys.stdin)['addresses'] if a['owner_name'] == '$1'][0])"
}

V run -d --name v1 --network vbench bench:1 sleep 600 >/dev/null
V run -d --name v2 --network vbench bench:1 sleep 600 >/dev/null
vs=("/proc/$(vpid v1)/ns/net" "/proc/$(vpid v2)/ns/net" "$(vaddr v2)")
if [ $PODMAN = 1 ]; then
	PM "${PMRUN[@]}" -d --name p1 --network pbench localhost/bench:1 sleep 600 >/dev/null
	PM "${PMRUN[@]}" -d --name p2 --network pbench localhost/bench:1 sleep 600 >/dev/null
	ps_=("/proc/$(PM inspect -f '{{.State.Pid}}' p1)/ns/net"
		"/proc/$(PM inspect -f '{{.State.Pid}}' p2)/ns/net"
		"$(PM inspect -f '{{.NetworkSettings.Networks.pbench.IPAddress}}' p2)")
fi
# the hand-made baseline, in namespaces of its own behind the same host namespace
ip -n "$P" link add vessel-hb type bridge
ip -n "$P" addr add 10.78.0.1/24 dev vessel-hb
ip -n "$P" link set vessel-hb up
for i in 1 2; do
	ip netns add "$P-h$i"
	ip -n "$P" link add "vessel-hb$i" type veth peer name eth0 netns "$P-h$i"
	ip -n "$P" link set "vessel-hb$i" master vessel-hb up
	ip -n "$P-h$i" link set lo up
	ip -n "$P-h$i" link set eth0 up
	ip -n "$P-h$i" addr add "10.78.0.$((i + 1))/24" dev eth0
	ip -n "$P-h$i" route add default via 10.78.0.1
done
hs=("/run/netns/$P-h1" "/run/netns/$P-h2" 10.78.0.3)

vt=() ht=() pt=()
for r in $(seq "$RUNS"); do
	# rotate who goes first, so warm-up and drift favour no one
	for k in 0 1 2; do
		case $(((r + k) % 3)) in
		0) vt+=("$(tput "${vs[@]}")") ;;
		1) ht+=("$(tput "${hs[@]}")") ;;
		2) [ $PODMAN = 1 ] && pt+=("$(tput "${ps_[@]}")") ;;
		esac
	done
done
echo "runs (Gbit/s): vessel ${vt[*]}; hand-made ${ht[*]}; podman ${pt[*]:-}"
m_vt=$(printf '%s\n' "${vt[@]}" | median)
m_ht=$(printf '%s\n' "${ht[@]}" | median)
printf '%-46s %10s\n' "TCP container -> container, ${SECS}s x $RUNS" "median"
printf '%-46s %7.2f Gbit/s\n' "vessel network (vs_attach_netns veths)" "$m_vt"
printf '%-46s %7.2f Gbit/s\n' "hand-made bridge + veths (ip)" "$m_ht"
if [ $PODMAN = 1 ]; then
	m_pt=$(printf '%s\n' "${pt[@]}" | median)
	printf '%-46s %7.2f Gbit/s\n' "podman CNI bridge" "$m_pt"
	awk -v a="$m_vt" -v b="$m_ht" -v c="$m_pt" 'BEGIN {
		printf "ratio vessel/hand-made: %.2fx, vessel/podman: %.2fx\n", a / b, a / c }'
else
	awk -v a="$m_vt" -v b="$m_ht" 'BEGIN { printf "ratio vessel/hand-made: %.2fx\n", a / b }'
fi
