#!/bin/bash
# modules-distro.sh: the user's situation exactly, as far as the tools allow.
# Downloads Debian's kernel of the base version (trixie-backports
# linux-image/linux-headers 7.3.4+deb13-amd64, linux-kbuild) with a private
# apt configuration under build/modules/distro/apt (mirror copied from this
# machine's apt sources, nothing system-wide changes), unpacks them under
# build/modules/distro/root and builds the patched modules against the
# headers with scripts/modules.sh.  The headers' host tools are linked
# against trixie's glibc; if they cannot run here, the error is printed.
. "$(dirname "$0")/lib.sh"
need apt-get dpkg-deb
abi=${DISTRO_ABI:-7.3.4+deb13}
flavour=${DISTRO_FLAVOUR:-amd64}
suites=${DISTRO_SUITES:-trixie-backports}
d=$BUILD/modules/distro
apt=$d/apt
mkdir -p "$d/debs"
pkgs=("linux-headers-$abi-$flavour" "linux-headers-$abi-common" "linux-kbuild-$abi")
missing=()
for p in "${pkgs[@]}"; do
	ls "$d/debs/${p}_"*.deb >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt_private "$apt" deb "$suites"
	(cd "$d/debs" && timed "downloading ${missing[*]}" \
		apt-get "${APT_OPTS[@]}" -q download "${missing[@]}" >"$apt/download.log" 2>&1) ||
		die "could not download ${missing[*]} (see $apt/download.log)"
fi
root=$d/root
if [ ! -f "$root/.done" ]; then
	rm -rf "$root"
	mkdir -p "$root"
	for p in "${pkgs[@]}"; do
		timed "unpacking $p" dpkg-deb -x "$(ls "$d/debs/${p}_"*.deb | tail -n1)" "$root"
	done
	touch "$root/.done"
fi
kdir=$root/usr/src/linux-headers-$abi-$flavour
[ -d "$kdir" ] || die "no $kdir in the headers package"
# Its Makefile includes the common headers by absolute path
# (/usr/src/linux-headers-*-common); point it at the unpacked copy.  The
# scripts and tools symlinks are relative and already right.
sed -i "s|^\(KBUILD_OUTPUT=\|include \)/usr/src/|\1$root/usr/src/|" "$kdir/Makefile"
log "distro headers: $kdir ($(cat "$kdir/include/config/kernel.release")), $(grep CONFIG_CC_VERSION_TEXT "$kdir/.config")"
# What a bookworm machine can run of the headers' host tools (trixie glibc).
for t in "$root"/usr/lib/linux-kbuild-"$abi"/scripts/basic/fixdep \
	 "$root"/usr/lib/linux-kbuild-"$abi"/scripts/mod/modpost \
	 "$root"/usr/lib/linux-kbuild-"$abi"/tools/objtool/objtool.real-x86; do
	if msg=$("$t" --help 2>&1 >/dev/null) || ! echo "$msg" | grep -q GLIBC_; then
		log "host tool ${t#"$root"/}: runs here"
	else
		log "host tool ${t#"$root"/}: $msg"
	fi
done
# The module build, with the headers' own compiler (Debian's CC), else
# MODULES_CC (e.g. gcc).
"$TOP/scripts/modules.sh" "$kdir"
