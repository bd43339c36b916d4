# Build a test-bed benchmark with the KVM selftests library of a kernel tree,
# without touching that tree:
#
#   make -C SRC/tools/testing/selftests/kvm -f TOP/bench/bench.mk \
#	ARCH=... OUTPUT=... KHDR_INCLUDES=... BENCH_SRC=TOP/bench/ARCH/NAME.c \
#	OUTPUT/bench/NAME
#
# (scripts/bench-build.sh does this).  The selftests Makefile supplies CFLAGS,
# LDFLAGS and the library objects; this file only adds the rule for a program
# whose source lives outside the tree.
include Makefile

BENCH_SRC ?= $(error BENCH_SRC is not set)
BENCH := $(OUTPUT)/bench/$(basename $(notdir $(BENCH_SRC)))

$(BENCH).o: $(BENCH_SRC) $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c $< -o $@

$(BENCH): $(BENCH).o $(LIBKVM_OBJS)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) $(TARGET_ARCH) $< $(LIBKVM_OBJS) $(LDLIBS) -o $@

-include $(BENCH).d
