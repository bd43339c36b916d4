# shellcheck shell=bash
# Bochs invocation of the x86 VMX test VM (sourced by scripts/boot.sh).
# Bochs 3.x emulates Intel VMX (EPT, VPID, unrestricted guest) well enough
# for kvm_intel.  It has no direct kernel boot: the kernel and initramfs go
# on an isolinux CD.  Bochs' own log is CONSOLE.bochs.log.
# bochs_panic LOG: print the first PANIC of a Bochs log, if any.  The ACPI
# power-off is logged as a PANIC too ("soft power off"): that one is the
# normal end.
bochs_panic() {
	grep -a 'PANIC' "$1" 2>/dev/null | grep -v 'soft power off' | head -n1 | grep .
}

vm_check() {
	[ -x "$BUILD/bochs/bin/bochs" ] || die "Bochs 3.x missing ($BUILD/bochs/bin/bochs); run scripts/deps.sh"
	need xorriso
}
# vm_boot KERNEL INITRD CMDLINE CONSOLE: boot, console output to CONSOLE.
vm_boot() {
	local iso=$WORK/cd
	local bochs=$BUILD/bochs/bin/bochs
	mkdir -p "$iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/isolinux/"
	cp "$1" "$iso/bzimage"
	cp "$2" "$iso/initrd.gz"
	printf 'DEFAULT t\nPROMPT 0\nLABEL t\n  KERNEL /bzimage\n  INITRD /initrd.gz\n  APPEND %s\n' \
		"$3" >"$iso/isolinux/isolinux.cfg"
	xorriso -as mkisofs -quiet -o "$WORK/boot.iso" -b isolinux/isolinux.bin \
		-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$iso" ||
		die "xorriso could not make the boot CD"
	sed -e "s|@ISO@|$WORK/boot.iso|" -e "s|@CONSOLE@|$4|" -e "s|@LOG@|$4.bochs.log|" \
		"$TOP/arch-x86-kvm/bochsrc" >"$WORK/bochsrc"
	: >"$4"
	"$bochs" -q -f "$WORK/bochsrc" </dev/null >"$4.bochs.out" 2>&1 &
	local pid=$! why= grace=0
	# Bochs cannot be told not to reboot: end it at the first sign that the
	# guest is gone (done, panic, reboot) or that Bochs itself panicked.
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		if grep -q '^@@tb done' "$4"; then
			grace=$((grace + 1))
			[ $grace -ge 5 ] || continue	# let the ACPI power-off finish
		elif grep -q 'Kernel panic - not syncing' "$4"; then
			why="guest kernel panic"
		elif [ "$(grep -c '^@@tb kernel' "$4")" -gt 1 ]; then
			why="guest rebooted"
		elif bochs_panic "$4.bochs.log" >/dev/null; then
			why="Bochs PANIC: $(bochs_panic "$4.bochs.log")"
		else
			continue
		fi
		kill "$pid" 2>/dev/null
		break
	done
	wait "$pid" 2>/dev/null || true
	[ -n "$why" ] || ! bochs_panic "$4.bochs.log" >/dev/null ||
		why="Bochs PANIC: $(bochs_panic "$4.bochs.log")"
	[ -z "$why" ] || echo "@@tb vm-died $why (Bochs log: $4.bochs.log)" >>"$4"
}
# 115200 baud: at the default 9600 the emulated UART drains slower than the
# tests write, and output still queued at power-off would be lost.
CMDLINE="console=ttyS0,115200 panic=-1 quiet kvm.force_emulation_prefix=1"
# Seconds before scripts/boot.sh kills a VM that hangs (VM_TIMEOUT overrides):
# a VM with all of selftests/x86.list takes 2-5 min in Bochs, two side by side.
VM_TIMEOUT_DEFAULT=900
