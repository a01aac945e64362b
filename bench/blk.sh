#!/usr/bin/env bash
# virtio-blk benchmark (bench/blk.py): the test guest's virtio-blk-bench-user
# (requests from CPL3; --cpl0: virtio-blk-bench) under
# `vessel vm run --accel kvm --disk` and under qemu-system-x86_64 -accel kvm
# with virtio-blk-pci, same raw image, interleaved runs, medians.
# Usage: bench/blk.sh [build/vessel] [--runs N] [--mib MiB] [--rand N] [--passes wrkq]
#        [--only SIDE,...] [--dir DIR] [--cpl0]
set -euo pipefail
cd "$(dirname "$0")/.."
vessel=${1:-build/vessel}
build=$(dirname "$vessel")
exec /usr/bin/python3 bench/blk.py --vessel "$vessel" \
	--bzimage "$build/guest/testkernel.bzImage" "${@:2}"
