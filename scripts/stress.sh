#!/bin/bash
# stress.sh [ARCH...]: "make stress".  The project's randomized stress test,
# selftests/stress/ARCH/exit_stress_test.c (random exits to userspace, each
# followed by a random userspace intervention, checked by an oracle), on the
# debug kernels (test-bed kernel + arch-ARCH-kvm/debug.config: KASAN,
# lockdep, DEBUG_ATOMIC_SLEEP, UBSAN, DEBUG_LIST, -Werror), "before" and
# series, in the cells and with the counts of arch-ARCH-kvm/stress.  Every
# console is scanned for kernel reports (scripts/splat-scan.sh).
# Writes stress/results.md, stamped with the series hash.
#   STRESS_SEED=S   seed of every run (default: the time; printed)
#   STRESS_DIV=N    divide every count by N: a quick try, not stamped
. "$(dirname "$0")/lib.sh"
need git make gcc
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86 arm64)
seed=${STRESS_SEED:-$(date +%s)}
div=${STRESS_DIV:-1}
case $seed$div in *[!0-9]*) die "STRESS_SEED and STRESS_DIV must be numbers" ;; esac
[ "$div" -ge 1 ] || die "STRESS_DIV must be at least 1"
t0=$(date +%s)
"$TOP/scripts/fetch-base.sh"
"$TOP/scripts/tree.sh"
id=$(base_id)
out=$BUILD/stress/$id
mkdir -p "$out"
wt=$(worktree)
rows=$out/rows.md finds=$out/findings.md
: >"$rows"
: >"$finds"

for arch in "${arches[@]}"; do
	karch "$arch" >/dev/null
	test=$arch/exit_stress_test
	[ -f "$TOP/selftests/stress/$test.c" ] || die "no stress test selftests/stress/$test.c"
	[ -f "$TOP/arch-$arch-kvm/stress" ] || die "no stress cells in arch-$arch-kvm/stress"
	flock "$wt.lock" git -C "$wt" checkout -q --detach tb/series
	timed "$arch: stress test" "$TOP/scripts/build-selftests.sh" "$arch" "$wt" "$out/kst-$arch" "$test"
	# The debug kernels build in a private work tree and O= directory, so
	# that they never wait for, or hold, the shared tree's lock.
	for variant in before series; do
		private_worktree "$BUILD/src-stress" "$(git -C "$wt" rev-parse "tb/$variant")"
		img=$BUILD/img/$id/$arch-$variant-debug
		mkdir -p "$img"
		kbuild_kernel "$arch" "$BUILD/src-stress" "$BUILD/out/$id/stress-$arch" "$img/build.log" debug.config
		cp "$KIMAGE" "$img/kernel"
	done
	while read -r c n; do
		n=$((n / div))
		cell "$arch" "$c"
		for variant in before series; do
			logf=$out/$arch-$c-$variant.log
			log "$arch/$c/$variant: $n sequences, seed $seed"
			t1=$(date +%s)
			# Room for a slow cell: the in-VM and the VM timeouts grow with n.
			TEST_TIMEOUT=$((600 + n)) VM_TIMEOUT=$((900 + n)) \
				"$TOP/scripts/boot.sh" "$arch" "$CELL_EMULATOR" \
				"$BUILD/img/$id/$arch-$variant-debug/kernel" "$out/kst-$arch" "$logf" \
				"$CELL_PARAMS" "$test -s $seed -n $n"
			wall=$(($(date +%s) - t1))
			outcome=$("$TOP/scripts/parse-console.sh" "$logf" "$test" | cut -f2)
			line=$(tr -d '\r' <"$logf" | grep -m1 -E '^(not )?ok 1 [0-9]+ sequences' || echo "no result line")
			splats=$("$TOP/scripts/splat-scan.sh" "$logf" | sed "s|^$logf: ||") || true
			nsplat=0
			[ -z "$splats" ] || nsplat=$(echo "$splats" | wc -l)
			# The series must pass the oracle with no kernel report; the
			# base kernel's oracle failures are the bugs the series fixes.
			verdict=pass oracle=$outcome
			[ "$outcome" = fail ] && oracle=mismatches
			if [ "$variant" = series ]; then
				[ "$outcome" = pass ] && [ "$nsplat" -eq 0 ] || verdict=fail
			else
				case $outcome in
				pass) ;;
				fail) verdict="expected (bugs the series fixes)" ;;
				*) verdict=fail ;;
				esac
			fi
			printf '| %s/%s | %s | %s | %s | %s s | %s | `%s` | %s | %s |\n' "$arch" "$c" "$CELL_EMULATOR" \
				"$variant" "$n" "$wall" "$oracle" "$line" "$nsplat" "$verdict" >>"$rows"
			{
				if [ "$nsplat" -gt 0 ]; then
					printf '\n%s/%s/%s: kernel reports\n\n```\n%s\n```\n' "$arch" "$c" "$variant" "$splats"
				fi
				if [ "$outcome" != pass ]; then
					printf '\n%s/%s/%s: oracle failures, one reproducer each\n\n```\n' "$arch" "$c" "$variant"
					tr -d '\r' <"$logf" | grep -E '^# (failed|FAIL)' | head -n 80
					printf '```\n'
				fi
			} >>"$finds"
			log "$arch/$c/$variant: ${wall}s: $line, $nsplat kernel reports"
		done
	done < <(sed -e 's/#.*//' "$TOP/arch-$arch-kvm/stress" | awk 'NF')
done

res=$TOP/stress/results.md
[ "$div" -eq 1 ] || res=$out/results.md
mkdir -p "$(dirname "$res")"
{
	echo "# make stress: random exits x interventions on debug kernels"
	echo
	echo "Written by \`make stress\` (scripts/stress.sh) on $(date -u +%Y-%m-%d), in $(( ($(date +%s) - t0) / 60 )) min."
	echo "Series hash: \`$("$TOP/scripts/series-hash.sh")\`$([ "$div" -eq 1 ] || echo " (STRESS_DIV=$div: not a full run)")"
	echo
	echo "Kernels: the test-bed kernels plus arch-ARCH-kvm/debug.config (KASAN, PROVE_LOCKING,"
	echo "DEBUG_ATOMIC_SLEEP, UBSAN, DEBUG_LIST, WERROR; KVM_WERROR on x86).  Test:"
	echo "selftests/stress/ARCH/exit_stress_test.c, seed $seed.  \"kernel reports\": WARNING, BUG,"
	echo "KASAN, UBSAN, lockdep and \"scheduling while atomic\" reports in the VM (scripts/splat-scan.sh)."
	echo
	echo "| cell | emulator | kernel | sequences | VM wall | oracle | result line | kernel reports | verdict |"
	echo "|---|---|---|---:|---:|---|---|---:|---|"
	cat "$rows"
	echo
	echo "## Findings"
	if [ -s "$finds" ]; then cat "$finds"; else echo; echo "None."; fi
} >"$res"
log "stress: $(grep -c '^| [a-z0-9]*/' "$rows") runs, results in ${res#"$TOP/"}"
! grep -q '| fail |$' "$rows"
