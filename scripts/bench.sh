#!/bin/bash
# bench.sh [ARCH...]: "make bench".  Instructions per exit round trip, base
# kernel ("before") vs series, for every exit kind of bench/ARCH/exit_bench.c
# and every cell of arch-ARCH-kvm/bench-matrix.
#
# Each cell boots with an instruction-counting emulator (one vCPU), so the
# guest clock_gettime() difference that exit_bench prints is an instruction
# count, repeatable run after run on any host load.  Every (cell, kernel) is
# booted BENCH_RUNS times (default 2) to show the run-to-run spread.  The
# table goes to bench/results.md (BENCH_OUT), stamped with the series hash
# (scripts/series-hash.sh; scripts/stale.sh compares it) and the base.
#
# Kernels: $BUILD/img/<base>/ARCH-{before,series}/kernel, as built by "make
# check" / "make run", if they are at tb/VARIANT; else scripts/bench-kernel.sh
# builds both in a private work tree (never the shared one).  The benchmark
# is built against another private work tree at tb/series ($BUILD/src-bench),
# one binary for both kernels, like the selftests.
#
# BENCH_CELLS="NAME..." restricts the cells, BENCH_RUNS the boots per kernel,
# BENCH_TAG names the log directory ($BUILD/bench/<base>/run-TAG).
. "$(dirname "$0")/lib.sh"
need git awk
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86 arm64)
runs=${BENCH_RUNS:-2}
dest=${BENCH_OUT:-$TOP/bench/results.md}
t0=$(date +%s)

id=$(base_id)
wt=$(worktree)
git -C "$wt" rev-parse -q --verify tb/series >/dev/null ||
	die "no tb/series branch in $wt; run 'make apply' first"
hash=$("$TOP/scripts/series-hash.sh")
out=$BUILD/bench/$id
# Logs and raw data of this run (BENCH_TAG names it, so runs can overlap).
logs=$out/run-${BENCH_TAG:-last}
rm -rf "$logs"
mkdir -p "$logs"
raw=$logs/raw.tsv
: >"$raw"

# Private work tree for the selftests library, at tb/series.
src=$BUILD/src-bench
want=$(git -C "$wt" rev-parse tb/series)
private_worktree "$src" "$want"

# kernels ARCH: set KB and KS to the images of tb/before and tb/series: those
# of make check/run if both are current, else both built by
# scripts/bench-kernel.sh (one build setup for the pair).
kernels() {
	local v c ok=1
	for v in before series; do
		c=$(git -C "$wt" rev-parse "tb/$v")
		[ "$(cat "$BUILD/img/$id/$1-$v/commit" 2>/dev/null)" = "$c" ] &&
			[ -f "$BUILD/img/$id/$1-$v/kernel" ] || ok=
	done
	if [ -n "$ok" ]; then
		KB=$BUILD/img/$id/$1-before/kernel KS=$BUILD/img/$id/$1-series/kernel
		log "$1: kernels of make check/run ($BUILD/img/$id)"
		return
	fi
	for v in before series; do
		timed "$1/$v: kernel (scripts/bench-kernel.sh)" \
			"$TOP/scripts/bench-kernel.sh" "$1" "tb/$v" "$out/img/$1-$v"
	done
	KB=$out/img/$1-before/kernel KS=$out/img/$1-series/kernel
}

# parse LOG: the "bench" lines of a clean exit_bench run, as KIND N TOTAL_NS.
parse() {
	tr -d '\r' <"$1" | awk '
		/^@@tb begin bench\/exit_bench$/ { on = 1; next }
		/^@@tb end bench\/exit_bench / { rc = $4; on = 0; next }
		on && $1 == "bench" && NF == 5 { print $2, $3, $4; n++ }
		END { if (rc != "rc=0" || !n) exit 1 }'
}

for arch in "${arches[@]}"; do
	matrix=$TOP/arch-$arch-kvm/bench-matrix
	[ -f "$matrix" ] || die "no $matrix"
	kst=$out/kst/$arch
	timed "$arch: build exit_bench" "$TOP/scripts/bench-build.sh" "$arch" "$src" "$kst"
	kernels "$arch"
	while read -r cell emu ipn n params; do
		if [ -n "${BENCH_CELLS:-}" ] && [[ " $BENCH_CELLS " != *" $cell "* ]]; then
			continue
		fi
		[ "$params" = - ] && params=
		for variant in before series; do
			k=$KS
			[ $variant = before ] && k=$KB
			for r in $(seq "$runs"); do
				logf=$logs/$arch-$cell-$variant-$r.log
				timed "$arch/$cell/$variant run $r/$runs ($emu, N=$n)" \
					"$TOP/scripts/boot.sh" "$arch" "$emu" "$k" "$kst" "$logf" \
					"$params" "bench/exit_bench -n $n"
				parse "$logf" >"$logf.bench" ||
					die "$arch/$cell/$variant run $r: exit_bench failed, see $logf"
				awk -v a="$arch" -v c="$cell" -v v="$variant" -v r="$r" -v ipn="$ipn" \
					'{ printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\n", a, c, v, r, $1, $2, $3, $3 * ipn / $2 }' \
					"$logf.bench" >>"$raw"
				log "$arch/$cell/$variant run $r: $(awk '{ printf "%s=%.1f ", $1, $3 * '"$ipn"' / $2 }' "$logf.bench")"
			done
		done
	done < <(sed -e 's/#.*//' "$matrix" | awk 'NF')
done
[ -s "$raw" ] || die "no results (no cells selected?)"

# The table: one row per (arch, kind, cell); values are the mean over the
# runs, spread is the largest max-min over the runs of either kernel.
{
	echo "# Instructions per exit round trip, base vs series"
	echo
	echo "Written by \`make bench\` (scripts/bench.sh); do not edit."
	echo
	echo "Series hash: \`$hash\` (scripts/series-hash.sh)"
	echo "Base: \`$id\`, tb/before \`$(git -C "$wt" rev-parse --short=12 tb/before)\`, tb/series \`$(git -C "$wt" rev-parse --short=12 tb/series)\`"
	echo
	echo "Each value is instructions per round trip executed by the whole test VM"
	echo "(L1 KVM exit and entry, the userspace round trip if any, the L2"
	echo "instruction), counted by the emulator: guest CLOCK_MONOTONIC around N"
	echo "round trips, times INSN_PER_NS of the cell, over N.  Mean of $runs boots per"
	echo "kernel; spread = largest max-min between the boots of one kernel."
	echo "Cells: $(for a in "${arches[@]}"; do sed -e 's/#.*//' "$TOP/arch-$a-kvm/bench-matrix" | awk -v a="$a" 'NF { $1 = $1; printf "`%s/%s`; ", a, $0 }'; done | sed 's/; $//')"
	echo "(columns: NAME EMULATOR INSN_PER_NS N PARAMS of arch-ARCH-kvm/bench-matrix)."
	echo
	echo "| arch | exit kind | cell | base | series | series - base | series/base | spread |"
	echo "|---|---|---|---:|---:|---:|---:|---:|"
	awk -F'\t' '
		{
			k = $1 SUBSEP $5 SUBSEP $2
			if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
			kv = k SUBSEP $3
			sum[kv] += $8; cnt[kv]++
			if (!(kv in mn) || $8 < mn[kv]) mn[kv] = $8
			if (!(kv in mx) || $8 > mx[kv]) mx[kv] = $8
		}
		END {
			for (i = 1; i <= nk; i++) {
				k = order[i]; split(k, f, SUBSEP)
				b = k SUBSEP "before"; s = k SUBSEP "series"
				if (!cnt[b] || !cnt[s]) continue
				bv = sum[b] / cnt[b]; sv = sum[s] / cnt[s]
				sp = mx[b] - mn[b]; if (mx[s] - mn[s] > sp) sp = mx[s] - mn[s]
				ratio = sprintf("%.4f", sv / bv)
				if (sv / bv > 1.01) ratio = "**" ratio "**"
				printf "| %s | %s | %s | %.1f | %.1f | %+.1f | %s | %.1f |\n",
					f[1], f[2], f[3], bv, sv, sv - bv, ratio, sp
			}
		}' "$raw"
	echo
	echo "Goal: series/base <= 1.01 on every row (rows above it are in bold)."
} >"$dest.tmp"
mv "$dest.tmp" "$dest"
cat "$dest"
log "bench took $(( $(date +%s) - t0 ))s; table in ${dest#"$TOP/"}, raw data in $raw"
