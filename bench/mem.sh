#!/usr/bin/env bash
# Guest RAM backing under KVM (bench/mem.py): private anonymous memory with
# THP (vessel's default) vs a memfd, same test guest, one run, medians.
# Usage: bench/mem.sh [build/vessel] [--runs N] [--touch-mib N]
set -euo pipefail
cd "$(dirname "$0")/.."
vessel=${1:-build/vessel}
build=$(dirname "$vessel")
exec /usr/bin/python3 bench/mem.py --vessel "$vessel" \
	--bzimage "$build/guest/testkernel.bzImage" "${@:2}"
