#!/bin/bash
# splat-scan.sh LOG...: kernel reports (WARNING, BUG, KASAN, UBSAN, lockdep,
# scheduling while atomic, list corruption, panic, Oops) in test VM consoles:
# the "@@tb splat" lines that /init copies from the kernel log at the end of
# a run, and the same reports printed on the console by a kernel that died
# before that.  Prints "LOG: REPORT" per report; exits 1 if there is any.
# With --full, prints instead the text of each report found on the console
# (up to the end of its block, at most 60 lines): a KASAN, UBSAN or BUG
# report is always there, a WARNING only if the VM died.
set -eu
full=
[ "${1:-}" = --full ] && { full=1; shift; }
[ $# -ge 1 ] || { echo "usage: splat-scan.sh [--full] LOG..." >&2; exit 2; }
pat='WARNING:|BUG:|KASAN|UBSAN|circular locking|recursive locking|inconsistent lock state|scheduling while atomic|list_(add|del) corruption|Kernel panic|Oops'
found=0
for f in "$@"; do
	[ -f "$f" ] || { echo "splat-scan.sh: no such console log: $f" >&2; exit 2; }
	if [ -n "$full" ]; then
		tr -d '\r' <"$f" | awk -v pat="$pat" '
			!/^@@tb / && $0 ~ pat && !n { n = 60; print "" }
			n { print; n--; if (/^=+$|end trace/ && n < 59) n = 0 }'
		continue
	fi
	# A run that reached its end lists the reports of the log buffer; one
	# that did not (panic, hang) has them on the console, between test output.
	r=$(tr -d '\r' <"$f" | awk -v pat="$pat" '
		/^@@tb splat / { sub(/^@@tb splat /, ""); rep[++n] = $0; next }
		/^@@tb done/ { done = 1; next }
		!/^@@tb / && $0 ~ pat { con[++m] = $0 }
		END { if (done) for (i = 1; i <= n; i++) print rep[i]
		      else for (i = 1; i <= m; i++) print con[i] }' | sort -u)
	[ -z "$r" ] && continue
	found=1
	while IFS= read -r l; do printf '%s: %s\n' "$f" "$l"; done <<<"$r"
done
exit $((found))
