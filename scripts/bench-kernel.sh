#!/bin/bash
# bench-kernel.sh ARCH REV IMGDIR: build the test-bed kernel of REV (a commit
# or branch of the base repository, e.g. tb/series or an intermediate commit
# of it) into IMGDIR/kernel (+ IMGDIR/commit), with the same configuration
# as scripts/build-kernel.sh, but in a private work tree per arch
# ($BUILD/src-bench-k for x86, $BUILD/src-bench-k-arm64, so both arches can
# build at once) and O= directory ($BUILD/bench/out/ARCH), never disturbing the
# shared work tree of make check/run.  Incremental; skipped if IMGDIR
# already holds REV.  Used by scripts/bench.sh when make check/run has not
# built the kernel, and to measure single patches.
. "$(dirname "$0")/lib.sh"
[ $# -eq 3 ] || die "usage: bench-kernel.sh x86|arm64 REV IMGDIR"
arch=$1 img=$3
karch "$arch" >/dev/null
src=$BUILD/src-bench-k
[ "$arch" = x86 ] || src=$src-$arch
rev=$(git -C "$(base_git)" rev-parse --verify "$2^{commit}") || die "no revision '$2'"
if [ -f "$img/kernel" ] && [ "$(cat "$img/commit" 2>/dev/null)" = "$rev" ]; then
	exit 0
fi
private_worktree "$src" "$rev"
mkdir -p "$img"
kbuild_kernel "$arch" "$src" "$BUILD/bench/out/$arch" "$img/build.log"
cp "$KIMAGE" "$img/kernel"
echo "$rev" >"$img/commit"
