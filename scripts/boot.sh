#!/bin/bash
# boot.sh ARCH KERNEL TESTDIR LOG "EXTRA_CMDLINE" TEST...
# Pack busybox + the TEST binaries (from TESTDIR) into an initramfs, boot it
# under QEMU TCG with the arch's invocation (arch-ARCH-kvm/qemu.sh) and save
# the console in LOG.  The VM is killed after $VM_TIMEOUT seconds.
# MODULES_DIR=DIR adds out-of-tree modules that /init loads before the tests.
. "$(dirname "$0")/lib.sh"
[ $# -ge 6 ] || die "usage: boot.sh x86|arm64 KERNEL TESTDIR LOG CMDLINE TEST..."
arch=$1 kernel=$2 tdir=$3 logf=$4 extra=$5
shift 5
need cpio gzip timeout
[ -f "$kernel" ] || die "no kernel image at $kernel"
case $arch in
x86) bb=/bin/busybox ;;
arm64) bb=$BUILD/busybox/arm64/bin/busybox ;;
*) die "unknown arch '$arch'" ;;
esac
[ -x "$bb" ] || die "busybox-static for $arch missing ($bb); run 'make deps'"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,tests}
cp "$bb" "$root/bin/busybox"
for a in sh mount poweroff timeout cat echo sync uname sleep ls insmod; do
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
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$root.cpio.gz"

# shellcheck source=/dev/null
. "$TOP/arch-$arch-kvm/qemu.sh"
log "booting $arch ($(basename "$(dirname "$kernel")")) ${extra:+[$extra] }with $# test(s)"
rc=0
timeout -k 10 "${VM_TIMEOUT:-900}" "${QEMU[@]}" -kernel "$kernel" -initrd "$root.cpio.gz" \
	-append "$CMDLINE $extra" </dev/null >"$logf" 2>&1 || rc=$?
rm -f "$root.cpio.gz"
[ $rc -eq 124 ] && echo "@@tb vm-timeout after ${VM_TIMEOUT:-900}s" >>"$logf"
exit 0
