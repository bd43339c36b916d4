#!/bin/bash
# report.sh ARCH...: print the per-exit-path table, then the recorded
# results of the current base as kselftest TAP judged against
# selftests/ARCH.list, so that the TAP summary is the last line.  Gate
# results come from $BUILD/results/<base>/gates.tsv if present.  Exits
# non-zero if anything failed.
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || die "usage: report.sh x86|arm64..."
res=$BUILD/results/$(base_id)
rows=$(mktemp)
tap=$(mktemp)
trap 'rm -f "$rows" "$tap"' EXIT
# rows: KIND ARCH CELL VARIANT TEST PATH EXPECT OUTCOME DETAIL NOTE
[ -f "$res/gates.tsv" ] && awk -F'\t' '{ printf "gate\t-\t-\t-\t%s\t-\tpass\t%s\t%s\t-\n", $1, $2, $3 }' "$res/gates.tsv" >>"$rows"
for arch in "$@"; do
	list=$TOP/selftests/$arch.list
	for tsv in "$res/$arch"-*-series.tsv "$res/$arch"-*-before.tsv; do
		[ -f "$tsv" ] || continue
		b=$(basename "$tsv" .tsv)
		variant=${b##*-}
		cell=${b#"$arch"-}
		cell=${cell%-"$variant"}
		cell "$arch" "$cell"
		kind=$CELL_KIND
		# List lines: TEST PATH BEFORE SERIES [NOTE]; "@KIND TEST BEFORE
		# SERIES [NOTE]" overrides the expectations in cells of that kind;
		# "@KIND TEST:CASE known known NOTE" names one kselftest-harness
		# case of TEST that fails in cells of that kind for a test-bed
		# reason: a TEST that fails only in such cases counts as passed,
		# and its TAP line names them.
		awk -F'\t' -v OFS='\t' -v arch="$arch" -v cell="$cell" -v variant="$variant" -v kind="$kind" '
			# known_only(TEST, DETAIL): DETAIL names failing cases, all
			# of them known for TEST in this kind of cell.
			function known_only(t, d,   c, n) {
				n = 0
				while (match(d, /not ok [0-9]+ [^ ;\]]+/)) {
					c = substr(d, RSTART, RLENGTH); sub(/^not ok [0-9]+ /, "", c)
					if (!((t, c) in kc)) return 0
					n++; d = substr(d, RSTART + RLENGTH)
				}
				return n > 0
			}
			NR == FNR {
				if (/^[ 	]*#/) next
				if (NF == 0) next
				split($0, f, /[\t ]+/)
				if (f[1] ~ /^@/) {
					if (f[1] != "@" kind) next
					n = $0; sub(/^[^\t ]+[\t ]+[^\t ]+[\t ]+[^\t ]+[\t ]+[^\t ]+[\t ]*/, "", n)
					if (index(f[2], ":")) {
						t = substr(f[2], 1, index(f[2], ":") - 1); c = substr(f[2], index(f[2], ":") + 1)
						kc[t, c] = 1; kcn[t] = kcn[t] (kcn[t] == "" ? "" : "; ") c ": " n
						next
					}
					eb[f[2]] = f[3]; es[f[2]] = f[4]; note[f[2]] = n == "" ? "-" : n
					next
				}
				path[f[1]] = f[2]
				if (f[1] in eb) next	# already overridden for this kind
				eb[f[1]] = f[3]; es[f[1]] = f[4]
				n = $0; sub(/^[^\t ]+[\t ]+[^\t ]+[\t ]+[^\t ]+[\t ]+[^\t ]+[\t ]*/, "", n)
				note[f[1]] = n == "" ? "-" : n
				next
			}
			!($1 in path) { next }
			{
				o = $2; d = $3
				if (o == "fail" && known_only($1, d)) { o = "pass"; d = d " (known failing cases here: " kcn[$1] ")" }
				print "test", arch, cell, variant, $1, path[$1],
					variant == "before" ? eb[$1] : es[$1], o, d, note[$1]
			}
		' "$list" "$tsv" >>"$rows"
	done
done

# Per-exit-path table (markdown), then the TAP block, whose last line is the
# "N passed, N failed, N skipped" summary.
echo "| exit path | test | arch/cell | base kernel | series |"
echo "|---|---|---|---|---|"
awk -F'\t' '$1 == "test" {
	k = $6 "\t" $5 "\t" $2 "/" $3
	v = $8 " " $9; sub(/ \[.*/, "", v); sub(/rc=0 /, "", v)
	if ($4 == "before") b[k] = v; else s[k] = v
	keys[k] = 1
} END {
	for (k in keys) { split(k, f, "\t"); printf "| %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], (k in b) ? b[k] : "not run", (k in s) ? s[k] : "not run" }
}' "$rows" | sort
echo
echo "base: $(cat "$BUILD/base/version") ($(base_commit | cut -c1-12)); series: $(series | wc -l) patches"
echo
awk -F'\t' '
	function emit(ok, desc, dir) {
		n++
		lines[n] = (ok ? "ok " : "not ok ") n " " desc (dir == "" ? "" : " # " dir)
	}
	$1 == "gate" {
		if ($8 == "pass") { emit(1, "gate: " $5 " " $9); pass++ }
		else if ($8 == "skip") { emit(1, "gate: " $5, "SKIP " $9); skip++ }
		else if ($8 == "stale") { emit(0, "gate: " $5, "TODO stale: " $9); stale++ }
		else { emit(0, "gate: " $5 " " $9); fail++ }
		next
	}
	{
		id = $2 "/" $3 "/" $4 ": " $5
		ex = $7; out = $8; det = $9; note = $10
		if (out == "died" || out == "notrun") { emit(0, id " " out ": " det); fail++ }
		else if (out == "skip") {
			if (ex == "skip") { emit(1, id, "SKIP " note); skip++ }
			else { emit(0, id " skipped, but the list expects " ex " here " det); fail++ }
		}
		else if (ex == "skip") { emit(1, id " " det " (listed as skipping here but ran: update the list)"); pass++ }
		else if (ex == "known") {
			if (out == "pass") { emit(1, id " (listed as a known failure but passed: update the list)"); pass++ }
			else { emit(0, id " " det, "TODO known failure: " note); xfail++ }
		} else if (ex == "fail") {
			if (out == "fail" || out == "hung") { emit(1, id " fails without the fixes: detects its bug (" det ")"); pass++ }
			else { emit(0, id " " out " without the fixes: does not detect its bug (" det ")"); fail++ }
		} else if (out == "pass") { emit(1, id " " det); pass++ }
		else { emit(0, id " " out " " det); fail++ }
	}
	END {
		print "TAP version 13"
		print "1.." n
		for (i = 1; i <= n; i++) print lines[i]
		while ((getline t < timing) > 0) { split(t, f, "\t"); printf "# time: %s: %ss\n", f[1], f[2] }
		if (xfail) print "# known failures (test-bed reasons, see selftests/*.list; not counted as passed): " xfail
		if (stale) print "# stale sweeps (committed results of an older series, not counted as passed; re-run their make target): " stale
		printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
		exit fail > 0
	}' timing="${TIMING_LOG:-/dev/null}" "$rows" >"$tap" && rc=0 || rc=$?

cat "$tap"
exit "$rc"
