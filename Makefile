# Test bed for the KVM exit-completion series.  See README.md.
#
#   make run     main job: apply the series, build, boot, run the series'
#                exit-path tests (x86 + arm64, every matrix cell), print table
#   make check   full check: gates (git am, checkpatch, bisect builds, ...),
#                then every test on the base kernel ("before") and the series
#   make dev ARCH=x86 SRC=/path/to/tree TESTS="x86/foo" [CELL=vmx] [CMDLINE=...]
#
# KDIR=/path/to/linux.git uses that tree (its HEAD, or KBASE=<rev>) as base.
SHELL := /bin/bash
ARCHES ?= x86 arm64
S := scripts

.PHONY: all deps base apply run check gates before series report dev clean distclean
all: run

deps:
	@bash $(S)/deps.sh

base: deps
	@bash $(S)/fetch-base.sh

apply: base
	@bash $(S)/tree.sh

series: apply
	@set -e; for a in $(ARCHES); do bash $(S)/run.sh $$a series; done

before: apply
	@set -e; for a in $(ARCHES); do bash $(S)/run.sh $$a before; done

run: deps
	@bash $(S)/main.sh $(ARCHES)

gates: apply
	@bash $(S)/gates.sh

check: deps
	@bash $(S)/check.sh $(ARCHES)

# make bench: instructions per exit round trip, base vs series, into
# bench/results.md (scripts/bench.sh, bench/README.md).
.PHONY: bench
bench: deps
	@bash $(S)/bench.sh $(ARCHES)

# make regress: the whole KVM selftests suite through its installed runner,
# base vs series, into regress/results.md (scripts/regress.sh).
.PHONY: regress
regress: deps
	@bash $(S)/regress.sh $(ARCHES)

# make stress: the randomized exit x intervention stress test on debug
# kernels (KASAN, lockdep, ...), base vs series, into stress/results.md
# (scripts/stress.sh).
.PHONY: stress
stress: deps
	@bash $(S)/stress.sh $(ARCHES)

# make bisect: every patch builds (x86_64 two configs, arm64, touched
# selftests), into bisect/results.md (scripts/bisect.sh).
.PHONY: bisect
bisect: deps
	@bash $(S)/bisect.sh

# make coverage: line coverage of the lines the series adds or changes in
# arch/x86/kvm, virt/kvm, arch/arm64/kvm, per matrix cell, on gcov kernels,
# into coverage/results.md (scripts/coverage.sh).
.PHONY: coverage
coverage: deps
	@bash $(S)/coverage.sh $(ARCHES)

dev: deps
	@CELL=$(CELL) bash $(S)/dev.sh $(ARCH) $(SRC) "$(CMDLINE)" $(TESTS)

# Out-of-tree patched x86 KVM modules (README: "Testing on your own machine").
# Here KDIR is a kernel build directory (default: the running kernel's
# /lib/modules/$(uname -r)/build), not the base tree of run/check.
#   make modules [KDIR=...]       build kvm.ko, kvm-intel.ko, kvm-amd.ko
#   make load [PARAMS="kvm.X=Y"]  swap them in (root); make unload: stock back
#   make modules-check [CELLS=..] test-bed proof: patched == series, stock == before
.PHONY: modules load unload modules-status modules-check modules-distro
modules:
	@bash $(S)/modules.sh $(KDIR)

load:
	@bash $(S)/modules-load.sh load $(KDIR)

unload:
	@bash $(S)/modules-load.sh unload $(KDIR)

modules-status:
	@bash $(S)/modules-load.sh status $(KDIR)

modules-check: deps
	@bash $(S)/modules-check.sh $(CELLS)

modules-distro:
	@bash $(S)/modules-distro.sh

clean:
	rm -rf build/results build/img build/kst

distclean:
	@[ ! -f build/base/git ] || git -C "$$(cat build/base/git)" worktree prune
	rm -rf build
