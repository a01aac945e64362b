#!/bin/bash
# Side-by-side benchmark of `vessel img` against qemu-img, same images, same
# run; prints the median of REPS runs per case and the ratio qemu/vessel
# (>= 1.0: vessel at least as fast). Usage: bench/img.sh [path/to/vessel]
# Environment: REPS (default 5), SIZE (bench image, default 1G), SHM (a
# tmpfs for the qcow2/raw comparison, default /dev/shm),
# CONVERT_SIZE (default 2G), WORKDIR (default a temporary directory),
# OPS (bench cases to run, default "read alloc overwrite"), CONVERT (0: skip
# the convert cases; OPS="" runs only them), VESSEL_ARGS (extra `vessel img bench` flags, e.g.
# "-t unsafe" to measure without write barriers).
set -euo pipefail

VESSEL=${1:-build/vessel}
REPS=${REPS:-5}
SIZE=${SIZE:-1G}
CONVERT_SIZE=${CONVERT_SIZE:-2G}
QEMU_IMG=${QEMU_IMG:-qemu-img}
OPS=${OPS-read alloc overwrite}
CONVERT=${CONVERT:-1}
VESSEL_ARGS=${VESSEL_ARGS:-}
command -v "$QEMU_IMG" >/dev/null || { echo "SKIP: qemu-img not installed"; exit 0; }
[ -x "$VESSEL" ] || { echo "bench/img.sh: $VESSEL is not built" >&2; exit 1; }
VESSEL=$(realpath "$VESSEL")
W=$(mktemp -d "${WORKDIR:-${TMPDIR:-/tmp}}/vessel-img-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"

# seconds of one run of "$@" (bench prints its own time; convert is timed
# here). Each run starts after a sync, so that neither tool pays for the
# other's dirty pages being written back.
bench_secs() { sync; "$@" | sed -n 's/^Run completed in \([0-9.]*\) seconds\./\1/p'; }
time_secs() {
	local t0 t1
	sync
	t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}
# "wall cpu" seconds of one run of "$@": CPU is user + system time of the
# tool and its threads (getrusage of the child).
time_cpu() {
	sync
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
w = time.monotonic() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{w:.4f} {r.ru_utime + r.ru_stime:.4f}")
PY
}
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f", m}'; }

results=()
report() { # name qemu_median vessel_median
	local ratio
	ratio=$(echo "scale=2; $2 / $3" | bc -l)
	printf '%-44s qemu-img %8ss  vessel %8ss  ratio %5s\n' "$1" "$2" "$3" "$ratio"
	results+=("$1|$2|$3|$ratio")
}

# prepare: a fully written image per format (reads and overwrites use it)
prefill() { # fmt file
	if [ "$1" = raw ]; then "$QEMU_IMG" create -q -f raw "$2" "$SIZE"
	else "$QEMU_IMG" create -q -f qcow2 "$2" "$SIZE"; fi
	"$VESSEL" img bench -w -f "$1" -c $(( $(numfmt --from=iec "$SIZE") / 1048576 )) \
		-s 1M -d 4 --pattern 165 "$2" >/dev/null
}
fresh() { # fmt file
	rm -f "$2"
	"$QEMU_IMG" create -q -f "$1" "$2" "$SIZE"
}

# the access patterns: 4 KiB scattered (stride 7919 x 4 KiB over the image,
# qemu-img bench has no random mode) and 1 MiB sequential. Counts: a case
# lasts well over the tools' 1 ms resolution (1 MiB reads from the page
# cache run at ~30 GB/s, so 1000 of them took ~33 ms); allocating writes
# make one pass over a fresh image.
declare -A PAT=( [4k-rand]="-s 4096 -S $((4096 * 7919))" [1m-seq]="-s 1M -S 1M" )
declare -A CNT=( [4k-rand]=100000 [1m-seq]=10000 )
declare -A ALLOC_CNT=( [4k-rand]=20000 [1m-seq]=1000 )

# Reads of qcow2 also time vessel reading the same qcow2 file as raw (the
# "host file" control): the kernel's page-cache folios of the two image
# files differ (their sizes follow the host offsets of the writes that made
# them, and on this host that alone moves 4 KiB reads by 10-20 %), so the
# control shows what of qcow2's gap to raw is the driver's.
declare -A CONTROL=()
run_case() { # fmt pattern op depth
	local fmt=$1 pat=$2 op=$3 d=$4 q=() v=() c=() img="full.$1" wflag="" n
	[ "$op" != read ] && wflag="-w"
	n=${CNT[$pat]}
	[ "$op" = alloc ] && n=${ALLOC_CNT[$pat]}
	for _ in $(seq "$REPS"); do
		if [ "$op" = alloc ]; then img="new.$fmt"; fresh "$fmt" "$img"; fi
		q+=("$(bench_secs "$QEMU_IMG" bench $wflag -f "$fmt" -c "$n" -d "$d" ${PAT[$pat]} "$img")")
		if [ "$op" = alloc ]; then fresh "$fmt" "$img"; fi
		v+=("$(bench_secs "$VESSEL" img bench $VESSEL_ARGS $wflag -f "$fmt" -c "$n" -d "$d" ${PAT[$pat]} "$img")")
		[ "$fmt/$op" = qcow2/read ] &&
			c+=("$(bench_secs "$VESSEL" img bench $VESSEL_ARGS -f raw -c "$n" -d "$d" ${PAT[$pat]} "$img")")
	done
	report "bench $fmt $pat $op depth=$d" \
		"$(printf '%s\n' "${q[@]}" | median)" "$(printf '%s\n' "${v[@]}" | median)"
	[ ${#c[@]} -gt 0 ] && CONTROL["bench $fmt $pat $op depth=$d"]=$(printf '%s\n' "${c[@]}" | median)
	return 0
}

echo "# vessel img vs qemu-img, medians of $REPS runs, $(date -u +%FT%TZ)"
if [ -n "$OPS" ] && [ "$OPS" != alloc ]; then prefill raw full.raw; prefill qcow2 full.qcow2; fi
for fmt in qcow2 raw; do
	for pat in 4k-rand 1m-seq; do
		for op in $OPS; do
			[ "$fmt" = raw ] && [ "$op" = alloc ] && continue # raw never allocates
			for d in 1 16; do run_case "$fmt" "$pat" "$op" "$d"; done
		done
	done
done

# qcow2 vs raw on allocated data (vessel only)
echo "# vessel qcow2/raw on allocated data (ratio raw/qcow2 time, target >= 0.9)"
for r in "${results[@]}"; do
	IFS='|' read -r name _ vq _ <<<"$r"
	case "$name" in bench\ qcow2*read*|bench\ qcow2*overwrite*) ;; *) continue ;; esac
	rawname=${name/qcow2/raw}
	for r2 in "${results[@]}"; do
		IFS='|' read -r n2 _ vr _ <<<"$r2"
		[ "$n2" = "$rawname" ] || continue
		printf '%-44s qcow2 %8ss  raw %8ss  raw/qcow2 %5s' \
			"${name#bench }" "$vq" "$vr" "$(echo "scale=2; $vr / $vq" | bc -l)"
		c=${CONTROL[$name]:-}
		[ -n "$c" ] && printf '  host file %8ss  file/qcow2 %5s' \
			"$c" "$(echo "scale=2; $c / $vq" | bc -l)"
		echo
	done
done

# The same comparison with both images on tmpfs: its pages are uniform 4 KiB
# pages, where ext4's page-cache folios follow each file's write history
# (4 KiB writes into a large folio cost more on this kernel, reads from
# small ones too), so this shows the qcow2 driver's own cost.
SHM=${SHM:-/dev/shm}
if [ "$(stat -f -c %T "$SHM" 2>/dev/null)" = tmpfs ] && [ -n "$OPS" ] &&
   [ "$OPS" != alloc ]; then
	S=$(mktemp -d "$SHM/vessel-img-bench.XXXXXX")
	trap 'rm -rf "$W" "$S"' EXIT
	prefill raw "$S/full.raw"
	prefill qcow2 "$S/full.qcow2"
	echo "# vessel qcow2/raw on tmpfs, medians of $REPS (ratio raw/qcow2 time, target >= 0.9)"
	for pat in 4k-rand 1m-seq; do
		for op in read overwrite; do
			wflag=""; [ "$op" = overwrite ] && wflag="-w"
			for d in 1 16; do
				r=(); q=()
				for _ in $(seq "$REPS"); do
					r+=("$(bench_secs "$VESSEL" img bench $VESSEL_ARGS $wflag -f raw -c "${CNT[$pat]}" -d "$d" ${PAT[$pat]} "$S/full.raw")")
					q+=("$(bench_secs "$VESSEL" img bench $VESSEL_ARGS $wflag -f qcow2 -c "${CNT[$pat]}" -d "$d" ${PAT[$pat]} "$S/full.qcow2")")
				done
				vr=$(printf '%s\n' "${r[@]}" | median); vq=$(printf '%s\n' "${q[@]}" | median)
				printf '%-44s qcow2 %8ss  raw %8ss  raw/qcow2 %5s\n' "tmpfs qcow2 $pat $op depth=$d" \
					"$vq" "$vr" "$(echo "scale=2; $vr / $vq" | bc -l)"
			done
		done
	done
	rm -rf "$S"
fi

[ "$CONVERT" = 0 ] && exit 0
# convert: a partly filled image (1/4 of the MiBs: half random, half text)
python3 - "$CONVERT_SIZE" <<'PY'
import os, random, sys
size = int(os.popen(f"numfmt --from=iec {sys.argv[1]}").read())
rnd = random.Random(7)
text = b"".join(b"vessel bench line %08d ....................\n" % i for i in range(24000))
with open("src.raw", "wb") as f:
    f.truncate(size)
    for off in range(0, size, 1 << 20):
        if rnd.random() < 0.25:
            f.seek(off)
            f.write(rnd.randbytes(1 << 20) if rnd.random() < 0.5 else text[:1 << 20])
PY
"$QEMU_IMG" convert -f raw -O qcow2 src.raw src.qcow2
conv_case() { # name args...: wall time, then CPU time (user + system)
	local name=$1 q=() v=(); shift
	for _ in $(seq "$REPS"); do
		rm -f out; q+=("$(time_cpu "$QEMU_IMG" convert "$@" out)")
		rm -f out; v+=("$(time_cpu "$VESSEL" img convert "$@" out)")
	done
	rm -f out
	report "convert $name" "$(printf '%s\n' "${q[@]}" | cut -d' ' -f1 | median)" \
		"$(printf '%s\n' "${v[@]}" | cut -d' ' -f1 | median)"
	report "convert $name (CPU time)" "$(printf '%s\n' "${q[@]}" | cut -d' ' -f2 | median)" \
		"$(printf '%s\n' "${v[@]}" | cut -d' ' -f2 | median)"
}
conv_case "raw->qcow2" -f raw -O qcow2 src.raw
conv_case "qcow2->raw" -f qcow2 -O raw src.qcow2
conv_case "raw->qcow2 -c" -c -f raw -O qcow2 src.raw
conv_case "qcow2->qcow2 -c" -c -f qcow2 -O qcow2 src.qcow2
