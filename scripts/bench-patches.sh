#!/bin/bash
# bench-patches.sh ARCH CELL [REV...]: attribute a bench difference to
# patches.  Builds the kernel of each REV (default: every commit of tb/series
# that touches arch/ or virt/, in order, after tb/before) with
# scripts/bench-kernel.sh, boots it once in bench CELL (arch-ARCH-kvm/
# bench-matrix) and prints one table row per revision: instructions per
# round trip of every exit kind.  Runs are deterministic under icount (see
# bench/results.md for the spread), so one boot per revision is enough.
# Output also in $BUILD/bench/<base>/patches-ARCH-CELL.md.
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || die "usage: bench-patches.sh x86|arm64 CELL [REV...]"
arch=$1 cell=$2
shift 2
git_dir=$(base_git)
revs=("$@")
if [ ${#revs[@]} -eq 0 ]; then
	revs=(tb/before)
	mapfile -t -O 1 revs < <(git -C "$git_dir" rev-list --reverse "$(base_commit)..tb/series" -- arch virt)
fi
out=$BUILD/bench/$(base_id)
kst=$out/kst/$arch
read -r emu ipn n params < <(sed -e 's/#.*//' "$TOP/arch-$arch-kvm/bench-matrix" |
	awk -v c="$cell" '$1 == c { $1 = ""; print }') || die "no bench cell '$cell'"
[ "$params" = - ] && params=
"$TOP/scripts/bench-build.sh" "$arch" "$BUILD/src-bench" "$kst"
md=$out/patches-$arch-$cell.md
: >"$md"
for rev in "${revs[@]}"; do
	c=$(git -C "$git_dir" rev-parse --short=12 "$rev")
	img=$out/img/$arch-$c
	timed "$arch: kernel of $c" "$TOP/scripts/bench-kernel.sh" "$arch" "$rev" "$img"
	logf=$img/bench-$cell.log
	timed "$arch/$cell: $c" "$TOP/scripts/boot.sh" "$arch" "$emu" "$img/kernel" "$kst" "$logf" \
		"$params" "bench/exit_bench -n $n"
	row=$(tr -d '\r' <"$logf" | awk -v ipn="$ipn" '$1 == "bench" && NF == 5 {
		k = k sprintf(" %s", $2); v = v sprintf(" %.1f |", $4 * ipn / $3) } END { print k "\t" v }')
	if [ ! -s "$md" ]; then
		kinds=${row%%$'\t'*}
		echo "| revision |${kinds// / | } |" | sed 's/| | /| /'
		echo "|---|$(for _ in $kinds; do printf -- '---:|'; done)"
	fi >>"$md"
	echo "| $c $(git -C "$git_dir" log -1 --format=%s "$rev" | cut -c1-50) |${row#*$'\t'}" >>"$md"
	tail -n1 "$md"
done
cat "$md"
