#!/bin/bash
# series-hash.sh: print the series hash, the identity of the patch series
# that results are stamped with: the first 12 hex digits of the sha256 of the
# files that patches/series names, concatenated in series order.  Any change
# to a patch (or to the order) changes it; the base is named separately.
. "$(dirname "$0")/lib.sh"
mapfile -t files < <(series)
[ ${#files[@]} -gt 0 ] || die "patches/series names no patches"
(cd "$TOP/patches" && cat -- "${files[@]}") | sha256sum | cut -c1-12
