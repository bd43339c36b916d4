# shellcheck shell=bash
# QEMU TCG invocation of the x86 test VM (sourced by scripts/boot.sh).
# TCG emulates AMD SVM (NPT, no NRIPS), so kvm_amd loads with nrips=0.
vm_check() { need qemu-system-x86_64; }
# vm_boot KERNEL INITRD CMDLINE CONSOLE: boot, console output to CONSOLE.
vm_boot() {
	qemu-system-x86_64 -M q35 -cpu max -smp 2 -m 2G -nographic -no-reboot \
		-kernel "$1" -initrd "$2" -append "$3" </dev/null >"$4" 2>&1
}
CMDLINE="console=ttyS0 panic=-1 quiet kvm.force_emulation_prefix=1"
# Seconds before scripts/boot.sh kills a VM that hangs (VM_TIMEOUT overrides):
# a VM with all of selftests/x86.list takes about 1 min under TCG.
VM_TIMEOUT_DEFAULT=480
