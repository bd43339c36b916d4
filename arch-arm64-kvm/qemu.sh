# shellcheck shell=bash
# QEMU TCG invocation of the arm64 test VM (sourced by scripts/boot.sh).
# EL2 + VHE under TCG; GICv3 because the selftest library needs it.
# vm_boot KERNEL INITRD CMDLINE CONSOLE: boot, console output to CONSOLE.
vm_boot() {
	need qemu-system-aarch64
	qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 \
		-cpu max,pauth-impdef=on -smp 2 -m 2G -nographic -no-reboot \
		-kernel "$1" -initrd "$2" -append "$3" </dev/null >"$4" 2>&1
}
CMDLINE="console=ttyAMA0 panic=-1 quiet"
# Seconds before scripts/boot.sh kills a VM that hangs (VM_TIMEOUT overrides):
# a VM with all of selftests/arm64.list takes about 1.5 min under TCG.
VM_TIMEOUT_DEFAULT=480
