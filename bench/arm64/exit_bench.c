// SPDX-License-Identifier: GPL-2.0-only
/*
 * exit_bench - cost of one exit round trip, per exit kind (arm64).
 *
 * Same protocol and output as bench/x86/exit_bench.c: the guest executes the
 * exiting instruction WARM times, syncs, executes it N times and syncs again;
 * the host reads CLOCK_MONOTONIC around the N round trips and prints
 *
 *	bench KIND N TOTAL_NS NS_PER_RT
 *
 * which under QEMU -icount shift=0 is instructions per round trip.
 * Kinds: MMIO load and store to an unbacked IPA (KVM_EXIT_MMIO), and a store
 * to a zero-length ioeventfd (handled in the kernel, no userspace exit; its
 * total also holds the ucall exit that ends the phase).
 *
 * Usage: exit_bench [-n N] [-w WARM] [KIND...]  (default: every kind)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#include "../bench_main.h"

#define MMIO_GPA	0x8000000ul	/* unbacked, exits to userspace */
#define IOEVENTFD_GPA	0x8001000ul	/* unbacked, zero-length ioeventfd */

enum kind {
	K_MMIO_RD,
	K_MMIO_WR,
	K_IOEVENTFD,
	NR_KINDS,
};

static const char *const kind_name[NR_KINDS] = {
	[K_MMIO_RD]	= "mmio_read",
	[K_MMIO_WR]	= "mmio_write",
	[K_IOEVENTFD]	= "ioeventfd_mmio",
};

/* Guest side.  Set by the host before the vCPU runs. */
static int g_kind;
static u64 g_warm, g_n;

static void guest_loop(u64 n)
{
	u64 i;
	u32 val;

	for (i = 0; i < n; i++) {
		switch (g_kind) {
		case K_MMIO_RD:
			asm volatile("ldr %w0, [%1]"
				     : "=r"(val) : "r"(MMIO_GPA) : "memory");
			GUEST_ASSERT_EQ(val, (u32)i);
			break;
		case K_MMIO_WR:
			asm volatile("str %w0, [%1]"
				     : : "r"((u32)i), "r"(MMIO_GPA) : "memory");
			break;
		case K_IOEVENTFD:
			asm volatile("str %w0, [%1]"
				     : : "r"((u32)i), "r"(IOEVENTFD_GPA) : "memory");
			break;
		}
	}
}

static void guest_code(void)
{
	guest_loop(g_warm);
	GUEST_SYNC(0);
	guest_loop(g_n);
	GUEST_SYNC(1);
	GUEST_DONE();
}

/* Host side. */
static int efd = -1;

static void expect_sync(struct kvm_vcpu *vcpu, u64 stage)
{
	struct ucall uc;

	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT_EQ(uc.args[1], stage);
		break;
	case UCALL_DONE:
		TEST_ASSERT_EQ(stage, (u64)-1);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	default:
		TEST_FAIL("Unexpected exit %s / ucall %lu",
			  exit_reason_str(vcpu->run->exit_reason), uc.cmd);
	}
}

/* One KVM_RUN that must end in MMIO exit number @i; check it, answer it. */
static void round_trip(struct kvm_vcpu *vcpu, int kind, u64 i)
{
	struct kvm_run *run = vcpu->run;
	u32 val;
	int r;

	r = __vcpu_run(vcpu);
	TEST_ASSERT(!r, KVM_IOCTL_ERROR(KVM_RUN, r));
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MMIO);
	TEST_ASSERT_EQ(run->mmio.phys_addr, MMIO_GPA);
	TEST_ASSERT_EQ(run->mmio.len, 4);
	TEST_ASSERT_EQ(run->mmio.is_write, kind == K_MMIO_WR);
	if (kind == K_MMIO_RD) {
		val = i;
		memcpy(run->mmio.data, &val, 4);
	} else {
		memcpy(&val, run->mmio.data, 4);
		TEST_ASSERT_EQ(val, (u32)i);
	}
}

static void check_ioeventfd(u64 n)
{
	u64 count = 0;

	TEST_ASSERT_EQ(read(efd, &count, sizeof(count)), sizeof(count));
	TEST_ASSERT_EQ(count, n);
}

static void bench(int kind, u64 n, u64 warm)
{
	struct kvm_ioeventfd ioev = { .addr = IOEVENTFD_GPA, .len = 0 };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	u64 i, t0, t1;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	if (kind == K_IOEVENTFD) {
		TEST_REQUIRE(kvm_has_cap(KVM_CAP_IOEVENTFD));
		virt_map(vm, IOEVENTFD_GPA, IOEVENTFD_GPA, 1);
		efd = kvm_new_eventfd();
		ioev.fd = efd;
		vm_ioctl(vm, KVM_IOEVENTFD, &ioev);
	} else {
		virt_map(vm, MMIO_GPA, MMIO_GPA, 1);
	}
	g_kind = kind;
	g_n = n;
	g_warm = warm;
	sync_global_to_guest(vm, g_kind);
	sync_global_to_guest(vm, g_n);
	sync_global_to_guest(vm, g_warm);

	if (kind != K_IOEVENTFD)
		for (i = 0; i < warm; i++)
			round_trip(vcpu, kind, i);
	expect_sync(vcpu, 0);
	if (kind == K_IOEVENTFD)
		check_ioeventfd(warm);

	t0 = now_ns();
	if (kind == K_IOEVENTFD) {
		expect_sync(vcpu, 1);
		t1 = now_ns();
		check_ioeventfd(n);
	} else {
		for (i = 0; i < n; i++)
			round_trip(vcpu, kind, i);
		t1 = now_ns();
		expect_sync(vcpu, 1);
	}
	expect_sync(vcpu, -1);

	bench_report(kind_name[kind], n, t0, t1);
	kvm_vm_free(vm);
	if (efd >= 0) {
		close(efd);
		efd = -1;
	}
}

int main(int argc, char *argv[])
{
	return bench_main(argc, argv, kind_name, NR_KINDS, bench);
}
