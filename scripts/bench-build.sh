#!/bin/bash
# bench-build.sh ARCH SRCDIR OUTDIR: build bench/ARCH/exit_bench.c statically
# with the KVM selftests library of the kernel tree SRCDIR (its uapi headers,
# its lib/), into OUTDIR/bench/exit_bench.  SRCDIR is not modified: the rule
# for the out-of-tree source is bench/bench.mk.  Incremental.
. "$(dirname "$0")/lib.sh"
[ $# -eq 3 ] || die "usage: bench-build.sh x86|arm64 SRCDIR OUTDIR"
arch=$1
src=$(cd "$2" && pwd) || die "no tree $2"
out=$(mkdir -p "$3" && cd "$3" && pwd)
cross=
[ "$arch" = arm64 ] && cross=aarch64-linux-gnu-
# Installs the uapi headers into OUTDIR/usr and builds the library objects,
# with one small upstream test as the target.
"$TOP/scripts/build-selftests.sh" "$arch" "$src" "$out" kvm_create_max_vcpus
log "$arch: building bench/$arch/exit_bench.c"
make -s -C "$src/tools/testing/selftests/kvm" -f "$TOP/bench/bench.mk" -j"$JOBS" \
	ARCH="$(karch "$arch")" CROSS_COMPILE="$cross" CC="ccache ${cross}gcc" \
	OUTPUT="$out" KHDR_INCLUDES="-isystem $out/usr/include" LDFLAGS=-static \
	BENCH_SRC="$TOP/bench/$arch/exit_bench.c" "$out/bench/exit_bench" \
	>"$out/bench-build.log" 2>&1 ||
	{ grep -E 'error|warning|Error' "$out/bench-build.log" | head -n 30 >&2
	  die "$arch: bench build failed (log: $out/bench-build.log)"; }
