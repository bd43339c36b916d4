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
	time_record "$label" "$t0"
	return $rc
}

# time_record LABEL START: note that step LABEL took since START (epoch
# seconds) in $TIMING_LOG, if set; check.sh sets it, report.sh prints it.
time_record() {
	[ -z "${TIMING_LOG:-}" ] ||
		printf '%s\t%s\n' "$1" "$(( $(date +%s) - $2 ))" >>"$TIMING_LOG"
}

# Identity of the base: "debian-<version>" or "kdir-<short sha>".
base_id() { cat "$BUILD/base/id"; }
base_git() { cat "$BUILD/base/git"; }
base_commit() { cat "$BUILD/base/commit"; }

# Per-base work tree holding the branches of this project.
worktree() { echo "$BUILD/src/$(base_id)"; }

# uapi_headers ARCH SRC DIR: install the uapi headers of the tree SRC for
# ARCH into DIR/usr (built in DIR/hdr-build, so SRC stays clean).
uapi_headers() {
	# shellcheck disable=SC2046
	make -s -C "$2" $(kmake_args "$1") O="$3/hdr-build" \
		INSTALL_HDR_PATH="$3/usr" headers_install >/dev/null ||
		die "$1: headers_install failed"
}

# private_worktree DIR REV: a work tree of the base repository at DIR with
# its HEAD detached at REV, created on first use, for a script that must not
# move the shared work tree's checkout.
private_worktree() {
	if [ ! -e "$1/.git" ]; then
		log "creating work tree $1"
		git -C "$(base_git)" worktree prune
		git -C "$(base_git)" worktree add -q --detach "$1" "$2" ||
			die "could not create the work tree $1"
	elif [ "$(git -C "$1" rev-parse HEAD)" != "$(git -C "$1" rev-parse "$2^{commit}")" ]; then
		git -C "$1" checkout -q --detach "$2"
	fi
}

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

# apt_private DIR TYPES SUITES: a private apt configuration in DIR (own
# sources, lists and cache; nothing system-wide changes) for the Debian
# suites SUITES, TYPES "deb" and/or "deb-src".  The mirror is taken from this
# machine's own apt sources.  Sets the array APT_OPTS and updates the lists
# once (cached in DIR).
apt_private() {
	local dir=$1 types=$2 suites=$3 uri
	need apt-get
	mkdir -p "$dir/sources" "$dir/lists/partial" "$dir/cache/archives/partial"
	uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		tr ' ' '\n' | grep -v -e security -e '^$' | head -n1 || true)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null || true)
	[ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}"
	cat >"$dir/sources/private.sources" <<EOS
Types: $types
URIs: $uri
Suites: $suites
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	APT_OPTS=(-o Dir::Etc::SourceList=/dev/null
		-o Dir::Etc::SourceParts="$dir/sources"
		-o Dir::State::Lists="$dir/lists"
		-o Dir::Cache="$dir/cache"
		-o APT::Architecture=amd64 -o APT::Architectures=amd64
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root)
	if [ ! -f "$dir/lists/.updated" ] || ! cmp -s "$dir/sources/private.sources" "$dir/lists/.updated"; then
		timed "apt-get update (private lists: $types for $suites)" \
			apt-get "${APT_OPTS[@]}" -q update >"$dir/update.log" 2>&1 ||
			die "apt-get update failed, see $dir/update.log"
		cp "$dir/sources/private.sources" "$dir/lists/.updated"
	fi
}

# list_tests ARCH: the tests of selftests/ARCH.list (not the "@KIND" lines).
list_tests() { sed -e 's/#.*//' "$TOP/selftests/$1.list" | awk 'NF && $1 !~ /^@/ { print $1 }'; }

# tree_id GIT REV SKIP FILE...: identity of what a sweep run depends on: the
# tree of REV but for the paths that match the Perl regex SKIP (e.g. test
# programs the run never builds), and the contents of the project FILEs.
# Two series with the same tree_id give the same run; the sweeps use it to
# carry a run over an export that changed only skipped paths.
tree_id() {
	local git=$1 rev=$2 skip=$3
	shift 3
	{
		git -C "$git" ls-tree -r "$rev" | grep -v -P "\t($skip)"
		(cd "$TOP" && cat -- "$@")
	} | sha256sum | cut -c1-12
}

# cov_id SRC ARCH: tree_id of a "make coverage" run of ARCH on the tree SRC:
# everything but the other arch's test programs, plus the test list, cells
# gcov config and stress test of ARCH.
cov_id() {
	local other=arm64
	[ "$2" = x86 ] || other=x86
	tree_id "$1" HEAD "tools/testing/selftests/kvm/$other/[^/]+\.[ch]$" \
		"selftests/$2.list" "selftests/stress/$2/exit_stress_test.c" \
		"arch-$2-kvm/matrix" "arch-$2-kvm/gcov.config"
}

# Matrix cells (arch-ARCH-kvm/matrix): "NAME EMULATOR KIND PARAMS" lines.
cells() { sed -e 's/#.*//' "$TOP/arch-$1-kvm/matrix" | awk 'NF { print $1 }'; }
# cell ARCH NAME: sets CELL_EMULATOR, CELL_KIND and CELL_PARAMS ("-" = none).
cell() {
	local line
	line=$(awk -v c="$2" '!/^#/ && $1 == c' "$TOP/arch-$1-kvm/matrix")
	[ -n "$line" ] || die "no cell '$2' in arch-$1-kvm/matrix"
	read -r _ CELL_EMULATOR CELL_KIND CELL_PARAMS <<<"$line"
	[ "$CELL_PARAMS" != - ] || CELL_PARAMS=
}

# run_cells ARCH WHAT FN CELL...: "FN CELL" for every CELL of arch-ARCH-kvm/
# matrix, with cell()'s CELL_* variables set for it.  Bochs is
# single-threaded: its cells run side by side, two at a time; QEMU cells run
# one by one (the x86 VM uses both host CPUs, -smp 2).  Dies, naming WHAT, if
# a Bochs cell failed.
run_cells() {
	local arch=$1 what=$2 fn=$3 c p
	local -a pids=()
	shift 3
	for c in "$@"; do
		cell "$arch" "$c"
		if [ "$CELL_EMULATOR" = bochs ]; then
			while [ "$(jobs -rp | wc -l)" -ge 2 ]; do sleep 1; done
			"$fn" "$c" &
			pids+=($!)
		else
			"$fn" "$c"
		fi
	done
	for p in "${pids[@]}"; do
		wait "$p" || die "$what: a Bochs cell could not be run (see above)"
	done
}

# Series file, without comments or blank lines.
series() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/patches/series"; }

# Identity of the series: the first 12 hex digits of the sha256 of the patch
# files of patches/series, concatenated in order.
# series_selftests [ARCH]: the selftests ("ARCH/name") the series adds or
# changes, from the "+++ b/" lines of its patches.
series_selftests() {
	(cd "$TOP/patches" && series | xargs cat) |
		sed -n "s|^+++ b/tools/testing/selftests/kvm/\(${1:-[a-z0-9]*}/[^/]*\)\.c$|\1|p" | sort -u
}

series_hash() { (cd "$TOP/patches" && series | xargs cat) | sha256sum | cut -c1-12; }

# use_ccache: compile through the project's ccache ($BUILD/ccache), in
# depend mode: the compiler's own -MD output replaces ccache's preprocessor
# run, which costs about a fifth of a cold kernel build (x86: drivers/acpi,
# kernel, arch/x86/kvm took 11m53s CPU with a cold cache in the default
# mode, 9m01s in depend mode, 10m02s without ccache, measured beside other
# jobs); a warm cache hits as before.  Compiles without -MD are cached in
# the default mode.
use_ccache() {
	export CCACHE_DIR=$BUILD/ccache CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1 CCACHE_DEPEND=1
}

# kbuild_kernel ARCH SRC OUT LOG [FRAGMENT...]: build the test-bed kernel of
# the tree SRC in O=OUT (incremental, ccache).  OUT is configured from "make
# tinyconfig" + arch-ARCH-kvm/kvm.config (+ the optional extra FRAGMENTs of
# arch-ARCH-kvm/, merged in order), again whenever a fragment changes, and
# every fragment option must survive olddefconfig.  With CONFIG_MODULES=y
# the modules are built too.  KMAKE_ARGS (optional): more make arguments for
# the build step, words without spaces (scripts/coverage.sh turns gcov
# profiling on per directory with it).  Sets KIMAGE to the image path.
kbuild_kernel() {
	local arch=$1 src=$2 out=$3 logf=$4 frag cc target bad f stale=
	local -a args frags
	frags=("$TOP/arch-$arch-kvm/kvm.config")
	for f in "${@:5}"; do frags+=("$TOP/arch-$arch-kvm/$f"); done
	frag=$(mktemp)
	# Expected value of each option: the last fragment that sets it wins.
	cat "${frags[@]}" | awk -F= '/^CONFIG_/ { v[$1] = $0 } END { for (k in v) print v[k] }' | sort >"$frag"
	# Reconfigure when the merged fragments differ from those of the last
	# configuration (by content: a file's date says nothing in a clone).
	[ "$(cat "$out/.tb-fragments" 2>/dev/null)" = "$(sha256sum <"$frag")" ] || stale=1
	cc=gcc
	[ "$arch" = arm64 ] && cc=aarch64-linux-gnu-gcc
	need make ccache "$cc"
	# shellcheck disable=SC2207
	args=($(kmake_args "$arch") O="$out" CC="ccache $cc")
	use_ccache
	export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=tb KBUILD_BUILD_HOST=tb
	mkdir -p "$out"
	if [ ! -f "$out/.config" ] || [ -n "$stale" ]; then
		log "$arch: configuring $out (tinyconfig + $(cd "$TOP" && echo "${frags[@]#"$TOP/"}"))"
		make -s -C "$src" "${args[@]}" tinyconfig >/dev/null
		"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
		make -s -C "$src" "${args[@]}" olddefconfig >/dev/null
		bad=$(grep '^CONFIG_' "$frag" | while IFS= read -r l; do
			if [ "${l#*=}" = n ]; then
				! grep -q "^${l%%=*}=" "$out/.config" || echo "${l%%=*}"
			else
				grep -qx "$l" "$out/.config" || echo "${l%%=*}"
			fi
		done)
		[ -z "$bad" ] || { rm -f "$frag"; die "$arch: options dropped by olddefconfig: $bad"; }
		sha256sum <"$frag" >"$out/.tb-fragments"
	fi
	rm -f "$frag"
	case $arch in
	x86) target=bzImage KIMAGE=$out/arch/x86/boot/bzImage ;;
	arm64) target=Image KIMAGE=$out/arch/arm64/boot/Image ;;
	esac
	grep -q '^CONFIG_MODULES=y' "$out/.config" && target+=" modules"
	# shellcheck disable=SC2086
	_kb() { make -s -C "$src" "${args[@]}" ${KMAKE_ARGS:-} -j"$JOBS" $target >"$logf" 2>&1; }
	timed "$arch: make $target in $out (-j$JOBS)" _kb ||
		{ grep -E 'error|warning' "$logf" | head -n 30 >&2; die "$arch: kernel build failed (log: $logf)"; }
}
