#!/bin/bash
# Make the pinned base tree: a git repository holding Debian's
# linux-source-7.3, or the user's own tree when KDIR is set.
#
# Writes $BUILD/base/{id,git,commit,version}.  Idempotent: the .deb and the
# unpacked git tree are cached under $BUILD.
. "$(dirname "$0")/lib.sh"

mkdir -p "$BUILD/base"

if [ -n "${KDIR:-}" ]; then
	[ -d "$KDIR" ] || die "KDIR=$KDIR does not exist"
	# The top of a git work tree, not any directory inside one.
	[ "$(git -C "$KDIR" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$KDIR" && pwd -P)" ] ||
		die "KDIR=$KDIR is not a git tree (not the top directory of a git work tree)"
	[ -z "$(git -C "$KDIR" status --porcelain --untracked-files=no)" ] ||
		die "KDIR=$KDIR has uncommitted changes; commit or stash them first"
	KDIR=$(cd "$KDIR" && pwd)
	commit=$(git -C "$KDIR" rev-parse "${KBASE:-HEAD}^{commit}")
	echo "kdir-${commit:0:12}" >"$BUILD/base/id"
	echo "$KDIR" >"$BUILD/base/git"
	echo "$commit" >"$BUILD/base/commit"
	git -C "$KDIR" describe --always --tags "$commit" >"$BUILD/base/version"
	log "base: $KDIR at $(cat "$BUILD/base/version")"
	exit 0
fi

need apt-get dpkg-deb tar git

repo=$BUILD/linux-base.git
if [ -f "$repo/.done" ]; then
	ver=$(cat "$repo/.done")
else
	apt=$BUILD/apt
	mkdir -p "$apt/debs"
	if ! ls "$apt"/debs/"$BASE_PKG"_*.deb >/dev/null 2>&1; then
		apt_private "$apt" deb "$BASE_SUITES"
		(cd "$apt/debs" && timed "downloading $BASE_PKG" \
			apt-get "${APT_OPTS[@]}" -q download "$BASE_PKG") ||
			die "could not download $BASE_PKG"
	fi
	deb=$(ls "$apt"/debs/"$BASE_PKG"_*.deb | tail -n1)
	ver=$(dpkg-deb -f "$deb" Version)
	rm -rf "$repo" "$repo.tmp"
	mkdir -p "$repo.tmp"
	timed "unpacking $BASE_PKG $ver" sh -c \
		"dpkg-deb --fsys-tarfile '$deb' | tar -xO --wildcards '*/linux-source-*.tar.xz' |
		 tar -xJ -C '$repo.tmp' --strip-components=1"
	# Debian's packaging block in .gitignore ignores every top-level path.
	sed -i '/^# Debian packaging/,$d' "$repo.tmp/.gitignore"
	(
		cd "$repo.tmp"
		git init -q -b base
		git config user.name "test bed"
		git config user.email "testbed@localhost"
		git config gc.auto 0
		git add -A
		GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
			git commit -q -m "Linux $BASE_PKG $ver (Debian package)"
	) || die "could not make the base commit"
	echo "$ver" >"$repo.tmp/.done"
	mv "$repo.tmp" "$repo"
fi
commit=$(git -C "$repo" rev-parse base)
echo "debian-$ver" >"$BUILD/base/id"
echo "$repo" >"$BUILD/base/git"
echo "$commit" >"$BUILD/base/commit"
echo "$BASE_PKG $ver" >"$BUILD/base/version"
log "base: $BASE_PKG $ver, commit $commit"
