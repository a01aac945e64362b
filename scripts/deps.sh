#!/usr/bin/env bash
# Installs every build and test dependency with apt-get, idempotently: a
# package already installed is not touched, and apt-get runs only when
# something is missing. Debian 12 (bookworm).
#
# usage: scripts/deps.sh               what `make build/check/demo` need
#        scripts/deps.sh guest-kernel  on demand, what `make guest-kernel`
#                                      (guest/mkkernel.sh) needs: the kernel
#                                      source package and its build tools
set -euo pipefail

guest_kernel=(linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils)

pkgs=(
	# build
	gcc make meson ninja-build pkg-config binutils
	# libraries
	libcmocka-dev libjansson-dev libseccomp-dev libcap-dev libsqlite3-dev
	zlib1g-dev libzstd-dev libarchive-dev libgnutls28-dev nettle-dev libmnl-dev libmicrohttpd-dev
	libnftables-dev liblzma-dev liburing-dev
	# fuzzing and sanitizers
	clang libclang-rt-14-dev
	# formatting (make format, make check-format)
	clang-format
	# tests and benchmarks
	python3 python3-pytest qemu-system-x86 qemu-utils hyperfine
	# network namespaces and taps made by the VM network tests and bench/net.sh
	iproute2
	# the API tests: docs/api/openapi.yaml read and its schemas checked
	python3-yaml python3-jsonschema
	# the API's TLS tests make certificates with the openssl command
	openssl
	# the default guest kit
	busybox-static cpio gzip kmod dpkg-dev
	# the OCI runtime's anchors and clients
	runc crun podman containerd
	# the dashboard's browser tests (Playwright drives it headless)
	chromium
)
# The dashboard (web/) is bundled with node and npm packages: Debian's
# nodejs and npm, unless a node with its npm is already on PATH.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	pkgs+=(nodejs npm)
fi
case "${1:-}" in
"") ;;
guest-kernel) pkgs=("${guest_kernel[@]}") ;;
*)
	echo "usage: $0 [guest-kernel]" >&2
	exit 2
	;;
esac

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -z "${1:-}" ] || exit 0 # guest-kernel: its packages only

# web/node_modules as web/package-lock.json says (npm ci), again whenever
# the lock file is newer than the last install.
web="$(dirname "$0")/../web"
stamp="$web/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$web/package-lock.json" -nt "$stamp" ]; then
	echo "deps: npm ci in web/"
	(cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
	touch "$stamp"
fi
