# shellcheck shell=bash
# QEMU invocation of the x86 test VM (sourced by scripts/boot.sh).
# TCG emulates AMD SVM (NPT, no NRIPS), so kvm_amd loads with nrips=0.
QEMU=(qemu-system-x86_64 -M q35 -cpu max -smp 2 -m 2G -nographic -no-reboot)
CMDLINE="console=ttyS0 panic=-1 quiet kvm.force_emulation_prefix=1"
