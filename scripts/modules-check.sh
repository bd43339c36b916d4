#!/bin/bash
# modules-check.sh [CELL...]: the module cell.  Builds the unpatched base
# kernel with KVM as modules (kvm.config + modules.config, O= under
# build/out/<base>/x86-kvm-m), the patched modules against it with
# scripts/modules.sh (what 'make modules' runs), and boots every CELL of
# arch-x86-kvm/matrix (default: all) twice: with the patched modules and with
# the base kernel's own (stock) ones, loaded like 'make load' does (kvm.ko,
# then kvm-<vendor>.ko; the cell's and the VM command line's kvm.* and
# kvm_<vendor>.* parameters become insmod arguments).  Every test of
# selftests/x86.list runs; the results must equal those of 'make check':
# patched == series kernel (KVM built in), stock == before kernel.  Prints
# TAP, exits non-zero on any difference.  Then "make load/unload" run live
# in a VM (scripts/modules-live.sh).  Needs the results of 'make check'
# and its selftest binaries (MODULES_KST=DIR: binaries built elsewhere).
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/modules-lib.sh"
need git modinfo
arch=x86
list=$TOP/selftests/$arch.list
id=$(base_id)
ref=$BUILD/results/$id
kst=${MODULES_KST:-$BUILD/kst/$id/$arch}
res=$BUILD/modules/$id/results
mkdir -p "$res"
mapfile -t tests < <(list_tests "$arch")
cells=("$@")
[ ${#cells[@]} -gt 0 ] || mapfile -t cells < <(cells "$arch")
for t in "${tests[@]}"; do
	[ -x "$kst/$t" ] || die "selftest $kst/$t missing: run 'make check' first (its results are the reference)"
done

# 1. The unpatched base kernel, KVM as modules, in its own work tree.
wt=$(worktree)-base
private_worktree "$wt" "$(base_commit)"
kdir=$BUILD/out/$id/$arch-kvm-m
kbuild_kernel "$arch" "$wt" "$kdir" "$res/kernel-build.log" modules.config
kernel=$KIMAGE

# 2. The patched modules against it: the 'make modules' code path.
MODULES_CC="ccache gcc" "$TOP/scripts/modules.sh" "$kdir"
pdir=$(mod_dir "$kdir")

# 3. Module sets: "patched" (pdir) and "stock" (the base kernel's own).
#    Modules they need besides kvm (e.g. irqbypass) come from the base kernel.
modset() { # NAME DIR VENDOR PLAN-LINE...: make $res/NAME.mods with its load file
	local name=$1 from=$2 vendor=$3 d=$res/$1.mods dep l f
	shift 3
	rm -rf "$d"
	mkdir -p "$d"
	: >"$d/load"
	for dep in $(modinfo -F depends "$from/kvm.ko" "$from/kvm-$vendor.ko" | tr ',' '\n' | sort -u); do
		[ "$dep" != kvm ] || continue
		f=$(find "$kdir" -name "$dep.ko" -print -quit)
		[ -n "$f" ] || die "module $dep (needed by kvm) not found in $kdir"
		cp "$f" "$d/" && echo "$dep.ko" >>"$d/load"
	done
	for l in "$@"; do
		cp "$from/${l%% *}" "$d/"
		echo "$l" >>"$d/load"
	done
}
stock=$BUILD/modules/$id/stock-$(cat "$kdir/include/config/kernel.release")
mkdir -p "$stock"
for m in kvm kvm-intel kvm-amd; do cp "$kdir/arch/x86/kvm/$m.ko" "$stock/"; done

# 4. Boot every cell with each set.
for cell in "${cells[@]}"; do
	cell "$arch" "$cell"
	params=$CELL_PARAMS
	# The emulator's own command line (its kvm.* parameters) as well.
	# shellcheck source=/dev/null
	vmcmd=$(. "$TOP/arch-$arch-kvm/$CELL_EMULATOR.sh" && echo "$CMDLINE")
	# shellcheck disable=SC2086
	vendor=$(mod_vendor_of $params)
	[ -n "$vendor" ] || die "cell $cell: no kvm_amd.* or kvm_intel.* parameter tells which vendor module to load"
	# shellcheck disable=SC2086
	mod_plan "$vendor" $params
	extra=${MOD_CMDLINE[*]}
	# shellcheck disable=SC2086
	mod_plan "$vendor" $vmcmd $params
	for set in patched stock; do
		from=$pdir
		[ $set = patched ] || from=$stock
		modset "$cell-$set" "$from" "$vendor" "${MOD_PLAN[@]}"
		logf=$res/$arch-$cell-$set.log
		t0=$(date +%s)
		log "$arch/$cell/$set: load $(awk '{ printf "%s%s", s, $0; s = "; " }' "$res/$cell-$set.mods/load")"
		MODULES_DIR=$res/$cell-$set.mods "$TOP/scripts/boot.sh" "$arch" "$CELL_EMULATOR" \
			"$kernel" "$kst" "$logf" "$extra" "${tests[@]}"
		"$TOP/scripts/parse-console.sh" "$logf" "${tests[@]}" >"${logf%.log}.tsv"
		log "$arch/$cell/$set: $(( $(date +%s) - t0 ))s: $(cut -f2 "${logf%.log}.tsv" | sort | uniq -c | xargs)"
	done
done

# 5. "make load", "make unload" and "make modules-status" for real, in a VM
#    of the first cell (base kernel, stock modules under /lib/modules).
live=0
"$TOP/scripts/modules-live.sh" "${cells[0]}" "$kdir" "$kernel" "$pdir" "$stock" >"$res/live.txt" || live=$?

# 6. Compare, as TAP; the live run's transcript and verdict as diagnostics.
rc=0
"$TOP/scripts/modules-compare.sh" "$arch" "$pdir" "$stock" "${cells[@]}" || rc=$?
sed 's/^\(ok\|not ok\) - /# live: \1: /' "$res/live.txt"
[ $rc -eq 0 ] && [ $live -eq 0 ]
