#!/bin/bash
# modules-live.sh CELL KDIR KERNEL PATCHED STOCK: "make load", "make unload" and
# "make modules-status" run for real, inside a test VM of the module cell.
# The VM boots KERNEL, KDIR's image (the unpatched base, KVM=m), with a root that
# holds what a user's machine holds: the stock modules under /lib/modules
# (loaded by modprobe), bash, this repository's scripts/modules-load.sh and
# patches/, and the patched modules where "make modules" leaves them for
# KDIR.  selftests/make-load-live.sh then swaps the modules back and forth,
# with and without a process holding /dev/kvm.  Prints one TAP line and the
# VM's transcript; exits non-zero unless every answer was the expected one.
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/modules-lib.sh"
[ $# -eq 5 ] || die "usage: modules-live.sh CELL KDIR KERNEL PATCHED_DIR STOCK_DIR"
cell=$1 kdir=$2 kernel=$3 pdir=$4 stock=$5
arch=x86
need depmod ldd
cell "$arch" "$cell"
# shellcheck disable=SC2086
vendor=$(mod_vendor_of $CELL_PARAMS)
rel=$(cat "$kdir/include/config/kernel.release")
res=$BUILD/modules/$(base_id)/results
logf=$res/$arch-$cell-live.log
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT

# bash and its libraries; the busybox applets the scripts use.
mkdir -p "$x/root/bin"
for f in /bin/bash $(ldd /bin/bash | grep -o '/[^ ]*'); do
	mkdir -p "$x/root$(dirname "$f")"
	cp -L "$f" "$x/root$f"
done
for a in awk cut dirname dmesg env grep id kill ls modinfo modprobe nproc readlink \
	 rmmod sed sha256sum sort tail tr wc xargs; do
	ln -s busybox "$x/root/bin/$a"
done
# The repository, as far as "make load" reads it.
mkdir -p "$x/root/tb/scripts" "$x/root/tb/patches"
cp "$TOP/scripts/lib.sh" "$TOP/scripts/modules-lib.sh" "$TOP/scripts/modules-load.sh" "$x/root/tb/scripts/"
cp "$TOP/patches/series" "$x/root/tb/patches/"
for p in $(series); do cp "$TOP/patches/$p" "$x/root/tb/patches/"; done
# KDIR as the VM sees it, and "make modules"' output for it (scripts/modules-lib.sh: mod_dir).
mkdir -p "$x/root/tb/kdir/include/config" "$x/root/tb/build/base"
cp "$kdir/include/config/kernel.release" "$x/root/tb/kdir/include/config/"
base_id >"$x/root/tb/build/base/id"
mdir=$x/root/tb/build/modules/$(base_id)/$rel-$(echo /tb/kdir | sha256sum | cut -c1-8)
mkdir -p "$mdir"
cp "$pdir"/*.ko "$pdir/info" "$pdir/ok" "$mdir/"
# The stock modules, installed as a distribution installs them.
d=$x/root/lib/modules/$rel/kernel/arch/x86/kvm
mkdir -p "$d"
cp "$stock"/*.ko "$d/"
for dep in $(modinfo -F depends "$stock"/*.ko | tr ',' '\n' | sort -u); do
	[ "$dep" = kvm ] || find "$kdir" -name "$dep.ko" -exec cp {} "$d/" \;
done
touch "$x/root/lib/modules/$rel/"modules.{order,builtin,builtin.modinfo}
depmod -b "$x/root" "$rel"

# The test: the in-VM script, as the only "test" of the VM.
mkdir -p "$x/tests/tb"
cp "$TOP/selftests/make-load-live.sh" "$x/tests/tb/"
# The cell's and the emulator's kvm.* and kvm_VENDOR.* parameters go to
# "make load" as PARAMS; the rest stays on the kernel command line.
# shellcheck source=/dev/null
vmcmd=$(. "$TOP/arch-$arch-kvm/$CELL_EMULATOR.sh" && echo "$CMDLINE")
params=$(for p in $vmcmd $CELL_PARAMS; do case $p in kvm.* | kvm_*) echo "$p" ;; esac; done | xargs)
# shellcheck disable=SC2086
mod_plan "$vendor" $CELL_PARAMS
t="tb/make-load-live.sh $vendor $params"
log "$arch/$cell/live: make load/unload in the VM (PARAMS=$params)"
ROOT_EXTRA=$x/root "$TOP/scripts/boot.sh" "$arch" "$CELL_EMULATOR" "$kernel" "$x/tests" \
	"$logf" "${MOD_CMDLINE[*]}" "$t"
read -r _ outcome detail < <("$TOP/scripts/parse-console.sh" "$logf" "${t%% *}")
tr -d '\r' <"$logf" | sed -n '/^@@tb begin /,/^@@tb end /p' | sed 's/^/# /'
if [ "$outcome" = pass ]; then
	echo "ok - $arch/$cell: make load/unload/status in a VM of the base kernel, /dev/kvm held and released"
else
	echo "not ok - $arch/$cell: make load/unload/status in a VM: $outcome $detail (console: $logf)"
	exit 1
fi
