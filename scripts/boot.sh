#!/bin/bash
# boot.sh ARCH EMULATOR KERNEL TESTDIR LOG "EXTRA_CMDLINE" TEST...
# Pack busybox + the TEST binaries (from TESTDIR) into an initramfs, boot it
# with the arch's EMULATOR invocation (arch-ARCH-kvm/EMULATOR.sh: qemu, bochs)
# and save the console in LOG.  The VM is killed after $VM_TIMEOUT seconds
# (default: the emulator file's VM_TIMEOUT_DEFAULT, else 900), or after
# $VM_IDLE_TIMEOUT seconds without console output, if that is set.
# MODULES_DIR=DIR adds out-of-tree modules that /init loads before the tests;
# ROOT_EXTRA=DIR adds files to the root.
. "$(dirname "$0")/lib.sh"
[ $# -ge 7 ] || die "usage: boot.sh x86|arm64 EMULATOR KERNEL TESTDIR LOG CMDLINE TEST..."
arch=$1 emulator=$2 kernel=$3 tdir=$4 logf=$5 extra=$6
shift 6
[ -f "$TOP/arch-$arch-kvm/$emulator.sh" ] ||
	die "no emulator '$emulator' for $arch (arch-$arch-kvm/$emulator.sh)"
need cpio gzip timeout
# shellcheck source=/dev/null
. "$TOP/arch-$arch-kvm/$emulator.sh"
vm_check	# the emulator's own tools, before anything is built
[ -f "$kernel" ] || die "no kernel image at $kernel"
case $arch in
x86) bb=/bin/busybox ;;
arm64) bb=$BUILD/busybox/arm64/bin/busybox ;;
*) die "unknown arch '$arch'" ;;
esac
[ -x "$bb" ] || die "busybox-static for $arch missing ($bb); run 'make deps'"

root=$(mktemp -d)
trap 'rm -rf "$root" "$root.cpio.gz"' EXIT
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,tests}
cp "$bb" "$root/bin/busybox"
for a in sh mount poweroff timeout cat echo sync uname sleep ls insmod dmesg grep; do
	ln -s busybox "$root/bin/$a"
done
cp "$TOP/selftests/init" "$root/init"
chmod +x "$root/init"
: >"$root/tests/list"
for t in "$@"; do
	name=${t%% *}
	[ -x "$tdir/$name" ] || die "selftest binary $tdir/$name missing"
	mkdir -p "$root/tests/$(dirname "$name")"
	cp "$tdir/$name" "$root/tests/$name"
	echo "$t" >>"$root/tests/list"
done
echo "${TEST_TIMEOUT:-300}" >"$root/tests/timeout"
# MODULES_DIR (optional): a directory with a "load" file ("FILE.ko [PARAMS]"
# per line, in load order) and those modules; /init insmods them first.
if [ -n "${MODULES_DIR:-}" ]; then
	[ -f "$MODULES_DIR/load" ] || die "MODULES_DIR=$MODULES_DIR has no 'load' file"
	mkdir -p "$root/modules"
	cp "$MODULES_DIR/load" "$root/modules/"
	while read -r m _; do
		[ -z "$m" ] || cp "$MODULES_DIR/$m" "$root/modules/" || die "module $MODULES_DIR/$m missing"
	done <"$MODULES_DIR/load"
fi
# ROOT_EXTRA (optional): a directory copied over the root as it is.
[ -z "${ROOT_EXTRA:-}" ] || cp -a "$ROOT_EXTRA/." "$root/" || die "cannot copy ROOT_EXTRA=$ROOT_EXTRA"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$root.cpio.gz"

log "booting $arch ($(basename "$(dirname "$kernel")")) on $emulator ${extra:+[$extra] }with $# test(s)"
# The emulator runs in its own process group, so that a timeout or a
# Ctrl-C ends it and everything it started.
tmo=${VM_TIMEOUT:-${VM_TIMEOUT_DEFAULT:-900}}
: >"$logf"	# a fresh console: VM_IDLE_TIMEOUT counts from here
set -m
WORK=$root vm_boot "$kernel" "$root.cpio.gz" "$CMDLINE $extra" "$logf" &
pid=$!
set +m
stop_vm() { kill -TERM -- -"$pid" 2>/dev/null; sleep 3; kill -KILL -- -"$pid" 2>/dev/null || true; }
trap 'stop_vm; rm -rf "$root" "$root.cpio.gz"; exit 130' INT TERM
t0=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
	now=$(date +%s) why=
	if [ $((now - t0)) -ge "$tmo" ]; then
		why="vm-timeout after ${tmo}s"
	elif [ -n "${VM_IDLE_TIMEOUT:-}" ] && [ $((now - $(stat -c %Y "$logf"))) -ge "$VM_IDLE_TIMEOUT" ]; then
		why="vm-idle no console output for ${VM_IDLE_TIMEOUT}s"
	fi
	if [ -n "$why" ]; then
		stop_vm
		[ ! -f "$logf.bochs.log" ] || why="$why (Bochs log: $logf.bochs.log)"
		echo "@@tb $why" >>"$logf"
		break
	fi
	sleep 1
done
wait "$pid" 2>/dev/null || true
rm -rf "$root" "$root.cpio.gz"
exit 0
