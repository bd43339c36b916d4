# shellcheck shell=bash
# Common helpers for the test-bed scripts.  Source it; do not run it.
set -eu

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
JOBS=${JOBS:-$(($(nproc) + 1))}

# Default base: Debian's linux-source-7.3 package.  KDIR overrides it.
BASE_PKG=${BASE_PKG:-linux-source-7.3}
BASE_SUITES=${BASE_SUITES:-"trixie-backports trixie sid"}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			die "'$t' not found; run 'make deps' (scripts/deps.sh) first"
	done
}

# Elapsed-time wrapper for long steps: "timed LABEL cmd..."
timed() {
	local label=$1 t0 rc=0
	shift
	t0=$(date +%s)
	log "$label"
	"$@" || rc=$?
	log "$label: $(( $(date +%s) - t0 ))s (rc=$rc)"
	return $rc
}

# Identity of the base: "debian-<version>" or "kdir-<short sha>".
base_id() { cat "$BUILD/base/id"; }
base_git() { cat "$BUILD/base/git"; }
base_commit() { cat "$BUILD/base/commit"; }

# Per-base work tree holding the branches of this project.
worktree() { echo "$BUILD/src/$(base_id)"; }

karch() {
	case $1 in
	x86) echo x86_64 ;;
	arm64) echo arm64 ;;
	*) die "unknown arch '$1' (want x86 or arm64)" ;;
	esac
}

kmake_args() {
	case $1 in
	x86) echo "ARCH=x86_64" ;;
	arm64) echo "ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-" ;;
	*) die "unknown arch '$1' (want x86 or arm64)" ;;
	esac
}

# Series file, without comments or blank lines.
series() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/patches/series"; }

# kbuild_kernel ARCH SRC OUT LOG: build the test-bed kernel of the tree SRC
# in O=OUT (incremental, ccache).  OUT is configured from "make tinyconfig" +
# arch-ARCH-kvm/kvm.config, again whenever the fragment changes, and every
# fragment option must survive olddefconfig.  Sets KIMAGE to the image path.
kbuild_kernel() {
	local arch=$1 src=$2 out=$3 logf=$4 frag cc target bad
	local -a args
	frag=$TOP/arch-$arch-kvm/kvm.config
	cc=gcc
	[ "$arch" = arm64 ] && cc=aarch64-linux-gnu-gcc
	need make ccache "$cc"
	# shellcheck disable=SC2207
	args=($(kmake_args "$arch") O="$out" CC="ccache $cc")
	export CCACHE_DIR=$BUILD/ccache CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1
	export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=tb KBUILD_BUILD_HOST=tb
	mkdir -p "$out"
	if [ ! -f "$out/.config" ] || [ "$frag" -nt "$out/.config" ]; then
		log "$arch: configuring $out (tinyconfig + arch-$arch-kvm/kvm.config)"
		make -s -C "$src" "${args[@]}" tinyconfig >/dev/null
		"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
		make -s -C "$src" "${args[@]}" olddefconfig >/dev/null
		bad=$(grep '^CONFIG_' "$frag" | while IFS= read -r l; do
			if [ "${l#*=}" = n ]; then
				! grep -q "^${l%%=*}=" "$out/.config" || echo "${l%%=*}"
			else
				grep -qx "$l" "$out/.config" || echo "${l%%=*}"
			fi
		done)
		[ -z "$bad" ] || die "$arch: options dropped by olddefconfig: $bad"
	fi
	case $arch in
	x86) target=bzImage KIMAGE=$out/arch/x86/boot/bzImage ;;
	arm64) target=Image KIMAGE=$out/arch/arm64/boot/Image ;;
	esac
	_kb() { make -s -C "$src" "${args[@]}" -j"$JOBS" "$target" >"$logf" 2>&1; }
	timed "$arch: make $target in $out (-j$JOBS)" _kb ||
		{ grep -E 'error|warning' "$logf" | head -n 30 >&2; die "$arch: kernel build failed (log: $logf)"; }
}
