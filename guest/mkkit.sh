#!/usr/bin/env bash
# Builds the default guest kit (guest/README.md) into GUEST_DIR:
#   vmlinuz             Debian's stock kernel (the package linux-image-amd64
#                       depends on), taken from the .deb: nothing is installed
#   initramfs.cpio.gz   busybox-static + applet links, e2fsprogs' mke2fs
#                       (mkfs.ext4) with its shared libraries, the virtio/fs
#                       modules with their dependencies and a load order,
#                       our /init
#   initramfs-nomodules.cpio  the same without the modules, uncompressed
#                       (for the small kernel, guest/mkkernel.sh)
#   kit.txt             what went in (kernel package, version, modules)
# A stamp keyed on the kernel package version, the init binary, busybox,
# the e2fsprogs packages' versions and this script makes a second run a
# no-op (well under a second).
#
# usage: guest/mkkit.sh GUEST_DIR [VESSEL_INIT]
#   VESSEL_INIT defaults to $VESSEL_BUILD/guest/init/vessel-init, then
#   build/guest/init/vessel-init. Set MKKIT_FORCE=1 to rebuild regardless.
set -euo pipefail

# The modules the kit loads at boot; their depends= (and softdep pre:) are
# added automatically, dependencies first.
MODULES=(
	virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev
	virtio_blk virtio_net net_failover failover virtio_console virtio_rng
	virtio_balloon vsock vmw_vsock_virtio_transport vmw_vsock_virtio_transport_common
	crc32c_generic crc16 mbcache jbd2 ext4 overlay 9pnet 9pnet_virtio 9p fuse
)
META=linux-image-amd64
# mke2fs and what it links (busybox's mke2fs makes only ext2): taken from
# Debian's packages like the kernel, nothing installed on the host.
E2FS_PKGS=(e2fsprogs libext2fs2 libcom-err2 libblkid1 libuuid1 libc6)
E2FS_BINS=(sbin/mke2fs)
E2FS_LINKS=(mkfs.ext4 mkfs.ext3 mkfs.ext2)
APT_OPTS=(-q -o APT::Sandbox::User=root)

say() { echo "mkkit: $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 GUEST_DIR [VESSEL_INIT]"
GUEST_DIR=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
INIT=${2:-}
if [ -z "$INIT" ]; then
	for c in "${VESSEL_BUILD:-$REPO/build}/guest/init/vessel-init" "$REPO/build/guest/init/vessel-init"; do
		[ -x "$c" ] && { INIT=$c; break; }
	done
fi
[ -n "$INIT" ] && [ -x "$INIT" ] || die "vessel-init is not built (run: ninja -C build)"

# What apt knows of the meta package and the e2fsprogs packages, in one
# apt-cache call: each costs ~0.4-0.9 s here, and the up-to-date path
# should stay fast.
APT_SHOW=
apt_show() {
	APT_SHOW=$(apt-cache show --no-all-versions "$META" "${E2FS_PKGS[@]}" 2>/dev/null || true)
}
# The versioned kernel package the meta package depends on, e.g.
# "linux-image-6.1.0-56-amd64 6.1.192-2".
kernel_package() {
	sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,|]*\) *(= *\([^)]*\)).*$/\1 \2/p' \
		<<<"$APT_SHOW" | head -n1
}
apt_show
PKGVER=$(kernel_package)
if [ -z "$PKGVER" ]; then
	say "apt knows no $META: apt-get update"
	apt-get "${APT_OPTS[@]}" update >/dev/null || true
	apt_show
	PKGVER=$(kernel_package)
fi
[ -n "$PKGVER" ] || die "cannot find the package $META depends on (is Debian's mirror reachable?)"
PKG=${PKGVER% *}
VER=${PKGVER#* }
# "name=version ..." of the e2fsprogs packages
E2FS_VERS=$(sed -n -e 's/^Package: //p' -e 's/^Version: //p' <<<"$APT_SHOW" | paste -d= - - |
	grep -v "^$META=" | tr '\n' ' ')
E2FS_VERS=${E2FS_VERS% }
[ "$(wc -w <<<"$E2FS_VERS")" -eq "${#E2FS_PKGS[@]}" ] ||
	die "cannot find ${E2FS_PKGS[*]} (is Debian's mirror reachable?)"

if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
	say "installing busybox-static"
	DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y \
		--no-install-recommends busybox-static >/dev/null
fi
BUSYBOX=/bin/busybox
BBVER=$(dpkg-query -W -f='${Version}' busybox-static)
for tool in objcopy readelf cpio gzip dpkg-deb sha256sum flock; do
	command -v "$tool" >/dev/null || die "$tool is missing (run scripts/deps.sh)"
done

mkdir -p "$GUEST_DIR"
exec 9>"$GUEST_DIR/.lock"
flock 9
STAMP="kernel=$PKG/$VER init=$(sha256sum <"$INIT" | cut -c1-16)"
STAMP+=" busybox=$BBVER e2fs=${E2FS_VERS// /,} mkkit=$(sha256sum <"$0" | cut -c1-16)"
if [ -z "${MKKIT_FORCE:-}" ] && [ -f "$GUEST_DIR/vmlinuz" ] && [ -f "$GUEST_DIR/initramfs.cpio.gz" ] &&
	[ -f "$GUEST_DIR/initramfs-nomodules.cpio" ] &&
	[ "$(cat "$GUEST_DIR/.stamp" 2>/dev/null)" = "$STAMP" ]; then
	say "guest kit up to date in $GUEST_DIR ($PKG $VER)"
	exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vessel-mkkit.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

say "downloading $PKG $VER"
(cd "$TMP" && apt-get "${APT_OPTS[@]}" download "$PKG=$VER" >/dev/null) ||
	die "cannot download $PKG $VER (is Debian's mirror reachable?)"
dpkg-deb -x "$TMP"/*.deb "$TMP/deb"
KVER=$(ls "$TMP/deb/lib/modules")
MODDIR=$TMP/deb/lib/modules/$KVER
[ -f "$TMP/deb/boot/vmlinuz-$KVER" ] || die "$PKG holds no boot/vmlinuz-$KVER"

# ---- modules: index by name (file names may use '-' for '_') ----
declare -A KO=() DONE=() DEPS=()
while IFS= read -r rel; do
	name=${rel##*/}
	name=${name%.ko}
	KO[${name//-/_}]=$rel
done < <(cd "$MODDIR" && find kernel -name '*.ko')

# depends= and softdep pre: of a module, one name per line.
modinfo_deps() {
	objcopy -O binary --only-section=.modinfo "$MODDIR/$1" /dev/stdout | tr '\0' '\n' |
		sed -n -e 's/^depends=//p' -e 's/^softdep=.*pre: *\([^:]*\)\( post:.*\)\?$/\1/p' |
		tr ', ' '\n\n' | sed -e '/^$/d' -e 's/-/_/g'
}

ORDER=()
# Post-order walk: dependencies land in ORDER before their users.
resolve() {
	local m=${1//-/_} d
	[ -n "${DONE[$m]:-}" ] && return 0
	DONE[$m]=1
	if [ -z "${KO[$m]:-}" ]; then
		grep -q "/${m}.ko$\|/${m//_/-}.ko$" "$MODDIR/modules.builtin" 2>/dev/null &&
			{ say "$m is built into the kernel"; return 0; }
		[ "${2:-}" = soft ] && return 0 # a softdep on an alias (crc32c): optional
		die "module $m is not in $PKG"
	fi
	local deps=()
	while IFS= read -r d; do deps+=("$d"); done < <(modinfo_deps "${KO[$m]}")
	DEPS[$m]="${deps[*]}"
	for d in "${deps[@]}"; do resolve "$d" soft; done
	ORDER+=("$m")
}
for m in "${MODULES[@]}"; do resolve "$m"; done

# ---- e2fsprogs: mke2fs and the shared libraries it needs ----
say "downloading ${E2FS_PKGS[*]}"
mkdir -p "$TMP/e2fs"
(cd "$TMP/e2fs" && apt-get "${APT_OPTS[@]}" download ${E2FS_VERS} >/dev/null) ||
	die "cannot download ${E2FS_PKGS[*]} (is Debian's mirror reachable?)"
for deb in "$TMP"/e2fs/*.deb; do dpkg-deb -x "$deb" "$TMP/e2fs/root"; done
E2=$TMP/e2fs/root

# The library file for a DT_NEEDED name, from the extracted packages.
e2fs_lib() {
	local d
	for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64; do
		[ -e "$E2/$d/$1" ] && { echo "$E2/$d/$1"; return 0; }
	done
	die "$1 (needed by mke2fs) is in none of ${E2FS_PKGS[*]}"
}

# Copies the binaries, their libraries (DT_NEEDED, transitively) and the
# dynamic loader into the tree at $1.
install_e2fs() {
	local root=$1 f n queue=() seen=" "
	mkdir -p "$root/lib/x86_64-linux-gnu" "$root/lib64" "$root/etc"
	for f in "${E2FS_BINS[@]}"; do
		install -m 0755 "$E2/$f" "$root/$f"
		queue+=("$E2/$f")
	done
	for n in "${E2FS_LINKS[@]}"; do ln -sf mke2fs "$root/sbin/$n"; done
	cp "$E2/etc/mke2fs.conf" "$root/etc/mke2fs.conf"
	while [ ${#queue[@]} -gt 0 ]; do
		f=${queue[0]}
		queue=("${queue[@]:1}")
		for n in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case "$seen" in *" $n "*) continue ;; esac
			seen+="$n "
			cp -L "$(e2fs_lib "$n")" "$root/lib/x86_64-linux-gnu/$n"
			queue+=("$root/lib/x86_64-linux-gnu/$n")
		done
	done
	# the ELF interpreter's path; the loader itself is libc.so.6's NEEDED
	ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
}

# ---- the initramfs tree ----
ROOT=$TMP/root
LIBM=$ROOT/lib/modules/$KVER
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,var,mnt} "$LIBM"
chmod 1777 "$ROOT/tmp"
install -m 0755 "$INIT" "$ROOT/init"
install -m 0755 "$BUSYBOX" "$ROOT/bin/busybox"
install_e2fs "$ROOT" # before the applet links: mke2fs and mkfs.ext2 are e2fsprogs'
while IFS= read -r applet; do
	[ -e "$ROOT/$applet" ] || [ -L "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done < <("$BUSYBOX" --list-full)
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n' >"$ROOT/etc/group"
echo vessel >"$ROOT/etc/hostname"
# The kernel's built-in initramfs already has /dev/console; add it when we can.
[ "$(id -u)" -eq 0 ] && mknod -m 0600 "$ROOT/dev/console" c 5 1

: >"$LIBM/vessel-modules.load"
: >"$LIBM/modules.dep"
for m in "${ORDER[@]}"; do
	rel=${KO[$m]}
	mkdir -p "$LIBM/$(dirname "$rel")"
	cp "$MODDIR/$rel" "$LIBM/$rel"
	echo "$rel" >>"$LIBM/vessel-modules.load"
	line="$rel:"
	for d in ${DEPS[$m]}; do [ -n "${KO[$d]:-}" ] && line+=" ${KO[$d]}"; done
	echo "$line" >>"$LIBM/modules.dep" # for busybox modprobe in the guest
done
cp "$MODDIR/modules.builtin" "$LIBM/" 2>/dev/null || true

(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -6n >"$TMP/initramfs.cpio.gz"
# For kernels without modules (the small kernel, guest/README.md): the same
# tree without lib/modules and uncompressed, since gunzip was two thirds of
# the small kernel's boot under emu.
(cd "$ROOT" && find . -mindepth 1 ! -path './lib/modules*' | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet) >"$TMP/initramfs-nomodules.cpio"

# ---- publish: each file replaced atomically, the stamp last ----
cp "$TMP/deb/boot/vmlinuz-$KVER" "$GUEST_DIR/.vmlinuz.new"
mv "$GUEST_DIR/.vmlinuz.new" "$GUEST_DIR/vmlinuz"
mv "$TMP/initramfs.cpio.gz" "$GUEST_DIR/initramfs.cpio.gz"
mv "$TMP/initramfs-nomodules.cpio" "$GUEST_DIR/initramfs-nomodules.cpio"
{
	echo "kernel_package=$PKG"
	echo "kernel_version=$VER"
	echo "kernel_release=$KVER"
	echo "busybox=$BBVER"
	echo "e2fsprogs_packages=$E2FS_VERS"
	echo "modules=${ORDER[*]}"
} >"$GUEST_DIR/kit.txt"
echo "$STAMP" >"$GUEST_DIR/.stamp"
say "guest kit ready in $GUEST_DIR: $PKG $VER, ${#ORDER[@]} modules, initramfs $(du -k "$GUEST_DIR/initramfs.cpio.gz" | cut -f1) KiB"
