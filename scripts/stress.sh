#!/bin/bash
# stress.sh [ARCH...]: "make stress".  The project's randomized stress test,
# selftests/stress/ARCH/exit_stress_test.c (random exits to userspace, each
# followed by a random userspace intervention, checked by an oracle), on the
# debug kernels (test-bed kernel + arch-ARCH-kvm/debug.config: KASAN,
# lockdep, DEBUG_ATOMIC_SLEEP, UBSAN, DEBUG_LIST, -Werror), "before" and
# series, in the cells and with the counts of arch-ARCH-kvm/stress.  Every
# console is scanned for kernel reports (scripts/splat-scan.sh).
# Writes stress/results.md (debug kernels) or stress/results-plain.md
# (STRESS_KERNEL=plain), stamped with the series hash, from the runs of
# every arch made on the current series (so the arches may run separately,
# even side by side).
#   STRESS_SEED=S        seed of every run (default: the time; printed)
#   STRESS_DIV=N         divide every count by N: a quick try, not stamped
#   STRESS_REPORT_ONLY=1 only write stress/results.md from the recorded runs
#   STRESS_KERNEL=plain  the test-bed kernels of make check instead of the
#                        debug ones (the oracle and the report scan only)
#   STRESS_VARIANTS="series"  only these kernels (default "before series");
#                        the report says which were left out
. "$(dirname "$0")/lib.sh"
need git make gcc
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86 arm64)
seed=${STRESS_SEED:-$(date +%s)}
div=${STRESS_DIV:-1}
kind=${STRESS_KERNEL:-debug}
read -r -a variants <<<"${STRESS_VARIANTS:-before series}"
for v in "${variants[@]}"; do
	case $v in before | series) ;; *) die "STRESS_VARIANTS: '$v' is neither before nor series" ;; esac
done
[ ${#variants[@]} -gt 0 ] || die "STRESS_VARIANTS is empty"
case $kind in debug) sfx=-debug ;; plain) sfx= ;; *) die "STRESS_KERNEL=$kind: debug or plain" ;; esac
case $seed$div in *[!0-9]*) die "STRESS_SEED and STRESS_DIV must be numbers" ;; esac
[ "$div" -ge 1 ] || die "STRESS_DIV must be at least 1"
"$TOP/scripts/fetch-base.sh"
id=$(base_id)
hash=$("$TOP/scripts/series-hash.sh")
# Per series and scale: ARCH.rows (table rows), ARCH.finds, ARCH.info.
out=$BUILD/stress/$id/$hash-$kind-div$div
mkdir -p "$out"

# run_id ARCH: what a stress run of ARCH depends on: the tb/series tree but
# for the series' own test programs (the kernel, the selftest library and
# headers the stress test builds with), the stress test, its cells and the
# debug config.  A run of another series hash with the same id is a run of
# this one: the series changed only test programs the stress test never runs.
run_id() {
	local a=$1
	tree_id "$(worktree)" tb/series 'tools/testing/selftests/kvm/(x86|arm64)/[^/]+\.[ch]$' \
		"selftests/stress/$a/exit_stress_test.c" "arch-$a-kvm/stress" "arch-$a-kvm/debug.config" |
		sed "s/\$/-$kind-${variants[*]// /+}/"
}

run_arch() {
	local arch=$1 test=$1/exit_stress_test wt swt c n variant logf t0 t1 wall outcome line
	local splats nsplat verdict oracle img
	[ -f "$TOP/selftests/stress/$test.c" ] || die "no stress test selftests/stress/$test.c"
	[ -f "$TOP/arch-$arch-kvm/stress" ] || die "no stress cells in arch-$arch-kvm/stress"
	t0=$(date +%s)
	wt=$(worktree)
	flock "$wt.lock" git -C "$wt" checkout -q --detach tb/series
	timed "$arch: stress test" "$TOP/scripts/build-selftests.sh" "$arch" "$wt" "$out/kst-$arch" "$test"
	# The debug kernels build in a private work tree and O= directory per
	# arch, so that they never wait for, or hold, the shared tree's lock.
	swt=$BUILD/src-stress-$arch
	for variant in "${variants[@]}"; do
		if [ "$kind" = plain ]; then
			timed "$arch/$variant: kernel" "$TOP/scripts/build-kernel.sh" "$arch" "$variant"
			continue
		fi
		private_worktree "$swt" "$(git -C "$wt" rev-parse "tb/$variant")"
		img=$BUILD/img/$id/$arch-$variant-debug
		mkdir -p "$img"
		kbuild_kernel "$arch" "$swt" "$BUILD/out/$id/stress-$arch" "$img/build.log" debug.config
		cp "$KIMAGE" "$img/kernel"
	done
	: >"$out/$arch.rows"
	: >"$out/$arch.finds"
	while read -r c n; do
		n=$((n / div))
		cell "$arch" "$c"
		for variant in "${variants[@]}"; do
			logf=$out/$arch-$c-$variant.log
			log "$arch/$c/$variant: $n sequences, seed $seed"
			t1=$(date +%s)
			# Room for a slow cell: the in-VM and the VM timeouts grow with n.
			TEST_TIMEOUT=$((600 + n)) VM_TIMEOUT=$((900 + n)) \
				"$TOP/scripts/boot.sh" "$arch" "$CELL_EMULATOR" \
				"$BUILD/img/$id/$arch-$variant$sfx/kernel" "$out/kst-$arch" "$logf" \
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
				"$variant" "$n" "$wall" "$oracle" "$line" "$nsplat" "$verdict" >>"$out/$arch.rows"
			{
				if [ "$nsplat" -gt 0 ]; then
					printf '\n%s/%s/%s: kernel reports\n\n```\n%s\n```\n' "$arch" "$c" "$variant" "$splats"
				fi
				if [ "$outcome" != pass ]; then
					printf '\n%s/%s/%s: oracle failures, one reproducer per pair\n\n```\n' "$arch" "$c" "$variant"
					tr -d '\r' <"$logf" | grep -E '^# (failed|failing)' | head -n 80
					printf '```\n'
				fi
			} >>"$out/$arch.finds"
			log "$arch/$c/$variant: ${wall}s: $line, $nsplat kernel reports"
		done
	done < <(sed -e 's/#.*//' "$TOP/arch-$arch-kvm/stress" | awk 'NF')
	run_id "$arch" >"$out/$arch.id"
	echo "$arch: seed $seed, kernels ${variants[*]}, $(( ($(date +%s) - t0) / 60 )) min on $(date -u +%Y-%m-%d)" >"$out/$arch.info"
}

"$TOP/scripts/tree.sh"
if [ -z "${STRESS_REPORT_ONLY:-}" ]; then
	for arch in "${arches[@]}"; do
		karch "$arch" >/dev/null
		run_arch "$arch"
	done
fi

res=$TOP/stress/results.md
[ "$kind" = debug ] || res=$TOP/stress/results-$kind.md
[ "$div" -eq 1 ] || res=$out/results.md
mkdir -p "$(dirname "$res")"
all=(x86 arm64)
# Where each arch's run is: $out, or the run of another series hash with the
# same run_id (see there), named in the report.
declare -A ad note
for a in "${all[@]}"; do
	ad[$a]=$out note[$a]=
	[ ! -f "$out/$a.info" ] || continue
	rid=$(run_id "$a")
	for d in "$BUILD/stress/$id"/*-"$kind-div$div"; do
		if [ "$(cat "$d/$a.id" 2>/dev/null)" = "$rid" ] && [ -f "$d/$a.info" ]; then
			ad[$a]=$d
			note[$a]="; run while patches/ was series \`$(basename "$d" | cut -d- -f1)\`, with the same kernel, selftest library and stress test (the series changed since only in changelogs or in test programs this run does not build)"
			break
		fi
	done
done
{
	echo "# make stress: random exits x userspace interventions, base vs series"
	echo
	echo "Written by \`make stress\` (scripts/stress.sh); do not edit."
	echo "Series hash: \`$hash\`$([ "$div" -eq 1 ] || echo " (STRESS_DIV=$div: not a full run)")"
	echo
	if [ "$kind" = debug ]; then
		echo "Kernels: the test-bed kernels plus arch-ARCH-kvm/debug.config (KASAN, PROVE_LOCKING,"
		echo "DEBUG_ATOMIC_SLEEP, UBSAN, DEBUG_LIST, WERROR; KVM_WERROR on x86).  Test:"
	else
		echo "Kernels: **the test-bed kernels of make check, without the debug options**"
		echo "(STRESS_KERNEL=plain: the oracle and the kernel-report scan only; the debug"
		echo "kernels are in stress/results.md).  Test:"
	fi
	echo "selftests/stress/ARCH/exit_stress_test.c (\`-s SEED -i INDEX\` replays one sequence)."
	echo "\"kernel reports\": WARNING, BUG, KASAN, UBSAN, lockdep and \"scheduling while atomic\""
	echo "reports in the VM (scripts/splat-scan.sh)."
	echo
	for a in "${all[@]}"; do
		if [ -f "${ad[$a]}/$a.info" ]; then echo "- $(cat "${ad[$a]}/$a.info")${note[$a]}"
		else echo "- $a: not run on this series"; fi
	done
	echo
	echo "| cell | emulator | kernel | sequences | VM wall | oracle | result line | kernel reports | verdict |"
	echo "|---|---|---|---:|---:|---|---|---:|---|"
	for a in "${all[@]}"; do [ ! -f "${ad[$a]}/$a.info" ] || cat "${ad[$a]}/$a.rows"; done
	echo
	echo "## Findings"
	for a in "${all[@]}"; do [ ! -f "${ad[$a]}/$a.info" ] || cat "${ad[$a]}/$a.finds"; done
	# The text of each kernel report that reached the console.
	for a in "${all[@]}"; do
		[ -f "${ad[$a]}/$a.info" ] || continue
		for logf in "${ad[$a]}/$a"-*.log; do
			[ -f "$logf" ] && ! "$TOP/scripts/splat-scan.sh" "$logf" >/dev/null || continue
			# $out/ARCH-CELL-VARIANT.log; a cell name may hold a "-".
			c=$(basename "$logf" .log)
			c=${c#"$a"-}
			printf '\n%s/%s/%s: text of the kernel reports on the console\n\n```\n' "$a" "${c%-*}" "${c##*-}"
			"$TOP/scripts/splat-scan.sh" --full "$logf" | sed '1{/^$/d}'
			printf '```\n'
		done
	done
} >"$res"
log "stress: results in ${res#"$TOP/"}"
for a in "${all[@]}"; do
	[ ! -f "${ad[$a]}/$a.info" ] || ! grep -q '| fail |$' "${ad[$a]}/$a.rows" || exit 1
done
