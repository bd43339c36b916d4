#!/bin/bash
# maintainers.sh: regenerate MAINTAINERS.snippet from scripts/get_maintainer.pl
# run (in the base tree) on every patch of the series, and on each patch alone.
. "$(dirname "$0")/lib.sh"
wt=$(worktree)
[ -x "$wt/scripts/get_maintainer.pl" ] || die "no work tree; run 'make apply' first"
gm() { (cd "$wt" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-fixes \
	--no-rolestats "$@" 2>/dev/null); }
mapfile -t patches < <(series)
paths=()
for p in "${patches[@]}"; do paths+=("$TOP/patches/$p"); done
{
	echo "# To/Cc for the series, from scripts/get_maintainer.pl --no-git --no-git-fallback"
	echo "# --no-fixes on $(cat "$BUILD/base/version"); regenerate with scripts/maintainers.sh."
	echo
	echo "## Recommended for git send-email / b4 (KVM practice: KVM maintainers and lists;"
	echo "## the x86/arm64 architecture maintainers only for patches outside */kvm/)"
	echo "To: Sean Christopherson <seanjc@google.com>, Paolo Bonzini <pbonzini@redhat.com>,"
	echo "    Marc Zyngier <maz@kernel.org>, Oliver Upton <oupton@kernel.org>"
	echo "Cc: kvm@vger.kernel.org, kvmarm@lists.linux.dev, linux-arm-kernel@lists.infradead.org,"
	echo "    linux-doc@vger.kernel.org, linux-kernel@vger.kernel.org"
	# Reviewers of a KVM sub-area the series touches (e.g. KVM Xen for
	# patches that change arch/x86/kvm/xen.c), as get_maintainer.pl names them.
	xen=$(gm "${paths[@]}" | grep -E 'dwmw2@|paul@xen' | paste -sd, - | sed 's/,/, /g')
	[ -z "$xen" ] || echo "Cc (KVM Xen): $xen"
	echo
	echo "## Whole series (cover letter), as get_maintainer.pl prints it"
	gm "${paths[@]}" | sed 's/^/    /'
	echo
	echo "## Per patch"
	for p in "${patches[@]}"; do
		echo "$p:"
		gm "$TOP/patches/$p" | sed 's/^/    /'
	done
	echo
	echo "## New files and MAINTAINERS"
	echo "# New selftests are matched by the existing F: tools/testing/selftests/kvm/ lines"
	echo "# (KVM/arm64: F: tools/testing/selftests/kvm/arm64/; KVM/x86: F: tools/testing/selftests/kvm/x86/): no new F: lines needed."
	for f in $(grep -h '^+++ b/' "${paths[@]}" | sed 's|^+++ b/||' | sort -u); do
		[ -e "$wt/$f" ] && git -C "$wt" cat-file -e "$(base_commit):$f" 2>/dev/null && continue
		echo "$f: $(gm -f "$f" | grep -c @) addresses, via: $(cd "$wt" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --sections -f "$f" 2>/dev/null | grep -E '^[A-Z][A-Z0-9 /()-]+$' | head -n3 | paste -sd';')"
	done
} >"$TOP/MAINTAINERS.snippet"
log "wrote MAINTAINERS.snippet"
