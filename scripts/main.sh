#!/bin/bash
# main.sh [ARCH...]: the main job.  Apply the series, build, boot every matrix
# cell and run the tests of selftests/ARCH.list on the series kernel, then
# print TAP and the per-exit-path table.  (make check adds the gates and the
# base kernel.)
. "$(dirname "$0")/lib.sh"
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86 arm64)
"$TOP/scripts/fetch-base.sh"
"$TOP/scripts/tree.sh"
rm -rf "$BUILD/results/$(base_id)"
for arch in "${arches[@]}"; do
	timed "$arch/series" "$TOP/scripts/run.sh" "$arch" series
done
"$TOP/scripts/report.sh" "${arches[@]}"
