#!/bin/bash
# regress-report.sh ARCH...: compare the runner TAP of "make regress"
# ($BUILD/regress/<base>/ARCH-CELL-{before,series}.tap) and write
# regress/results.md (REGRESS_OUT), stamped with the series hash.  A test is
# a regression if it fails on the series kernel and not on the base kernel
# in the same cell; regressions are rows with "fail" in the result column,
# which scripts/stale.sh turns into a failed make check.  Tests that fail on
# both kernels are listed with their reason from selftests/regress-known.tsv
# (an ARCH:KIND/TEST entry there wins over ARCH/TEST, which wins over TEST;
# KIND is the cell's kind in arch-ARCH-kvm/matrix).  The per-test outcomes
# behind the report go to regress/outcomes.tsv, stamped like it: a cell with
# no TAP here keeps its rows from there if the stamp is the current series
# hash, so cells swept in separate runs, or on separate machines, of the
# same series make one report.
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || die "usage: regress-report.sh ARCH..."
id=$(base_id)
out=$BUILD/regress/$id
dest=${REGRESS_OUT:-$TOP/regress/results.md}
saved=$(dirname "$dest")/outcomes.tsv
hash=$("$TOP/scripts/series-hash.sh")
known=$TOP/selftests/regress-known.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# outcomes TAP: "NAME<TAB>pass|fail|skip|timeout" per test of the runner.
# A test whose last output line has no newline glues the runner's result
# line to it ("...host kernelok 14 selftests: kvm: ..."): split it off first.
outcomes() {
	sed 's/\(not \)\{0,1\}ok [0-9]* selftests: kvm: /\n&/g' "$1" |
	sed -n 's/^\(not \)\{0,1\}ok [0-9]* selftests: kvm: \(.*\)$/\1|\2/p' |
	awk -F'|' '{
		name = $2; sub(/ # .*/, "", name)
		o = $1 == "not " ? "fail" : "pass"
		if ($2 ~ /# SKIP/) o = "skip"
		if ($2 ~ /# TIMEOUT/) o = "timeout"
		print name "\t" o
	}'
}
# Every test of the installed list, so a test the VM never reached counts.
rows=$tmp/rows	# ARCH CELL TEST BEFORE SERIES KIND
: >"$rows"
for arch in "$@"; do
	list=$out/$arch/install/kselftest-list.txt
	[ -f "$list" ] || continue
	for tap in "$out/$arch"-*-series.tap; do
		[ -f "$tap" ] || continue
		cell=$(basename "$tap" -series.tap)
		cell=${cell#"$arch"-}
		outcomes "$tap" >"$tmp/s"
		outcomes "$out/$arch-$cell-before.tap" >"$tmp/b" 2>/dev/null || : >"$tmp/b"
		cell "$arch" "$cell"
		sed -n 's/^kvm://p' "$list" | xargs -n1 basename |
		awk -v a="$arch" -v c="$cell" -v k="$CELL_KIND" -F'\t' -v OFS='\t' '
			FILENAME == ARGV[1] { b[$1] = $2; next }
			FILENAME == ARGV[2] { s[$1] = $2; next }
			{ print a, c, $1, ($1 in b) ? b[$1] : "notrun", ($1 in s) ? s[$1] : "notrun", k }
		' "$tmp/b" "$tmp/s" - >>"$rows"
	done
done
times=$tmp/times	# ARCH/CELL/VARIANT SECONDS
cat "$out"/*-*-*.secs >"$times" 2>/dev/null || :
# Cells swept earlier on the same series: their rows and times from $saved.
if [ -f "$saved" ] && grep -qx "# Series hash: $hash" "$saved"; then
	awk -F'\t' -v OFS='\t' '
		FILENAME == ARGV[1] { have[$1 "/" $2] = 1; next }
		/^#/ { next }
		$1 == "time" { split($2, c, "/"); if (!(c[1] "/" c[2] in have)) print $2, $3 >"'"$times.saved"'"; next }
		!($1 "/" $2 in have)
	' "$rows" "$saved" >"$tmp/kept"
	cat "$tmp/kept" >>"$rows"
	cat "$times.saved" >>"$times" 2>/dev/null || :
fi
[ -s "$rows" ] || die "no results under $out: run 'make regress' first"
# Times of the cells in the report only (not of a kernel swept alone).
awk -F'\t' 'FILENAME == ARGV[1] { have[$1 "/" $2] = 1; next }
	{ split($1, c, "/") } (c[1] "/" c[2]) in have' "$rows" "$times" >"$tmp/t" && mv "$tmp/t" "$times"
{
	echo "# Per-test outcomes behind regress/results.md (ARCH CELL TEST BASE SERIES"
	echo "# KIND, then time ARCH/CELL/VARIANT SECONDS per suite run); written by"
	echo "# scripts/regress-report.sh, do not edit."
	echo "# Series hash: $hash"
	sort "$rows"
	sort "$times" | sed 's/^/time\t/'
} >"$saved.tmp"

ours=$tmp/ours	# the tests this series adds or changes, by name
series_selftests | sed 's|.*/||' >"$ours"
# load_awk: the start of the awk programs below, which read "$known" "$ours"
# then the rows: why[] and ours[] from the first two, and the functions
# reason(ARCH, KIND, TEST), the reason $known gives for TEST in a cell of ARCH
# and KIND (ARCH:KIND/TEST, then ARCH/TEST, then TEST) or "", and
# join(LIST, ITEM, SEP), LIST with ITEM appended.
load_awk='
	FILENAME == ARGV[1] { if ($0 !~ /^#/ && NF >= 2) why[$1] = $2; next }
	FILENAME == ARGV[2] { ours[$1] = 1; next }
	function reason(a, k, t) {
		return (a ":" k "/" t) in why ? why[a ":" k "/" t] : (a "/" t) in why ? why[a "/" t] : t in why ? why[t] : ""
	}
	function join(l, i, sep) { return l == "" ? i : l sep i }'
# failures both|base: table rows of the tests that fail on both kernels, or
# on the base kernel only, one per test and reason, with its cells: the
# series' own tests guard its fixes; any other test's reason is in $known.
failures() {
	awk -F'\t' -v sel="$1" "$load_awk"'
		function f(o) { return o != "pass" && o != "skip" }
		f($4) && (sel == "both" ? f($5) : !f($5)) {
			r = (sel == "base" && $3 in ours) ? "new test of this series: guards its fixes" : reason($1, $6, $3)
			if (r == "") r = "**no reason recorded** (selftests/regress-known.tsv)"
			t = $1 "/" $3 SUBSEP r; cells[t] = join(cells[t], $2, " ")
			how[t] = how[t] == "" || how[t] == $4 " / " $5 ? $4 " / " $5 : "varies"
			test[t] = $1 "/" $3; arch[t] = $1; why_[t] = r
		}
		END {
			for (t in cells)
				printf "| %s | %s: %s | %s | %s |\n", test[t], arch[t], cells[t], how[t], why_[t]
		}' "$known" "$ours" "$rows" | sort
}
{
	echo "# Whole KVM selftests suite, base kernel vs series"
	echo
	echo "Written by \`make regress\` (scripts/regress.sh); do not edit."
	echo
	echo "Series hash: \`$hash\` (scripts/series-hash.sh)"
	echo "Base: \`$(cat "$BUILD/base/version")\`, tb/before \`$(git -C "$(worktree)" rev-parse --short=12 tb/before)\`, tb/series \`$(git -C "$(worktree)" rev-parse --short=12 tb/series)\`"
	echo "Runner: the installed \`run_kselftest.sh -c kvm -o ${REGRESS_TIMEOUT:-180}\` in each test VM"
	echo "Time per suite run (VM boot to power-off): $(sort "$times" | awk '{ printf "%s%s %ss", s, $1, $2; s = ", " }')"
	echo
	echo "A regression is a test that fails (or times out, or is not reached)"
	echo "on the series kernel but not on the base kernel of the same cell,"
	echo "unless selftests/regress-known.tsv names it flaky with its observed"
	echo "failure rate on both kernels; flaky tests are listed, never retried."
	echo "A test this series adds or changes is a regression wherever it fails"
	echo "on the series kernel."
	echo
	for arch in x86 arm64; do
		missing=$(for c in $(cells "$arch"); do grep -q "^$arch	$c	" "$rows" || printf ' %s' "$c"; done)
		[ -z "$missing" ] || printf 'Not swept in this run: %s cells%s.\n\n' "$arch" "$missing"
	done
	echo "| arch/cell | tests | base pass/fail/skip | series pass/fail/skip | regressions | fixes | result |"
	echo "|---|---:|---|---|---|---|---|"
	awk -F'\t' "$load_awk"'
		function cls(o) { return o == "pass" ? "p" : o == "skip" ? "s" : "f" }
		{
			k = $1 "/" $2; n[k]++; keys[k] = 1
			cnt[k, "b", cls($4)]++; cnt[k, "s", cls($5)]++
			# A test the series adds or changes that fails on the
			# series kernel is a regression whatever the base kernel
			# did (it flags a run that booted the wrong kernel),
			# unless it fails on both for a recorded test-bed reason,
			# as an upstream test the series extends can (e.g. one
			# that needs NRIPS in the TCG cells).
			r = reason($1, $6, $3)
			bedfail = cls($4) == "f" && r != "" && r !~ /^flaky/
			if (cls($5) == "f" && $3 in ours && !bedfail) reg[k] = join(reg[k], $3 " (a test of the series)", ", ")
			else if (cls($5) == "f" && cls($4) != "f" && r ~ /^flaky/) flk[k] = join(flk[k], $3, ", ")
			else if (cls($5) == "f" && cls($4) != "f") reg[k] = join(reg[k], $3, ", ")
			# A flaky test that failed on the base kernel only is no fix.
			if (cls($4) == "f" && cls($5) != "f") {
				if (r ~ /^flaky/ && !($3 in ours)) ffl[k] = join(ffl[k], $3, ", ")
				else fix[k] = join(fix[k], $3, ", ")
			}
		}
		END {
			for (k in keys)
				printf "| %s | %d | %d/%d/%d | %d/%d/%d | %s | %s | %s |\n", k, n[k],
					cnt[k, "b", "p"], cnt[k, "b", "f"], cnt[k, "b", "s"],
					cnt[k, "s", "p"], cnt[k, "s", "f"], cnt[k, "s", "s"],
					(reg[k] == "" ? "0" : reg[k]) (flk[k] == "" ? "" : " (flaky, see below: " flk[k] ")"),
					(fix[k] == "" ? "-" : fix[k]) (ffl[k] == "" ? "" : " (flaky, see below: " ffl[k] ")"),
					reg[k] == "" ? "pass" : "fail"
		}' "$known" "$ours" "$rows" | sort
	echo
	echo "## Failing on both kernels (test-bed reasons)"
	echo
	echo "| test | arch/cells | base / series | reason |"
	echo "|---|---|---|---|"
	failures both
	echo
	echo "## Failing on the base kernel only"
	echo
	echo "The tests this series adds fail on the base kernel by design.  Any"
	echo "other test here passed on the series kernel and failed on the base"
	echo "kernel in the same cell; the why column says what made it fail."
	echo
	echo "| test | arch/cells | base / series | why |"
	echo "|---|---|---|---|"
	failures base
	echo
	echo "## Flaky (named with the observed failure rate, never retried)"
	echo
	awk -F'\t' '$2 ~ /^flaky/ { sub(/^flaky: */, "", $2); printf "- %s: %s\n", $1, $2 }' "$known" | sort
	echo
	echo "## Skipped on both kernels"
	echo
	awk -F'\t' '$4 == "skip" && $5 == "skip" { s[$1 "/" $2] = s[$1 "/" $2] " " $3 }
		END { for (k in s) printf "- %s:%s\n", k, s[k] }' "$rows" | sort
} >"$dest.tmp"
mv "$dest.tmp" "$dest"
mv "$saved.tmp" "$saved"
log "wrote $dest"
! grep -q '| fail |$' "$dest"
