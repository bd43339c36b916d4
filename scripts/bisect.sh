#!/bin/bash
# bisect.sh: "make bisect".  Builds the KVM objects and touched selftests
# after every patch of the series (scripts/bisect-build.sh: x86_64 KVM=m with
# KVM_WERROR, x86_64 with SMM/Xen/Hyper-V off and lockdep on, arm64) and
# writes bisect/results.md, stamped with the series hash.  "make check"
# flags that file when it is stale or records a failure (scripts/stale.sh);
# it does not run the 15 x 3 builds itself, which take longer than a CI run
# can spare on a cold cache.
. "$(dirname "$0")/lib.sh"
need git make ccache gcc aarch64-linux-gnu-gcc
dest=${BISECT_OUT:-$TOP/bisect/results.md}
t0=$(date +%s)
"$TOP/scripts/fetch-base.sh"
"$TOP/scripts/tree.sh"
. "$TOP/scripts/bisect-lib.sh"	# targets
hash=$("$TOP/scripts/series-hash.sh")
tsv=$(mktemp)
trap 'rm -f "$tsv" "$dest.tmp"' EXIT
"$TOP/scripts/bisect-build.sh" "$tsv"
secs=$(( $(date +%s) - t0 ))
fails=$(grep -c $'\tfail\t' "$tsv" || true)
{
	echo "# Builds after every patch"
	echo
	echo "Written by \`make bisect\` (scripts/bisect.sh); do not edit."
	echo
	echo "Series hash: \`$hash\` (scripts/series-hash.sh)"
	echo "Base: \`$(cat "$BUILD/base/version")\`, tb/series \`$(git -C "$(worktree)" rev-parse --short=12 tb/series)\`"
	echo "Result: $(wc -l <"$tsv") patches, $fails failed; wall time ${secs}s on $(nproc) CPUs"
	echo
	echo "After each patch, \`make arch/ARCH/kvm/\` in each target whose"
	echo "architecture the patch touches (arch/ARCH, include, virt), and the"
	echo "selftests the patch adds or changes.  Targets, tinyconfig plus the"
	echo "fragments of arch-ARCH-kvm/:"
	echo
	for t in "${targets[@]}"; do
		read -r name arch frags <<<"$t"
		echo "- \`$name\`: $(for f in $frags; do printf '%s' "${sep:-}arch-$arch-kvm/$f"; sep=' + '; done)"
	done
	echo
	echo "| patch | result | built (seconds) |"
	echo "|---|---|---|"
	awk -F'\t' '{ sub(/^builds after /, "", $1); printf "| %s | %s | %s |\n", $1, $2, $3 }' "$tsv"
} >"$dest.tmp"
mv "$dest.tmp" "$dest"
log "wrote $dest: $fails of $(wc -l <"$tsv") patches failed, ${secs}s"
[ "$fails" -eq 0 ]
