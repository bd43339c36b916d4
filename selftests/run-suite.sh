#!/bin/sh
# run-suite.sh TIMEOUT: run in a test VM by "make regress" (scripts/regress.sh).
# Runs the whole installed KVM selftests target (/kst, from "make -C
# tools/testing/selftests TARGETS=kvm install") with its own runner, exactly
# as a user runs it, with TIMEOUT seconds per test.  The runner's TAP goes to
# the console.
cd /kst || exit 1
exec ./run_kselftest.sh -c kvm -o "$1"
