#!/bin/bash
# bench-stale.sh [--tsv]: is bench/results.md (written by "make bench") stale?
# It is current if its stamp, the "Series hash:" line, equals the hash of the
# series in patches/ (scripts/series-hash.sh).  Prints one TAP line, or with
# --tsv one gates.tsv line (NAME, pass|fail, DETAIL); exits 0 if current,
# 1 if stale or missing.
. "$(dirname "$0")/lib.sh"
res=$TOP/bench/results.md
name="bench/results.md measured on the current series"
now=$("$TOP/scripts/series-hash.sh")
stamp=
[ -f "$res" ] && stamp=$(sed -n 's/^Series hash: `\([0-9a-f]*\)`.*/\1/p' "$res" | head -n1)
if [ -z "$stamp" ]; then
	ok=fail detail="no stamp in bench/results.md; run 'make bench'"
elif [ "$stamp" = "$now" ]; then
	ok=pass detail="series $now"
else
	ok=fail detail="measured on series $stamp, patches/ is $now; run 'make bench'"
fi
if [ "${1:-}" = --tsv ]; then
	printf '%s\t%s\t%s\n' "$name" "$ok" "$detail"
elif [ $ok = pass ]; then
	echo "ok - $name # $detail"
else
	echo "not ok - $name # $detail"
fi
[ $ok = pass ]
