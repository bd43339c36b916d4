# bisect-lib.sh: sourced by bisect-build.sh and docs-sparse.sh.  A work tree
# of its own ($(worktree)-bisect) and one O= directory per build target, so
# the per-patch builds are incremental and never disturb the test-bed build.
use_ccache
bwt=$(worktree)-bisect
obase=$BUILD/out/$(base_id)/bisect
# Build targets: NAME ARCH FRAGMENTS (arch-ARCH-kvm/) ...
targets=("x86-m x86 kvm.config bisect-m.config"
	 "x86-alt x86 kvm.config bisect-alt.config"
	 "arm64 arm64 kvm.config")

kmake() { # NAME, make args...
	local name=$1 arch cc=gcc
	shift
	arch=${name%%-*}
	[ "$arch" = arm64 ] && cc=aarch64-linux-gnu-gcc
	# shellcheck disable=SC2046
	make -s -C "$bwt" $(kmake_args "$arch") O="$obase/$name" CC="ccache $cc" "$@"
}

configure() { # NAME: tinyconfig plus the target's fragments, once
	local t name arch frags f args=()
	for t in "${targets[@]}"; do
		read -r name arch frags <<<"$t"
		[ "$name" = "$1" ] && break
	done
	[ "$name" = "$1" ] || die "no bisect target '$1'"
	mkdir -p "$obase/$name"
	[ -f "$obase/$name/.config" ] && return 0
	kmake "$name" tinyconfig >/dev/null
	for f in $frags; do args+=("$TOP/arch-$arch-kvm/$f"); done
	"$bwt/scripts/kconfig/merge_config.sh" -m -O "$obase/$name" "$obase/$name/.config" "${args[@]}" >/dev/null
	kmake "$name" olddefconfig >/dev/null
}
