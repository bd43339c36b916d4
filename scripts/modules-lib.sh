# shellcheck shell=bash
# Helpers of the out-of-tree module build (make modules, load, unload,
# modules-check).  Source it after lib.sh.

# mod_file_class FILE: what a module build of x86 KVM does with a file the
# series changes: "carry" (copied from the series into the module build),
# "ignore" (not compiled into the x86 modules) or "refuse" (compiled into
# the kernel itself or shared with it: only a whole-tree build can test it).
mod_file_class() {
	case $1 in
	arch/x86/kvm/*|virt/kvm/*) echo carry ;;
	# struct kvm_vcpu_arch & co.: allocated and dereferenced only by the KVM
	# modules; built-in users of <linux/kvm_host.h> (perf, vfio) take
	# struct kvm pointers and call exported functions.  The copy is found
	# first (Kbuild: NOSTDINC_FLAGS), and modules.sh checks that it was.
	arch/x86/include/asm/kvm_host.h) echo carry ;;
	arch/x86/*) echo refuse ;;
	Documentation/*|tools/testing/selftests/*|MAINTAINERS|arch/*) echo ignore ;;
	*) echo refuse ;;
	esac
}

# mod_series_files: "PATCH<TAB>FILE" for every file (old and new name) that
# a patch of patches/series changes.
mod_series_files() {
	local p
	for p in $(series); do
		sed -n 's|^diff --git a/\([^ ]*\) b/\([^ ]*\)$|\1\n\2|p' "$TOP/patches/$p" |
			sort -u | sed "s|^|$p\t|"
	done
}

# mod_dir KDIR: where the modules built against KDIR go (never inside KDIR):
# build/modules/<base-id>/<kernel release>-<hash of KDIR's path>.
mod_dir() {
	local kdir rel
	kdir=$(cd "$1" && pwd -P)
	rel=$(cat "$kdir/include/config/kernel.release")
	echo "$BUILD/modules/$(base_id)/$rel-$(echo "$kdir" | sha256sum | cut -c1-8)"
}

# mod_vendor_of PARAMS...: "amd" or "intel" from kvm_amd.*/kvm_intel.*
# parameters (kernel command-line form, as in arch-x86-kvm/matrix), else "".
mod_vendor_of() {
	local p v=
	for p in "$@"; do
		case $p in
		kvm_amd.*|kvm-amd.*) [ "$v" != intel ] || die "parameters for both kvm_amd and kvm_intel: $*"; v=amd ;;
		kvm_intel.*|kvm-intel.*) [ "$v" != amd ] || die "parameters for both kvm_amd and kvm_intel: $*"; v=intel ;;
		esac
	done
	echo "$v"
}

# mod_plan VENDOR PARAMS...: the insmod lines ("FILE.ko ARGS...") that load
# kvm.ko, then kvm-VENDOR.ko (VENDOR amd or intel), in MOD_PLAN.  kvm.X=Y
# and kvm_VENDOR.X=Y of PARAMS (kernel command-line form) become module
# arguments X=Y: with KVM as modules, insmod never reads /proc/cmdline.  The
# other PARAMS are left in MOD_CMDLINE, in order.
mod_plan() {
	local vendor=$1 p kvm_args= v_args=
	shift
	MOD_CMDLINE=()
	for p in "$@"; do
		case $p in
		kvm.*) kvm_args+=" ${p#kvm.}" ;;
		"kvm_$vendor".*|"kvm-$vendor".*) v_args+=" ${p#kvm?"$vendor".}" ;;
		*) MOD_CMDLINE+=("$p") ;;
		esac
	done
	MOD_PLAN=("kvm.ko$kvm_args" "kvm-$vendor.ko$v_args")
}
