#!/bin/bash
# run.sh ARCH VARIANT [CELL...]
# Build the ARCH kernel of tb/VARIANT (series|before) and the ARCH tests of
# selftests/ARCH.list (always from tb/series), boot one VM per matrix CELL
# (default: all of arch-ARCH-kvm/matrix, with its emulator and parameters) and record one result per test in
# $BUILD/results/<base>/ARCH-CELL-VARIANT.tsv: TEST OUTCOME DETAIL.
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || die "usage: run.sh x86|arm64 series|before [CELL...]"
arch=$1 variant=$2
shift 2
karch "$arch" >/dev/null
case $variant in series|before) ;; *) die "unknown variant '$variant' (series|before)" ;; esac
mapfile -t tests < <(list_tests "$arch")
[ ${#tests[@]} -gt 0 ] || die "no tests in selftests/$arch.list"
cells=("$@")
[ ${#cells[@]} -gt 0 ] || mapfile -t cells < <(cells "$arch")

wt=$(worktree)
kst=$BUILD/kst/$(base_id)/$arch
res=$BUILD/results/$(base_id)
mkdir -p "$res"

# Selftests come from the full series in both variants: the "before" branch
# carries the same selftest patches, only the kernel differs.
flock "$wt.lock" git -C "$wt" checkout -q --detach tb/series
timed "$arch: selftests" "$TOP/scripts/build-selftests.sh" "$arch" "$wt" "$kst" "${tests[@]}"
timed "$arch/$variant: kernel" "$TOP/scripts/build-kernel.sh" "$arch" "$variant"
kernel=$BUILD/img/$(base_id)/$arch-$variant/kernel

run_cell() {
	local cell=$1 logf=$res/$arch-$1-$variant.log t0
	t0=$(date +%s)
	"$TOP/scripts/boot.sh" "$arch" "$CELL_EMULATOR" "$kernel" "$kst" "$logf" "$CELL_PARAMS" "${tests[@]}"
	"$TOP/scripts/parse-console.sh" "$logf" "${tests[@]}" >"${logf%.log}.tsv"
	log "$arch/$cell/$variant: $(( $(date +%s) - t0 ))s: $(cut -f2 "${logf%.log}.tsv" | sort | uniq -c | xargs)"
	time_record "$arch/$cell/$variant VM" "$t0"
}
run_cells "$arch" "$arch/$variant" run_cell "${cells[@]}"
