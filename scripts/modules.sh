#!/bin/bash
# modules.sh [KDIR]: build the series' kvm.ko, kvm-intel.ko and kvm-amd.ko
# out of tree (top-level Kbuild) against the configured kernel build
# directory KDIR, default /lib/modules/$(uname -r)/build.  The sources are
# arch/x86/kvm and virt/kvm of tb/series (base + every patch).  Refuses, with
# one error, a series that changes a file a module build cannot carry, a KDIR
# of another kernel version than the base and a KDIR without KVM as modules.
# Nothing is written into KDIR; the modules go to $(mod_dir KDIR), with
# "info" (series hash, tb/series commit, srcversion of each module) and "ok".
# MODULES_NO_APPLY=1 uses tb/series as it is (no fetch-base.sh/tree.sh);
# MODULES_CC overrides the compiler (the test bed uses "ccache gcc").
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/modules-lib.sh"
need git make sha256sum modinfo
kdir=${1:-/lib/modules/$(uname -r)/build}

# 1. Every file the series changes must be carried by the module build or
#    be irrelevant to it.
while IFS=$'\t' read -r p f; do
	[ "$(mod_file_class "$f")" != refuse ] ||
		die "patch $p changes $f, which is outside arch/x86/kvm and virt/kvm: a module build cannot carry it; build and boot the whole patched tree instead (README: Testing on your own machine)"
done < <(mod_series_files)

# 2. The series tree (tb/series), applied afresh unless MODULES_NO_APPLY=1.
#    KDIR here names a kernel build directory, not the base tree of
#    fetch-base.sh: keep it away from the test-bed scripts.
if [ "${MODULES_NO_APPLY:-}" != 1 ]; then
	[ -f "$BUILD/base/id" ] || env -u KDIR "$TOP/scripts/fetch-base.sh"
	env -u KDIR "$TOP/scripts/tree.sh"
fi
[ -f "$BUILD/base/id" ] || die "no base yet: run 'make apply'"
wt=$(worktree)
rev=$(git -C "$wt" rev-parse -q --verify tb/series^{commit} 2>/dev/null) ||
	die "no branch tb/series in $wt: run 'make apply'"
mapfile -t commits < <(git -C "$wt" rev-list --reverse "$(base_commit)..$rev")
mapfile -t pats < <(series)
stale=
[ ${#commits[@]} -eq ${#pats[@]} ] || stale=1
for i in "${!pats[@]}"; do
	[ -z "$stale" ] || break
	a=$(git patch-id --stable <"$TOP/patches/${pats[$i]}" | cut -d' ' -f1)
	b=$(git -C "$wt" show "${commits[$i]}" | git patch-id --stable | cut -d' ' -f1)
	[ "$a" = "$b" ] || stale=1
done
[ -z "$stale" ] || die "tb/series in $wt is not patches/series as it is now: run 'make apply'"
basever=$(git -C "$wt" show "$rev:Makefile" | awk '
	$1 == "VERSION" { v = $3 } $1 == "PATCHLEVEL" { p = $3 }
	$1 == "SUBLEVEL" { s = $3 } $1 == "EXTRAVERSION" { e = $3 }
	$1 == "NAME" { exit } END { print v "." p "." s e }')

# 3. KDIR: a configured build directory of the base version, KVM as modules.
[ -d "$kdir" ] || die "KDIR=$kdir does not exist: install your kernel's headers (Debian: linux-headers-$(uname -r)) or pass KDIR=<configured kernel build directory>"
kdir=$(cd "$kdir" && pwd -P)
[ -f "$kdir/.config" ] && [ -f "$kdir/include/config/kernel.release" ] ||
	die "KDIR=$kdir is not a configured kernel build directory (no .config or include/config/kernel.release)"
release=$(cat "$kdir/include/config/kernel.release")
case $release in
"$basever" | "$basever"[!0-9]*) ;;
*) die "KDIR=$kdir is Linux $release, but the series applies to $basever: use a $basever kernel, or build and boot the whole patched tree (README: Testing on your own machine)" ;;
esac
grep -qx 'CONFIG_X86_64=y' "$kdir/.config" ||
	die "KDIR=$kdir is not an x86_64 kernel (no CONFIG_X86_64=y): the patched modules are x86 KVM"
kvm=$(sed -n 's/^CONFIG_KVM=//p' "$kdir/.config")
[ "$kvm" = m ] ||
	die "KDIR=$kdir has CONFIG_KVM=${kvm:-n}, but only KVM built as modules (CONFIG_KVM=m, with CONFIG_KVM_INTEL=m and/or CONFIG_KVM_AMD=m) can be replaced: build and boot the whole patched tree instead"
mods=(kvm)
grep -qx 'CONFIG_KVM_INTEL=m' "$kdir/.config" && mods+=(kvm-intel)
grep -qx 'CONFIG_KVM_AMD=m' "$kdir/.config" && mods+=(kvm-amd)
[ ${#mods[@]} -gt 1 ] ||
	die "KDIR=$kdir has CONFIG_KVM=m but neither CONFIG_KVM_INTEL=m nor CONFIG_KVM_AMD=m: nothing to load"
[ -f "$kdir/Module.symvers" ] ||
	die "KDIR=$kdir has no Module.symvers: build its modules first"

# 4. The sources: arch/x86/kvm and virt/kvm of tb/series and the Kbuild,
#    with the Makefiles' $(srctree)/{arch/x86/kvm,virt/kvm} pointed at the
#    copy, include/trace (see Kbuild: it instantiates arch/x86/kvm's
#    tracepoints) and asm/kvm_host.h as include/asm/kvm_host.h, found before
#    KDIR's.  Re-made from scratch whenever tb/series or Kbuild change.
out=$(mod_dir "$kdir")
src=$out/src obj=$out/obj
stamp="$rev $(cat "$TOP/Kbuild" "$TOP/scripts/modules.sh" "$TOP/scripts/modules-lib.sh" | sha256sum | cut -c1-12) $release"
rm -f "$out/ok" "$out/info" "$out"/*.ko
if [ "$(cat "$src/.stamp" 2>/dev/null)" != "$stamp" ]; then
	log "copying arch/x86/kvm, virt/kvm and include/trace of tb/series (${rev:0:12}) to $src"
	rm -rf "$src" "$obj"
	mkdir -p "$src"
	git -C "$wt" archive "$rev" arch/x86/kvm virt/kvm include/trace | tar -x -C "$src"
	mkdir -p "$src/include/asm"
	git -C "$wt" show "$rev:arch/x86/include/asm/kvm_host.h" >"$src/include/asm/kvm_host.h"
	cp "$TOP/Kbuild" "$src/Kbuild"
	find "$src" -name 'Makefile*' -exec sed -i \
		's@\$(srctree)/\(arch/x86/kvm\|virt/kvm\)@$(TB_KVM_SRC)/\1@g' {} +
	echo "$stamp" >"$src/.stamp"
fi

# 5. Build, then check that no arch/x86/kvm or virt/kvm source or header
#    came from anywhere but the copy, and that KDIR was not written.
mkdir -p "$obj"
args=(-C "$kdir" M="$src" MO="$obj" TB_KVM_SRC="$src")
[ -z "${MODULES_CC:-}" ] || args+=(CC="$MODULES_CC")
use_ccache
# ccache's direct mode would reuse objects compiled before include/asm/
# kvm_host.h shadowed KDIR's (it does not notice a new file earlier in the
# include path); the preprocessor mode hashes what the compiler really sees.
# Depend mode (use_ccache) trusts the same kind of include list: off here.
export CCACHE_NODIRECT=1
unset CCACHE_DEPEND
touch "$out/.build-start"
_mk() { make "${args[@]}" -j"$JOBS" modules >"$out/build.log" 2>&1; }
timed "building ${mods[*]} against $kdir ($release), -j$JOBS; log: $out/build.log" _mk ||
	{ grep -E -m 10 'error|not found|No such' "$out/build.log" >&2; die "module build failed (log: $out/build.log)"; }
# The .cmd files name sources and headers relative to $obj (the build's
# working directory) or absolutely; -I and -iquote may be glued to them.
deps=$(cd "$obj" && find . -name '*.cmd' -exec cat {} + | tr ' \\:' '\n\n\n' |
	sed -E 's#^-[a-z]+([./])#\1#' | grep -E '(^|/)(arch/x86/kvm|virt/kvm)/.*\.[chS]$|/asm/kvm_host\.h$' | sort -u |
	xargs -r realpath -m -- | sort -u)
foreign=$(echo "$deps" | grep -v -e '^$' -e "^$src/" -e "^$obj/" || true)
[ -z "$foreign" ] || die "the build used arch/x86/kvm, virt/kvm or asm/kvm_host.h files that are not the series' copy: $(echo "$foreign" | head -n 5 | xargs)"
log "$(echo "$deps" | grep -c "^$src/") arch/x86/kvm and virt/kvm sources and headers used, all from $src"
written=$(find "$kdir" -newer "$out/.build-start" -print 2>/dev/null | head -n 5 || true)
[ -z "$written" ] || log "warning: files in KDIR changed during the build: $(echo "$written" | xargs)"

# 6. Check and publish the modules.
{
	echo "series $(series_hash)"
	echo "tb/series $rev"
	echo "base $(base_id)"
	echo "kdir $kdir"
	echo "release $release"
} >"$out/info.tmp"
for m in "${mods[@]}"; do
	ko=$obj/arch/x86/kvm/$m.ko
	[ -f "$ko" ] || die "$m.ko was not built (log: $out/build.log)"
	vm=$(modinfo -F vermagic "$ko")
	[ "${vm%% *}" = "$release" ] || die "$m.ko has vermagic '$vm', not $release"
	sv=$(modinfo -F srcversion "$ko")
	echo "srcversion $m ${sv:--}" >>"$out/info.tmp"
	cp "$ko" "$out/$m.ko"
	printf '  %-12s vermagic: %s  srcversion: %s\n' "$m.ko" "$vm" "${sv:--}" >&2
done
mv "$out/info.tmp" "$out/info"
touch "$out/ok"
log "patched modules of series $(series_hash) (tb/series ${rev:0:12}) for $release in $out"
