#!/bin/sh
# make-load-live.sh VENDOR [PARAMS...]: run in a test VM of the module cell
# (scripts/modules-live.sh packs it with bash, scripts/modules-load.sh, the
# stock modules under /lib/modules and the patched ones as "make modules"
# leaves them).  Drives "make load", "make unload" and "make status" exactly
# as a user would, on a base kernel whose stock KVM modules are loaded, and
# checks each answer.  Exits non-zero on the first unexpected one.
vendor=$1
shift
ml="bash /tb/scripts/modules-load.sh"
kdir=/tb/kdir
fail() { echo "FAIL: $*"; exit 1; }
step() { echo; echo "### $*"; }
# run EXPECT-RC CMD...: run CMD, show its output, check its exit code.
run() {
	want=$1
	shift
	echo "\$ $*"
	out=$("$@" 2>&1)
	rc=$?
	echo "$out"
	echo "(exit code $rc)"
	case $want in
	0) [ $rc -eq 0 ] || fail "$* exited $rc" ;;
	*) [ $rc -ne 0 ] || fail "$* succeeded, expected a refusal" ;;
	esac
}
expect() { echo "$out" | grep -q -- "$1" || fail "no '$1' in the output"; }

step "the stock modules, as the distribution loads them"
run 0 modprobe "kvm_$vendor"
run 0 $ml status $kdir
expect "kvm_$vendor .*not the patched build"

step "make load: the patched modules replace them"
run 0 env PARAMS="$*" $ml load $kdir
expect "kvm .*patched: series"
expect "kvm_$vendor .*taint O"

step "make load and make unload while a process holds /dev/kvm open"
sleep 600 </dev/kvm &
holder=$!
sleep 1
run 1 env PARAMS="$*" $ml load $kdir
expect "/dev/kvm is in use"
run 1 $ml unload $kdir
expect "/dev/kvm is in use"
run 0 $ml status $kdir
expect "kvm .*patched: series"
kill $holder
wait $holder 2>/dev/null

step "make unload: the stock modules come back"
run 0 $ml unload $kdir
expect "stock modules loaded"
expect "kvm_$vendor .*not the patched build"

step "make load again"
run 0 env PARAMS="$*" $ml load $kdir
expect "kvm_$vendor .*patched: series"
echo
echo "make-load-live: every answer as expected"
