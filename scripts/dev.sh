#!/bin/bash
# dev.sh ARCH SRCDIR "EXTRA_CMDLINE" TEST...
# Developer loop on any kernel work tree: build its kernel (unless KERNEL= is
# given), build the TESTs from it, boot in matrix cell CELL (default: the
# first of arch-ARCH-kvm/matrix) with EXTRA_CMDLINE added, print the console.
. "$(dirname "$0")/lib.sh"
[ $# -ge 4 ] || die "usage: dev.sh x86|arm64 SRCDIR \"EXTRA_CMDLINE\" TEST..."
arch=$1 src=$(cd "$2" && pwd) extra=$3
shift 3
karch "$arch" >/dev/null
name=$(basename "$src")
tests=("$@")
if [ -z "${KERNEL:-}" ]; then
	out=$BUILD/out/dev-$name-$arch
	kbuild_kernel "$arch" "$src" "$out" "$out.build.log"
	KERNEL=$KIMAGE
fi
kst=$BUILD/kst/dev-$name-$arch
"$TOP/scripts/build-selftests.sh" "$arch" "$src" "$kst" "${tests[@]}"
logf=$kst/console.log
cell "$arch" "${CELL:-$(cells "$arch" | head -n1)}"
"$TOP/scripts/boot.sh" "$arch" "$CELL_EMULATOR" "$KERNEL" "$kst" "$logf" \
	"$CELL_PARAMS${extra:+ $extra}" "${tests[@]}"
tr -d '\r' <"$logf"
