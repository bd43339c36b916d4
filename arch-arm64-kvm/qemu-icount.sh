# shellcheck shell=bash
# QEMU TCG invocation of the arm64 benchmark VM (sourced by scripts/boot.sh
# via arch-arm64-kvm/bench-matrix).  Like qemu.sh, but with ONE vCPU and
# instruction counting: with -icount shift=0,sleep=off guest time advances by
# exactly 1 ns per executed instruction (EL2, EL1 and EL0 alike), and idle time
# is skipped instead of slept, so a guest clock_gettime() difference is an
# instruction count that does not depend on the host or its load.
vm_check() { need qemu-system-aarch64; }
# vm_boot KERNEL INITRD CMDLINE CONSOLE: boot, console output to CONSOLE.
vm_boot() {
	qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 \
		-cpu max,pauth-impdef=on -smp 1 -m 2G -nographic -no-reboot \
		-icount shift=0,sleep=off \
		-kernel "$1" -initrd "$2" -append "$3" </dev/null >"$4" 2>&1
}
CMDLINE="console=ttyAMA0 panic=-1 quiet"
