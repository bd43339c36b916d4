#!/bin/bash
# parse-console.sh LOG TEST...: one line per TEST, "TEST<TAB>OUTCOME<TAB>DETAIL",
# OUTCOME one of pass, fail, skip, hung (the in-VM timeout killed it), died
# (started, never finished: the VM timed out, panicked or the emulator died;
# DETAIL says which) or notrun (the VM ended before the test started).
set -eu
logf=$1
shift
tr -d '\r' <"$logf" | awk -v tests="$*" '
	/^@@tb begin / { cur = $3; began[cur] = 1; cases[cur] = ""; next }
	/^@@tb end / {
		t = $3; rc = $4; sub(/^rc=/, "", rc)
		out[t] = rc == 0 ? "pass" : rc == 4 ? "skip" : "fail"
		if (rc == 124 || rc == 143) out[t] = "hung"
		det[t] = "rc=" rc; cur = ""; next
	}
	/^@@tb vm-(timeout|died) / { vm = substr($0, 6) }
	/^# Totals: / && cur != "" { cases[cur] = $3 " " $4 " " $7 }
	/^not ok / && cur != "" { bad[cur] = bad[cur] (bad[cur] == "" ? "" : "; ") substr($0, 1, 120) }
	END {
		n = split(tests, ts, " ")
		for (i = 1; i <= n; i++) {
			t = ts[i]
			if (t in out) o = out[t]
			else if (t in began) { o = "died"; det[t] = "no end marker" (vm == "" ? "" : ": " vm) }
			else { o = "notrun"; det[t] = "VM ended first" (vm == "" ? "" : ": " vm) }
			d = det[t]
			if (cases[t] != "") d = d " " cases[t]
			if (bad[t] != "") d = d " [" bad[t] "]"
			printf "%s\t%s\t%s\n", t, o, d
		}
	}'
