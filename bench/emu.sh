#!/usr/bin/env bash
# CPU benchmark (bench/emu.py): the test guest's `bench` loops under
# `vessel vm run --accel emu` and under qemu-system-x86_64 -accel tcg, same
# bzImage, interleaved runs, medians. Usage: bench/emu.sh [build/vessel] [--runs N]
# [--scale PERCENT] [--timeout SECONDS] [--qemu-cpu MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
vessel=${1:-build/vessel}
build=$(dirname "$vessel")
exec /usr/bin/python3 bench/emu.py --vessel "$vessel" \
	--bzimage "$build/guest/testkernel.bzImage" "${@:2}"
