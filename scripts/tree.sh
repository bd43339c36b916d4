#!/bin/bash
# Apply the series onto the base in a private work tree.
#
#   tree.sh            make branches tb/series (every patch) and tb/before
#                      (only the "KVM: selftests:" patches) in $(worktree)
#   tree.sh VARIANT    additionally check out tb/VARIANT in the work tree
#
# A patch that does not apply aborts "git am", names the patch and leaves the
# branches as they were.  The user's KDIR checkout is never touched: the
# work tree is a separate "git worktree" of it.
. "$(dirname "$0")/lib.sh"
need git

git_dir=$(base_git)
commit=$(base_commit)
wt=$(worktree)
# One run at a time per work tree (make regress, bisect and bench all call
# this script): the others wait here.
mkdir -p "$(dirname "$wt")"
exec 9>"$wt.lock"
flock 9
export GIT_COMMITTER_NAME="test bed" GIT_COMMITTER_EMAIL="testbed@localhost"
export GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"

if [ ! -e "$wt/.git" ]; then
	log "creating work tree $wt"
	mkdir -p "$(dirname "$wt")"
	git -C "$git_dir" worktree prune
	git -C "$git_dir" worktree add -q --detach "$wt" "$commit" ||
		die "could not create a work tree of $git_dir"
fi
# A "git am" killed before it could clean up (power loss, kill -9) leaves
# its state behind: abort it, which restores the checkout it started from.
if [ -d "$(git -C "$wt" rev-parse --absolute-git-dir)/rebase-apply" ]; then
	log "aborting an interrupted git am in $wt"
	git -C "$wt" am --abort >/dev/null 2>&1 || true
fi
[ -z "$(git -C "$wt" status --porcelain --untracked-files=no)" ] ||
	die "work tree $wt has local changes; commit them to a branch or run 'git -C $wt reset --hard'"

# undo: put the work tree back at the base and drop the scratch branch.
# Called when a patch does not apply and on Ctrl-C or SIGTERM, so an
# interrupted run never leaves a half-applied tree; the tb/ branches move
# only once every patch of theirs has applied.
undo() {
	git -C "$wt" am --abort >/dev/null 2>&1 || true
	git -C "$wt" checkout -q -f --detach "$commit"
	git -C "$wt" branch -D tb/tmp >/dev/null 2>&1 || true
}
trap 'undo; die "interrupted; tree left unchanged"' INT TERM

# Patches are applied with a fixed committer identity and date, so the same
# series always gives the same commit ids and builds stay incremental.
apply() { # branch, patches...
	local branch=$1 tmp=tb/tmp p
	shift
	git -C "$wt" checkout -q --detach "$commit"
	git -C "$wt" branch -D "$tmp" >/dev/null 2>&1 || true
	git -C "$wt" checkout -q -b "$tmp"
	for p in "$@"; do
		[ -f "$TOP/patches/$p" ] || die "patches/series names '$p', which does not exist"
		if ! git -C "$wt" am -q --committer-date-is-author-date "$TOP/patches/$p" >/dev/null 2>&1; then
			undo
			die "patch '$p' does not apply to $(cat "$BUILD/base/version"); tree left unchanged"
		fi
	done
	git -C "$wt" branch -f "tb/$branch" "$tmp" >/dev/null
	git -C "$wt" checkout -q --detach "tb/$branch"
	git -C "$wt" branch -D "$tmp" >/dev/null
}

mapfile -t all < <(series)
before=()
for p in "${all[@]}"; do
	grep -q '^Subject: .*KVM: selftests:' "$TOP/patches/$p" && before+=("$p")
done
apply series "${all[@]}"
apply before "${before[@]}"
log "tb/series = base + ${#all[@]} patches, tb/before = base + ${#before[@]} selftest patches"

variant=${1:-series}
git -C "$wt" checkout -q --detach "tb/$variant" || die "no variant '$variant' (series|before)"
