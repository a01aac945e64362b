#!/usr/bin/env bash
# REST API benchmark (bench/api.py): GET /v1/containers (and /v1/vms) with 50
# instances vs podman's GET /containers/json with 50 created containers, and
# container start through each API, same run, medians; and the idle RSS of
# `vessel serve`. Needs root (containers).
# Usage: bench/api.sh [build/vessel] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."
vessel=${1:-build/vessel}
build=$(dirname "$vessel")
exec /usr/bin/python3 bench/api.py --vessel "$vessel" \
	--bzimage "$build/guest/testkernel.bzImage" "${@:2}"
