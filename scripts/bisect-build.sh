#!/bin/bash
# bisect-build.sh GATES_TSV: after every patch of tb/series, build the KVM
# objects (x86_64 in two configs, arm64) and the selftests the patch touches.
# Uses its own work tree and O= directories, so it is incremental across runs
# and never disturbs the test-bed build.
. "$(dirname "$0")/lib.sh"
out=$1
gate() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out"; [ "$2" != fail ] || log "FAIL: $1: $3"; }
export CCACHE_DIR=$BUILD/ccache CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1
git_dir=$(base_git)
wt=$(worktree)-bisect
obase=$BUILD/out/$(base_id)/bisect
if [ ! -e "$wt/.git" ]; then
	git -C "$git_dir" worktree prune
	git -C "$git_dir" worktree add -q --detach "$wt" "$(base_commit)"
fi
# Bisect targets: NAME ARCH FRAGMENTS...
targets=("x86-m x86 kvm.config bisect-m.config"
	 "x86-alt x86 kvm.config bisect-alt.config"
	 "arm64 arm64 kvm.config")
kmake() { # name, make args...
	local name=$1 arch
	shift
	arch=${name%%-*}
	cc=gcc
	[ "$arch" = arm64 ] && cc=aarch64-linux-gnu-gcc
	# shellcheck disable=SC2046
	make -s -C "$wt" $(kmake_args "$arch") O="$obase/$name" CC="ccache $cc" "$@"
}
configure() { # target line
	local name arch frags f o
	read -r name arch frags <<<"$1"
	o=$obase/$name
	mkdir -p "$o"
	[ -f "$o/.config" ] && return 0
	kmake "$name" tinyconfig >/dev/null
	args=()
	for f in $frags; do args+=("$TOP/arch-$arch-kvm/$f"); done
	"$wt/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" "${args[@]}" >/dev/null
	kmake "$name" olddefconfig >/dev/null
}

mapfile -t commits < <(git -C "$wt" rev-list --reverse "$(base_commit)..$(git -C "$(worktree)" rev-parse tb/series)")
mapfile -t names < <(series)
i=0
for c in "${commits[@]}"; do
	p=${names[$i]:-$c}
	i=$((i + 1))
	git -C "$wt" checkout -q --detach "$c"
	files=$(git -C "$wt" diff --name-only "$c^" "$c")
	t0=$(date +%s)
	why=
	for t in "${targets[@]}"; do
		read -r name arch _ <<<"$t"
		# Skip an arch the patch cannot affect.
		if ! echo "$files" | grep -qE "^(arch/$arch/|include/|virt/)" &&
		   [ -f "$obase/$name/.config" ]; then
			continue
		fi
		configure "$t"
		kmake "$name" -j"$JOBS" "arch/$arch/kvm/" >"$obase/$name.log" 2>&1 ||
			why+="$name: $(grep -m1 -E 'error|Error' "$obase/$name.log"); "
	done
	# Selftests touched by the patch.
	for arch in x86 arm64; do
		tests=$(echo "$files" | sed -n "s|^tools/testing/selftests/kvm/\($arch/[^/]*\)\.c$|\1|p")
		if echo "$files" | grep -q '^tools/testing/selftests/kvm/\(lib\|include\)/'; then
			tests+=" $(list_tests "$arch" | head -n1)"
		fi
		[ -n "$(echo $tests)" ] || continue
		# shellcheck disable=SC2086
		"$TOP/scripts/build-selftests.sh" "$arch" "$wt" "$obase/kst-$arch" $tests \
			>/dev/null 2>"$obase/kst-$arch.err" || why+="selftests $arch: $(tail -n1 "$obase/kst-$arch.err"); "
	done
	if [ -z "$why" ]; then
		gate "builds after $p" pass "($(( $(date +%s) - t0 ))s)"
	else
		gate "builds after $p" fail "$why"
	fi
done
