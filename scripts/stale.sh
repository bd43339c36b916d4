#!/bin/bash
# stale.sh [--tsv] FILE TARGET: are the committed results in FILE (written by
# "make TARGET") current?  They are if their stamp, the "Series hash:" line,
# equals the hash of the series in patches/ (scripts/series-hash.sh), every
# arch and cell was run on it (no "- ARCH: not run on this series" line, no
# "Not swept in this run: ARCH cells ..." line), and no table row of FILE
# says "fail".  Results of an older series are "stale":
# flagged (a TODO line in make check's TAP), not failed, because these
# sweeps take longer than CI may run; a missing stamp or a recorded failure
# fails.  Prints one TAP line, or with --tsv one gates.tsv line (NAME,
# pass|stale|fail, DETAIL); exits 0 if current, else 1.
. "$(dirname "$0")/lib.sh"
tsv=
[ "${1:-}" = --tsv ] && { tsv=1; shift; }
[ $# -eq 2 ] || die "usage: stale.sh [--tsv] FILE TARGET"
file=$1 target=$2
res=$TOP/$file
name="$file measured on the current series"
now=$("$TOP/scripts/series-hash.sh")
stamp=
[ -f "$res" ] && stamp=$(sed -n 's/^Series hash: `\([0-9a-f]*\)`.*/\1/p' "$res" | head -n1)
if [ -z "$stamp" ]; then
	ok=fail detail="no stamp in $file; run 'make $target'"
elif [ "$stamp" != "$now" ]; then
	ok=stale detail="measured on series $stamp, patches/ is $now; run 'make $target'"
elif grep -q '^- [a-z0-9]*: not run on this series' "$res"; then
	missing=$(sed -n 's/^- \([a-z0-9]*\): not run on this series.*/\1/p' "$res" | tr '\n' ' ')
	ok=stale detail="series $now, but not run for: ${missing% }; run 'make $target ARCHES=${missing%% *}'"
elif grep -q '^Not swept in this run: ' "$res"; then
	missing=$(sed -n 's/^Not swept in this run: \([a-z0-9]*\) cells \(.*\)\.$/\1: \2/p' "$res" | paste -sd ';' | sed 's/;/; /g')
	ok=stale detail="series $now, but cells not swept: $missing; run 'make $target'"
elif grep -q '^|.*| fail |' "$res"; then
	ok=fail detail="$file records a failure: $(grep -m1 '^|.*| fail |' "$res")"
else
	ok=pass detail="series $now"
fi
if [ -n "$tsv" ]; then
	printf '%s\t%s\t%s\n' "$name" "$ok" "$detail"
elif [ $ok = pass ]; then
	echo "ok - $name # $detail"
elif [ $ok = stale ]; then
	echo "not ok - $name # TODO stale: $detail"
else
	echo "not ok - $name # $detail"
fi
[ $ok = pass ]
