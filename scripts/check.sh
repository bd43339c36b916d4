#!/bin/bash
# check.sh [ARCH...]: the full check.  Gates, then every test of
# selftests/ARCH.list on the series kernel and on the "before" kernel (base +
# selftest patches only), then one kselftest TAP report.  A step that breaks
# is reported as a failed TAP line, never as a silent stop.
. "$(dirname "$0")/lib.sh"
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86 arm64)
t0=$(date +%s)
"$TOP/scripts/fetch-base.sh"
res=$BUILD/results/$(base_id)
rm -rf "$res"
mkdir -p "$res"
export TIMING_LOG=$res/timing.tsv
timed "gates" "$TOP/scripts/gates.sh"
# Sweeps too long for CI keep committed results stamped with the series
# hash: flag them when the series has changed since.
for sweep in "bench/results.md bench" "bisect/results.md bisect" "regress/results.md regress" \
	"stress/results.md stress" "coverage/results.md coverage"; do
	# shellcheck disable=SC2086
	"$TOP/scripts/stale.sh" --tsv $sweep >>"$res/gates.tsv" || true
done
steps=$res/steps.tsv
: >"$steps"
if grep -q $'^git am.*\tpass\t' "$res/gates.tsv"; then
	for arch in "${arches[@]}"; do
		for variant in series before; do
			if timed "$arch/$variant" "$TOP/scripts/run.sh" "$arch" "$variant"; then
				printf 'run %s/%s\tpass\t\n' "$arch" "$variant" >>"$steps"
			else
				printf 'run %s/%s\tfail\tbuild or boot step failed, see the log above\n' "$arch" "$variant" >>"$steps"
			fi
		done
	done
fi
# Kernel reports (WARNING, BUG, KASAN, lockdep, ...) in the test VMs: none
# may come from the series kernel; the base kernel's are listed, not gated.
for arch in "${arches[@]}"; do
	for variant in series before; do
		logs=("$res/$arch"-*-"$variant".log)
		[ -f "${logs[0]}" ] || continue
		name="no kernel reports in the $arch/$variant VMs" ok=pass
		[ "$variant" = before ] && name="kernel reports in the $arch/before VMs, listed"
		if r=$("$TOP/scripts/splat-scan.sh" "${logs[@]}"); then
			detail="none in ${#logs[@]} VMs"
		else
			[ "$variant" = before ] || ok=fail
			detail="$(echo "$r" | wc -l): $(echo "$r" | sed "s|$res/||" | head -n 3 | paste -sd';')"
		fi
		printf '%s\t%s\t%s\n' "$name" "$ok" "$detail" >>"$steps"
	done
done
cat "$steps" >>"$res/gates.tsv"
# Bad input to the test bed itself (needs the x86 series kernel built above).
timed "bad input" "$TOP/scripts/bad-input.sh" "$res/gates.tsv" ||
	printf 'bad input\tfail\tscripts/bad-input.sh stopped, see the log above\n' >>"$res/gates.tsv"
time_record "make check before the report" "$t0"
"$TOP/scripts/report.sh" "${arches[@]}"
