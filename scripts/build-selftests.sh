#!/bin/bash
# build-selftests.sh ARCH SRCDIR OUTDIR TEST...
# Build the named KVM selftests (e.g. x86/userspace_io_test) statically from
# SRCDIR into OUTDIR, against SRCDIR's uapi headers.  Incremental.
# KST_CC=clang builds with clang instead of gcc (x86 only); KST_CFLAGS adds
# compiler flags (e.g. -Werror), for the whole build, library included.
. "$(dirname "$0")/lib.sh"
[ $# -ge 4 ] || die "usage: build-selftests.sh x86|arm64 SRCDIR OUTDIR TEST..."
arch=$1 src=$2 out=$3
shift 3
need make gcc
[ -d "$src/tools/testing/selftests/kvm" ] || die "$src is not a kernel tree"
cc=${KST_CC:-gcc} cross=
case $cc in gcc|clang) ;; *) die "KST_CC=$cc: only gcc or clang" ;; esac
[ "$arch" = arm64 ] && { [ "$cc" = gcc ] || die "KST_CC=$cc: arm64 builds with gcc only"
			 need aarch64-linux-gnu-gcc; cross=aarch64-linux-gnu-; }
need "$cc"
mkdir -p "$out"
use_ccache

# uapi headers, installed out of tree so SRCDIR stays clean.
hdr=$out/usr
hdr_stamp=$out/.headers-$(git -C "$src" rev-parse HEAD 2>/dev/null || echo none)
if [ ! -f "$hdr_stamp" ] || [ ! -d "$hdr/include/linux" ] || [ -n "$(git -C "$src" status --porcelain -- include/uapi arch/*/include/uapi 2>/dev/null)" ]; then
	rm -f "$out"/.headers-*
	uapi_headers "$arch" "$src" "$out"
	touch "$hdr_stamp"
fi

# The project's own tests (selftests/stress/ARCH/NAME.c, not part of the
# series) build with SRCDIR's KVM selftest library: make finds their source
# through VPATH, and they are the only programs of that second make run.
targets=() own=()
for t in "$@"; do
	if [ -f "$TOP/selftests/stress/$t.c" ]; then own+=("$t"); else targets+=("$out/$t"); fi
done
karch=$(karch "$arch")
kmk() {
	make -s -C "$src/tools/testing/selftests/kvm" -j"$JOBS" ARCH="$karch" \
		CROSS_COMPILE="$cross" CC="ccache ${cross}$cc" OUTPUT="$out" \
		EXTRA_CFLAGS="${KST_CFLAGS:-}" KHDR_INCLUDES="-isystem $hdr/include" LDFLAGS=-static \
		"$@" >>"$out/build.log" 2>&1 ||
		{ grep -E 'error|Error' "$out/build.log" | head -n 30 >&2
		  die "$arch: selftest build failed (log: $out/build.log)"; }
}
log "$arch: building selftests: $*"
: >"$out/build.log"
[ ${#targets[@]} -eq 0 ] || kmk "${targets[@]}"
if [ ${#own[@]} -gt 0 ]; then
	kmk VPATH="$TOP/selftests/stress" "TEST_GEN_PROGS_$arch=${own[*]}" "${own[@]/#/$out/}"
fi
