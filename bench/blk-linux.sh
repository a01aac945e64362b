#!/usr/bin/env bash
# virtio-blk under Linux's driver: in-guest dd O_DIRECT 1 MiB writes and
# reads, Linux under vessel emu against Linux under QEMU TCG, same kernel,
# initramfs and disk (bench/blk-linux.py).
# Usage: bench/blk-linux.sh [build/vessel] [--runs N] [--mib MiB] [--profile]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/blk-linux.py --vessel "${1:-build/vessel}" "${@:2}"
