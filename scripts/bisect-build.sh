#!/bin/bash
# bisect-build.sh [OUT_TSV]: after every patch of tb/series, build the KVM
# objects (x86_64 in two configs, arm64) and the selftests the patch touches.
# Writes one line per patch (NAME, pass|fail, DETAIL) to OUT_TSV (default:
# stdout).  "make bisect" (scripts/bisect.sh) runs it and commits the result.
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/bisect-lib.sh"
out=${1:-/dev/stdout}
gate() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out"; [ "$2" != fail ] || log "FAIL: $1: $3"; }
private_worktree "$bwt" "$(base_commit)"

mapfile -t commits < <(git -C "$bwt" rev-list --reverse "$(base_commit)..$(git -C "$(worktree)" rev-parse tb/series)")
mapfile -t names < <(series)
[ ${#commits[@]} -eq ${#names[@]} ] ||
	die "tb/series has ${#commits[@]} commits, patches/series names ${#names[@]}: run scripts/tree.sh"
i=0
for c in "${commits[@]}"; do
	p=${names[$i]}
	i=$((i + 1))
	log "builds after patch $i/${#commits[@]}: $p"
	git -C "$bwt" checkout -q --detach "$c"
	files=$(git -C "$bwt" diff --name-only "$c^" "$c")
	t0=$(date +%s)
	why=
	built=
	for t in "${targets[@]}"; do
		read -r name arch _ <<<"$t"
		# Skip an arch the patch cannot affect (once every target is configured).
		if ! echo "$files" | grep -qE "^(arch/$arch/|include/|virt/)" &&
		   [ -f "$obase/$name/.config" ]; then
			continue
		fi
		configure "$name"
		built+="$name "
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
		built+="selftests:$(echo $tests | tr ' ' ',') "
		# shellcheck disable=SC2086
		"$TOP/scripts/build-selftests.sh" "$arch" "$bwt" "$obase/kst-$arch" $tests \
			>/dev/null 2>"$obase/kst-$arch.err" || why+="selftests $arch: $(tail -n1 "$obase/kst-$arch.err"); "
	done
	if [ -z "$why" ]; then
		gate "builds after $p" pass "${built:+${built% } }($(( $(date +%s) - t0 ))s)"
	else
		gate "builds after $p" fail "$why"
	fi
done
