#!/usr/bin/env bash
# Boot benchmark (bench/boot.py): vessel vs qemu-system-x86_64 -accel kvm
# with the same test guest, in one run, medians. Usage: bench/boot.sh [build/vessel]
set -euo pipefail
cd "$(dirname "$0")/.."
vessel=${1:-build/vessel}
build=$(dirname "$vessel")
exec /usr/bin/python3 bench/boot.py --vessel "$vessel" \
	--bzimage "$build/guest/testkernel.bzImage" \
	--elf "$build/guest/testkernel/testkernel.elf" "${@:2}"
