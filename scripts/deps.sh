#!/bin/bash
# Install the Debian packages the test bed needs.  Idempotent: does nothing
# when everything is present.  Needs root (or sudo) only when installing.
. "$(dirname "$0")/lib.sh"

pkgs=(git make gcc bc bison flex cpio xz-utils kmod rsync libelf-dev libssl-dev
      ccache qemu-system-x86 qemu-system-arm gcc-aarch64-linux-gnu
      libc6-dev-arm64-cross busybox-static perl python3 sparse python3-sphinx
      python3-yaml python3-ply python3-git b4 dpkg-dev
      clang g++ isolinux syslinux-common xorriso bochsbios vgabios lcov)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	$sudo apt-get -q update >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get -q install -y \
		--no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install failed for: ${missing[*]}"
fi

# busybox-static for arm64 is unpacked into the build directory, so no
# foreign architecture has to be installed system-wide.
bb=$BUILD/busybox/arm64/bin/busybox
if [ ! -x "$bb" ]; then
	dpkg --print-foreign-architectures | grep -qx arm64 || {
		log "enabling the arm64 dpkg architecture (package lists only)"
		$sudo dpkg --add-architecture arm64
		$sudo apt-get -q update >/dev/null
	}
	d=$BUILD/busybox/dl
	mkdir -p "$d"
	(cd "$d" && apt-get -q -o APT::Sandbox::User=root download busybox-static:arm64 >/dev/null) ||
		die "could not download busybox-static:arm64"
	dpkg-deb -x "$d"/busybox-static_*_arm64.deb "$BUILD/busybox/arm64.tmp"
	rm -rf "$BUILD/busybox/arm64"
	mkdir -p "$BUILD/busybox/arm64/bin"
	cp "$BUILD/busybox/arm64.tmp/bin/busybox" "$bb"
	rm -rf "$BUILD/busybox/arm64.tmp"
fi
# Bochs 3.x for the VMX cells, built from Debian's source package.
"$TOP/scripts/build-bochs.sh"
log "dependencies present"
