#!/bin/bash
# modules-compare.sh ARCH PATCHED-DIR STOCK-DIR CELL...: TAP comparison of
# the module cells recorded by modules-check.sh (build/modules/<base>/results)
# with the built-in kernels' results of 'make check' (build/results/<base>):
# patched modules == series kernel, stock modules == before kernel, test by
# test (outcome, exit code and case counts).  Each boot is also checked to
# have loaded the intended modules (srcversion) with the intended parameters.
# Exits non-zero on any difference.
. "$(dirname "$0")/lib.sh"
[ $# -ge 4 ] || die "usage: modules-compare.sh ARCH PATCHED-DIR STOCK-DIR CELL..."
arch=$1 pdir=$2 stock=$3
shift 3
id=$(base_id)
ref=$BUILD/results/$id
res=$BUILD/modules/$id/results
mapfile -t tests < <(list_tests "$arch")
n=0 bad=0
tap() { # ok|notok TEXT
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n $2"; else echo "not ok $n $2"; bad=$((bad + 1)); fi
}
# key TSV TEST: "outcome rc=N pass:N fail:N skip:N" of TEST in TSV
key() {
	awk -F'\t' -v t="$2" '$1 == t {
		rc = ""; c = ""
		if (match($3, /rc=[0-9]+/)) rc = substr($3, RSTART, RLENGTH)
		if (match($3, /pass:[0-9]+ fail:[0-9]+ skip:[0-9]+/)) c = " " substr($3, RSTART, RLENGTH)
		print $2 " " rc c; f = 1 } END { if (!f) print "missing" }' "$1" 2>/dev/null || echo "missing"
}

# expect TEST VARIANT KIND: what selftests/ARCH.list expects (pass, fail,
# known, skip), "@KIND" lines overriding; used where 'make check' left no
# built-in results to compare with.
expect() {
	awk -v t="$1" -v col="$([ "$2" = before ] && echo 3 || echo 4)" -v k="@$3" '
		/^[ \t]*#/ || NF == 0 { next }
		$1 == k && $2 == t { o = $col; next }
		$1 == t { e = $col }
		END { print (o != "" ? o : e) }' "$TOP/selftests/$arch.list"
}

series_rev=$(awk '$1 == "tb/series" { print $2 }' "$pdir/info")
img_rev=$(cat "$BUILD/img/$id/$arch-series/commit" 2>/dev/null || echo none)
echo "TAP version 13"
if [ "$img_rev" = "$series_rev" ]; then
	tap ok "reference: series kernel of 'make check' is tb/series ${series_rev:0:12}, as the patched modules"
else
	tap notok "reference: series kernel of 'make check' is ${img_rev:0:12}, the patched modules are tb/series ${series_rev:0:12}: re-run 'make check'"
fi
for cell in "$@"; do
	for set in patched stock; do
		case $set in patched) variant=series from=$pdir ;; stock) variant=before from=$stock ;; esac
		logf=$res/$arch-$cell-$set.log tsv=$res/$arch-$cell-$set.tsv reft=$ref/$arch-$cell-$variant.tsv
		# The boot loaded what it should: no insmod failure, the set's
		# srcversions, the planned parameters.
		why=
		[ -f "$logf" ] || why+="no console log; "
		why+=$(tr -d '\r' <"$logf" 2>/dev/null | sed -n 's/^@@tb \(insmod .* failed.*\)/\1; /p' | xargs)
		got=
		while read -r ko args; do
			m=${ko%.ko}
			# /init reports the srcversion of kvm, kvm_amd and kvm_intel.
			case $m in kvm | kvm-amd | kvm-intel) ;; *) got+="+$m "; continue ;; esac
			sv=$(modinfo -F srcversion "$res/$cell-$set.mods/$ko")
			line=$(tr -d '\r' <"$logf" | grep "^@@tb module ${m//-/_} srcversion " || true)
			case $line in "@@tb module ${m//-/_} srcversion $sv taint"*) ;;
				*) why+="${m//-/_} srcversion is not $sv; " ;; esac
			# srcversion can be the same for both sets (kvm-intel: the
			# series doesn't change its sources); only the out-of-tree
			# patched build taints the kernel with "O".
			t=$(sed -n 's/.* taint //p' <<<"$line")
			if { [ $set = patched ] && [[ $t != *O* ]]; } ||
			   { [ $set = stock ] && [[ $t == *O* ]]; }; then
				why+="${m//-/_} taint is '$t' (patched: O, stock: no O); "
			fi
			got+="${m//-/_} $sv taint ${t:--} "
			for a in $args; do
				v=$(tr -d '\r' <"$logf" | sed -n "s|^@@tb param ${m//-/_}/parameters/${a%%=*} = ||p")
				[ -n "$v" ] || continue
				case ${a#*=}/$v in 1/Y | 0/N | Y/Y | N/N) ;; *) [ "${a#*=}" = "$v" ] || why+="${m//-/_}.${a%%=*} is $v, not ${a#*=}; " ;; esac
				got+="${a%%=*}=$v "
			done
		done <"$res/$cell-$set.mods/load"
		if [ -z "$why" ]; then tap ok "$arch/$cell $set modules loaded: $got"
		else tap notok "$arch/$cell $set modules: $why"; fi
		if [ ! -f "$reft" ]; then
			tap notok "$arch/$cell $set: no built-in results of 'make check' ($reft): compared with selftests/$arch.list only"
			kind=
			if declare -F cell >/dev/null; then cell "$arch" "$cell"; kind=$CELL_KIND; fi
		fi
		for t in "${tests[@]}"; do
			a=$(key "$tsv" "$t")
			if [ ! -f "$reft" ]; then
				e=$(expect "$t" "$variant" "$kind")
				case $e in known) e=fail ;; esac
				if [ "${a%% *}" = "$e" ]; then
					tap ok "$arch/$cell $t: $set modules: $a (list expects $e for the $variant kernel)"
				else
					tap notok "$arch/$cell $t: $set modules: $a; list expects $e for the $variant kernel"
				fi
				continue
			fi
			b=$(key "$reft" "$t")
			if [ "$a" = "$b" ] && [ "$a" != missing ]; then
				tap ok "$arch/$cell $t: $set modules == $variant kernel: $a"
			else
				tap notok "$arch/$cell $t: $set modules: $a; $variant kernel: $b"
			fi
		done
	done
done
echo "1..$n"
echo "# module cells: $((n - bad)) identical/ok, $bad different"
[ "$bad" -eq 0 ]
