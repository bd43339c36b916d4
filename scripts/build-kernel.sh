#!/bin/bash
# build-kernel.sh ARCH VARIANT: build the test-bed kernel of tb/VARIANT.
# Out-of-tree, incremental: one O= directory per arch and per base, shared by
# the variants (switching variants rebuilds only what the patches touch), and
# ccache under $BUILD/ccache.  Leaves the image in $BUILD/img/<base>/ARCH-VARIANT.
. "$(dirname "$0")/lib.sh"
[ $# -eq 2 ] || die "usage: build-kernel.sh x86|arm64 series|before"
arch=$1 variant=$2
karch "$arch" >/dev/null
wt=$(worktree)
img=$BUILD/img/$(base_id)/$arch-$variant
mkdir -p "$img"
# The work tree is shared: hold its lock (as scripts/tree.sh does) from the
# checkout to the end of the build, so that a concurrent make regress, bench
# or stress cannot switch the sources under this build.
exec 9>"$wt.lock"
flock 9
git -C "$wt" checkout -q --detach "tb/$variant"
kbuild_kernel "$arch" "$wt" "$BUILD/out/$(base_id)/$arch" "$img/build.log"
cp "$KIMAGE" "$img/kernel"
git -C "$wt" rev-parse HEAD >"$img/commit"
