#!/bin/bash
# gates.sh: the per-patch checks a KVM maintainer runs before reading a line.
# Writes $BUILD/results/<base>/gates.tsv (NAME, pass|fail|skip, DETAIL) for
# report.sh; prints what failed, per patch.  Never stops at the first failure.
. "$(dirname "$0")/lib.sh"
need git perl make
res=$BUILD/results/$(base_id)
mkdir -p "$res"
out=$res/gates.tsv
: >"$out"
gate() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out"; [ "$2" != fail ] || log "FAIL: $1: $3"; }

wt=$(worktree)
mapfile -t patches < <(series)

# 1. git am of the whole series (tree.sh aborts and names the patch on failure).
#    Nothing after it can run without the applied tree.
if msg=$("$TOP/scripts/tree.sh" 2>&1); then
	gate "git am: ${#patches[@]} patches onto $(cat "$BUILD/base/version")" pass ""
else
	gate "git am onto $(cat "$BUILD/base/version")" fail "$(echo "$msg" | tail -n1)"
	exit 0
fi

# 2. checkpatch --strict on every patch, tolerating only the listed types.
#    One run per patch; the types of its messages decide.
for p in "${patches[@]}"; do
	scope=all
	grep '^+++ b/' "$TOP/patches/$p" | grep -qv '^+++ b/tools/testing/selftests/' || scope=selftests
	allow=$(grep -v '^#' "$TOP/patches/checkpatch-allow" |
		awk -v s="$scope" 'NF && ($2 == "all" || $2 == s) { print $1 }')
	o=$(cd "$wt" && perl scripts/checkpatch.pl --strict --no-tree --terse --show-types \
		"$TOP/patches/$p" 2>&1) || true
	msgs=$(echo "$o" | grep -E '(ERROR|WARNING|CHECK):' || true)
	bad=$(echo "$msgs" | grep -vE "(ERROR|WARNING|CHECK):($(echo $allow | tr ' ' '|')):" | grep . || true)
	if [ -z "$bad" ] && ! echo "$o" | grep -q 'total: .* errors' ; then
		gate "checkpatch --strict $p" fail "checkpatch printed no summary: $(echo "$o" | tail -n1)"
	elif [ -z "$bad" ]; then
		ign=$(echo "$msgs" | grep -oE '(ERROR|WARNING|CHECK):[A-Z_]+' | sort -u | xargs || true)
		gate "checkpatch --strict $p" pass "${ign:+(tolerated: $ign, see patches/checkpatch-allow)}"
	else
		gate "checkpatch --strict $p" fail "$(echo "$bad" | head -n3 | tr '\n' ' ')"
	fi
done

# 3. Trailers and subjects.
for p in "${patches[@]}"; do
	subj=$(sed -n 's/^Subject: \(\[PATCH[^]]*\] \)\{0,1\}//p' "$TOP/patches/$p" | head -n1)
	body=$(sed -n '/^$/,/^---$/p' "$TOP/patches/$p")
	why=
	echo "$subj" | grep -qE '^KVM: ((x86|SVM|VMX|arm64|selftests|x86/mmu): )*[A-Za-z]' ||
		why="subject '$subj' is not in KVM style; "
	echo "$body" | grep -q '^Assisted-by: ' || why+="no Assisted-by trailer; "
	if [ -n "${SUBMIT:-}" ]; then
		echo "$body" | grep -q '^Signed-off-by: ' || why+="no Signed-off-by (SUBMIT=1); "
		grep -q '^From: KVM exit-completion series <kvm-exitcomp@localhost>$' "$TOP/patches/$p" &&
			why+="author is the placeholder: re-author (Documentation/submitting.md, step 2); "
	else
		echo "$body" | grep -q '^Signed-off-by: ' &&
			why+="Signed-off-by present: the human submitter adds it (coding-assistants.rst); "
	fi
	# A patch that changes kernel code fixes a bug unless it says otherwise
	# ("No functional change", or "new ABI, not a fix").
	if grep -qE '^\+\+\+ b/(arch|virt|include)/.*\.[ch]$' "$TOP/patches/$p" &&
	   ! echo "$body" | grep -qE 'No functional change|new ABI, not a fix'; then
		echo "$body" | grep -qE '^Fixes: [0-9a-f]{12,40} \(".*"\)$' ||
			why+="kernel change without a Fixes: tag (or 'No functional change', or 'new ABI, not a fix'); "
	fi
	if [ -z "$why" ]; then gate "trailers $p" pass ""; else gate "trailers $p" fail "$why"; fi
done

# 4. Bisectability (every patch builds) is "make bisect": too long for a CI
# run on a cold cache, so check.sh only checks that its committed result,
# bisect/results.md, is current and clean (scripts/stale.sh).

# 5. sparse and htmldocs: no new warnings versus the base.
"$TOP/scripts/docs-sparse.sh" "$out" || gate "sparse/htmldocs" fail "docs-sparse.sh stopped: see log above"
# 6. The selftests the series adds or changes, and the project's stress
#    tests (selftests/stress/), build warning-free with -Werror: gcc and
#    clang for x86_64, gcc for arm64.
flock "$wt.lock" git -C "$wt" checkout -q --detach tb/series
for cc_arch in "gcc x86" "clang x86" "gcc arm64"; do
	read -r cc arch <<<"$cc_arch"
	tests=$( (series_selftests "$arch"; cd "$TOP/selftests/stress" && ls "$arch"/*.c 2>/dev/null | sed 's/\.c$//') | xargs)
	[ -n "$tests" ] || continue
	name="selftests $arch, $cc -Werror: $(echo "$tests" | wc -w) tests"
	# shellcheck disable=SC2086
	if msg=$(KST_CC=$cc KST_CFLAGS=-Werror "$TOP/scripts/build-selftests.sh" "$arch" "$wt" \
		"$BUILD/kst/werror-$cc-$arch" $tests 2>&1); then
		gate "$name" pass "$tests"
	else
		gate "$name" fail "$(echo "$msg" | grep -m2 -E 'error|warning' | tr '\n' ' ')"
	fi
done
# 7. b4 accepts the exported series as a thread and applies it.
if msg=$("$TOP/scripts/b4-check.sh" 2>&1); then
	gate "b4 am + git am of the threaded series" pass "$(echo "$msg" | grep -m1 'Total patches' | xargs)"
else
	gate "b4 am + git am of the threaded series" fail "$(echo "$msg" | grep -m1 error)"
fi
exit 0
