#!/usr/bin/env bash
# `make demo`: the main job working, on this machine, in under a minute.
set -uo pipefail
vessel=${1:-build/vessel}
build=$(dirname "$vessel")
tk="$build/guest/testkernel.bzImage"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

for accel in kvm emu; do
	[ $accel = kvm ] && [ ! -w /dev/kvm ] && continue
	say "$vessel vm run --accel $accel --kernel $tk --cpus 2 --append 'vessel.test=bootparams,cpuid,smp,pci,timer,irq,paging'"
	"$vessel" vm run --accel $accel --kernel "$tk" --cpus 2 \
		--append "vessel.test=bootparams,cpuid,smp,pci,timer,irq,paging$([ $accel = kvm ] && [ -d /sys/module/kvm_pvm ] && echo :kvm-pvm)" </dev/null
	echo "(exit status $?)"
done

say "$vessel vm run --kernel $tk --append 'vessel.test=exit:7'; echo \$?"
"$vessel" vm run --kernel "$tk" --append 'vessel.test=exit:7' </dev/null
echo "$?"

# Debian's stock kernel from the guest kit: under kvm on VT-x/AMD-V hosts,
# under vessel's software CPU (emu) here; -v says which and why.
say "$vessel vm run -v -- uname -a     (Debian's stock kernel from the guest kit)"
"$vessel" vm run -v -- uname -a </dev/null
echo "(exit status $?)"
say "$vessel vm run --cpus 2 -- sh -c 'nproc; grep MemTotal /proc/meminfo; exit 7'; echo \$?"
"$vessel" vm run --cpus 2 -- sh -c 'nproc; grep MemTotal /proc/meminfo; exit 7' </dev/null
echo "$?"

# The small guest kernel (make guest-kernel), when it has been built.
if [ -f "${VESSEL_GUEST_DIR:-$HOME/.cache/vessel/guest}/small/vmlinuz" ]; then
	say "time VESSEL_GUEST_KERNEL=small $vessel vm run -- uname -r     (the small kernel)"
	time VESSEL_GUEST_KERNEL=small "$vessel" vm run -- uname -r </dev/null
fi

# Named VMs in a throwaway state root: a detached VMM per VM, its control
# socket, vessel ps.
root=$(mktemp -d /tmp/vessel-demo-root.XXXXXX)
accel=emu
[ -w /dev/kvm ] && accel=kvm
say "$vessel --root $root vm create demo --accel $accel --kernel $tk --append vessel.test=counter"
"$vessel" --root "$root" vm create demo --accel $accel --kernel "$tk" --append vessel.test=counter
say "$vessel --root $root vm start demo && sleep 1 && $vessel --root $root ps"
"$vessel" --root "$root" vm start demo && sleep 1 && "$vessel" --root "$root" ps
say "$vessel --root $root vm pause demo && $vessel --root $root vm ls"
"$vessel" --root "$root" vm pause demo && "$vessel" --root "$root" vm ls
say "$vessel --root $root vm stop demo && $vessel --root $root vm ls && $vessel --root $root vm rm demo"
"$vessel" --root "$root" vm stop -t 5 demo && "$vessel" --root "$root" vm ls &&
	"$vessel" --root "$root" vm rm demo

# A container from an image: a busybox rootfs tarball made here, imported
# into the content-addressed store, run on an overlay of its layers
# (--network none: the demo leaves the host's network as it found it).
rootfs="$root/rootfs"
mkdir -p "$rootfs/bin" && cp "$(command -v busybox)" "$rootfs/bin/busybox" &&
	for a in sh echo cat uname hostname; do ln -sf busybox "$rootfs/bin/$a"; done &&
	tar -C "$rootfs" -cf "$root/busybox.tar" .
say "$vessel --root $root image import $root/busybox.tar busybox:latest && $vessel --root $root image ls"
"$vessel" --root "$root" image import "$root/busybox.tar" busybox:latest &&
	"$vessel" --root "$root" image ls
say "$vessel --root $root run --rm --network none -m 64m busybox sh -c 'echo hello from \$(hostname) on \$(uname -r)'"
"$vessel" --root "$root" run --rm --network none -m 64m busybox sh -c 'echo hello from $(hostname) on $(uname -r)'
rm -rf "$root"

if "$vessel" img --help >/dev/null 2>&1; then
	img=$(mktemp -d /tmp/vessel-demo.XXXXXX)
	say "$vessel img create -f qcow2 $img/disk.qcow2 1G && $vessel img info $img/disk.qcow2"
	"$vessel" img create -f qcow2 "$img/disk.qcow2" 1G && "$vessel" img info "$img/disk.qcow2"
	rm -rf "$img"
fi
