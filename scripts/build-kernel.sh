#!/bin/bash
# build-kernel.sh ARCH VARIANT: build the test-bed kernel of tb/VARIANT.
# Out-of-tree, incremental: one O= directory per arch and per base, shared by
# the variants (switching variants rebuilds only what the patches touch), and
# ccache under $BUILD/ccache.  Leaves the image in $BUILD/img/<base>/ARCH-VARIANT.
. "$(dirname "$0")/lib.sh"
[ $# -eq 2 ] || die "usage: build-kernel.sh x86|arm64 series|before"
arch=$1 variant=$2
need make gcc ccache
[ "$arch" = arm64 ] && need aarch64-linux-gnu-gcc

wt=$(worktree)
out=$BUILD/out/$(base_id)/$arch
img=$BUILD/img/$(base_id)/$arch-$variant
frag=$TOP/arch-$arch-kvm/kvm.config
mkdir -p "$out" "$img"
export CCACHE_DIR=$BUILD/ccache CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=tb KBUILD_BUILD_HOST=tb
# shellcheck disable=SC2046
set -- $(kmake_args "$arch") O="$out" CC="ccache $( [ "$arch" = arm64 ] && echo aarch64-linux-gnu-)gcc"

git -C "$wt" checkout -q --detach "tb/$variant"
if [ ! -f "$out/.config" ] || [ "$frag" -nt "$out/.config" ]; then
	log "$arch: configuring (tinyconfig + $(basename "$(dirname "$frag")")/kvm.config)"
	make -s -C "$wt" "$@" tinyconfig >/dev/null
	"$wt/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
	make -s -C "$wt" "$@" olddefconfig >/dev/null
	# Every fragment option must have survived olddefconfig.
	bad=$(grep '^CONFIG_' "$frag" | while IFS= read -r l; do
		o=${l%%=*} v=${l#*=}
		if [ "$v" = n ]; then
			! grep -q "^$o=" "$out/.config" || echo "$o"
		else
			grep -qx "$l" "$out/.config" || echo "$o"
		fi
	done)
	[ -z "$bad" ] || die "$arch: options dropped by olddefconfig: $bad"
fi
case $arch in
x86) target=bzImage image=arch/x86/boot/bzImage ;;
arm64) target=Image image=arch/arm64/boot/Image ;;
esac
kbuild() { make -s -C "$wt" "$@" -j"$JOBS" "$target" >"$img/build.log" 2>&1; }
timed "$arch/$variant: make $target (-j$JOBS)" kbuild "$@" ||
	{ tail -n 30 "$img/build.log" >&2; die "$arch/$variant: kernel build failed (log: $img/build.log)"; }
cp "$out/$image" "$img/kernel"
git -C "$wt" rev-parse HEAD >"$img/commit"
