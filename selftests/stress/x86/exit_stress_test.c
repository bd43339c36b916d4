// SPDX-License-Identifier: GPL-2.0-only
/*
 * Randomized stress of instructions that exit to userspace and are completed
 * on the next KVM_RUN.  Each sequence runs one exiting instruction (port I/O,
 * MMIO, KVM_EXIT_HYPERCALL, userspace RDMSR/WRMSR), answers its exit(s) and,
 * at one of them, does one thing userspace may do before re-entering: write
 * back state, move RIP, emulate a reset, toggle single-step, KVM_RUN with
 * immediate_exit, or interrupt KVM_RUN with a signal.  The guest must then
 * resume exactly where that implies: after the completed instruction with its
 * result, or at the new RIP with the registers userspace set, with exactly
 * the single-step traps due.
 *
 * Usage: exit_stress_test [-s SEED (default 1)] [-n SEQUENCES] [-i INDEX]
 * Sequence INDEX of seed SEED is always the same; -i runs only that one.
 * Oracle failures are counted per (exit kind, intervention), the VM is
 * recreated after each, and the run goes on.
 */
#include <linux/kvm_para.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"

#define DEFAULT_N	1000
#define IO_PORT		0x80
#define ARM_PORT	0x81	/* right before the instruction */
#define DONE_PORT	0x99	/* after it, or at the RIP userspace moves to */
#define MMIO_GPA	0xc0000000ull	/* two unbacked pages */
#define SPLIT_GPA	(MMIO_GPA + PAGE_SIZE - 4)
#define HC_GPA		0x100000ull
#define TEST_MSR	0x474f4f00	/* denied by the MSR filter */

#define GUEST_RAX	0x1122334455667788ull
#define GUEST_RDX	0x99aabbccddeeff00ull
#define DATA		0xa1b2c3d4e5f60718ull	/* what userspace answers */
#define RESET_RAX	0x5a5a5a5a5a5a5a5aull
#define RESET_RDX	0xa5a5a5a5a5a5a5a5ull

/* Exit kinds. */
enum {
	PIO_OUT, PIO_IN, FEP_OUT, FEP_IN, OUTSB, REP_OUTSB, MMIO_READ, MMIO_WRITE,
	SPLIT_READ, SPLIT_WRITE, HYPERCALL, RDMSR, RDMSR_ERR, WRMSR, NR_KINDS
};

#define RETIRED	BIT(0)	/* RIP is past the instruction at its exit */
#define REP	BIT(1)	/* one exit per iteration, RIP at it at every one */
#define SPLIT	BIT(2)	/* two exits, one per page */
#define FEP	BIT(3)	/* needs kvm.force_emulation_prefix */
#define NOSTEP	BIT(4)	/* left out of the single-step interventions */

static const struct {
	const char *name;
	u32 exit_reason;
	u32 flags;
} kinds[NR_KINDS] = {
	[PIO_OUT]	= { "pio_out", KVM_EXIT_IO },
	[PIO_IN]	= { "pio_in", KVM_EXIT_IO },
	[FEP_OUT]	= { "fep_out", KVM_EXIT_IO, FEP | RETIRED },
	[FEP_IN]	= { "fep_in", KVM_EXIT_IO, FEP },
	[OUTSB]		= { "outsb", KVM_EXIT_IO, RETIRED },
	[REP_OUTSB]	= { "rep_outsb", KVM_EXIT_IO, REP | NOSTEP },
	[MMIO_READ]	= { "mmio_read", KVM_EXIT_MMIO },
	[MMIO_WRITE]	= { "mmio_write", KVM_EXIT_MMIO, RETIRED },
	[SPLIT_READ]	= { "split_read", KVM_EXIT_MMIO, SPLIT },
	[SPLIT_WRITE]	= { "split_write", KVM_EXIT_MMIO, SPLIT | RETIRED },
	[HYPERCALL]	= { "hypercall", KVM_EXIT_HYPERCALL },
	[RDMSR]		= { "rdmsr", KVM_EXIT_X86_RDMSR },
	[RDMSR_ERR]	= { "rdmsr_gp", KVM_EXIT_X86_RDMSR, NOSTEP },
	[WRMSR]		= { "wrmsr", KVM_EXIT_X86_WRMSR },
};

/* Interventions, done at one (random) exit of the instruction. */
enum {
	NONE, IMMEDIATE_EXIT, SET_REGS, MOVE_RIP, SET_SREGS, SREGS_MOVE_RIP, RESET,
	STEP_LATE, STEP_ALL, STEP_OFF, SET_EVENTS, SIGNAL, GUEST_TF, NR_INTVS
};

#define CANCEL	BIT(0)	/* moves the vCPU: the instruction is abandoned */
#define STEP	BIT(1)	/* single-steps: not with NOSTEP kinds */

static const struct {
	const char *name;
	u32 flags;
} intvs[NR_INTVS] = {
	[NONE]		 = { "none" },
	[IMMEDIATE_EXIT] = { "immediate_exit" },	/* completes, runs nothing */
	[SET_REGS]	 = { "set_same_regs" },
	[MOVE_RIP]	 = { "move_rip", CANCEL },
	[SET_SREGS]	 = { "set_same_sregs" },
	[SREGS_MOVE_RIP] = { "sregs_then_move_rip", CANCEL },
	[RESET]		 = { "emulated_reset", CANCEL },
	[STEP_LATE]	 = { "step_on_at_exit", STEP },	/* steps what's next */
	[STEP_ALL]	 = { "step_on", STEP },
	[STEP_OFF]	 = { "step_off_at_exit", STEP },
	[SET_EVENTS]	 = { "set_same_events" },
	[SIGNAL]	 = { "signal" },
	[GUEST_TF]	 = { "guest_tf", STEP },	/* RFLAGS.TF and #DB handler */
};

/* What the guest runs next, and what it saw. */
static struct {
	u64 kind, tf, rax, rbx, rcx, rdx, rsi;
} in;
static struct {
	u64 db, db_rip, gp;
} seen;
static u8 outs_buf[4] = { 0x11, 0x22, 0x33, 0x44 };

/*
 * R12: start of the instruction (before any prefix), R14: the instruction,
 * R15: next instruction, R13: where userspace moves RIP.  RSP is lowered
 * around it, so that exception frames spare the red zone.
 */
#define EXIT_INSN(prefix, insn)						\
({									\
	asm volatile("lea -128(%%rsp), %%rsp\n\t"			\
		     "lea 0f(%%rip), %%r12\n\t"				\
		     "lea 1f(%%rip), %%r14\n\t"				\
		     "lea 2f(%%rip), %%r15\n\t"				\
		     "lea 3f(%%rip), %%r13\n\t"				\
		     "out %%al, $" __stringify(ARM_PORT) "\n\t"		\
		     "pushfq; orq %[tf], (%%rsp); popfq\n"		\
		     "0: " prefix "\n"					\
		     "1: " insn "\n"					\
		     "2: nop\n\t"					\
		     "out %%al, $" __stringify(DONE_PORT) "\n\t"	\
		     "jmp 4f\n"						\
		     "3: out %%al, $" __stringify(DONE_PORT) "\n"	\
		     "4: lea 128(%%rsp), %%rsp"				\
		     : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx), "+S"(rsi) \
		     : [tf] "r"(tf) : "r12", "r13", "r14", "r15", "memory");	\
})

#define KIND_CASE(kind, prefix, insn)	\
	case kind:			\
		EXIT_INSN(prefix, insn);	\
		break

static void guest_code(void)
{
	for (;;) {
		u64 rax = READ_ONCE(in.rax), rbx = READ_ONCE(in.rbx);
		u64 rcx = READ_ONCE(in.rcx), rdx = READ_ONCE(in.rdx);
		u64 rsi = READ_ONCE(in.rsi), tf = READ_ONCE(in.tf);

		switch (READ_ONCE(in.kind)) {
		KIND_CASE(PIO_OUT, "", "outb %%al, $0x80");
		KIND_CASE(PIO_IN, "", "inb $0x80, %%al");
		KIND_CASE(FEP_OUT, KVM_FEP, "outb %%al, $0x80");
		KIND_CASE(FEP_IN, KVM_FEP, "inb $0x80, %%al");
		KIND_CASE(OUTSB, "", "outsb");
		KIND_CASE(REP_OUTSB, "", "rep outsb");
		KIND_CASE(MMIO_READ, "", "mov (%%rbx), %%rax");
		KIND_CASE(SPLIT_READ, "", "mov (%%rbx), %%rax");
		KIND_CASE(MMIO_WRITE, "", "mov %%rax, (%%rbx)");
		KIND_CASE(SPLIT_WRITE, "", "mov %%rax, (%%rbx)");
		KIND_CASE(RDMSR, "", "rdmsr");
		KIND_CASE(RDMSR_ERR, "", "rdmsr");
		KIND_CASE(WRMSR, "", "wrmsr");
		case HYPERCALL:
			if (host_cpu_is_intel)
				EXIT_INSN("", "vmcall");
			else
				EXIT_INSN("", "vmmcall");
			break;
		}
	}
}

static void guest_db_handler(struct ex_regs *regs)
{
	if (!seen.db++)
		seen.db_rip = regs->rip;
	regs->rflags &= ~X86_EFLAGS_TF;
}

/* The #GP of a failed RDMSR: report it in RAX and go on after the RDMSR. */
static void guest_gp_handler(struct ex_regs *regs)
{
	seen.gp++;
	regs->rax = GP_VECTOR;
	regs->rip = regs->r15;
}

/* One sequence, all derived from (seed, index). */
struct seq {
	u32 idx, kind, intv, nexits, at;
	u64 start, insn, next, moved;	/* R12, R14, R15, R13 */
	u64 exit_rip;			/* RIP at the last exit */
	u64 at_rip;			/* RIP at the intervention's exit */
	struct kvm_regs want;		/* at the OUT to DONE_PORT */
};

static u32 seed;
static struct seq cur;
static jmp_buf fail_jmp;

/* An oracle mismatch: report the sequence and abandon it (and the VM). */
#define CHECK(cond, fmt, ...) do {						\
	if (!(cond)) {								\
		ksft_print_msg("FAIL -s %u -i %u (%s, %s): %s: " fmt "\n",	\
			       seed, cur.idx, kinds[cur.kind].name,		\
			       intvs[cur.intv].name, #cond, ##__VA_ARGS__);	\
		longjmp(fail_jmp, 1);						\
	}									\
} while (0)

#define CHECK_EQ(a, b) do {							\
	u64 __a = (a), __b = (b);						\
	CHECK(__a == __b, "%s = 0x%llx, want 0x%llx", #a,			\
	      (unsigned long long)__a, (unsigned long long)__b);		\
} while (0)

static u64 rng_next(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void vcpu_enter(struct kvm_vcpu *vcpu)
{
	int r = __vcpu_run(vcpu);

	CHECK(!r, "KVM_RUN: %d errno %d", r, errno);
}

static void set_step(struct kvm_vcpu *vcpu, bool on)
{
	struct kvm_guest_debug debug = {
		.control = on ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP : 0,
	};

	vcpu_guest_debug_set(vcpu, &debug);
}

static void check_gprs(struct kvm_regs *got, struct kvm_regs *want)
{
	CHECK_EQ(got->rax, want->rax);
	CHECK_EQ(got->rbx, want->rbx);
	CHECK_EQ(got->rcx, want->rcx);
	CHECK_EQ(got->rdx, want->rdx);
	CHECK_EQ(got->rsi, want->rsi);
}

/* Check exit @i (1-based) of the instruction and answer it. */
static void answer_exit(struct kvm_vcpu *vcpu, struct seq *s, u32 i)
{
	u64 gpa = kinds[s->kind].flags & SPLIT ? SPLIT_GPA : MMIO_GPA;
	struct kvm_run *run = vcpu->run;
	u8 *io = (u8 *)run + run->io.data_offset;
	u64 val = GUEST_RAX, off = 0, len = 8;
	struct kvm_regs regs;

	CHECK(run->exit_reason == kinds[s->kind].exit_reason, "exit %s (port 0x%x)",
	      exit_reason_str(run->exit_reason), run->io.port);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		CHECK_EQ(run->io.port, IO_PORT);
		CHECK_EQ(run->io.size, 1);
		CHECK_EQ(run->io.count, 1);
		CHECK_EQ(run->io.direction, s->kind == PIO_IN || s->kind == FEP_IN ?
			 KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT);
		if (run->io.direction == KVM_EXIT_IO_IN)
			*io = (u8)DATA;
		else if (s->kind == OUTSB || s->kind == REP_OUTSB)
			CHECK_EQ(*io, outs_buf[i - 1]);
		else
			CHECK_EQ(*io, (u8)GUEST_RAX);
		break;
	case KVM_EXIT_MMIO:
		if (kinds[s->kind].flags & SPLIT) {
			off = i == 1 ? 0 : 4;
			len = 4;
		}
		CHECK_EQ(run->mmio.phys_addr, gpa + off);
		CHECK_EQ(run->mmio.len, len);
		CHECK_EQ(run->mmio.is_write, s->kind == MMIO_WRITE || s->kind == SPLIT_WRITE);
		if (!run->mmio.is_write)
			memcpy(run->mmio.data, (u8 *)&(u64){ DATA } + off, len);
		else
			CHECK(!memcmp(run->mmio.data, (u8 *)&val + off, len), "MMIO data");
		break;
	case KVM_EXIT_HYPERCALL:
		CHECK_EQ(run->hypercall.nr, KVM_HC_MAP_GPA_RANGE);
		CHECK_EQ(run->hypercall.args[0], HC_GPA);
		run->hypercall.ret = DATA;
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		CHECK_EQ(run->msr.index, TEST_MSR);
		if (s->kind == WRMSR) {
			CHECK_EQ(run->msr.data, (u64)(u32)GUEST_RDX << 32 | (u32)GUEST_RAX);
			break;
		}
		run->msr.data = DATA;
		run->msr.error = s->kind == RDMSR_ERR;
		break;
	}

	/* Where RIP points at each exit is documented ABI. */
	vcpu_regs_get(vcpu, &regs);
	/* A REP string instruction retires when it runs again with RCX = 0. */
	s->exit_rip = kinds[s->kind].flags & RETIRED ? s->next : s->insn;
	CHECK(regs.rip == s->exit_rip, "exit %u/%u at RIP 0x%llx, want 0x%lx",
	      i, s->nexits, regs.rip, s->exit_rip);
}

/* Abandon the instruction: new RIP and registers, written by userspace. */
static void move_vcpu(struct kvm_vcpu *vcpu, struct seq *s, struct kvm_regs *regs)
{
	regs->rip = s->moved;
	regs->rax = RESET_RAX;
	regs->rdx = RESET_RDX;
	vcpu_regs_set(vcpu, regs);
	s->want = *regs;
}

/* Reset as QEMU does it, check the state without running any instruction. */
static void emulated_reset(struct kvm_vcpu *vcpu, struct seq *s, struct kvm_regs *regs)
{
	struct kvm_regs rr = { .rip = 0xfff0, .rdx = 0x600, .rflags = 2 }, got;
	struct kvm_segment seg = { .base = 0, .limit = 0xffff, .type = 3,
				   .present = 1, .s = 1 };
	struct kvm_sregs saved, rs;
	struct kvm_vcpu_events ev;
	int r;

	vcpu_sregs_get(vcpu, &saved);
	rs = saved;
	rs.ds = seg;
	rs.es = seg;
	rs.fs = seg;
	rs.gs = seg;
	rs.ss = seg;
	rs.cs = seg;
	rs.cs.selector = 0xf000;
	rs.cs.base = 0xffff0000;
	rs.cs.type = 0xb;
	rs.cr0 = X86_CR0_ET | X86_CR0_NW | X86_CR0_CD;
	rs.cr2 = 0;
	rs.cr3 = 0;
	rs.cr4 = 0;
	rs.efer = 0;
	rs.gdt = (struct kvm_dtable){ .limit = 0xffff };
	rs.idt = rs.gdt;
	vcpu_sregs_set(vcpu, &rs);
	vcpu_regs_set(vcpu, &rr);

	vcpu->run->immediate_exit = 1;
	r = __vcpu_run(vcpu);
	vcpu->run->immediate_exit = 0;
	CHECK(r == -1 && errno == EINTR, "KVM_RUN after reset: %d errno %d, exit %s",
	      r, errno, exit_reason_str(vcpu->run->exit_reason));
	vcpu_regs_get(vcpu, &got);
	CHECK_EQ(got.rip, rr.rip);
	CHECK_EQ(got.rflags, rr.rflags);
	check_gprs(&got, &rr);
	vcpu_sregs_get(vcpu, &rs);
	CHECK_EQ(rs.cs.base, 0xffff0000);
	CHECK_EQ(rs.cs.selector, 0xf000);
	CHECK_EQ(rs.cr0 & X86_CR0_PE, 0);
	vcpu_events_get(vcpu, &ev);
	CHECK(!ev.exception.injected && !ev.exception.pending,
	      "exception %u queued after reset", ev.exception.nr);

	/* Back to 64-bit mode elsewhere, i.e. the guest's next "boot". */
	vcpu_sregs_set(vcpu, &saved);
	move_vcpu(vcpu, s, regs);
}

/*
 * KVM_RUN with immediate_exit, or with a signal pending, completes what is
 * pending (answering the exits that still come) and returns -EINTR.
 */
static void run_interrupted(struct kvm_vcpu *vcpu, struct seq *s, u32 *i)
{
	struct timespec zero = {};
	struct kvm_vcpu_events ev;
	struct kvm_regs regs;
	sigset_t usr1;
	int r;

	if (s->intv == IMMEDIATE_EXIT)
		vcpu->run->immediate_exit = 1;
	else
		raise(SIGUSR1);	/* blocked, pending until KVM_RUN unblocks it */
	while (!(r = __vcpu_run(vcpu)) && *i < s->nexits)
		answer_exit(vcpu, s, ++*i);
	vcpu->run->immediate_exit = 0;
	if (s->intv == SIGNAL) {
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		CHECK(sigtimedwait(&usr1, NULL, &zero) == SIGUSR1, "signal not pending");
	}
	CHECK(r == -1 && errno == EINTR, "KVM_RUN: %d errno %d, exit %s",
	      r, errno, exit_reason_str(vcpu->run->exit_reason));
	if (s->intv == SIGNAL) {
		CHECK_EQ(vcpu->run->exit_reason, KVM_EXIT_INTR);
		return;
	}

	/* No instruction ran: the exiting one is complete and nothing else. */
	vcpu_regs_get(vcpu, &regs);
	if (*i < s->nexits) {
		CHECK_EQ(regs.rip, s->insn);	/* REP not done */
	} else if (s->kind == RDMSR_ERR) {
		CHECK_EQ(regs.rip, s->insn);
		vcpu_events_get(vcpu, &ev);
		CHECK(ev.exception.injected || ev.exception.pending, "no #GP queued");
		CHECK_EQ(ev.exception.nr, GP_VECTOR);
	} else {
		/* See answer_exit(). */
		CHECK_EQ(regs.rip, kinds[s->kind].flags & REP ? s->insn : s->next);
		check_gprs(&regs, &s->want);
	}
}

/* Do the intervention at exit @i; it may answer more exits, bumping @i. */
static void intervene(struct kvm_vcpu *vcpu, struct seq *s, u32 *i)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	vcpu_regs_get(vcpu, &regs);
	switch (s->intv) {
	case IMMEDIATE_EXIT:
	case SIGNAL:
		run_interrupted(vcpu, s, i);
		break;
	case SET_REGS:
		vcpu_regs_set(vcpu, &regs);
		break;
	case SREGS_MOVE_RIP:
	case SET_SREGS:
		vcpu_sregs_get(vcpu, &sregs);
		vcpu_sregs_set(vcpu, &sregs);
		if (s->intv == SREGS_MOVE_RIP)
			move_vcpu(vcpu, s, &regs);
		break;
	case MOVE_RIP:
		move_vcpu(vcpu, s, &regs);
		break;
	case RESET:
		emulated_reset(vcpu, s, &regs);
		break;
	case STEP_LATE:
		set_step(vcpu, true);
		break;
	case STEP_OFF:
		set_step(vcpu, false);
		break;
	case SET_EVENTS:
		vcpu_events_get(vcpu, &ev);
		vcpu_events_set(vcpu, &ev);
		break;
	}
}

/* What the guest's registers hold after the completed instruction. */
static void completed_regs(struct seq *s, u32 rep)
{
	struct kvm_regs *w = &s->want;

	w->rax = in.rax;
	w->rbx = in.rbx;
	w->rcx = in.rcx;
	w->rdx = in.rdx;
	w->rsi = in.rsi;
	w->rip = s->next + 1;	/* the OUT to DONE_PORT, after a NOP */
	switch (s->kind) {
	case PIO_IN:
	case FEP_IN:
		w->rax = (w->rax & ~0xffull) | (u8)DATA;
		break;
	case OUTSB:
	case REP_OUTSB:
		w->rsi += rep;
		w->rcx -= s->kind == REP_OUTSB ? rep : 0;
		break;
	case MMIO_READ:
	case SPLIT_READ:
	case HYPERCALL:
		w->rax = DATA;
		break;
	case RDMSR:
		w->rax = (u32)DATA;
		w->rdx = DATA >> 32;
		break;
	case RDMSR_ERR:
		w->rax = GP_VECTOR;
		break;
	}
}

static void run_sequence(struct kvm_vcpu *vcpu, u32 idx)
{
	u64 rng = (u64)seed << 32 | idx, step_pc = 0;
	u32 rep = 0, i, steps = 0, want_steps;
	struct kvm_run *run = vcpu->run;
	struct seq *s = &cur;
	struct kvm_regs regs;
	u32 kflags;

	memset(s, 0, sizeof(*s));
	s->idx = idx;
	do {
		s->kind = rng_next(&rng) % NR_KINDS;
		s->intv = rng_next(&rng) % NR_INTVS;
		kflags = kinds[s->kind].flags;
	} while (((kflags & FEP) && !is_forced_emulation_enabled) ||
		 ((kflags & NOSTEP) && (intvs[s->intv].flags & STEP)));

	in.kind = s->kind;
	in.tf = s->intv == GUEST_TF ? X86_EFLAGS_TF : 0;
	in.rax = s->kind == HYPERCALL ? KVM_HC_MAP_GPA_RANGE : GUEST_RAX;
	in.rbx = s->kind == HYPERCALL ? HC_GPA : (kflags & SPLIT) ? SPLIT_GPA : MMIO_GPA;
	in.rcx = s->kind == HYPERCALL ? 1 : TEST_MSR;
	in.rdx = s->kind == HYPERCALL ? 0 : GUEST_RDX;
	in.rsi = (u64)outs_buf;
	s->nexits = 1;
	if (s->kind == OUTSB || s->kind == REP_OUTSB) {
		in.rdx = IO_PORT;
		rep = 1;
	}
	if (s->kind == REP_OUTSB) {
		rep = 2 + rng_next(&rng) % 2;
		in.rcx = rep;
		s->nexits = rep;
	}
	if (kflags & SPLIT)
		s->nexits = 2;
	s->at = 1 + rng_next(&rng) % s->nexits;
	sync_global_to_guest(vcpu->vm, in);
	memset(&seen, 0, sizeof(seen));
	sync_global_to_guest(vcpu->vm, seen);

	vcpu_enter(vcpu);
	CHECK(run->exit_reason == KVM_EXIT_IO && run->io.port == ARM_PORT,
	      "exit %s port 0x%x", exit_reason_str(run->exit_reason), run->io.port);
	vcpu_regs_get(vcpu, &regs);
	s->start = regs.r12;
	s->insn = regs.r14;
	s->next = regs.r15;
	s->moved = regs.r13;
	completed_regs(s, rep);
	if (s->intv == STEP_ALL || s->intv == STEP_OFF) {
		/* Step from the instruction: skip the OUT's own completion. */
		regs.rip = s->start;
		vcpu_regs_set(vcpu, &regs);
		set_step(vcpu, true);
	}

	for (i = 1; i <= s->nexits; i++) {
		vcpu_enter(vcpu);
		answer_exit(vcpu, s, i);
		if (i != s->at)
			continue;
		s->at_rip = s->exit_rip;
		intervene(vcpu, s, &i);
		if (intvs[s->intv].flags & CANCEL)
			break;
	}

	/* One step after the instruction, or the next one if armed at the exit. */
	want_steps = s->intv == STEP_ALL || s->intv == STEP_LATE;
	if (s->intv == STEP_ALL)
		step_pc = s->next;
	else if (s->intv == STEP_LATE)
		step_pc = s->at_rip == s->insn ? s->next : s->next + 1;
	for (;;) {
		vcpu_enter(vcpu);
		if (run->exit_reason != KVM_EXIT_DEBUG)
			break;
		CHECK(!steps++ && want_steps, "unexpected KVM_EXIT_DEBUG at 0x%llx",
		      run->debug.arch.pc);
		CHECK_EQ(run->debug.arch.exception, DB_VECTOR);
		CHECK_EQ(run->debug.arch.pc, step_pc);
		set_step(vcpu, false);
	}
	CHECK(run->exit_reason == KVM_EXIT_IO && run->io.port == DONE_PORT,
	      "exit %s port 0x%x", exit_reason_str(run->exit_reason), run->io.port);
	CHECK_EQ(steps, want_steps);
	vcpu_regs_get(vcpu, &regs);
	CHECK_EQ(regs.rip, s->want.rip);
	check_gprs(&regs, &s->want);

	sync_global_from_guest(vcpu->vm, seen);
	CHECK_EQ(seen.gp, s->kind == RDMSR_ERR && !(intvs[s->intv].flags & CANCEL));
	CHECK_EQ(seen.db, s->intv == GUEST_TF);
	if (s->intv == GUEST_TF)
		CHECK_EQ(seen.db_rip, s->next);
}

static struct kvm_vcpu *create_vm(void)
{
	u8 mask_buf[sizeof(struct kvm_signal_mask) + 8] __aligned(8) = {};
	struct kvm_signal_mask *mask = (void *)mask_buf;
	u64 deny = 0;
	struct kvm_msr_filter filter = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges[0] = { .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			       .base = TEST_MSR, .nmsrs = 1, .bitmap = (u8 *)&deny },
	};
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	virt_map(vm, MMIO_GPA, MMIO_GPA, 2);
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT(KVM_HC_MAP_GPA_RANGE));
	vm_enable_cap(vm, KVM_CAP_X86_USER_SPACE_MSR, KVM_MSR_EXIT_REASON_FILTER);
	vm_ioctl(vm, KVM_X86_SET_MSR_FILTER, &filter);
	vm_install_exception_handler(vm, GP_VECTOR, guest_gp_handler);
	vm_install_exception_handler(vm, DB_VECTOR, guest_db_handler);
	/* SIGUSR1 is blocked, except in KVM_RUN. */
	mask->len = 8;
	vcpu_ioctl(vcpu, KVM_SET_SIGNAL_MASK, mask);
	return vcpu;
}

static void sigusr1(int sig)
{
}

int main(int argc, char *argv[])
{
	static u32 fails[NR_KINDS][NR_INTVS], first[NR_KINDS][NR_INTVS];
	static u32 nkind[NR_KINDS], nintv[NR_INTVS];
	static struct kvm_vcpu *vcpu;
	static u32 n = DEFAULT_N, idx, end, nfail, count;
	static long only = -1;
	struct timespec t0, t1;
	sigset_t usr1;
	double secs;
	int opt, k, v;

	seed = 1;	/* repeatable by default; make stress passes fresh seeds */
	while ((opt = getopt(argc, argv, "s:n:i:")) != -1) {
		if (opt == 's')
			seed = strtoul(optarg, NULL, 0);
		else if (opt == 'n')
			n = strtoul(optarg, NULL, 0);
		else if (opt == 'i')
			only = strtol(optarg, NULL, 0);
		else
			ksft_exit_fail_msg("usage: %s [-s SEED] [-n N] [-i INDEX]\n", argv[0]);
	}

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_EXIT_HYPERCALL) & BIT(KVM_HC_MAP_GPA_RANGE));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_X86_USER_SPACE_MSR));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_X86_MSR_FILTER));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SET_GUEST_DEBUG));

	signal(SIGUSR1, sigusr1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);

	ksft_print_header();
	ksft_set_plan(1);
	ksft_print_msg("seed %u, %u sequences%s\n", seed, only < 0 ? n : 1u,
		       is_forced_emulation_enabled ? "" : " (no forced emulation)");

	idx = only < 0 ? 0 : only;
	end = only < 0 ? n : only + 1;
	count = end - idx;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vcpu = create_vm();
	for (; idx < end; idx++) {
		if (setjmp(fail_jmp)) {
			if (!fails[cur.kind][cur.intv]++)
				first[cur.kind][cur.intv] = cur.idx;
			nfail++;
			kvm_vm_free(vcpu->vm);
			vcpu = create_vm();
			continue;
		}
		run_sequence(vcpu, idx);
		nkind[cur.kind]++;
		nintv[cur.intv]++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	kvm_vm_free(vcpu->vm);

	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ksft_print_msg("%.1f s, %.0f sequences/s\n", secs, count / secs);
	for (k = 0; k < NR_KINDS; k++)
		ksft_print_msg("kind %-12s %u passed\n", kinds[k].name, nkind[k]);
	for (v = 0; v < NR_INTVS; v++)
		ksft_print_msg("intervention %-20s %u passed\n", intvs[v].name, nintv[v]);
	for (k = 0; k < NR_KINDS; k++)
		for (v = 0; v < NR_INTVS; v++)
			if (fails[k][v])
				ksft_print_msg("failing: %s x %s: %u, e.g. -s %u -i %u\n",
					       kinds[k].name, intvs[v].name, fails[k][v],
					       seed, first[k][v]);
	ksft_test_result(!nfail, "%u sequences, seed %u, %u oracle failures\n",
			 count, seed, nfail);
	ksft_finished();
}
