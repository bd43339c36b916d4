#!/bin/bash
# build-bochs.sh: build Bochs 3.x (emulated Intel VMX for the x86 "vmx*"
# cells) from Debian's source package into $BUILD/bochs.  Idempotent: does
# nothing when the binary of the same source version and configuration is
# there.  Bookworm ships Bochs 2.7, whose VMX leaks the pending single-step
# trap of the exiting instruction into the next VM entry; 3.x fixes that.
. "$(dirname "$0")/lib.sh"
need tar xz make g++ apt-get

BOCHS_SUITE=${BOCHS_SUITE:-trixie}
dir=$BUILD/bochs
bin=$dir/bin/bochs
conf=(--enable-x86-64 --enable-vmx=2 --enable-svm --enable-avx --enable-evex
      --enable-pci --enable-all-optimizations --enable-monitor-mwait
      --with-nogui --disable-docbook)
stamp="${conf[*]}"
if [ -x "$bin" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]; then
	log "bochs $(cat "$dir/version") present ($bin)"
	exit 0
fi

# 1. Source: the orig and debian tarballs of $BOCHS_SUITE's "bochs" source
# package.  apt checks them against the signed Sources index.  (The mirror
# answers 404 for the .dsc itself, so apt-get's exit status is not usable;
# the tarballs are.)
apt_private "$BUILD/apt-src" deb-src "$BOCHS_SUITE"
dl=$dir/dl
mkdir -p "$dl"
if ! ls "$dl"/bochs_*.orig.tar.* >/dev/null 2>&1; then
	(cd "$dl" && timed "bochs: fetching the $BOCHS_SUITE source package" \
		apt-get "${APT_OPTS[@]}" -q source --download-only bochs >"$dl/fetch.log" 2>&1) || true
	ls "$dl"/bochs_*.orig.tar.* >/dev/null 2>&1 ||
		die "bochs: step 'fetch source' failed: no bochs_*.orig.tar.* from $BOCHS_SUITE (log: $dl/fetch.log)"
fi
orig=$(ls "$dl"/bochs_*.orig.tar.* | tail -n1)
ver=$(basename "$orig" | sed 's/^bochs_\(.*\)\.orig\.tar.*/\1/')
case $ver in 2.*) die "bochs: step 'fetch source' found version $ver; VMX single-step needs 3.x" ;; esac

# 2. Build out of the source tree, then move the binary into place, so an
# interrupted build never leaves a binary behind.
src=$dir/src
rm -rf "$src" "$dir/bin"
mkdir -p "$src"
tar -xf "$orig" -C "$src" --strip-components=1 || die "bochs: step 'unpack $orig' failed"
in_src() { # LOG CMD...: run CMD in the source tree, output to LOG
	local logf=$1
	shift
	(cd "$src" && "$@") >"$logf" 2>&1
}
timed "bochs $ver: configure" in_src "$dir/configure.log" ./configure "${conf[@]}" ||
	die "bochs: step 'configure' failed (log: $dir/configure.log)"
timed "bochs $ver: make -j$JOBS (a few minutes)" in_src "$dir/make.log" make -j"$JOBS" ||
	die "bochs: step 'make' failed (log: $dir/make.log)"
mkdir -p "$dir/bin"
cp "$src/bochs" "$bin"
echo "$stamp" >"$dir/stamp"
echo "$ver" >"$dir/version"
rm -rf "$src"
log "bochs $ver built: $bin"
