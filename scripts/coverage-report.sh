#!/bin/bash
# coverage-report.sh --map SRC BASE PATCHLIST: print the lines of the work tree SRC
# (at tb/series) that the series adds or changes in a .c file under
# arch/x86/kvm, virt/kvm or arch/arm64/kvm, one per line:
#   PATCH# FILE LINE FUNCTION REASON EVIDENCE TEXT   (tab-separated)
# Each line is attributed to the last patch that touched it ("git blame
# BASE..HEAD"; lines of the base are left out).  REASON is the kind of path
# the line is on, where the conditions around it, its function or (for
# errors) its own text tell (sev/tdx, nrips, nested, error: WARN_ON, BUG_ON,
# pr_err, -E..., a failed emulator step), with the telling line as EVIDENCE;
# "-" otherwise.  PATCH# is the position in
# patches/series, which must list as many patches as SRC has commits.
#
# coverage-report.sh OUT HASH: write coverage/results.md and
# coverage/lines.tsv (COVERAGE_OUT=DIR elsewhere) from the coverage run kept
# in OUT ($BUILD/coverage/<base>/<hash>, scripts/coverage.sh).
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = --map ]; then
	[ $# -eq 4 ] || die "usage: coverage-report.sh --map SRC BASE PATCHLIST"
	src=$2 base=$3
	mapfile -t commits < <(git -C "$src" rev-list --reverse "$base..HEAD")
	mapfile -t pats < <(series)
	[ ${#commits[@]} -eq ${#pats[@]} ] ||
		die "$src has ${#commits[@]} commits over the base, patches/series names ${#pats[@]}"
	for i in "${!pats[@]}"; do
		printf '%d\t%s\t%s\n' $((i + 1)) "${pats[$i]}" "$(git -C "$src" log -1 --format=%s "${commits[$i]}")"
	done >"$4"
	idx=$(mktemp)
	for i in "${!commits[@]}"; do printf '%s %d\n' "${commits[$i]}" $((i + 1)); done >"$idx"
	git -C "$src" diff --name-only "$base" HEAD -- arch/x86/kvm virt/kvm arch/arm64/kvm |
	grep '\.c$' | while read -r f; do
		git -C "$src" blame --line-porcelain "$base..HEAD" -- "$f" |
		awk -v file="$f" -v idx="$idx" -v text="$src/$f" '
		function indent(s,   i, w, c) {
			w = 0
			for (i = 1; i <= length(s); i++) {
				c = substr(s, i, 1)
				if (c == "\t") w = int(w / 8) * 8 + 8
				else if (c == " ") w++
				else break
			}
			return w
		}
		function trim(s) { sub(/^[ \t}]+/, "", s); sub(/[ \t{]+$/, "", s); return s }
		# why(L): reason and evidence from the conditions that enclose line L
		# (the block openers among the earlier, less indented lines up to the
		# function start), from the function, and for "error" from line L.
		function why(L,   k, j, ind, t, chain, n, r, pend, np) {
			n = 0; chain[++n] = txt[L]; ind = indent(txt[L]); np = 0
			for (k = L - 1; k > 0 && txt[k] !~ /^\{/; k--) {
				if (txt[k] ~ /^[ \t]*$/ || indent(txt[k]) >= ind) continue
				ind = indent(txt[k]); t = txt[k]; sub(/^[ \t]+/, "", t)
				if (t ~ /^(\} *)?(if|else|while|for|switch|case|default|do)([ (:{]|$)/) {
					# A block opener, with the lines that continue it.
					for (j = 1; j <= np; j++) chain[++n] = pend[j]
					np = 0; chain[++n] = txt[k]
				} else if (txt[k] !~ /;[ \t]*$/ && t !~ /^return/)
					pend[++np] = txt[k]
				else
					np = 0
			}
			if (fn[L] ~ /(^|_)(sev|tdx)_|nested/ || file ~ /\/(sev|tdx|nested)\.c$/)
				return (fn[L] ~ /nested/ || file ~ /nested/ ? "nested" : "sev/tdx") "\tfunction " fn[L]
			for (r = 1; r <= 4; r++)
				for (k = (r == 4 ? 1 : 2); k <= n; k++) {
					t = chain[k]
					if (r == 1 && (t ~ /(^|[^a-z_])(is_)?(sev|tdx)(_|[^a-z]|$)/ || t ~ /(^|[^A-Za-z])(SEV|TDX)([^A-Za-z]|$)/)) return "sev/tdx\t" trim(t)
					if (r == 2 && t ~ /nrips|NRIPS/ && t !~ /!(svm->)?nrips/) return "nrips\t" trim(t)
					if (r == 3 && (t ~ /[^!]is_guest_mode\(|nested_|->nested[.]|enter_guest_mode/)) return "nested\t" trim(t)
					if (r == 4 && t ~ /WARN_ON|WARN\(|BUG_ON|KVM_BUG|pr_err|pr_warn|return -E[A-Z]+|= -E[A-Z]+|goto (err|fail|out_err)|!= X86EMUL_CONTINUE|if \((r|ret|rc) < 0\)/) return "error\t" trim(t)
				}
			return "-\t-"
		}
		BEGIN {
			while ((getline l < idx) > 0) { split(l, a, " "); pn[a[1]] = a[2] }
			cur = "(file scope)"
			while ((getline l < text) > 0) {
				n++; txt[n] = l
				if (l ~ /^\{/) {
					# The signature: the nearest line above that starts
					# at column 0 with a name and has a "(".
					for (k = n - 1; k > 0 && k >= n - 8; k--)
						if (txt[k] ~ /^[A-Za-z_]/ && txt[k] ~ /\(/) {
							s = txt[k]; sub(/\(.*/, "", s)
							m = split(s, w, /[ \t*]+/); cur = w[m]
							for (; k < n; k++) fn[k] = cur
							break
						}
				}
				fn[n] = cur
				if (l ~ /^\}/) cur = "(file scope)"
			}
		}
		/^[0-9a-f]+ [0-9]+ [0-9]+/ && length($1) == 40 { sha = $1; line = $3; boundary = 0; next }
		/^boundary$/ { boundary = 1; next }
		/^\t/ {
			if (boundary || !(sha in pn)) next
			t = substr($0, 2); gsub(/\t/, "        ", t)
			printf "%d\t%s\t%d\t%s\t%s\t%s\n", pn[sha], file, line, fn[line], why(line), t
		}'
	done
	rm -f "$idx"
	exit 0
fi

[ $# -eq 2 ] || die "usage: coverage-report.sh OUT HASH | --map SRC BASE"
out=$1 hash=$2
dest=${COVERAGE_OUT:-$TOP/coverage}
mkdir -p "$dest"
src=$(cat "$out/src")
all=(x86 arm64)

# Where each arch's cells are: OUT, or for an arch not run on this series, a
# run of another series hash whose tb/series is the same commit (an export
# that changed only the patch files' decoration, not what git am makes of
# them: same kernel, same tests).
commit=$(cat "$out/commit" 2>/dev/null || cat "$out"/*.commit 2>/dev/null | head -n1 || true)
declare -A ad
for a in "${all[@]}"; do
	ad[$a]=$out
	if [ -f "$out/$a.commit" ] || [ -z "$commit" ]; then continue; fi
	cid=$(cov_id "$src" "$a")
	for d in "$out"/../*/; do
		d=${d%/}
		[ -f "$d/$a.info" ] || continue
		if [ "$(cat "$d/$a.commit" 2>/dev/null)" = "$commit" ] ||
			[ "$(cat "$d/$a.id" 2>/dev/null)" = "$cid" ]; then
			ad[$a]=$d; break
		fi
	done
done

# Cells with a run on this series, in matrix order: "ARCH CELL".
ran=$(for a in "${all[@]}"; do
	for c in $(cells "$a"); do [ ! -f "${ad[$a]}/$a-$c.row" ] || echo "$a $c"; done
done)
[ -n "$ran" ] || die "no cell has been run on series $hash"
infos=()
while read -r a c; do
	[ ! -f "${ad[$a]}/$a-$c.info" ] || infos+=("${ad[$a]}/$a-$c.info")
done <<<"$ran"

subjects=$(cat "$out/patches.tsv")

# Per line: PATCH FILE LINE FUNC CODE CELLS REASON EVIDENCE, where CODE is
# 1 if gcov counts the line in some cell (else it has no code: a
# declaration, a brace, a comment) and CELLS the cells that ran it.
awk -v src="$src/" -v ran="$ran" -v hash="$hash" -v lines="$dest/lines.tsv" -v subj="$subjects" \
	-v ureach="$TOP/coverage/unreachable" '
BEGIN {
	FS = "\t"
	# coverage/unreachable: FILE FUNCTION REASON, for lines no cell can run.
	while ((getline l < ureach) > 0) {
		if (l ~ /^#/ || l !~ /\t/) continue
		split(l, w, "\t"); UR[w[1], w[2]] = w[3]
	}
	nc = split(ran, rl, "\n")
	for (i = 1; i <= nc; i++) { split(rl[i], w, " "); carch[i] = w[1]; cname[i] = w[2]; arun[w[1]] = 1 }
	ns = split(subj, sl, "\n")
	for (i = 1; i <= ns; i++) { split(sl[i], w, "\t"); pfile[w[1]] = w[2]; psubj[w[1]] = w[3] }
}
FILENAME ~ /[.]info$/ {
	if ($0 ~ /^SF:/) { sf = substr($0, 4); if (index(sf, src) == 1) sf = substr(sf, length(src) + 1)
		b = FILENAME; sub(/.*\//, "", b); sub(/[.]info$/, "", b); ci = b; next }
	if ($0 ~ /^DA:/) { split(substr($0, 4), d, ","); code[sf, d[1]] = 1; if (d[2] > 0) hit[ci, sf, d[1]] = 1 }
	next
}
{
	n++; P[n] = $1; F[n] = $2; L[n] = $3; FN[n] = $4; R[n] = $5; E[n] = $6
	if (($2, $4) in UR) { R[n] = "test bed"; E[n] = UR[$2, $4] }
}
function archof(f) { return f ~ /^arch\/x86\// ? "x86" : f ~ /^arch\/arm64\// ? "arm64" : "both" }
function esc(s) { gsub(/\|/, "\\|", s); gsub(/`/, "", s); return s }
function ranges(list,   a, m, i, o, s, e) {
	m = split(list, a, " "); o = ""
	for (i = 1; i <= m; i++) {
		s = e = a[i]
		while (i < m && a[i + 1] == e + 1) { e = a[++i] }
		o = o (o == "" ? "" : ",") (s == e ? s : s "-" e)
	}
	return o
}
END {
	nl = n
	printf "# make coverage: per line, the cells that ran it (scripts/coverage.sh; do not edit)\n# Series hash: `%s`\n# PATCH\tFILE\tLINE\tFUNCTION\tCELLS\tREASON\n", hash >lines
	for (i = 1; i <= nl; i++) {
		f = F[i]; a = archof(f); cs = ""; meas = 0
		for (c = 1; c <= nc; c++) {
			if (a != "both" && carch[c] != a) continue
			meas = 1
			if (hit[carch[c] "-" cname[c], f, L[i]]) cs = cs (cs == "" ? "" : " ") cname[c]
		}
		iscode = code[f, L[i]]
		p = P[i]
		tot[p]++; files[p] = files[p] (index(" " files[p] " ", " " f " ") ? "" : (files[p] == "" ? "" : " ") f)
		if (!meas) { st[i] = "unmeasured"; unm[p]++ }
		else if (!iscode) st[i] = "nocode"
		else {
			cod[p]++
			for (c = 1; c <= nc; c++) if (index(" " cs " ", " " cname[c] " ")) { pc[p, c]++; ax[p, carch[c]]++ }
			st[i] = cs == "" ? "never" : "run"
			if (cs == "") nev[p]++
		}
		CS[i] = cs
		# executed per arch (a line counts once per arch)
		if (st[i] == "run") {
			split(cs, q, " "); delete seen
			for (k in q) for (c = 1; c <= nc; c++) if (cname[c] == q[k]) seen[carch[c]] = 1
			for (A in seen) run[p, A]++
		}
		printf "%d\t%s\t%d\t%s\t%s\t%s\n", p, f, L[i], FN[i], st[i] == "run" ? cs : st[i] == "never" ? "none" : st[i], st[i] == "never" ? (R[i] == "-" ? "no test reaches it" : R[i] == "test bed" ? "test bed: " E[i] : R[i]) : "-" >>lines
	}

	print "## Changed lines per patch"
	print ""
	print "\"changed\": lines of the final tree that the patch adds or changes (last patch to touch"
	print "a line wins) in .c files under arch/x86/kvm, virt/kvm, arch/arm64/kvm; \"with code\": the"
	print "ones gcov counts (not declarations, braces, comments); \"ran on ARCH\": with code and run"
	print "in at least one cell of ARCH; \"never\": with code and run in no cell."
	print ""
	print "| # | patch | files | changed | with code | ran on x86 | ran on arm64 | never |"
	print "|---:|---|---|---:|---:|---:|---:|---:|"
	for (p = 1; p in pfile; p++) {
		if (!(p in tot)) continue
		fl = files[p]; gsub(/arch\/(x86|arm64)\/kvm\//, "", fl); gsub(/ /, ", ", fl)
		x = (files[p] ~ /arch\/arm64|virt/) ? run[p, "arm64"] + 0 : "-"
		y = (files[p] ~ /arch\/x86|virt/) ? run[p, "x86"] + 0 : "-"
		if (!arun["x86"] && y != "-") y = "not run"
		if (!arun["arm64"] && x != "-") x = "not run"
		if (unm[p] == tot[p]) printf "| %d | %s | %s | %d | not run | %s | %s | - |\n", p, esc(psubj[p]), fl, tot[p], y, x
		else printf "| %d | %s | %s | %d | %d | %s | %s | %d |\n", p, esc(psubj[p]), fl, tot[p], cod[p], y, x, nev[p]
		T += tot[p]; C += cod[p]; N += nev[p]; RX += run[p, "x86"]; RA += run[p, "arm64"]
	}
	printf "| | **all** | | **%d** | **%d** | **%d** | **%d** | **%d** |\n", T, C, RX, RA, N
	print ""
	print "Lines with code run, per cell:"
	print ""
	h = "| # | with code |"; s = "|---:|---:|"
	for (c = 1; c <= nc; c++) { h = h " " carch[c] "/" cname[c] " |"; s = s "---:|" }
	print h; print s
	for (p = 1; p in pfile; p++) {
		if (!(p in tot) || !cod[p]) continue
		r = "| " p " | " cod[p] " |"
		for (c = 1; c <= nc; c++) {
			pa = archof(files[p])
			r = r " " ((files[p] ~ ("arch/" carch[c]) || files[p] ~ /virt/) ? pc[p, c] + 0 : "-") " |"
		}
		print r
	}

	print ""
	print "## Never run"
	print ""
	print "Lines with code that ran in no cell, by patch and function.  A reason only where the"
	print "code tells (the line or a condition around it, quoted): `sev/tdx` (SEV or TDX guests,"
	print "not in the test bed), `nrips` (NRIPS-only: TCG has none, kvm_amd runs with nrips=0),"
	print "`nested` (a nested-guest path), `error` (WARN_ON, BUG_ON, pr_err, an error return or a"
	print "failed emulator step), `test bed` (listed with why in coverage/unreachable: no"
	print "emulator here, or no guest at all, can take the path)."
	print ""
	print "| # | lines | function | reason |"
	print "|---:|---|---|---|"
	nn = 0
	for (i = 1; i <= nl; i++) {
		if (st[i] != "never") continue
		key = P[i] SUBSEP F[i] SUBSEP FN[i] SUBSEP R[i] SUBSEP E[i]
		if (!(key in grp)) { grp[key] = ++nn; gk[nn] = key }
		gl[key] = gl[key] (gl[key] == "" ? "" : " ") L[i]
	}
	for (p = 1; p in pfile; p++) for (g = 1; g <= nn; g++) {
		split(gk[g], gg, SUBSEP)
		if (gg[1] != p) continue
		fl = gg[2]; sub(/^arch\/(x86|arm64)\/kvm\//, "", fl)
		rs = gg[4] == "-" ? "no test reaches it" : gg[4] == "test bed" ? "test bed: " esc(gg[5]) : gg[4] " (`" esc(substr(gg[5], 1, 70)) "`)"
		printf "| %d | %s:%s | %s | %s |\n", gg[1], fl, ranges(gl[gk[g]]), esc(gg[3]), rs
	}
	if (!nn) print "| | none | | |"
	um = 0
	for (p in unm) um += unm[p]
	if (um) { print ""; printf "%d changed lines are in files of an arch whose cells were not run (not measured).\n", um }

	print ""
	print "## Per line"
	print ""
	print "Every changed line with code, in ranges of consecutive lines of one patch and"
	print "function that ran in the same cells (coverage/lines.tsv has one row per line)."
	print ""
	print "| # | lines | function | cells |"
	print "|---:|---|---|---|"
	for (i = 1; i <= nl; i++) {
		if (st[i] != "run" && st[i] != "never") continue
		kk = P[i] SUBSEP F[i] SUBSEP FN[i] SUBSEP CS[i]
		if (kk != last) { if (last != "") flush(); last = kk; buf = "" }
		buf = buf (buf == "" ? "" : " ") L[i]
	}
	if (last != "") flush()
}
function flush(   k, fl, a, cs, c, all) {
	split(last, k, SUBSEP)
	fl = k[2]; sub(/^arch\/(x86|arm64)\/kvm\//, "", fl)
	cs = k[4]
	if (cs == "") cs = "none"
	printf "| %d | %s:%s | %s | %s |\n", k[1], fl, ranges(buf), esc(k[3]), cs
}' "${infos[@]}" "$out/lines.map" >"$out/report.body"

# Cells: "| cell | emulator | VM wall | gcov data | capture | tests | status |"
cellrows=$(while read -r a c; do
	cell "$a" "$c"
	IFS=$'\t' read -r vm nf nb cap tst st <"${ad[$a]}/$a-$c.row"
	detail=
	[ "$st" = ok ] || { detail=$st; st=fail; }
	# The tests that did not pass or skip, by name (selftests/ARCH.list
	# says which are known test-bed failures in which cells).
	bad=$(awk -F'\t' '$2 != "pass" && $2 != "skip" { sub(/^[^\/]*\//, "", $1); print $1 "=" $2 }' \
		"${ad[$a]}/$a-$c/tests.tsv" 2>/dev/null | paste -sd' ')
	[ -z "$bad" ] || tst="$tst: $bad"
	printf '| %s/%s | %s %s | %s s | %s | %s | %s | %s | %s |\n' "$a" "$c" "$CELL_EMULATOR" \
		"${CELL_PARAMS:-(default)}" "$vm" \
		"$([ "$nf" = - ] && echo - || echo "$nf files, $((nb / 1024)) KiB")" \
		"$([ "$cap" = - ] && echo - || echo "$cap s")" "$tst" "$st" "${detail:--}"
done <<<"$ran")

{
	echo "# make coverage: which changed lines the tests run, per cell"
	echo
	echo "Written by \`make coverage\` (scripts/coverage.sh); do not edit."
	echo "Series hash: \`$hash\` (scripts/series-hash.sh)"
	echo
	echo "Kernels: the series' test-bed kernels (tinyconfig + arch-ARCH-kvm/kvm.config) plus"
	echo "arch-ARCH-kvm/gcov.config (CONFIG_GCOV_KERNEL, not CONFIG_GCOV_PROFILE_ALL), with gcov"
	echo "profiling of the objects built by arch/x86/kvm/Makefile resp. arch/arm64/kvm/Makefile"
	echo "only (virt/kvm included, arch/arm64/kvm/hyp/ not), set from the make command line."
	echo "Tests: selftests/ARCH.list, as make check runs them.  Counters: /sys/kernel/debug/gcov"
	echo "after the tests (boot included), captured per cell with lcov.  Lines: \`git blame"
	echo "base..tb/series\` of the final tree."
	echo
	for a in "${all[@]}"; do
		d=${ad[$a]}
		if [ -f "$d/$a.info" ] && [ "$d" != "$out" ]; then
			if [ "$(cat "$d/$a.commit" 2>/dev/null)" = "$commit" ]; then
				echo "- $(cat "$d/$a.info"), while patches/ was series \`$(basename "$d")\`: same tb/series commit ${commit:0:12}, same kernel and tests"
			else
				echo "- $(cat "$d/$a.info"), while patches/ was series \`$(basename "$d")\`: same kernel, selftest library and $a tests (the series changed since only in changelogs or in $( [ "$a" = x86 ] && echo arm64 || echo x86) test programs)"
			fi
		elif [ -f "$d/$a.info" ]; then echo "- $(cat "$d/$a.info"), tb/series commit ${commit:0:12}"
		else echo "- $a: not run on this series"; fi
	done
	echo
	echo "| cell | emulator | VM wall | gcov data | capture | tests | status | detail |"
	echo "|---|---|---:|---|---:|---|---|---|"
	echo "$cellrows"
	echo
	echo "Wall time per phase (seconds):"
	echo
	echo "| arch | phase | s |"
	echo "|---|---|---:|"
	for a in "${all[@]}"; do
		[ -f "${ad[$a]}/$a.times" ] || continue
		awk -F'\t' -v a="$a" '$1 !~ /: make / { sub("^" a "[:/] ?", "", $1); printf "| %s | %s | %s |\n", a, $1, $2 }' "${ad[$a]}/$a.times"
	done
	echo
	cat "$out/report.body"
} >"$dest/results.md"
log "coverage: results in ${dest#"$TOP/"}/results.md, per line in ${dest#"$TOP/"}/lines.tsv"
