#!/bin/bash
# modules-load.sh load|unload|status [KDIR]: swap the running kernel's KVM
# modules for the patched ones built by 'make modules' against KDIR (default
# /lib/modules/$(uname -r)/build), and back.
#   load    unload kvm_intel/kvm_amd/kvm, modprobe the stock modules they
#           depend on (e.g. irqbypass), insmod the patched kvm.ko, then
#           kvm-intel.ko or kvm-amd.ko after the vmx/svm flag of
#           /proc/cpuinfo.  PARAMS="kvm.X=Y kvm_amd.Z=W ..." (kernel
#           command-line form) become their module arguments.
#   unload  remove the loaded KVM modules and modprobe the stock ones.
# Both refuse while /dev/kvm is in use (module reference counts).  Both print
# what is loaded: srcversion, and whether it is the patched build of the
# series (series hash, tb/series commit) or not.
# Test seams: MOD_SYSFS (/sys/module), MOD_CPUINFO (/proc/cpuinfo).
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/modules-lib.sh"
action=${1:-}
kdir=${2:-/lib/modules/$(uname -r)/build}
sys=${MOD_SYSFS:-/sys/module}
cpuinfo=${MOD_CPUINFO:-/proc/cpuinfo}
case $action in load|unload|status) ;; *) die "usage: modules-load.sh load|unload|status [KDIR]" ;; esac

dir=
if [ -f "$BUILD/base/id" ] && [ -f "$kdir/include/config/kernel.release" ]; then
	dir=$(mod_dir "$kdir")
fi

# status: one line per loaded KVM module.
status() {
	local m sv taint what any=
	for m in kvm kvm_intel kvm_amd; do
		[ -d "$sys/$m" ] || continue
		any=1
		sv=$(cat "$sys/$m/srcversion" 2>/dev/null || echo -)
		taint=$(cat "$sys/$m/taint" 2>/dev/null || true)
		what="not the patched build (stock, or another build)"
		[ -e "$sys/$m/refcnt" ] || what="built into the kernel"
		# srcversion alone can't tell: a module whose own sources the
		# series doesn't change (kvm-intel) has the stock srcversion.  The
		# patched build is out of tree, which taints the kernel with "O".
		if [ -n "$dir" ] && [ -f "$dir/ok" ] && [ "$sv" != - ] &&
		   [[ $taint == *O* ]] &&
		   grep -qx "srcversion ${m//_/-} $sv" "$dir/info"; then
			what="patched: series $(awk '$1 == "series" { print $2 }' "$dir/info"), tb/series $(awk '$1 == "tb/series" { print substr($2, 1, 12) }' "$dir/info")"
		fi
		printf '%-10s srcversion %-24s taint %-3s %s\n' "$m" "$sv" "${taint:--}" "$what"
	done
	[ -n "$any" ] || echo "no KVM module loaded"
	echo "series in this repository: $(series_hash)"
}
[ "$action" != status ] || { status; exit 0; }

[ "$(id -u)" = 0 ] || die "make $action needs root (it runs rmmod, insmod and modprobe)"
need insmod rmmod modprobe modinfo
[ ! -d "$sys/kvm" ] || [ -e "$sys/kvm/refcnt" ] ||
	die "KVM is built into the running kernel (CONFIG_KVM=y): it cannot be replaced by modules; build and boot the whole patched tree instead"
flags=" $(grep -m1 '^flags' "$cpuinfo" || true) "
case $flags in
*" vmx "*) vendor=intel ;;
*" svm "*) vendor=amd ;;
*) die "the CPU has neither the vmx nor the svm flag in $cpuinfo (virtualization off in the firmware, or a VM without nested virtualization): KVM cannot load here" ;;
esac

# Refuse while /dev/kvm or a VM is open: every open /dev/kvm, VM and vCPU
# file holds a reference on the vendor module (and kvm.ko holds the vendor
# module's); other holders of kvm (kvmgt, ...) must go first.
busy=()
for m in kvm_intel kvm_amd; do
	[ -r "$sys/$m/refcnt" ] || continue
	n=$(cat "$sys/$m/refcnt")
	[ "$n" -eq 0 ] || busy+=("$m refcnt $n")
done
if [ -r "$sys/kvm/refcnt" ]; then
	others=$(ls "$sys/kvm/holders" 2>/dev/null | grep -vx -e kvm_intel -e kvm_amd | xargs || true)
	[ -z "$others" ] || die "module(s) $others use kvm: unload them first"
	n=$(cat "$sys/kvm/refcnt") h=$(ls "$sys/kvm/holders" 2>/dev/null | wc -l)
	[ "$n" -le "$h" ] || busy+=("kvm refcnt $n with $h holder(s)")
fi
procs=$(for fd in /proc/[0-9]*/fd/*; do
	case $(readlink "$fd" 2>/dev/null) in
	/dev/kvm | anon_inode:kvm-vm | anon_inode:kvm-vcpu*)
		p=${fd#/proc/}; p=${p%%/*}; echo "$(cat "/proc/$p/comm" 2>/dev/null)[$p]" ;;
	esac
done | sort -u | xargs)
[ -z "$procs" ] || busy+=("open by $procs")
[ ${#busy[@]} -eq 0 ] ||
	die "/dev/kvm is in use ($(IFS=,; echo "${busy[*]}" | sed 's/,/, /g')): stop the VMs first"

unload_all() {
	local m
	for m in kvm_intel kvm_amd kvm; do
		[ ! -d "$sys/$m" ] || rmmod "$m" || die "rmmod $m failed"
	done
}

if [ "$action" = unload ]; then
	unload_all
	modprobe "kvm_$vendor" || die "modprobe kvm_$vendor failed: the stock modules did not come back"
	log "stock modules loaded"
	status
	exit 0
fi

[ -f "$kdir/include/config/kernel.release" ] ||
	die "KDIR=$kdir is not a configured kernel build directory (install your kernel's headers or pass KDIR=, as for 'make modules')"
[ -n "$dir" ] && [ -f "$dir/ok" ] ||
	die "no patched modules built for $kdir: run 'make modules${2:+ KDIR=$2}' first"
rel=$(awk '$1 == "release" { print $2 }' "$dir/info")
[ "$rel" = "$(uname -r)" ] ||
	die "the patched modules in $dir are for $rel, the running kernel is $(uname -r)"
[ -f "$dir/kvm-$vendor.ko" ] || die "kvm-$vendor.ko was not built ($kdir has no CONFIG_KVM_${vendor^^}=m)"
# shellcheck disable=SC2086
mod_plan "$vendor" ${PARAMS:-}
[ ${#MOD_CMDLINE[@]} -eq 0 ] || die "PARAMS: not a kvm.* or kvm_$vendor.* parameter: ${MOD_CMDLINE[*]}"
unload_all
for dep in $(modinfo -F depends "$dir/kvm.ko" "$dir/kvm-$vendor.ko" | tr ',' '\n' | sort -u); do
	[ "$dep" = kvm ] || modprobe "$dep" || die "modprobe $dep (needed by the patched modules) failed"
done
for l in "${MOD_PLAN[@]}"; do
	read -r ko args <<<"$l"
	log "insmod $dir/$ko $args"
	# shellcheck disable=SC2086
	if ! insmod "$dir/$ko" $args; then
		dmesg 2>/dev/null | tail -n 5 >&2 || true
		unload_all
		modprobe "kvm_$vendor" || true
		die "insmod $ko failed; the stock modules are back (see dmesg)"
	fi
done
status
