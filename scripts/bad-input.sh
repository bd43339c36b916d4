#!/bin/bash
# bad-input.sh [OUT_TSV]: drive the test bed with bad input.  Each case must
# end in one clear "error:" line or a "not ok" outcome, leave nothing
# half-applied, and the next run must work without manual cleanup.  One
# line per case (NAME, pass|fail, DETAIL) goes to OUT_TSV (default: stdout).
# Runs in a sandbox, BUILD=$BUILD/bad-input, so the real build state is never
# touched; it only reads the base repository and the real work tree, and
# shares the ccache.  Needs the x86 series kernel of make check for the VM cases.
. "$(dirname "$0")/lib.sh"
out=${1:-/dev/stdout}
S=$TOP/scripts
real_git=$(base_git) real_commit=$(base_commit)
kernel=$BUILD/img/$(base_id)/x86-series/kernel
sb=$BUILD/bad-input
mkdir -p "$sb"
ln -sfn "$BUILD/ccache" "$sb/ccache"

result() { printf 'bad input: %s\t%s\t%s\n' "$1" "$2" "$3" >>"$out"; log "bad input: $1: $2: $3"; }

# expect_error NAME REGEX CMD...: CMD fails with exactly one "error:" line,
# which matches REGEX.
expect_error() {
	local name=$1 re=$2 o rc=0 errs
	shift 2
	o=$("$@" 2>&1) || rc=$?
	errs=$(echo "$o" | grep '^error: ' || true)
	if [ $rc -ne 0 ] && [ "$(echo "$errs" | grep -c .)" -eq 1 ] && echo "$errs" | grep -qE "$re"; then
		result "$name" pass "$errs"
	else
		result "$name" fail "rc=$rc, expected one error matching '$re': $(echo "$o" | tail -n2 | tr '\n' ' ')"
	fi
}

# interrupt WHEN CMD...: run CMD in a process group of its own, wait until
# the shell test WHEN holds (checked every 0.1 s, at most 300 s), then send
# the group SIGINT, as Ctrl-C would, and create $sb/int-sent.  Prints CMD's
# output.
interrupt() {
	local when=$1 pid i=0
	shift
	set -m
	# Default SIGINT in the child even if this run inherited it ignored (a
	# make check started in the background): bash cannot trap a signal
	# ignored on entry, and git would then half-handle the Ctrl-C.
	rm -f "$sb/int-sent"
	env --default-signal=INT "$@" >"$sb/int.out" 2>&1 &
	pid=$!
	set +m
	until eval "$when" || ! kill -0 "$pid" 2>/dev/null || [ $i -ge 3000 ]; do sleep 0.1; i=$((i + 1)); done
	kill -INT -- -"$pid" 2>/dev/null || true
	touch "$sb/int-sent"
	wait "$pid" 2>/dev/null || true
	cat "$sb/int.out"
}

# A small git tree for KDIR (not a kernel: no patch of the series applies).
small=$sb/small-kdir
if [ ! -d "$small/.git" ]; then
	rm -rf "$small" && mkdir -p "$small"
	git -C "$small" init -q && echo "not a kernel" >"$small/README"
	git -C "$small" add README
	git -C "$small" -c user.name=tb -c user.email=tb@localhost commit -q -m "small tree"
fi

log "bad input: KDIR is not a git tree"
mkdir -p "$sb/plain-dir"
expect_error "KDIR is not a git tree" "is not a git tree" env BUILD="$sb" KDIR="$sb/plain-dir" "$S/fetch-base.sh"

log "bad input: KDIR has uncommitted changes"
echo "local edit" >>"$small/README"
expect_error "KDIR is dirty" "uncommitted changes" env BUILD="$sb" KDIR="$small" "$S/fetch-base.sh"
git -C "$small" checkout -q README

log "bad input: a patch does not apply"
BUILD=$sb KDIR=$small "$S/fetch-base.sh" 2>/dev/null
wt=$(BUILD=$sb worktree)
for run in 1 2; do	# the second run finds no leftovers of the first
	expect_error "patch does not apply (run $run)" "^error: patch '0001-.*' does not apply.*tree left unchanged" \
		env BUILD="$sb" "$S/tree.sh"
done
state=$(git -C "$wt" status --porcelain; git -C "$wt" branch --list 'tb/*'
	[ ! -d "$(git -C "$wt" rev-parse --absolute-git-dir)/rebase-apply" ] || echo "git am in progress")
[ "$(git -C "$wt" rev-parse HEAD)" = "$(git -C "$small" rev-parse HEAD)" ] || state+=" HEAD moved"
if [ -z "$state" ]; then result "patch does not apply: tree unchanged" pass "clean, HEAD at the base, no tb/ branch"
else result "patch does not apply: tree unchanged" fail "$(echo $state)"; fi

log "bad input: a tool is missing (no qemu-system-x86_64 in PATH)"
bin=$sb/path-without-qemu
if [ ! -d "$bin" ]; then
	mkdir -p "$bin.tmp"
	for d in /usr/local/bin /usr/bin /bin; do
		for f in "$d"/*; do
			[ -x "$f" ] && [ ! -e "$bin.tmp/${f##*/}" ] && ln -s "$f" "$bin.tmp/${f##*/}"
		done
	done
	rm -f "$bin.tmp"/qemu-system-x86_64 && mv "$bin.tmp" "$bin"
fi
tests=$sb/tests
mkdir -p "$tests/x86"
printf '#!/bin/sh\nsleep 3600\n' >"$tests/x86/hang_test"
printf '#!/bin/sh\necho "ok 1 after the hang"\n' >"$tests/x86/next_test"
chmod +x "$tests"/x86/*
expect_error "missing tool" "'qemu-system-x86_64' not found" env PATH="$bin" \
	bash "$S/boot.sh" x86 qemu "$kernel" "$tests" "$sb/vm.log" "" x86/next_test

# Ctrl-C while the series is being applied (git am), then a run to
# completion.  KDIR: the base's files that the series touches, enough for
# every patch to apply, in a git tree of their own (a full kernel checkout
# would cost minutes).
log "bad input: Ctrl-C during apply"
mini=$sb/series-kdir
key="$real_commit $(series_hash)"	# the files depend on the series
if [ "$(cat "$mini/.base" 2>/dev/null)" != "$key" ]; then
	rm -rf "$mini" && mkdir -p "$mini"
	files=$(cd "$TOP/patches" && series | xargs cat | sed -n 's|^--- a/||p' | sort -u)
	# shellcheck disable=SC2086
	git -C "$real_git" archive "$real_commit" $files | tar -x -C "$mini"
	git -C "$mini" init -q && git -C "$mini" add -A
	git -C "$mini" -c user.name=tb -c user.email=tb@localhost commit -q -m "files the series touches"
	echo "$key" >"$mini/.base"
fi
env BUILD="$sb" KDIR="$mini" "$S/fetch-base.sh" 2>/dev/null
wt=$(BUILD=$sb worktree)
[ -e "$wt/.git" ] || BUILD=$sb "$S/tree.sh" >/dev/null 2>&1	# first use: create the work tree
gd=$(git -C "$wt" rev-parse --absolute-git-dir)
common=$(cd "$wt" && cd "$(git rev-parse --git-common-dir)" && pwd)
base=$(BUILD=$sb base_commit)
# A git shim first in PATH stands in for the race: it holds the first
# command that matches the glob GIT_HOLD until the interrupt has been sent
# (at most 60 s), and if SIGINT reaches it, it records that and dies the
# way a git killed inside the open() of its first lock does: the lock
# (packed-refs.lock) stays behind.  Four moments: the work-tree check
# before any change, the first "git am", the ref update of tb/series, and
# the checkout of tb/series.  After each: the error line, no SIGINT seen by
# git, HEAD at the base (or where it was, if the run had not begun to
# apply), no scratch branch, no git am in progress, no lock file, and a
# next run that applies the series.
shim=$sb/git-shim
mkdir -p "$shim"
cat >"$shim/git" <<EOF
#!/bin/bash
trap 'echo "SIGINT reached git \$*" >>"$shim/got-int"; : >"$common/packed-refs.lock"; exit 130' INT
if [ -n "\${GIT_HOLD:-}" ] && [ ! -e "$shim/held" ]; then
	case " \$* " in \$GIT_HOLD)
		touch "$shim/held"
		for i in \$(seq 600); do [ ! -e "$sb/int-sent" ] || break; sleep 0.1; done ;;
	esac
fi
$(command -v git) "\$@"
EOF
chmod +x "$shim/git"
fail=
for hold in '* status *' '* am -q *' '* branch -f tb/series *' '* checkout -q --detach tb/series *'; do
	rm -f "$shim/held" "$shim/got-int"
	head0=$(git -C "$wt" rev-parse HEAD)
	o=$(interrupt "[ -e '$shim/held' ]" \
		env PATH="$shim:$PATH" GIT_HOLD="$hold" BUILD="$sb" "$S/tree.sh")
	state=$(cat "$shim/got-int" 2>/dev/null
		case $(git -C "$wt" rev-parse HEAD) in "$base" | "$head0") ;; *) echo "HEAD moved" ;; esac
		git -C "$wt" status --porcelain; git -C "$wt" branch --list tb/tmp
		[ ! -d "$gd/rebase-apply" ] || echo "git am in progress"
		find "$common" -name '*.lock')
	if ! echo "$o" | grep -q '^error: interrupted; tree left unchanged' || [ -n "$state" ] ||
	   ! BUILD=$sb "$S/tree.sh" >/dev/null 2>&1; then
		fail="in '$hold': $(echo "$o" | tail -n1) $(echo "$state" | tr '\n' ' '); next run: $(BUILD=$sb "$S/tree.sh" 2>&1 | tail -n1)"
		break
	fi
done
if [ -z "$fail" ]; then
	result "Ctrl-C during apply" pass "$(echo "$o" | grep '^error:') (in status, am, branch -f, checkout); no git saw SIGINT; tree clean, no lock; the next run applies the series"
else
	result "Ctrl-C during apply" fail "$fail"
fi

log "bad input: Ctrl-C during a build"
kst=$sb/kst
rm -rf "$kst"
src=$(worktree)	# the real work tree, read only: the build writes to $kst
o=$(interrupt "ls '$kst'/lib/*.o >/dev/null 2>&1" env BUILD="$sb" "$S/build-selftests.sh" x86 "$src" "$kst" x86/userspace_io_test)
if [ ! -x "$kst/x86/userspace_io_test" ] &&
   env BUILD="$sb" "$S/build-selftests.sh" x86 "$src" "$kst" x86/userspace_io_test >/dev/null 2>&1 &&
   [ -x "$kst/x86/userspace_io_test" ]; then
	result "Ctrl-C during a build" pass "interrupted with no binary; the next run builds it"
else
	result "Ctrl-C during a build" fail "$(echo "$o" | tail -n1)"
fi

if [ ! -f "$kernel" ]; then
	result "hanging test binary" fail "no x86 series kernel at $kernel (make check builds it first)"
	exit 0
fi
# vm_case NAME TEST_TIMEOUT VM_TIMEOUT REGEX: boot the hanging test and the
# one after it; the outcomes parse-console.sh gives them must match REGEX.
vm_case() {
	local o
	log "bad input: $1 (test timeout $2 s, VM timeout $3 s)"
	TEST_TIMEOUT=$2 VM_TIMEOUT=$3 "$S/boot.sh" x86 qemu "$kernel" "$tests" "$sb/vm.log" "" \
		x86/hang_test x86/next_test
	o=$("$S/parse-console.sh" "$sb/vm.log" x86/hang_test x86/next_test | tr '\t' ' ' | xargs -d '\n' echo)
	if echo "$o" | grep -q "$4"; then result "$1" pass "$o"; else result "$1" fail "$o"; fi
}
vm_case "hanging test binary" 5 240 'x86/hang_test hung rc=1[24][43] .*x86/next_test pass'
vm_case "hanging VM" 3600 30 'x86/hang_test died .*vm-timeout.*x86/next_test notrun'
