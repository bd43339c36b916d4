#!/bin/bash
# docs-sparse.sh GATES_TSV: sparse (C=2) on every KVM .c file the series
# touches, and "make htmldocs SPHINXDIRS=virt" if it touches Documentation/:
# no warning may be new compared with the base.  Uses the bisect work tree
# and build directories (scripts/bisect-lib.sh).
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/bisect-lib.sh"
out=$1
gate() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out"; [ "$2" != fail ] || log "FAIL: $1: $3"; }
"$TOP/scripts/build-sparse.sh" || { gate "sparse C=2" fail "no usable sparse (scripts/build-sparse.sh)"; }
sparse=$BUILD/tools/bin/sparse
tip=$(git -C "$(worktree)" rev-parse tb/series)
base=$(base_commit)
private_worktree "$bwt" "$base"
files=$(git -C "$bwt" diff --name-only "$base" "$tip")
# Warnings without line numbers, so moved code does not count as new.
norm() { grep -E 'warning|error' | sed -E 's/:[0-9]+:[0-9]+:/:/; s/:[0-9]+:/:/' | sort; }

for arch in x86 arm64; do
	name=$arch-m
	[ "$arch" = arm64 ] && name=arm64
	srcs=$(echo "$files" | grep -E "^(arch/$arch/kvm|virt/kvm)/.*\.c$" || true)
	[ -n "$srcs" ] || continue
	objs=$(echo "$srcs" | sed -e 's/\.c$/.o/' -e "s|^virt/kvm/|arch/$arch/kvm/../../../virt/kvm/|")
	log "sparse C=2 $arch, base and tip: $(echo $srcs)"
	for rev in base tip; do
		git -C "$bwt" checkout -q --detach "${!rev}"
		configure "$name"
		# shellcheck disable=SC2086
		kmake "$name" C=2 CHECK="$sparse" -j"$JOBS" $objs >"$obase/sparse-$arch-$rev.log" 2>&1 || true
	done
	new=$(comm -13 <(norm <"$obase/sparse-$arch-base.log") <(norm <"$obase/sparse-$arch-tip.log"))
	if grep -q 'not available or not up to date' "$obase/sparse-$arch-tip.log"; then
		gate "sparse C=2 $arch" fail "the kernel rejected $sparse (checker-valid.sh)"
	elif [ -z "$new" ]; then
		gate "sparse C=2 $arch: $(echo $srcs)" pass "(no new warnings)"
	else
		gate "sparse C=2 $arch" fail "$(echo "$new" | head -n3 | tr '\n' ' ')"
	fi
done

if echo "$files" | grep -q '^Documentation/'; then
	for rev in base tip; do
		git -C "$bwt" checkout -q --detach "${!rev}"
		rm -rf "$obase/docs-$rev"
		log "htmldocs SPHINXDIRS=virt ($rev)"
		timed "htmldocs SPHINXDIRS=virt ($rev)" \
			make -s -C "$bwt" O="$obase/docs-$rev" SPHINXDIRS=virt htmldocs \
			>"$obase/htmldocs-$rev.log" 2>&1 || true
	done
	[ -f "$obase/docs-tip/Documentation/output/virt/index.html" ] ||
		gate "htmldocs SPHINXDIRS=virt" fail "no HTML output, see $obase/htmldocs-tip.log"
	new=$(comm -13 <(norm <"$obase/htmldocs-base.log") <(norm <"$obase/htmldocs-tip.log"))
	if [ -z "$new" ]; then
		gate "htmldocs SPHINXDIRS=virt" pass "(no new warnings)"
	else
		gate "htmldocs SPHINXDIRS=virt" fail "$(echo "$new" | head -n3 | tr '\n' ' ')"
	fi
fi
