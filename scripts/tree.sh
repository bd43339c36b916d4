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
need git perl

# Ctrl-C signals the terminal's foreground process group, git included.  A
# git that gets it inside the open() of its first lock file dies before its
# signal handler exists and leaves the lock behind ("git am" starts with
# packed-refs.lock); "git branch -D tb/tmp" and every later run then fail on
# it.  So every git here runs in a process group of its own: Ctrl-C reaches
# only this script, whose trap waits for the running git to finish and then
# undoes the run.  (Not setsid: a new session is also a scheduler autogroup
# of its own, and git ran 2-3 times slower beside busy VMs.)  Out of the
# foreground group, git ignores SIGTTOU and SIGTTIN, so "stty tostop" cannot
# stop it; stdin is /dev/null.  Hooks, pager, commit signing and auto
# maintenance of the user's repository are off, so no git here waits for
# input; one that hangs anyway must be killed by its PID.  fds 8 and 9
# (below) are not passed on.
sgit() {
	perl -e '$SIG{TTOU} = $SIG{TTIN} = "IGNORE"; setpgrp;
		exec @ARGV or die "error: cannot run $ARGV[0]: $!\n"' \
		git --no-pager -c core.hooksPath=/dev/null -c commit.gpgSign=false \
		-c maintenance.auto=false -c gc.auto=0 "$@" </dev/null 8>&- 9>&-
}
wgit() { sgit -C "$wt" "$@"; }
# A trap runs inside the command it interrupted, with that command's
# redirections (">/dev/null 2>&1" on wgit); fd 8 keeps the script's stderr.
# Until undo() below exists, an interrupt only stops the run.
exec 8>&2
trap 'die "interrupted; tree left unchanged" 2>&8' INT TERM HUP

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
	sgit -C "$git_dir" worktree prune
	sgit -C "$git_dir" worktree add -q --detach "$wt" "$commit" ||
		die "could not create a work tree of $git_dir"
fi
# A "git am" killed before it could clean up (power loss, kill -9) leaves
# its state behind: abort it, which restores the checkout it started from.
if [ -d "$(wgit rev-parse --absolute-git-dir)/rebase-apply" ]; then
	log "aborting an interrupted git am in $wt"
	wgit am --abort >/dev/null 2>&1 || true
fi
[ -z "$(wgit status --porcelain --untracked-files=no)" ] ||
	die "work tree $wt has local changes; commit them to a branch or run 'git -C $wt reset --hard'"

# undo: put the work tree back at the base and drop the scratch branch.
# Called when a patch does not apply and on Ctrl-C or SIGTERM, so an
# interrupted run never leaves a half-applied tree; the tb/ branches move
# only once every patch of theirs has applied.
undo() {
	wgit am --abort >/dev/null 2>&1 || true
	wgit checkout -q -f --detach "$commit" || return 1
	wgit branch -D tb/tmp >/dev/null 2>&1 || true
}
trap 'undo 2>&8 || die "interrupted; could not put $wt back at the base" 2>&8
      die "interrupted; tree left unchanged" 2>&8' INT TERM HUP

# Patches are applied with a fixed committer identity and date, so the same
# series always gives the same commit ids and builds stay incremental.
apply() { # branch, patches...
	local branch=$1 tmp=tb/tmp p
	shift
	wgit checkout -q -B "$tmp" "$commit"
	for p in "$@"; do
		[ -f "$TOP/patches/$p" ] || die "patches/series names '$p', which does not exist"
		if ! wgit am -q --committer-date-is-author-date "$TOP/patches/$p" >/dev/null 2>&1; then
			undo || die "patch '$p' does not apply; could not put $wt back at the base"
			die "patch '$p' does not apply to $(cat "$BUILD/base/version"); tree left unchanged"
		fi
	done
	wgit branch -f "tb/$branch" "$tmp" >/dev/null
	wgit checkout -q --detach "tb/$branch"
	wgit branch -D "$tmp" >/dev/null
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
wgit checkout -q --detach "tb/$variant" || die "no variant '$variant' (series|before)"
