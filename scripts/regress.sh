#!/bin/bash
# regress.sh [ARCH...]: "make regress".  The whole KVM selftests suite, run
# by its installed kselftest runner (run_kselftest.sh -c kvm), on the "before"
# kernel and on the series kernel, in every cell of arch-ARCH-kvm/matrix
# (REGRESS_CELLS="ARCH/CELL ..." picks some; REGRESS_VARIANTS="before" or
# "series" runs one kernel, so that two runs can share the machine).  The suite is built once per
# arch from tb/series, statically, and installed with "make -C
# tools/testing/selftests TARGETS=kvm install"; the kernels are those of
# make check (scripts/build-kernel.sh).  Per-test timeout: REGRESS_TIMEOUT
# seconds (default 180; the suite's own settings say 120 on hardware).
# A VM with no console output for REGRESS_IDLE_TIMEOUT wall seconds (default
# 300) has frozen.
# Writes the runner's TAP per cell and kernel to $BUILD/regress/<base>/, and
# the comparison to regress/results.md, stamped with the series hash
# (scripts/regress-report.sh).  REGRESS_TESTS="NAME ..." runs only those
# tests of the suite, into $BUILD/regress/<base>/try/, without a report: a
# quick way to try the runner path.  REGRESS_KERNEL=IMAGE boots that image
# for the one variant of REGRESS_VARIANTS instead of building it.
. "$(dirname "$0")/lib.sh"
need git make gcc dpkg-deb apt-get
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86 arm64)
tmo=${REGRESS_TIMEOUT:-180}
t0=$(date +%s)
"$TOP/scripts/fetch-base.sh"
"$TOP/scripts/tree.sh"
id=$(base_id)
out=$BUILD/regress/$id
mkdir -p "$out"
res=$out
[ -z "${REGRESS_TESTS:-}" ] || res=$out/try
mkdir -p "$res"

# Private work tree at tb/series; objects go to $out/ARCH/kst-build.
src=$BUILD/src-regress
want=$(git -C "$(worktree)" rev-parse tb/series)
private_worktree "$src" "$want"

# bash-static ARCH: the runner is a bash script; busybox has no bash.
bash_static() {
	local a=$1 deb d=$BUILD/bash-static
	[ -x "$d/$a/bash" ] && return 0
	mkdir -p "$d/dl"
	deb=amd64
	[ "$a" = arm64 ] && deb=arm64
	log "fetching bash-static:$deb"
	(cd "$d/dl" && apt-get -q -o APT::Sandbox::User=root download "bash-static:$deb" >/dev/null) ||
		die "could not download bash-static:$deb (apt-get download)"
	rm -rf "$d/$a.tmp" && dpkg-deb -x "$d"/dl/bash-static_*_"$deb".deb "$d/$a.tmp"
	mkdir -p "$d/$a" && cp "$d/$a.tmp/bin/bash-static" "$d/$a/bash" && rm -rf "$d/$a.tmp"
}

# A result line of the runner, up to the test's name.
result_re='ok [0-9]* selftests: kvm: '
# has_result TAP TEST: the runner printed TEST's result line (glued to the
# test's last output line if that had no newline).
has_result() { grep -q "$result_re$2\( \|$\)" "$1"; }
# swap_in NEW DEST: replace the tree DEST by NEW, which was made aside, so
# that a sweep of the other kernel booting a VM from DEST sees whole trees.
swap_in() {
	rm -rf "$2.old" && { [ ! -d "$2" ] || mv "$2" "$2.old"; } && mv "$1" "$2" && rm -rf "$2.old"
}
# suite_running TAP: the test the runner had started and not finished.
suite_running() {
	local t
	t=$(sed -n 's/^# selftests: kvm: //p' "$1" | tail -n1)
	[ -z "$t" ] || has_result "$1" "$t" || echo "$t"
}
# suite_rest LIST TAP: the tests of LIST with no result yet.
suite_rest() {
	sed -n 's/^kvm://p' "$1" | while read -r t; do
		has_result "$2" "$t" || printf '%s ' "$t"
	done | sed 's/ $//'
}

for arch in "${arches[@]}"; do
	karch=$(karch "$arch")
	cross=
	[ "$arch" = arm64 ] && cross=aarch64-linux-gnu-
	bash_static "$arch"
	# The suite, installed: run_kselftest.sh, kselftest-list.txt, kvm/.
	inst=$out/$arch/install
	hdr=$out/$arch/usr
	if [ "$(cat "$inst/.commit" 2>/dev/null)" != "$want" ]; then
		rm -rf "$inst" "$hdr"
		uapi_headers "$arch" "$src" "$out/$arch"
		use_ccache
		install_suite() {
			make -s -C "$src/tools/testing/selftests" TARGETS=kvm -j"$JOBS" O="$out/$arch/kst-build" \
				ARCH="$karch" CROSS_COMPILE="$cross" CC="ccache ${cross}gcc" \
				KHDR_INCLUDES="-isystem $hdr/include" LDFLAGS=-static \
				INSTALL_PATH="$inst" install >"$out/$arch/build.log" 2>&1
		}
		timed "$arch: build and install the KVM selftests target" install_suite ||
			{ grep -E 'error' "$out/$arch/build.log" | head -n 20 >&2
			  die "$arch: building the KVM selftests failed (log: $out/$arch/build.log)"; }
		echo "$want" >"$inst/.commit"
	fi
	# The tests to run: the installed list, or REGRESS_TESTS="NAME ..."
	# of it (to try the runner path on a few tests).
	list=$res/$arch.list
	if [ -n "${REGRESS_TESTS:-}" ]; then
		for t in $REGRESS_TESTS; do
			grep -qx "kvm:$t" "$inst/kselftest-list.txt" || die "REGRESS_TESTS: no test '$t' in $inst/kselftest-list.txt"
			echo "kvm:$t"
		done >"$list"
	else
		grep '^kvm:' "$inst/kselftest-list.txt" >"$list"
	fi
	n=$(wc -l <"$list")
	log "$arch: $n tests${REGRESS_TESTS:+ (REGRESS_TESTS)} of kselftest-list.txt"

	# The VM's root: the install as /kst, bash, and a /usr/bin/timeout
	# that takes coreutils' --foreground (busybox's does not; the runner
	# passes it first, so dropping it keeps the same per-test limit).
	# Both are made aside and swapped in.
	root=$out/$arch/root new=$out/$arch/root.$$
	rm -rf "$new" && mkdir -p "$new/bin" "$new/usr/bin"
	cp -a "$inst" "$new/kst"
	cp "$BUILD/bash-static/$arch/bash" "$new/bin/bash"
	printf '#!/bin/sh\n[ "$1" = --foreground ] && shift\nexec busybox timeout "$@"\n' >"$new/usr/bin/timeout"
	chmod +x "$new/usr/bin/timeout"
	for a in awk basename cut date dirname env expr grep head id kill mkdir mktemp nproc \
		 readlink realpath rm sed seq sort tail tee touch tr uniq wc xargs; do
		ln -s /bin/busybox "$new/bin/$a"
	done
	swap_in "$new" "$root"
	tests=$out/$arch/tests new=$out/$arch/tests.$$
	rm -rf "$new" && mkdir -p "$new/tb"
	cp "$TOP/selftests/run-suite.sh" "$new/tb/"
	swap_in "$new" "$tests"

	mapfile -t cells < <(cells "$arch")
	for variant in ${REGRESS_VARIANTS:-before series}; do
		if [ -n "${REGRESS_KERNEL:-}" ]; then
			[ -f "$REGRESS_KERNEL" ] || die "REGRESS_KERNEL=$REGRESS_KERNEL: no such kernel image"
			kernel=$REGRESS_KERNEL
			log "$arch/$variant: booting $kernel (REGRESS_KERNEL), not building"
		else
			timed "$arch/$variant: kernel" "$TOP/scripts/build-kernel.sh" "$arch" "$variant"
			kernel=$BUILD/img/$id/$arch-$variant/kernel
		fi
		for cell in "${cells[@]}"; do
			if [ -n "${REGRESS_CELLS:-}" ] && ! echo " $REGRESS_CELLS " | grep -q " $arch/$cell "; then
				continue
			fi
			cell "$arch" "$cell"
			logf=$res/$arch-$cell-$variant.log
			tap=${logf%.log}.tap
			t1=$(date +%s)
			rm -f "${logf%.log}".part*.log
			: >"$tap"
			# The whole suite in one VM: its limit is every test at
			# its timeout, plus boot.  A guest that misses its
			# heartbeats (run-suite.sh prints one every 5 s of guest
			# time, 20 s of wall time in Bochs) for
			# REGRESS_IDLE_TIMEOUT (default 5 min) has frozen (in Bochs' VMX,
			# set_memory_region_test freezes the whole VM, on both
			# kernels): the test that was running is recorded as a
			# timeout and a new VM runs the tests after it.  So
			# too if the runner itself ended during a test (the OOM
			# killer may take it with a test that exhausts the VM's
			# memory): that test is recorded as failed.
			part=1 plog=$logf rest=${REGRESS_TESTS:-}
			while :; do
				ROOT_EXTRA=$root TEST_TIMEOUT=$(( n * tmo + 60 )) VM_TIMEOUT=$(( n * tmo + 300 )) \
					VM_IDLE_TIMEOUT=${REGRESS_IDLE_TIMEOUT:-300} \
					timed "$arch/$cell/$variant: whole suite${rest:+, part $part}" "$TOP/scripts/boot.sh" \
					"$arch" "$CELL_EMULATOR" "$kernel" "$tests" "$plog" "$CELL_PARAMS" \
					"tb/run-suite.sh $tmo${rest:+ $rest}"
				# The runner's own TAP, as it printed it (to the end of
				# the console if the VM was stopped), without the
				# heartbeats, which may land inside a line.
				tr -d '\r' <"$plog" | sed -n '/^@@tb begin /,/^@@tb end /p' |
					sed -e 's/@@tb alive//g' -e '/^@@tb /d' -e '/^$/d' >>"$tap"
				hung=$(suite_running "$tap")
				[ -n "$hung" ] || break
				stop=$(tr -d '\r' <"$plog" | sed -n 's/^@@tb \(vm-[a-z]*\) /\1: /p' | tail -n1)
				if [ -n "$stop" ]; then
					echo "not ok 0 selftests: kvm: $hung # TIMEOUT VM stopped, $stop" >>"$tap"
					log "$arch/$cell/$variant: $hung froze the VM ($stop); resuming after it"
				else
					rc=$(tr -d '\r' <"$plog" | sed -n 's/^@@tb end .* rc=\([0-9]*\).*/\1/p' | tail -n1)
					echo "not ok 0 selftests: kvm: $hung # the runner ended during the test (rc=${rc:-none})" >>"$tap"
					log "$arch/$cell/$variant: the runner ended during $hung (rc=${rc:-none}); resuming after it"
				fi
				rest=$(suite_rest "$list" "$tap")
				[ -n "$rest" ] || break
				part=$((part + 1)) plog=${logf%.log}.part$part.log
			done
			printf '%s\t%s\n' "$arch/$cell/$variant" "$(( $(date +%s) - t1 ))" >"${logf%.log}.secs"
			log "$arch/$cell/$variant: $(grep -c "$result_re" "$tap") results, $(grep -c "not $result_re" "$tap") not ok"
		done
	done
done
log "make regress: $(( $(date +%s) - t0 ))s"
[ -z "${REGRESS_TESTS:-}" ] || { log "REGRESS_TESTS: results in $res, no report"; exit 0; }
# The report covers every arch on record, not only those swept now.
"$TOP/scripts/regress-report.sh" x86 arm64
