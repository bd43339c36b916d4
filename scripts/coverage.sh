#!/bin/bash
# coverage.sh [ARCH...]: "make coverage".  Which lines that the series adds
# or changes in arch/x86/kvm, virt/kvm and arch/arm64/kvm run, per test cell.
# The series kernel is built with gcov (arch-ARCH-kvm/gcov.config, merged
# after kvm.config) and profiling on for the objects of arch/ARCH/kvm only
# (virt/kvm's are built from there too; arch/arm64/kvm/hyp/ is not profiled):
# Kbuild reads GCOV_PROFILE per directory, and the make command line sets it
# to the value of TB_GCOV_<directory>, which is "y" for arch/ARCH/kvm alone,
# so the kernel tree is not modified.  The kernel boots in every cell of
# arch-ARCH-kvm/matrix (COVERAGE_CELLS="x86/npt1 ..." picks some) with the
# tests of selftests/ARCH.list; after them the VM prints its gcov counters on
# the console (selftests/gcov-dump, run as /init's opt-in /hooks/after-tests),
# which are captured per cell with lcov (one .info per cell).  The map of
# changed lines comes from "git blame base..tb/series": each line of the
# final tree is attributed to the last patch that touched it.
# Keeps everything per series in $BUILD/coverage/<base>/<series hash>/ and
# writes coverage/results.md (+ coverage/lines.tsv), stamped with the series
# hash, from the cells of every arch run on the current series
# (scripts/coverage-report.sh), so the arches may run separately.
#   COVERAGE_CELLS="ARCH/CELL ..."  only these cells (default: all)
#   COVERAGE_REPORT_ONLY=1          only write the report from recorded cells
#   COVERAGE_VM_TIMEOUT=S           VM timeout (default 1800 s: the dump
#                                   through Bochs' UART takes minutes)
. "$(dirname "$0")/lib.sh"
need git make gcc lcov base64 md5sum cpio tar
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86 arm64)
for a in "${arches[@]}"; do karch "$a" >/dev/null; done
"$TOP/scripts/fetch-base.sh"
id=$(base_id)
hash=$("$TOP/scripts/series-hash.sh")
out=$BUILD/coverage/$id/$hash
mkdir -p "$out"

if [ -z "${COVERAGE_REPORT_ONLY:-}" ]; then
	"$TOP/scripts/tree.sh"
	[ "$("$TOP/scripts/series-hash.sh")" = "$hash" ] ||
		die "patches/ changed while the series was applied; run 'make coverage' again"
	# Private work tree at tb/series: the kernels build from it without
	# holding the shared tree's lock, and its sources stay for lcov.
	src=$BUILD/src-coverage
	private_worktree "$src" "$(git -C "$(worktree)" rev-parse tb/series)"
	# The changed lines, attributed to patches: "PATCH# FILE LINE FUNC TEXT".
	"$TOP/scripts/coverage-report.sh" --map "$src" "$(base_commit)" "$out/patches.tsv" >"$out/lines.map"
	echo "$src" >"$out/src"
	git -C "$src" rev-parse HEAD >"$out/commit"
fi

# gcov_from_console LOG DIR: the .gcda files that the VM printed between the
# "@@tb gcov" markers into DIR/gcda; prints "FILES BYTES" of the dump.
gcov_from_console() {
	local logf=$1 d=$2 sum n
	n=$(tr -d '\r' <"$logf" | sed -n 's/^@@tb gcov begin \([0-9]*\) files$/\1/p' | tail -n1)
	sum=$(tr -d '\r' <"$logf" | sed -n 's/^@@tb gcov end \([0-9a-f]*\)$/\1/p' | tail -n1)
	[ -n "$n" ] && [ -n "$sum" ] || return 1
	# Only whole base64 lines: a kernel message between them is dropped,
	# and the checksum tells if one landed inside a line.
	tr -d '\r' <"$logf" | sed -n '/^@@tb gcov begin/,/^@@tb gcov end/p' |
		grep -E '^[A-Za-z0-9+/=]+$' | base64 -d >"$d/gcov.tgz" 2>/dev/null || return 1
	[ "$(md5sum <"$d/gcov.tgz" | cut -d' ' -f1)" = "$sum" ] || return 1
	rm -rf "$d/gcda" && mkdir -p "$d/gcda"
	tar -xzf "$d/gcov.tgz" -C "$d/gcda" || return 1
	echo "$n $(stat -c %s "$d/gcov.tgz")"
}

run_arch() {
	local arch=$1 kdir cc kst kout kernel root c t0 n
	local -a tests cells
	t0=$(date +%s)
	export TIMING_LOG=$out/$arch.times
	: >"$TIMING_LOG"
	mapfile -t tests < <(list_tests "$arch")
	[ ${#tests[@]} -gt 0 ] || die "no tests in selftests/$arch.list"
	cells=()
	for c in ${COVERAGE_CELLS:-}; do
		[ "${c%%/*}" = "$arch" ] && cells+=("${c#*/}")
	done
	[ -n "${COVERAGE_CELLS:-}" ] || mapfile -t cells < <(cells "$arch")
	[ ${#cells[@]} -gt 0 ] || { log "$arch: no cell in COVERAGE_CELLS"; return 0; }
	for c in "${cells[@]}"; do cell "$arch" "$c"; done	# names checked up front
	kdir=arch/$arch/kvm cc=
	[ "$arch" = arm64 ] && cc=aarch64-linux-gnu-
	need "${cc}gcov"

	kst=$BUILD/coverage/$id/kst-$arch
	timed "$arch: selftests" "$TOP/scripts/build-selftests.sh" "$arch" "$src" "$kst" "${tests[@]}"
	kout=$BUILD/coverage/$id/out-$arch
	# shellcheck disable=SC2016	# Kbuild expands it, per directory
	KMAKE_ARGS='GCOV_PROFILE=$(TB_GCOV_$(obj)) '"TB_GCOV_$kdir=y" \
		timed "$arch: coverage kernel" kbuild_kernel "$arch" "$src" "$kout" "$out/$arch-build.log" gcov.config
	kernel=$KIMAGE
	# Profiled objects: all of arch/ARCH/kvm and virt/kvm, nothing else.
	n=$(cd "$kout" && find . -name '*.gcno' | wc -l)
	[ "$n" -gt 0 ] || die "$arch: no .gcno file in $kout: gcov profiling did not reach $kdir"
	c=$(cd "$kout" && find . -name '*.gcno' | { grep -v -e "^\./$kdir/" -e '^\./virt/kvm/' || true; } | head -n 3)
	[ -z "$c" ] || die "$arch: objects outside $kdir and virt/kvm were profiled: $c"
	[ -z "$(cd "$kout" && find "./$kdir/hyp" -name '*.gcno' 2>/dev/null)" ] ||
		die "$arch: EL2 code ($kdir/hyp) was profiled"
	log "$arch: $n objects profiled ($kdir, virt/kvm)"
	git -C "$src" rev-parse HEAD >"$out/$arch.commit"
	cov_id "$src" "$arch" >"$out/$arch.id"

	root=$out/root-$arch
	mkdir -p "$root/hooks"
	cp "$TOP/selftests/gcov-dump" "$root/hooks/after-tests"

	# run_cell CELL: boot, collect the counters, capture them with lcov
	# into $out/ARCH-CELL.info; one row "VM-S FILES BYTES CAPTURE-S TESTS
	# STATUS" in $out/ARCH-CELL.row.
	run_cell() {
		local c=$1 logf=$out/$arch-$1.log d=$out/$arch-$1 t1 vm dump st tst
		rm -rf "$d" "$out/$arch-$c.info" "$out/$arch-$c.row"
		mkdir -p "$d"
		t1=$(date +%s)
		ROOT_EXTRA=$root VM_TIMEOUT=${COVERAGE_VM_TIMEOUT:-1800} "$TOP/scripts/boot.sh" "$arch" \
			"$CELL_EMULATOR" "$kernel" "$kst" "$logf" "$CELL_PARAMS" "${tests[@]}"
		vm=$(($(date +%s) - t1))
		time_record "$arch/$c VM" "$t1"
		"$TOP/scripts/parse-console.sh" "$logf" "${tests[@]}" >"$d/tests.tsv"
		tst=$(cut -f2 "$d/tests.tsv" | sort | uniq -c | awk '{ printf("%s%s %s", (NR > 1 ? ", " : ""), $1, $2) }')
		t1=$(date +%s)
		if ! dump=$(gcov_from_console "$logf" "$d"); then
			st=$(tr -d '\r' <"$logf" | grep -a -m1 -e '^@@tb gcov none' -e '^@@tb vm-' || true)
			st="no gcov data on the console (${st:-the VM ended before the dump, or it was cut})"
			printf '%s\t-\t-\t-\t%s\t%s\n' "$vm" "$tst" "$st" >"$out/$arch-$c.row"
			log "$arch/$c: $st"
			return 0
		fi
		[ -d "$d/gcda/$kout" ] || { st="gcov data of another build tree"
			printf '%s\t%s\t-\t%s\t%s\n' "$vm" "${dump// /	}" "$tst" "$st" >"$out/$arch-$c.row"; return 0; }
		# lcov wants each .gcda beside its .gcno: a mirror of the build tree.
		mkdir -p "$d/obj"
		(cd "$kout" && find . -name '*.gcno' | cpio -pdm --quiet "$d/obj")
		(cd "$d/gcda/$kout" && find . -name '*.gcda' | cpio -pdmu --quiet "$d/obj")
		if lcov --quiet --capture --directory "$d/obj" --gcov-tool "${cc}gcov" \
			--output-file "$d/all.info" >"$d/lcov.log" 2>&1 &&
			lcov --quiet --extract "$d/all.info" "*/$kdir/*" '*/virt/kvm/*' \
				--output-file "$out/$arch-$c.info" >>"$d/lcov.log" 2>&1; then
			st=ok
		else
			st="lcov failed ($d/lcov.log)"
		fi
		rm -rf "$d/obj" "$d/all.info"
		time_record "$arch/$c capture" "$t1"
		printf '%s\t%s\t%s\t%s\t%s\n' "$vm" "${dump// /	}" "$(($(date +%s) - t1))" "$tst" "$st" >"$out/$arch-$c.row"
		log "$arch/$c: VM ${vm}s, $dump (files, bytes) of gcov data, tests: $tst; $st"
	}
	run_cells "$arch" "$arch" run_cell "${cells[@]}"
	time_record "$arch: total" "$t0"
	echo "$arch: $(( ($(date +%s) - t0) / 60 )) min on $(date -u +%Y-%m-%d)" >"$out/$arch.info"
}

if [ -z "${COVERAGE_REPORT_ONLY:-}" ]; then
	for a in "${arches[@]}"; do run_arch "$a"; done
fi
[ -f "$out/lines.map" ] || die "no coverage recorded for series $hash; run 'make coverage'"
"$TOP/scripts/coverage-report.sh" "$out" "$hash"
