#!/usr/bin/env bash
# Control-plane benchmark (bench/vm-ctl.py): `vessel vm start` to the guest's
# first serial byte and `vm stop`/`kill` to the VMM gone, against `vessel vm
# run` of the same test guest in the same run; `vm ls` with 100 VMs; the RSS of
# an idle paused VMM beyond guest memory; and the same with libvirt's virsh
# (bench/libvirt_anchor.py) in the same rounds. Medians.
# Usage: bench/vm-ctl.sh [build/vessel] [--rounds N] [--no-libvirt]
# (`chrt -f 1 bench/vm-ctl.sh ...` keeps a busy host's other work out of it.)
set -euo pipefail
cd "$(dirname "$0")/.."
vessel=${1:-build/vessel}
build=$(dirname "$vessel")
exec /usr/bin/python3 bench/vm-ctl.py --vessel "$vessel" \
	--bzimage "$build/guest/testkernel.bzImage" "${@:2}"
