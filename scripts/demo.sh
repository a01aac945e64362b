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

if grep -qwE 'vmx|svm' /proc/cpuinfo; then
	say "$vessel vm run -- uname -a     (Debian's stock kernel from the guest kit)"
	"$vessel" vm run -- uname -a </dev/null
	echo "(exit status $?)"
else
	echo
	echo "This host's KVM has no hardware virtualization (no vmx/svm: the PVM backend),"
	echo "so Debian's stock kernel from the guest kit ($HOME/.cache/vessel/guest) would"
	echo "boot at ~2 MIPS under kvm; vessel's software CPU (--accel emu, above) runs the"
	echo "test guest but has no x87/SSE yet, which Debian's kernel needs. On a VT-x/AMD-V"
	echo "host, 'vessel vm run -- uname -a' runs it."
fi

if "$vessel" img --help >/dev/null 2>&1; then
	img=$(mktemp -d /tmp/vessel-demo.XXXXXX)
	say "$vessel img create -f qcow2 $img/disk.qcow2 1G && $vessel img info $img/disk.qcow2"
	"$vessel" img create -f qcow2 "$img/disk.qcow2" 1G && "$vessel" img info "$img/disk.qcow2"
	rm -rf "$img"
fi
