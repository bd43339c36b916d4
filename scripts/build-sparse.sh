#!/bin/bash
# build-sparse.sh: build a sparse new enough for the kernel's checker-valid.sh
# (it needs __typeof_unqual__) from Debian's newest sparse source package,
# into $BUILD/tools/bin/sparse.  Bookworm's sparse 0.6.4 is too old, and the
# newer binary packages need a newer libc, so the source is built here.
. "$(dirname "$0")/lib.sh"
SPARSE_SUITE=${SPARSE_SUITE:-sid}
bin=$BUILD/tools/bin/sparse
valid() { [ -x "$bin" ] && [ "$(sh "$(base_git)/scripts/checker-valid.sh" "$bin" -m64 2>/dev/null)" = 1 ]; }
valid && exit 0
need dpkg-source make gcc
apt=$BUILD/apt-sparse
mkdir -p "$apt/src" "$BUILD/tools/bin"
apt_private "$apt" deb-src "$SPARSE_SUITE"
rm -rf "$apt/src"/*
(cd "$apt/src" && apt-get "${APT_OPTS[@]}" -q --download-only source sparse >/dev/null 2>&1) ||
	die "could not download the sparse source package from $SPARSE_SUITE"
(cd "$apt/src" && dpkg-source -q --no-check -x ./*.dsc sparse-src >/dev/null) ||
	die "could not unpack the sparse source package"
timed "building sparse ($(ls "$apt/src"/*.dsc | xargs -n1 basename))" \
	make -s -C "$apt/src/sparse-src" -j"$JOBS" sparse CC=gcc HAVE_LLVM=no HAVE_GTK=no HAVE_SQLITE=no HAVE_LIBXML=no >/dev/null 2>&1 ||
	die "sparse build failed"
cp "$apt/src/sparse-src/sparse" "$bin"
valid || die "the sparse built from $SPARSE_SUITE still fails the kernel's checker-valid.sh"
log "sparse: $("$bin" --version)"
