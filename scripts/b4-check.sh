#!/bin/bash
# b4-check.sh: check that b4 accepts patches/ as a well-formed series.
# Threads the exported patches into an mbox (cover letter first), lets
# "b4 am" pick the series out of it, and "git am"s b4's result onto a
# scratch worktree of the base.  Nothing outside $BUILD/b4 is written.
. "$(dirname "$0")/lib.sh"
need b4 git
d=$BUILD/b4
rm -rf "$d"
mkdir -p "$d/out"
mapfile -t patches < <(series)
n=${#patches[@]}
i=0
for p in 0000-cover-letter.patch "${patches[@]}"; do
	{
		sed -n '1p' "$TOP/patches/$p"
		echo "Message-Id: <exitcomp-$i@localhost>"
		[ $i -gt 0 ] && echo "In-Reply-To: <exitcomp-0@localhost>" &&
			echo "References: <exitcomp-0@localhost>"
		# Unfold the Subject: b4 0.12 (bookworm) chokes on folded headers.
		sed -e '1d' "$TOP/patches/$p" | awk '
			!body && /^Subject: / { subj = 1; printf "%s", $0; next }
			!body && subj && /^[ \t]/ { sub(/^[ \t]+/, " "); printf "%s", $0; next }
			!body && subj { subj = 0; print "" }
			/^$/ { body = 1 }
			{ print }' |
			sed -e "s/^Subject: \[PATCH\( [0-9]*\/[0-9]*\)\{0,1\}\]/Subject: [PATCH $i\/$n]/"
		echo
	} >>"$d/series.mbox"
	i=$((i + 1))
done
(cd "$d" && b4 --offline-mode am --no-cover -m series.mbox -o out exitcomp-0@localhost) \
	>"$d/b4.log" 2>&1 || { cat "$d/b4.log" >&2; die "b4 am rejected the series"; }
mbx=$(ls "$d"/out/*.mbx 2>/dev/null | head -n1)
[ -n "$mbx" ] || { cat "$d/b4.log" >&2; die "b4 am produced no mbox"; }
got=$(grep -c '^From ' "$mbx")
[ "$got" = "$n" ] || die "b4 found $got of $n patches"
wt=$d/tree
git -C "$(base_git)" worktree add -q --detach "$wt" "$(base_commit)"
trap 'git -C "$(base_git)" worktree remove --force "$wt"' EXIT
git -C "$wt" -c user.name=tb -c user.email=tb@localhost am -q "$mbx" ||
	die "git am of b4's mbox failed"
log "b4: $n patches threaded, picked and applied ($(grep -m1 -i 'total patches' "$d/b4.log" | xargs))"
grep -E '^\s*(✓|✗|\[PATCH|---|Total)' "$d/b4.log" | head -n 30
