#!/bin/sh
# run-suite.sh TIMEOUT [TEST...]: run in a test VM by "make regress" (scripts/regress.sh).
# Runs the whole installed KVM selftests target (/kst, from "make -C
# tools/testing/selftests TARGETS=kvm install") with its own runner, exactly
# as a user runs it, with TIMEOUT seconds per test (only the named TESTs of
# the kvm collection, if any).  The runner's TAP and
# every test's output (which the runner prefixes with "# ") go to the console.
#
# The runner writes test output to /dev/stdout; devtmpfs has no such link
# (udev makes it on a full system), so make the /dev/fd links first.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do
	[ -e "/dev/${i#*:}" ] || ln -s "/proc/self/fd/${i%%:*}" "/dev/${i#*:}"
done
cd /kst || exit 1
tmo=$1
shift
sel="-c kvm"
[ $# -eq 0 ] || sel=$(for t in "$@"; do printf -- '-t kvm:%s ' "$t"; done)
exec ./run_kselftest.sh $sel -o "$tmo"
