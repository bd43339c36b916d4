# shellcheck shell=bash
# QEMU TCG invocation of the arm64 test VM (sourced by scripts/boot.sh).
# EL2 + VHE under TCG; GICv3 because the selftest library needs it.
# One host CPU (-smp 1, i.e. single-threaded TCG): with -smp 2, QEMU 7.2's
# multi-threaded TCG sporadically corrupts the L1 guest in VHE mode, on the
# base kernel as on the series: test processes segfault (mmio_sign_ext,
# debug-exceptions) or CPU 1 stops responding (RCU stall).  Measured with
# the five arm64 tests in fresh VMs, before and series kernels alternating:
# 2 of 12 VMs went wrong with -smp 2, 0 of 12 with -smp 1; the same failures
# hit 3 VHE VMs of make check runs with -smp 2.  The vCPU threads share the CPU.
vm_check() { need qemu-system-aarch64; }
# vm_boot KERNEL INITRD CMDLINE CONSOLE: boot, console output to CONSOLE.
vm_boot() {
	qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 \
		-cpu max,pauth-impdef=on -smp 1 -m 2G -nographic -no-reboot \
		-kernel "$1" -initrd "$2" -append "$3" </dev/null >"$4" 2>&1
}
CMDLINE="console=ttyAMA0 panic=-1 quiet"
# Seconds before scripts/boot.sh kills a VM that hangs (VM_TIMEOUT overrides):
# a VM with all of selftests/arm64.list takes about 1.5 min under TCG.
VM_TIMEOUT_DEFAULT=480
