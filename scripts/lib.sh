# shellcheck shell=bash
# Common helpers for the test-bed scripts.  Source it; do not run it.
set -eu

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
JOBS=${JOBS:-$(($(nproc) + 1))}

# Default base: Debian's linux-source-7.3 package.  KDIR overrides it.
BASE_PKG=${BASE_PKG:-linux-source-7.3}
BASE_SUITES=${BASE_SUITES:-"trixie-backports trixie sid"}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			die "'$t' not found; run 'make deps' (scripts/deps.sh) first"
	done
}

# Elapsed-time wrapper for long steps: "timed LABEL cmd..."
timed() {
	local label=$1 t0 rc=0
	shift
	t0=$(date +%s)
	log "$label"
	"$@" || rc=$?
	log "$label: $(( $(date +%s) - t0 ))s (rc=$rc)"
	return $rc
}

# Identity of the base: "debian-<version>" or "kdir-<short sha>".
base_id() { cat "$BUILD/base/id"; }
base_git() { cat "$BUILD/base/git"; }
base_commit() { cat "$BUILD/base/commit"; }

# Per-base work tree holding the branches of this project.
worktree() { echo "$BUILD/src/$(base_id)"; }

karch() {
	case $1 in
	x86) echo x86_64 ;;
	arm64) echo arm64 ;;
	*) die "unknown arch '$1' (want x86 or arm64)" ;;
	esac
}

kmake_args() {
	case $1 in
	x86) echo "ARCH=x86_64" ;;
	arm64) echo "ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-" ;;
	*) die "unknown arch '$1' (want x86 or arm64)" ;;
	esac
}

# Series file, without comments or blank lines.
series() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/patches/series"; }
