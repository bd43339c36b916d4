#!/bin/sh
# run-suite.sh TIMEOUT [TEST...]: run in a test VM by "make regress" (scripts/regress.sh).
# Runs the whole installed KVM selftests target (/kst, from "make -C
# tools/testing/selftests TARGETS=kvm install") with its own runner, exactly
# as a user runs it, with TIMEOUT seconds per test (only the named TESTs of
# the kvm collection, if any).  The runner's TAP and
# every test's output (which the runner prefixes with "# ") go to the console,
# with the heartbeat lines below.
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
# A heartbeat every 5 s of guest time, so that the host can tell a VM that
# froze from a test that runs long without output.  In Bochs (clock
# sync=none, ips=400000000) guest time runs at about a quarter of wall time
# (30 s of heartbeats in 120 s, two Bochs VMs on two cores): a line every
# 20 s or so there.
(while sleep 5; do echo "@@tb alive"; done) &
beat=$!
./run_kselftest.sh $sel -o "$tmo"
rc=$?
kill "$beat"
exit "$rc"
