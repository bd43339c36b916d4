// SPDX-License-Identifier: GPL-2.0-only
/*
 * exit_bench - cost of one exit round trip, per exit kind (x86).
 *
 * For each kind the guest executes the exiting instruction WARM times, syncs,
 * executes it N times and syncs again.  The host (L1 userspace) reads
 * CLOCK_MONOTONIC around the N round trips of the second phase and prints
 *
 *	bench KIND N TOTAL_NS NS_PER_RT
 *
 * Under an emulator that counts instructions (QEMU -icount shift=0, Bochs
 * clock sync=none) guest time is a count of executed instructions, so this is
 * the number of instructions one round trip costs: the L1 KVM exit and entry
 * path, the userspace round trip (if any) and the L2 instruction itself.
 *
 * Every exit is checked (reason, port/address/MSR, data in both directions),
 * a wrong one fails the run.  Kinds without an exit to userspace (ioeventfd,
 * in-kernel hypercall) run N instructions in one KVM_RUN; their total also
 * holds the one ucall exit that ends the phase.
 *
 * Usage: exit_bench [-n N] [-w WARM] [KIND...]  (default: every kind)
 *
 * Not part of the series: kept in the test bed (bench/), built against the
 * selftests library of the tree under test by scripts/bench.sh.
 */
#include <linux/kvm_para.h>
#include <linux/stringify.h>
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

#define BENCH_PORT	0x80
#define MMIO_GPA	0xc0000000ul	/* unbacked, exits to userspace */
#define IOEVENTFD_GPA	0xc0001000ul	/* unbacked, zero-length ioeventfd */
#define MAP_GPA		0x100000ul	/* KVM_HC_MAP_GPA_RANGE argument */
#define BENCH_MSR	0x474f4f00	/* denied by the MSR filter */
#define HC_UNKNOWN	0x4b56		/* not a KVM hypercall: -KVM_ENOSYS */
#define MSR_HI		0x5a5a0000ull	/* high half of MSR data */
#define SS_MAX		20000		/* NOPs of the single-step block */

enum kind {
	K_PIO_OUT,
	K_PIO_IN,
	K_OUTS,
	K_INS,
	K_MMIO_RD,
	K_MMIO_WR,
	K_IOEVENTFD,
	K_HC_EXIT,
	K_HC_KERNEL,
	K_RDMSR,
	K_WRMSR,
	K_SINGLESTEP,
	NR_KINDS,
};

static const char *const kind_name[NR_KINDS] = {
	[K_PIO_OUT]	= "pio_out",
	[K_PIO_IN]	= "pio_in",
	[K_OUTS]	= "outsb",
	[K_INS]		= "insb",
	[K_MMIO_RD]	= "mmio_read",
	[K_MMIO_WR]	= "mmio_write",
	[K_IOEVENTFD]	= "ioeventfd_mmio",
	[K_HC_EXIT]	= "hypercall_exit",
	[K_HC_KERNEL]	= "hypercall_kernel",
	[K_RDMSR]	= "rdmsr_user",
	[K_WRMSR]	= "wrmsr_user",
	[K_SINGLESTEP]	= "singlestep",
};

/* Kinds that run without exits to userspace. */
static bool no_user_exit(int k)
{
	return k == K_IOEVENTFD || k == K_HC_KERNEL || k == K_SINGLESTEP;
}

/* Guest side.  Set by the host before the vCPU runs. */
static int g_kind;
static u64 g_warm, g_n;
static u8 guest_buf[8];

/* SS_MAX single-byte NOPs; the host single-steps through them. */
asm(".pushsection .text\n\t"
    ".global ss_block\n\t"
    "ss_block:\n\t"
    ".rept " __stringify(SS_MAX) "\n\t"
    "nop\n\t"
    ".endr\n\t"
    ".global ss_block_end\n\t"
    "ss_block_end:\n\t"
    "ret\n\t"
    ".popsection");
void ss_block(void);

static void guest_loop(u64 n)
{
	u64 i, val;
	u32 lo, hi;
	u8 *p;

	for (i = 0; i < n; i++) {
		switch (g_kind) {
		case K_PIO_OUT:
			asm volatile("outb %%al, $" __stringify(BENCH_PORT)
				     : : "a"((u8)i));
			break;
		case K_PIO_IN:
			asm volatile("inb $" __stringify(BENCH_PORT) ", %%al"
				     : "=a"(val) : "a"(0ull));
			GUEST_ASSERT_EQ(val, (u8)i);
			break;
		case K_OUTS:
			guest_buf[0] = i;
			p = guest_buf;
			asm volatile("cld\n\toutsb"
				     : "+S"(p) : "d"(BENCH_PORT) : "memory");
			break;
		case K_INS:
			p = guest_buf;
			asm volatile("cld\n\tinsb"
				     : "+D"(p) : "d"(BENCH_PORT) : "memory");
			GUEST_ASSERT_EQ(guest_buf[0], (u8)i);
			break;
		case K_MMIO_RD:
			asm volatile("movl (%%rbx), %%eax"
				     : "=a"(lo) : "b"(MMIO_GPA) : "memory");
			GUEST_ASSERT_EQ(lo, (u32)i);
			break;
		case K_MMIO_WR:
			asm volatile("movl %%eax, (%%rbx)"
				     : : "a"((u32)i), "b"(MMIO_GPA) : "memory");
			break;
		case K_IOEVENTFD:
			asm volatile("movl %%eax, (%%rbx)"
				     : : "a"((u32)i), "b"(IOEVENTFD_GPA) : "memory");
			break;
		case K_HC_EXIT:
			val = kvm_hypercall(KVM_HC_MAP_GPA_RANGE, MAP_GPA, 1, 0, 0);
			GUEST_ASSERT_EQ(val, i);
			break;
		case K_HC_KERNEL:
			val = kvm_hypercall(HC_UNKNOWN, 0, 0, 0, 0);
			GUEST_ASSERT_EQ(val, (u64)-KVM_ENOSYS);
			break;
		case K_RDMSR:
			asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(BENCH_MSR));
			GUEST_ASSERT_EQ(lo, (u32)i);
			GUEST_ASSERT_EQ(hi, (u32)MSR_HI);
			break;
		case K_WRMSR:
			asm volatile("wrmsr" : : "a"((u32)i), "d"((u32)MSR_HI),
				     "c"(BENCH_MSR));
			break;
		case K_SINGLESTEP:
			/* One pass over the block, stepped by the host. */
			ss_block();
			return;
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
static u64 ss_pc;

static void expect_sync(struct kvm_vcpu *vcpu, u64 stage)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
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
		TEST_FAIL("Unexpected ucall %lu", uc.cmd);
	}
}

static void check_io(struct kvm_run *run, u8 dir)
{
	TEST_ASSERT_EQ(run->io.port, BENCH_PORT);
	TEST_ASSERT_EQ(run->io.direction, dir);
	TEST_ASSERT_EQ(run->io.size, 1);
	TEST_ASSERT_EQ(run->io.count, 1);
}

static void check_mmio(struct kvm_run *run, bool write)
{
	TEST_ASSERT_EQ(run->mmio.phys_addr, MMIO_GPA);
	TEST_ASSERT_EQ(run->mmio.len, 4);
	TEST_ASSERT_EQ(run->mmio.is_write, write);
}

/* One KVM_RUN that must end in exit number @i of @kind; check it, answer it. */
static void round_trip(struct kvm_vcpu *vcpu, int kind, u64 i)
{
	struct kvm_run *run = vcpu->run;
	u32 val;
	int r;

	r = __vcpu_run(vcpu);
	TEST_ASSERT(!r, KVM_IOCTL_ERROR(KVM_RUN, r));

	switch (kind) {
	case K_PIO_OUT:
	case K_OUTS:
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		check_io(run, KVM_EXIT_IO_OUT);
		TEST_ASSERT_EQ(*((u8 *)run + run->io.data_offset), (u8)i);
		break;
	case K_PIO_IN:
	case K_INS:
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		check_io(run, KVM_EXIT_IO_IN);
		*((u8 *)run + run->io.data_offset) = i;
		break;
	case K_MMIO_RD:
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MMIO);
		check_mmio(run, false);
		val = i;
		memcpy(run->mmio.data, &val, 4);
		break;
	case K_MMIO_WR:
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MMIO);
		check_mmio(run, true);
		memcpy(&val, run->mmio.data, 4);
		TEST_ASSERT_EQ(val, (u32)i);
		break;
	case K_HC_EXIT:
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_HYPERCALL);
		TEST_ASSERT_EQ(run->hypercall.nr, KVM_HC_MAP_GPA_RANGE);
		TEST_ASSERT_EQ(run->hypercall.args[0], MAP_GPA);
		TEST_ASSERT_EQ(run->hypercall.args[1], 1);
		TEST_ASSERT_EQ(run->hypercall.args[2], 0);
		run->hypercall.ret = i;
		break;
	case K_RDMSR:
	case K_WRMSR:
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, kind == K_RDMSR ?
					    KVM_EXIT_X86_RDMSR : KVM_EXIT_X86_WRMSR);
		TEST_ASSERT_EQ(run->msr.index, BENCH_MSR);
		TEST_ASSERT_EQ(run->msr.reason, KVM_MSR_EXIT_REASON_FILTER);
		if (kind == K_RDMSR)
			run->msr.data = MSR_HI << 32 | (u32)i;
		else
			TEST_ASSERT_EQ(run->msr.data, MSR_HI << 32 | (u32)i);
		run->msr.error = 0;
		break;
	case K_SINGLESTEP:
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_DEBUG);
		TEST_ASSERT_EQ(run->debug.arch.exception, DB_VECTOR);
		TEST_ASSERT_EQ(run->debug.arch.pc, ss_pc + 1);
		ss_pc++;
		break;
	}
}

static void set_singlestep(struct kvm_vcpu *vcpu, bool on)
{
	struct kvm_guest_debug debug = {
		.control = on ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP : 0,
	};

	vcpu_guest_debug_set(vcpu, &debug);
}

/* Single-step from the SYNC(0) exit to the first NOP of ss_block, untimed. */
static void step_to_block(struct kvm_vcpu *vcpu)
{
	int i;

	set_singlestep(vcpu, true);
	for (i = 0; i < 1000; i++) {
		vcpu_run(vcpu);
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_DEBUG);
		if (vcpu->run->debug.arch.pc == (u64)ss_block)
			break;
	}
	TEST_ASSERT(i < 1000, "never reached ss_block");
	ss_pc = (u64)ss_block;
}

static void setup(struct kvm_vm *vm, int kind)
{
	static u8 deny_bits;
	struct kvm_msr_filter filter = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges = { {
			.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			.nmsrs = 1,
			.base = BENCH_MSR,
			.bitmap = &deny_bits,
		} },
	};
	struct kvm_ioeventfd ioev = {
		.addr = IOEVENTFD_GPA,
		.len = 0,	/* any write: also on the fast MMIO bus */
	};

	switch (kind) {
	case K_MMIO_RD:
	case K_MMIO_WR:
		virt_map(vm, MMIO_GPA, MMIO_GPA, 1);
		break;
	case K_IOEVENTFD:
		TEST_REQUIRE(kvm_has_cap(KVM_CAP_IOEVENTFD));
		virt_map(vm, IOEVENTFD_GPA, IOEVENTFD_GPA, 1);
		efd = kvm_new_eventfd();
		ioev.fd = efd;
		vm_ioctl(vm, KVM_IOEVENTFD, &ioev);
		break;
	case K_HC_EXIT:
		TEST_REQUIRE(kvm_check_cap(KVM_CAP_EXIT_HYPERCALL) &
			     BIT(KVM_HC_MAP_GPA_RANGE));
		vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT(KVM_HC_MAP_GPA_RANGE));
		break;
	case K_RDMSR:
	case K_WRMSR:
		TEST_REQUIRE(kvm_has_cap(KVM_CAP_X86_USER_SPACE_MSR));
		TEST_REQUIRE(kvm_has_cap(KVM_CAP_X86_MSR_FILTER));
		vm_enable_cap(vm, KVM_CAP_X86_USER_SPACE_MSR,
			      KVM_MSR_EXIT_REASON_FILTER);
		vm_ioctl(vm, KVM_X86_SET_MSR_FILTER, &filter);
		break;
	}
}

/* The eventfd counter must have counted exactly @n writes. */
static void check_ioeventfd(u64 n)
{
	u64 count = 0;

	TEST_ASSERT_EQ(read(efd, &count, sizeof(count)), sizeof(count));
	TEST_ASSERT_EQ(count, n);
}

static void bench(int kind, u64 n, u64 warm)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	u64 i, t0, t1;

	if (kind == K_SINGLESTEP) {
		n = n < SS_MAX ? n : SS_MAX;
		warm = 1;	/* one pass over the block, not stepped */
	}

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	setup(vm, kind);
	g_kind = kind;
	g_n = n;
	g_warm = warm;
	sync_global_to_guest(vm, g_kind);
	sync_global_to_guest(vm, g_n);
	sync_global_to_guest(vm, g_warm);

	/* Warm-up: fault in the code, install MMIO SPTEs, ... */
	if (!no_user_exit(kind))
		for (i = 0; i < warm; i++)
			round_trip(vcpu, kind, i);
	expect_sync(vcpu, 0);
	if (kind == K_IOEVENTFD)
		check_ioeventfd(warm);
	if (kind == K_SINGLESTEP)
		step_to_block(vcpu);

	t0 = now_ns();
	if (no_user_exit(kind) && kind != K_SINGLESTEP) {
		expect_sync(vcpu, 1);
		t1 = now_ns();
	} else {
		for (i = 0; i < n; i++)
			round_trip(vcpu, kind, i);
		t1 = now_ns();
		if (kind == K_SINGLESTEP)
			set_singlestep(vcpu, false);
		expect_sync(vcpu, 1);
	}
	if (kind == K_IOEVENTFD)
		check_ioeventfd(n);
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
