#!/bin/bash
# dev.sh ARCH SRCDIR "EXTRA_CMDLINE" TEST...
# Developer loop on any kernel work tree: build its kernel (unless KERNEL= is
# given), build the TESTs from it, boot and print the console.
. "$(dirname "$0")/lib.sh"
[ $# -ge 4 ] || die "usage: dev.sh x86|arm64 SRCDIR \"EXTRA_CMDLINE\" TEST..."
arch=$1 src=$(cd "$2" && pwd) extra=$3
shift 3
karch "$arch" >/dev/null
name=$(basename "$src")
tests=("$@")
if [ -z "${KERNEL:-}" ]; then
	out=$BUILD/out/dev-$name-$arch
	mkdir -p "$out"
	export CCACHE_DIR=$BUILD/ccache CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1
	cc=gcc
	[ "$arch" = arm64 ] && cc=aarch64-linux-gnu-gcc
	# shellcheck disable=SC2207
	kargs=($(kmake_args "$arch") O="$out" CC="ccache $cc")
	frag=$TOP/arch-$arch-kvm/kvm.config
	if [ ! -f "$out/.config" ] || [ "$frag" -nt "$out/.config" ]; then
		make -s -C "$src" "${kargs[@]}" tinyconfig >/dev/null
		"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
		make -s -C "$src" "${kargs[@]}" olddefconfig >/dev/null
	fi
	target=bzImage image=arch/x86/boot/bzImage
	[ "$arch" = arm64 ] && target=Image image=arch/arm64/boot/Image
	kb() { make -s -C "$src" "${kargs[@]}" -j"$JOBS" "$target" >"$out/build.log" 2>&1; }
	timed "$arch: building kernel from $src" kb ||
		{ grep -E 'error|warning' "$out/build.log" | head -n 40; die "kernel build failed (log: $out/build.log)"; }
	KERNEL=$out/$image
fi
kst=$BUILD/kst/dev-$name-$arch
"$TOP/scripts/build-selftests.sh" "$arch" "$src" "$kst" "${tests[@]}"
logf=$kst/console.log
"$TOP/scripts/boot.sh" "$arch" "$KERNEL" "$kst" "$logf" "$extra" "${tests[@]}"
tr -d '\r' <"$logf"
