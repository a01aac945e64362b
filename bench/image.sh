#!/bin/bash
# Image import benchmark: `vessel image import` vs `podman load` of the same
# ~100 MiB multi-layer OCI archive (4 gzip layers of many files, half
# random, half compressible), each into a fresh store per run (podman with
# its default storage driver under a temporary --root), alternating, in one
# run. Prints the median of REPS runs each and the ratio vessel/podman
# (<= 1.0: vessel at least as fast). Usage: bench/image.sh [path/to/vessel]
# Environment: REPS (default 5), MIB (image size, default 100), WORKDIR.
set -euo pipefail

VESSEL=${1:-build/vessel}
REPS=${REPS:-5}
MIB=${MIB:-100}
command -v podman >/dev/null || { echo "SKIP: podman not installed"; exit 0; }
[ -x "$VESSEL" ] || { echo "bench/image.sh: $VESSEL is not built" >&2; exit 1; }
VESSEL=$(realpath "$VESSEL")
W=$(mktemp -d "${WORKDIR:-/tmp}/vib.XXXXXX")
cleanup() {
	[ -d "$W/pm" ] && podman --root "$W/pm/s" --runroot "$W/pm/r" rmi -a -f >/dev/null 2>&1 || true
	grep -o " $W[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

# the archive: an OCI layout tar with 4 layers
/usr/bin/python3 - "$W/img.tar" "$MIB" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
out, mib = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
blobs, layers, diffs = {}, [], []
def add(b):
    d = hashlib.sha256(b).hexdigest(); blobs[d] = b; return "sha256:" + d
per_layer = mib * (1 << 20) // 4
for l in range(4):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        done, i = 0, 0
        while done < per_layer:
            size = min(rnd.choice([4096, 16384, 65536, 262144, 1 << 20]), per_layer - done)
            line = b"vessel layer %d file %d\n" % (l, i)
            data = os.urandom(size) if i % 2 else (line * (size // len(line) + 1))[:size]
            ti = tarfile.TarInfo(f"layer{l}/d{i % 16}/f{i}"); ti.size = size; ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data)); done += size; i += 1
    raw = buf.getvalue(); diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
    gz = gzip.compress(raw, 6)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": add(gz), "size": len(gz)})
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                  "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": add(cfg), "size": len(cfg)},
                  "layers": layers}).encode()
md = add(man)
idx = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
       "digest": md, "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "localhost/bench:1"}}]}).encode()
with tarfile.open(out, "w") as t:
    for name, data in [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", idx)] + \
                      [("blobs/sha256/" + d, b) for d, b in blobs.items()]:
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
PY
echo "image: $(du -m "$W/img.tar" | cut -f1) MiB archive, 4 gzip layers, $MIB MiB unpacked"

secs() {
	local t0 t1
	sync
	t0=$(date +%s.%N); "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; exit 1; }; t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

v=() p=()
for i in $(seq "$REPS"); do
	rm -rf "$W/vs"
	v+=("$(VESSEL_ROOT=$W/vs secs "$VESSEL" image import "$W/img.tar")")
	cleanup_pm() { podman --root "$W/pm/s" --runroot "$W/pm/r" rmi -a -f >/dev/null 2>&1 || true
		grep -o " $W/pm[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
		rm -rf "$W/pm"; }
	cleanup_pm
	p+=("$(secs podman --root "$W/pm/s" --runroot "$W/pm/r" --cgroup-manager=cgroupfs \
		--events-backend=file load -q -i "$W/img.tar")")
	cleanup_pm
done
vm=$(printf '%s\n' "${v[@]}" | median)
pmed=$(printf '%s\n' "${p[@]}" | median)
echo "runs (s): vessel ${v[*]}"
echo "runs (s): podman ${p[*]}"
printf '%-28s %8s %8s %8s\n' "$(date -u +%F) median (s)" vessel podman ratio
printf '%-28s %8.3f %8.3f %8.2fx\n' "import ${MIB} MiB, 4 layers" "$vm" "$pmed" "$(echo "$vm / $pmed" | bc -l)"
