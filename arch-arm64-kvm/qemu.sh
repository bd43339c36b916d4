# shellcheck shell=bash
# QEMU invocation of the arm64 test VM (sourced by scripts/boot.sh).
# EL2 + VHE under TCG; GICv3 because the selftest library needs it.
QEMU=(qemu-system-aarch64 -M virt,virtualization=on,gic-version=3
      -cpu max,pauth-impdef=on -smp 2 -m 2G -nographic -no-reboot)
CMDLINE="console=ttyAMA0 panic=-1 quiet"
