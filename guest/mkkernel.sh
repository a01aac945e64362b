#!/usr/bin/env bash
# Builds vessel's small guest kernel (guest/README.md "The small kernel"):
# Debian's linux-source-6.1 package configured with `make allnoconfig` plus
# the fragment guest/kernel/vessel.config (virtio-pci devices, 8250 console,
# ext4, overlayfs, cgroup v2, namespaces, ACPI; no modules), into
#   GUEST_DIR/small/vmlinuz     the bzImage (XZ payload: vessel unpacks it on the host)
#   GUEST_DIR/small/config      the full .config it was built with
#   GUEST_DIR/small/System.map  its symbols (bench/linux-boot.py --profile)
#   GUEST_DIR/small/kernel.txt  source package version, release, fragment hash
# A stamp keyed on the source package version and the fragment's hash makes
# a second run a no-op. The object tree stays in KBUILD_DIR (default
# ~/.cache/vessel/kbuild) so that a changed fragment rebuilds incrementally.
#
# usage: guest/mkkernel.sh [GUEST_DIR]      (default ~/.cache/vessel/guest)
#   MKKERNEL_JOBS (default 2) parallel jobs, run under `nice -n 10`;
#   MKKERNEL_FORCE=1 rebuilds regardless of the stamp.
set -euo pipefail

PKG=linux-source-6.1
say() { echo "mkkernel: $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -le 1 ] || die "usage: $0 [GUEST_DIR]"
GUEST_DIR=${1:-$HOME/.cache/vessel/guest}
REPO=$(cd "$(dirname "$0")/.." && pwd)
FRAGMENT=$REPO/guest/kernel/vessel.config
KBUILD_DIR=${KBUILD_DIR:-$HOME/.cache/vessel/kbuild}
JOBS=${MKKERNEL_JOBS:-2}
[ -f "$FRAGMENT" ] || die "no config fragment at $FRAGMENT"

# The source package and the kernel's build tools, on demand: scripts/deps.sh
# lists them apart from what `make build`/`make check` need.
"$REPO/scripts/deps.sh" guest-kernel >&2 ||
	die "cannot install the kernel build dependencies (is Debian's mirror reachable?)"
VER=$(dpkg-query -W -f='${Version}' "$PKG")
TARBALL=/usr/src/$PKG.tar.xz
[ -f "$TARBALL" ] || die "$PKG $VER is installed but $TARBALL is missing"

OUT=$GUEST_DIR/small
mkdir -p "$OUT" "$KBUILD_DIR"
exec 9>"$GUEST_DIR/.kernel.lock"
flock 9
STAMP="source=$PKG/$VER fragment=$(sha256sum <"$FRAGMENT" | cut -c1-16)"
if [ -z "${MKKERNEL_FORCE:-}" ] && [ -f "$OUT/vmlinuz" ] &&
	[ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$STAMP" ]; then
	say "small kernel up to date in $OUT ($PKG $VER)"
	exit 0
fi

# ---- the source tree, unpacked once per package version ----
SRC=$KBUILD_DIR/$PKG-$VER
if [ ! -f "$SRC/.unpacked" ]; then
	say "unpacking $TARBALL into $SRC"
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xJf "$TARBALL" -C "$SRC.tmp" --strip-components=1
	touch "$SRC.tmp/.unpacked"
	mv "$SRC.tmp" "$SRC"
fi
OBJ=$KBUILD_DIR/obj-$VER
mkdir -p "$OBJ"

# ---- configure: allnoconfig + the fragment; every requested value must stick ----
KMAKE=(make -C "$SRC" O="$OBJ" ARCH=x86_64 KBUILD_BUILD_USER=vessel KBUILD_BUILD_HOST=vessel)
"${KMAKE[@]}" -s KCONFIG_ALLCONFIG="$FRAGMENT" allnoconfig >/dev/null
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) want=$line sym=${line%%=*} ;;
	"# CONFIG_"*" is not set") sym=${line#\# } sym=${sym%% *} want="" ;;
	*) continue ;;
	esac
	got=$(grep -E "^$sym=|^# $sym is not set" "$OBJ/.config" || true)
	if [ -n "$want" ] && [ "$got" != "$want" ]; then
		say "fragment asks $want, the config has '${got:-nothing}'"
		bad=1
	elif [ -z "$want" ] && [ -n "$got" ] && [ "${got#\#}" = "$got" ]; then
		say "fragment turns $sym off, the config has '$got'"
		bad=1
	fi
done <"$FRAGMENT"
[ $bad -eq 0 ] || die "guest/kernel/vessel.config does not apply cleanly (dependencies?)"

# ---- build ----
say "building $PKG $VER with $JOBS jobs (nice 10) in $OBJ"
t0=$(date +%s)
nice -n 10 "${KMAKE[@]}" -j"$JOBS" bzImage >"$OBJ/build.log" 2>&1 ||
	{ tail -n 30 "$OBJ/build.log" >&2; die "kernel build failed (log: $OBJ/build.log)"; }
RELEASE=$(cat "$OBJ/include/config/kernel.release")

# ---- publish: each file replaced atomically, the stamp last ----
cp "$OBJ/arch/x86/boot/bzImage" "$OUT/.vmlinuz.new"
mv "$OUT/.vmlinuz.new" "$OUT/vmlinuz"
cp "$OBJ/.config" "$OUT/.config.new"
mv "$OUT/.config.new" "$OUT/config"
cp "$OBJ/System.map" "$OUT/.System.map.new"
mv "$OUT/.System.map.new" "$OUT/System.map"
{
	echo "source_package=$PKG"
	echo "source_version=$VER"
	echo "kernel_release=$RELEASE"
	echo "fragment_sha256=$(sha256sum <"$FRAGMENT" | cut -d' ' -f1)"
	echo "build_seconds=$(($(date +%s) - t0))"
} >"$OUT/kernel.txt"
echo "$STAMP" >"$OUT/.stamp"
say "small kernel ready: $OUT/vmlinuz ($RELEASE, $(du -k "$OUT/vmlinuz" | cut -f1) KiB, $(($(date +%s) - t0)) s)"
