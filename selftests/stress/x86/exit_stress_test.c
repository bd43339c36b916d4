// SPDX-License-Identifier: GPL-2.0-only
/*
 * Randomized stress of instructions that exit to userspace and are completed
 * on the next KVM_RUN.  Each sequence runs one exiting instruction (port I/O,
 * MMIO, KVM_EXIT_HYPERCALL, userspace RDMSR/WRMSR; or, with nested
 * virtualization, an IN or MMIO read done by an L2 whose L1 does not intercept
 * it), answers its exit(s) and, at one of them, composes 1-3 things userspace
 * may do before re-entering, in random order: write back state (REGS, SREGS,
 * SREGS2, VCPU_EVENTS, sync_regs), change registers other than RIP, move RIP
 * (for good, or away and back), emulate a reset, send an INIT from a second
 * vCPU, enter and leave SMM (or run on in SMM, memory being mirrored into the
 * SMM address space), KVM_GET/SET_MP_STATE, KVM_GET/SET_NESTED_STATE,
 * queue a #GP or a #MC, toggle single-step (also while the guest has TF set),
 * KVM_RUN with immediate_exit, or interrupt KVM_RUN with a signal.  The guest
 * must then resume exactly where the ABI of Documentation/virt/kvm/api.rst
 * "Completing an instruction that exited to userspace (x86)" says: after the
 * completed instruction with its result and the registers userspace wrote,
 * or (operation abandoned) at the RIP userspace set, with exactly the
 * single-step traps and exceptions due; an L2 completion never runs in L1.
 * An L2 exit is checked through L1's report of L2's next VM-Exit (reason,
 * RIP, RAX, RDX); it takes the interventions that keep L2's state or move its
 * RIP, INIT, KVM_GET/SET_NESTED_STATE, immediate_exit and signals.
 * The oracle follows the ABI of series v3 (REP string instructions retire
 * at their last iteration; the guest's own single-step #DB of an instruction
 * that retires before exiting is queued at the exit; a debugger's step of it
 * is deferred to the next KVM_RUN; leaving or entering guest mode or SMM,
 * KVM_SET_NESTED_STATE and INIT abandon the instruction; RFLAGS and other
 * registers written at an emulated IN / MMIO read exit are kept).
 *
 * Usage: exit_stress_test [-s SEED (default 1)] [-n SEQUENCES] [-i INDEX]
 * Sequence INDEX of seed SEED is always the same; -i runs only that one.
 * Oracle failures are counted per (exit kind, intervention set), the VMs are
 * recreated after each, and the run goes on.  At the end, one line per
 * intervention gives the sequences run with it per exit kind.
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
#include "apic.h"
#include "mce.h"
#include "svm_util.h"
#include "vmx.h"

#define DEFAULT_N	1000
#define IO_PORT		0x80
#define ARM_PORT	0x81	/* right before the instruction */
#define DONE_PORT	0x99	/* after it, or where userspace moves L1 to */
#define MMIO_GPA	0xc0000000ull	/* two unbacked pages */
#define SPLIT_GPA	(MMIO_GPA + PAGE_SIZE - 4)
#define HC_GPA		0x100000ull
#define TEST_MSR	0x474f4f00	/* denied by the MSR filter */

#define GUEST_RAX	0x1122334455667788ull
#define GUEST_RDX	0x99aabbccddeeff00ull
#define DATA		0xa1b2c3d4e5f60718ull	/* what userspace answers */
#define RESET_RAX	0x5a5a5a5a5a5a5a5aull
#define RESET_RDX	0xa5a5a5a5a5a5a5a5ull
#define OTHER_XOR	0x0f0f000000000f00ull	/* set_other_regs: RBX, RCX, RSI */
#define ARITH		(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			 X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF)
#define FLIP_FLAGS	(X86_EFLAGS_CF | X86_EFLAGS_ZF | X86_EFLAGS_SF)
#define L2_RAX		0x7766554433221100ull
#define L2_RDX		0xffeeddccbbaa9988ull
#define L1_MAGIC	0x11a6e5
#define MCG_STATUS_RIPV	BIT_ULL(0)
#define MCG_STATUS_EIPV	BIT_ULL(1)
#define MCG_STATUS_MCIP	BIT_ULL(2)

/* Exit kinds. */
enum {
	PIO_OUT, PIO_IN, FEP_OUT, FEP_IN, OUTSB, REP_OUTSB, MMIO_READ, MMIO_WRITE,
	SPLIT_READ, SPLIT_WRITE, HYPERCALL, RDMSR, RDMSR_ERR, WRMSR, L2_IN,
	L2_MMIO_READ, NR_KINDS
};

#define RETIRED	BIT(0)	/* RIP is past the instruction at its exit */
#define REP	BIT(1)	/* one exit per iteration, retires at the last one */
#define SPLIT	BIT(2)	/* two exits, one per page */
#define FEP	BIT(3)	/* needs kvm.force_emulation_prefix */
#define NOSTEP	BIT(4)	/* left out of the single-step interventions */
#define NOEXC	BIT(5)	/* left out of the queued-exception interventions */
#define NESTED	BIT(6)	/* done by L2 (needs nested SVM or VMX) */

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
	[REP_OUTSB]	= { "rep_outsb", KVM_EXIT_IO, REP | NOSTEP | NOEXC },
	[MMIO_READ]	= { "mmio_read", KVM_EXIT_MMIO },
	[MMIO_WRITE]	= { "mmio_write", KVM_EXIT_MMIO, RETIRED },
	[SPLIT_READ]	= { "split_read", KVM_EXIT_MMIO, SPLIT },
	[SPLIT_WRITE]	= { "split_write", KVM_EXIT_MMIO, SPLIT | RETIRED },
	[HYPERCALL]	= { "hypercall", KVM_EXIT_HYPERCALL },
	[RDMSR]		= { "rdmsr", KVM_EXIT_X86_RDMSR },
	[RDMSR_ERR]	= { "rdmsr_gp", KVM_EXIT_X86_RDMSR, NOSTEP | NOEXC },
	[WRMSR]		= { "wrmsr", KVM_EXIT_X86_WRMSR },
	[L2_IN]		= { "l2_pio_in", KVM_EXIT_IO, NESTED },
	[L2_MMIO_READ]	= { "l2_mmio_read", KVM_EXIT_MMIO, NESTED },
};

/* Interventions, done at one (random) exit of the instruction. */
enum {
	NONE, IMMEDIATE_EXIT, SIGNAL, SET_REGS, SET_SREGS, SET_SREGS2, SET_EVENTS,
	SYNC_REGS, SET_OTHER_REGS, MP_STATE, RIP_AWAY_BACK, CS_AWAY_BACK, MOVE_RIP,
	SYNC_MOVE_RIP, RESET, INIT_IPI, SMM_AWAY_BACK, SMM_RUN, NESTED_STATE, QUEUE_GP,
	QUEUE_MC,
	GUEST_TF, STEP_ALL, STEP_ON, STEP_OFF, STEP_TOGGLE, NR_INTVS
};

#define PRE	BIT(0)	/* done before the instruction, not at its exit */
#define TERM	BIT(1)	/* does the next KVM_RUN itself: last */
#define LATE	BIT(2)	/* sync_regs: written at KVM_RUN, so after the others */
#define MOVE	BIT(3)	/* abandons the instruction, moves RIP */
#define SAME	BIT(4)	/* abandons the instruction, RIP kept */
#define STEP	BIT(5)	/* single-step or guest TF: not with NOSTEP kinds */
#define EXC	BIT(6)	/* queues an exception */
#define L2OK	BIT(7)	/* also at an L2 exit */
#define CAP	BIT(8)	/* needs a capability (see has_cap()) */

static const struct {
	const char *name;
	u32 flags;
} intvs[NR_INTVS] = {
	[NONE]		 = { "none", L2OK },
	[IMMEDIATE_EXIT] = { "immediate_exit", TERM | L2OK },	/* completes or abandons, runs nothing */
	[SIGNAL]	 = { "signal", TERM | L2OK },
	[SET_REGS]	 = { "set_same_regs", L2OK },
	[SET_SREGS]	 = { "set_same_sregs", L2OK },
	[SET_SREGS2]	 = { "set_same_sregs2", L2OK | CAP },
	[SET_EVENTS]	 = { "set_same_events", L2OK },
	[SYNC_REGS]	 = { "sync_same_regs", LATE | L2OK | CAP },
	[SET_OTHER_REGS] = { "set_other_regs" },	/* RBX RCX RSI RFLAGS */
	[MP_STATE]	 = { "set_same_mp_state", L2OK },
	[RIP_AWAY_BACK]	 = { "rip_away_back", L2OK },
	[CS_AWAY_BACK]	 = { "cs_away_back", L2OK },
	[MOVE_RIP]	 = { "move_rip", MOVE | L2OK },
	[SYNC_MOVE_RIP]	 = { "sync_move_rip", MOVE | LATE | L2OK | CAP },
	[RESET]		 = { "emulated_reset", MOVE },
	[INIT_IPI]	 = { "init_ipi", MOVE | L2OK },	/* L2: INIT VM-Exit to L1 */
	[SMM_AWAY_BACK]	 = { "smm_away_back", CAP },	/* enter and leave SMM */
	[SMM_RUN]	 = { "smm_enter_run", SAME | CAP },	/* KVM_RUN in SMM */
	[NESTED_STATE]	 = { "nested_state", SAME | L2OK | CAP },
	[QUEUE_GP]	 = { "queue_gp", EXC },
	[QUEUE_MC]	 = { "queue_mce", EXC | CAP },
	[GUEST_TF]	 = { "guest_tf", STEP | PRE },	/* RFLAGS.TF and #DB handler */
	[STEP_ALL]	 = { "step_on", STEP | PRE },	/* from the instruction */
	[STEP_ON]	 = { "step_on_at_exit", STEP },
	[STEP_OFF]	 = { "step_off_at_exit", STEP },
	[STEP_TOGGLE]	 = { "step_toggle_at_exit", STEP },	/* on, then off */
};

/* What the guest runs next, and what it saw. */
static struct {
	u64 kind, tf, rax, rbx, rcx, rdx, rsi, ugp;
} in;
static struct {
	u64 db, db_rip, gp, ugp, ugp_rip, mc, mc_rip;
} seen;
static struct {
	u64 entry;
} nin;
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

/*
 * The #GP of a failed RDMSR: report it in RAX and go on after the RDMSR.  A
 * #GP queued by userspace: note where it came, and go on there.
 */
static void guest_gp_handler(struct ex_regs *regs)
{
	if (READ_ONCE(in.ugp)) {
		if (!seen.ugp++)
			seen.ugp_rip = regs->rip;
		return;
	}
	seen.gp++;
	regs->rax = GP_VECTOR;
	regs->rip = regs->r15;
}

static void guest_mc_handler(struct ex_regs *regs)
{
	if (!seen.mc++)
		seen.mc_rip = regs->rip;
	wrmsr(MSR_IA32_MCG_STATUS, 0);
}

/* The second vCPU: one INIT IPI to vCPU 0 per KVM_RUN. */
static void init_sender(void)
{
	x2apic_enable();
	for (;;) {
		x2apic_write_reg(APIC_ICR, APIC_DEST_PHYSICAL | APIC_DM_INIT | APIC_INT_ASSERT);
		GUEST_SYNC(0);
	}
}

/*
 * L2: the instruction, then a VMMCALL/VMCALL that L1 intercepts; and another
 * one where userspace moves L2.
 */
extern char l2_in_svm[], l2_in_svm_done[], l2_mmio_svm[], l2_mmio_svm_done[];
extern char l2_in_vmx[], l2_in_vmx_done[], l2_mmio_vmx[], l2_mmio_vmx_done[];
extern char l2_moved_svm[], l2_moved_vmx[];
asm(".pushsection .text\n"
    "l2_in_svm: inb $0x80, %al\n"
    "l2_in_svm_done: vmmcall\n ud2\n"
    "l2_mmio_svm: movq (%rbx), %rax\n"
    "l2_mmio_svm_done: vmmcall\n ud2\n"
    "l2_in_vmx: inb $0x80, %al\n"
    "l2_in_vmx_done: vmcall\n ud2\n"
    "l2_mmio_vmx: movq (%rbx), %rax\n"
    "l2_mmio_vmx_done: vmcall\n ud2\n"
    "l2_moved_svm: vmmcall\n ud2\n"
    "l2_moved_vmx: vmcall\n ud2\n"
    ".popsection");

/*
 * L1: runs L2 at nin.entry (RAX = L2_RAX, RBX = MMIO_GPA) with neither I/O nor
 * MMIO intercepted, and reports L2's VM-Exit: reason, RIP and RAX.  INIT is
 * intercepted (always on VMX).
 */
static void l1_code(void *data)
{
	if (this_cpu_has(X86_FEATURE_SVM)) {
		struct svm_test_data *svm = data;
		struct vmcb *vmcb = svm->vmcb;

		generic_svm_setup(svm, NULL);
		vmcb->control.intercept |= BIT_ULL(INTERCEPT_INIT);
		for (;;) {
			vmcb->save.rip = READ_ONCE(nin.entry);
			vmcb->save.rsp = (u64)svm->stack;
			guest_regs.rax = L2_RAX;	/* run_guest() moves it to the VMCB */
			guest_regs.rbx = MMIO_GPA;
			guest_regs.rdx = L2_RDX;
			run_guest(vmcb, svm->vmcb_gpa);
			GUEST_SYNC_ARGS(L1_MAGIC, vmcb->control.exit_code,
					vmcb->save.rip, vmcb->save.rax, guest_regs.rdx);
		}
	} else {
		struct vmx_pages *vmx = data;
		bool launched = false;

		GUEST_ASSERT(prepare_for_vmx_operation(vmx));
		GUEST_ASSERT(load_vmcs(vmx));
		prepare_vmcs(vmx, NULL);
		for (;;) {
			GUEST_ASSERT(!vmwrite(GUEST_RIP, READ_ONCE(nin.entry)));
			GUEST_ASSERT(!vmwrite(GUEST_RSP, (u64)vmx->stack));
			guest_regs.rax = L2_RAX;
			guest_regs.rbx = MMIO_GPA;
			guest_regs.rdx = L2_RDX;
			GUEST_ASSERT(!(launched ? vmresume() : vmlaunch()));
			launched = true;
			GUEST_SYNC_ARGS(L1_MAGIC, vmreadz(VM_EXIT_REASON) & 0xffff,
					vmreadz(GUEST_RIP), guest_regs.rax, guest_regs.rdx);
		}
	}
}

/* What userspace did so far, for the oracle. */
struct oracle {
	bool step;		/* KVM_GUESTDBG_SINGLESTEP now */
	bool step_start;	/* ... on from the instruction on */
	bool step_ever;		/* ... on at some point (takes the guest's TF) */
	bool guest_tf;
	bool moved;		/* abandoned, RIP moved to seq.moved */
	bool same;		/* abandoned, RIP kept */
	bool same_no_smm;	/* ... for a reason other than being in SMM */
	bool init;		/* an INIT was taken */
	bool smm;		/* in SMM since the exit */
	u32 exc;		/* vector queued by userspace and still queued, 0 if none */
	bool exc_inj;		/* ... as "injected" (KVM_SET_VCPU_EVENTS): KVM_SET_REGS keeps it */
	bool db_pend;		/* the guest's TF #DB of a retired instruction, still queued */
	bool db_inj;		/* ... as "injected" */
};

/* One sequence, all derived from (seed, index). */
struct seq {
	u32 idx, kind, nexits, at, niv;
	u32 iv[3];		/* in the order done */
	u32 mask;
	u64 start, insn, next, moved;	/* R12, R14, R15, R13 (L2: labels) */
	u64 exit_rip;			/* RIP at the last exit */
	u64 at_rip;			/* RIP at the intervention's exit */
	u64 exit_flags;			/* RFLAGS at the last exit */
	u64 want_flags;			/* arithmetic flags at DONE_PORT */
	bool reexec;			/* answering the exits of a new run */
	bool check_db_queued, db_checked, db_queued;
	u32 last;			/* last exit answered (1-based) */
	bool in_tail;			/* answering the tail of a retired split write */
	u64 tail_rip;
	struct kvm_regs want;		/* at the OUT to DONE_PORT */
	struct oracle o;
};

/* The VMs: the main one, with an INIT sender, and the nested one. */
struct ctx {
	struct kvm_vcpu *vcpu, *helper;
	struct kvm_vcpu *nvcpu, *nhelper;
};

static u32 seed;
static struct seq cur;
static u32 runs[NR_INTVS][NR_KINDS];	/* sequences run, per intervention and kind */
static jmp_buf fail_jmp;
static bool has_sregs2, has_sync, has_smm, has_smm_as, has_mce, has_nested;
static bool nested_svm, svm_nonrips;
static u32 nknown, known_by[2];
static const char *const known_reason[2] = {
	"#GP queued at an MSR/hypercall exit lost (SVM without NRIPS skips the instruction with the emulator, which clears the exception queue; pre-existing, base 7.3.4 too)",
	"#MC queued at an MSR/hypercall exit lost (SVM without NRIPS skips the instruction with the emulator, which clears the exception queue; pre-existing, base 7.3.4 too)",
};
static struct kvm_nested_state *nstate;
static u32 nstate_size;

static const char *seq_name(struct seq *s)
{
	static char buf[128];
	u32 j;

	if (!s->niv)
		return intvs[NONE].name;
	buf[0] = 0;
	for (j = 0; j < s->niv; j++) {
		if (j)
			strcat(buf, "+");
		strcat(buf, intvs[s->iv[j]].name);
	}
	return buf;
}

/* An oracle mismatch: report the sequence and abandon it (and the VM). */
#define CHECK(cond, fmt, ...) do {						\
	if (!(cond)) {								\
		ksft_print_msg("FAIL -s %u -i %u (%s, %s): %s: " fmt "\n",	\
			       seed, cur.idx, kinds[cur.kind].name,		\
			       seq_name(&cur), #cond, ##__VA_ARGS__);		\
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

static bool has(struct seq *s, u32 v)
{
	return s->mask & BIT(v);
}

static bool has_flag(struct seq *s, u32 flag)
{
	u32 j;

	for (j = 0; j < s->niv; j++)
		if (intvs[s->iv[j]].flags & flag)
			return true;
	return false;
}

static void vcpu_enter(struct kvm_vcpu *vcpu)
{
	int r = __vcpu_run(vcpu);

	CHECK(!r, "KVM_RUN: %d errno %d", r, errno);
}

static void set_step(struct kvm_vcpu *vcpu, struct seq *s, bool on)
{
	struct kvm_guest_debug debug = {
		.control = on ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP : 0,
	};

	vcpu_guest_debug_set(vcpu, &debug);
	s->o.step = on;
	s->o.step_ever |= on;
}

static void check_gprs(struct kvm_regs *got, struct kvm_regs *want)
{
	CHECK_EQ(got->rax, want->rax);
	CHECK_EQ(got->rbx, want->rbx);
	CHECK_EQ(got->rcx, want->rcx);
	CHECK_EQ(got->rdx, want->rdx);
	CHECK_EQ(got->rsi, want->rsi);
}

/* Not retired at the exit, completed by the emulator. */
static bool emulated(u32 kind)
{
	return kind == FEP_IN || kind == MMIO_READ || kind == SPLIT_READ;
}

static bool is_in(u32 kind)
{
	return kind == PIO_IN || kind == FEP_IN || kind == L2_IN;
}

/* Check exit @i (1-based) of the instruction and answer it. */
static void answer_exit(struct kvm_vcpu *vcpu, struct seq *s, u32 i)
{
	u64 gpa = kinds[s->kind].flags & SPLIT ? SPLIT_GPA : MMIO_GPA;
	u32 kflags = kinds[s->kind].flags;
	struct kvm_run *run = vcpu->run;
	u8 *io = (u8 *)run + run->io.data_offset;
	u64 val = GUEST_RAX, off = 0, len = 8;
	struct kvm_vcpu_events ev;
	struct kvm_regs regs;

	CHECK(run->exit_reason == kinds[s->kind].exit_reason, "exit %u/%u: %s (port 0x%x)",
	      i, s->nexits, exit_reason_str(run->exit_reason), run->io.port);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		CHECK_EQ(run->io.port, IO_PORT);
		CHECK_EQ(run->io.size, 1);
		CHECK_EQ(run->io.count, 1);
		CHECK_EQ(run->io.direction, is_in(s->kind) ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT);
		if (run->io.direction == KVM_EXIT_IO_IN)
			*io = (u8)DATA;
		else if (s->kind == OUTSB || s->kind == REP_OUTSB)
			CHECK_EQ(*io, outs_buf[i - 1]);
		else
			CHECK_EQ(*io, (u8)GUEST_RAX);
		break;
	case KVM_EXIT_MMIO:
		if (kflags & SPLIT) {
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

	/*
	 * Where RIP points at each exit is documented ABI.  v3: a REP string
	 * instruction retires at its last iteration.
	 */
	vcpu_regs_get(vcpu, &regs);
	s->exit_flags = regs.rflags;
	if (s->in_tail)
		s->exit_rip = s->tail_rip;
	else if ((kflags & RETIRED) || ((kflags & REP) && i == s->nexits))
		s->exit_rip = s->next;
	else
		s->exit_rip = s->insn;
	s->last = i;
	CHECK(regs.rip == s->exit_rip, "exit %u/%u at RIP 0x%llx, want 0x%lx",
	      i, s->nexits, regs.rip, s->exit_rip);

	/*
	 * v3: the guest's single-step #DB is queued when the instruction retires,
	 * before its (first) exit.
	 */
	if (s->check_db_queued && i == 1 && !s->reexec) {
		vcpu_events_get(vcpu, &ev);
		s->db_checked = true;
		s->db_queued = (ev.exception.injected || ev.exception.pending) &&
			       ev.exception.nr == DB_VECTOR;
	}
}

/*
 * A page-crossing MMIO write retires at its first exit; what is left of it,
 * its second fragment, is written in any context: it still exits after
 * userspace moved RIP, reset the vCPU or changed its mode.
 */
static bool tail_pending(struct seq *s)
{
	return s->kind == SPLIT_WRITE && s->last == 1 && (s->o.moved || s->o.same);
}

static void answer_tail(struct kvm_vcpu *vcpu, struct seq *s, u64 rip)
{
	s->in_tail = true;
	s->tail_rip = rip;
	answer_exit(vcpu, s, 2);
	s->in_tail = false;
}

static u64 tail_rip(struct seq *s)
{
	return s->o.moved ? s->want.rip : s->next;
}

/*
 * Queued exceptions.  KVM_SET_REGS (and sync_regs' REGS) discards a pending
 * exception: one KVM queued itself (#MC from KVM_X86_SET_MCE, the guest's TF
 * #DB of a retired instruction).  One that KVM_SET_VCPU_EVENTS wrote is
 * "injected" and stays, and so does a pending one that went through
 * KVM_GET/SET_VCPU_EVENTS (reported as injected without
 * KVM_CAP_EXCEPTION_PAYLOAD).
 */
static void events_written(struct seq *s)
{
	s->o.db_inj |= s->o.db_pend;
	s->o.exc_inj |= !!s->o.exc;
}

static void regs_written(struct seq *s)
{
	if (!s->o.db_inj)
		s->o.db_pend = false;
	if (!s->o.exc_inj)
		s->o.exc = 0;
}

/* Abandon the instruction: new RIP and registers, written by userspace. */
static void moved_regs(struct seq *s, struct kvm_regs *regs)
{
	regs->rip = s->moved;
	regs->rax = RESET_RAX;
	regs->rdx = RESET_RDX;
	regs->rflags &= ~X86_EFLAGS_TF;
	s->want = *regs;
	s->want_flags = regs->rflags & ARITH;
	s->o.moved = true;
}

static void move_vcpu(struct kvm_vcpu *vcpu, struct seq *s, struct kvm_regs *base)
{
	struct kvm_regs regs = *base;

	moved_regs(s, &regs);
	vcpu_regs_set(vcpu, &regs);
	regs_written(s);
}

/* Reset as QEMU does it, check the state without running any instruction. */
static void emulated_reset(struct kvm_vcpu *vcpu, struct seq *s)
{
	struct kvm_regs rr = { .rip = 0xfff0, .rdx = 0x600, .rflags = 2 }, got, base;
	struct kvm_segment seg = { .base = 0, .limit = 0xffff, .type = 3,
				   .present = 1, .s = 1 };
	struct kvm_sregs saved, rs;
	struct kvm_vcpu_events ev;
	int r;

	vcpu_regs_get(vcpu, &base);
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
	if (!r && s->kind == SPLIT_WRITE && s->last == 1) {
		/* The rest of the retired split write, even after the reset. */
		answer_tail(vcpu, s, rr.rip);
		r = __vcpu_run(vcpu);
	}
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
	move_vcpu(vcpu, s, &base);
}

/* The second vCPU sends vCPU 0 an INIT; KVM_GET_MP_STATE takes it. */
static void send_init(struct kvm_vcpu *vcpu, struct kvm_vcpu **helperp, struct seq *s)
{
	struct kvm_vcpu *helper;
	struct kvm_mp_state mp;
	struct ucall uc;

	if (!*helperp)	/* created on first use: VM creation stays cheap */
		*helperp = vm_vcpu_add(vcpu->vm, 1, init_sender);
	helper = *helperp;
	vcpu_run(helper);
	TEST_ASSERT(get_ucall(helper, &uc) == UCALL_SYNC, "INIT sender: %s",
		    exit_reason_str(helper->run->exit_reason));
	vcpu_mp_state_get(vcpu, &mp);
	CHECK_EQ(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	s->o.init = true;
}

static void init_ipi(struct kvm_vcpu *vcpu, struct kvm_vcpu **helper, struct seq *s)
{
	struct kvm_sregs saved, got_s;
	struct kvm_regs base, got;

	vcpu_regs_get(vcpu, &base);
	vcpu_sregs_get(vcpu, &saved);
	send_init(vcpu, helper, s);
	vcpu_regs_get(vcpu, &got);
	CHECK_EQ(got.rip, 0xfff0);
	vcpu_sregs_get(vcpu, &got_s);
	CHECK_EQ(got_s.cs.base, 0xffff0000);
	vcpu_sregs_set(vcpu, &saved);
	move_vcpu(vcpu, s, &base);
}

static void set_smm(struct kvm_vcpu *vcpu, bool smm)
{
	struct kvm_vcpu_events ev;

	vcpu_events_get(vcpu, &ev);
	ev.flags |= KVM_VCPUEVENT_VALID_SMM;
	ev.smi.smm = smm;
	vcpu_events_set(vcpu, &ev);
}

/* No INIT left latched for L1 (SVM with GIF = 0 after the #VMEXIT(INIT)). */
static void clear_latched_init(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_events ev;

	vcpu_events_get(vcpu, &ev);
	ev.flags |= KVM_VCPUEVENT_VALID_SMM;
	ev.smi.latched_init = 0;
	vcpu_events_set(vcpu, &ev);
}

/* Take SIGUSR1 if it is pending (blocked outside KVM_RUN). */
static bool take_sigusr1(void)
{
	struct timespec zero = {};
	sigset_t usr1;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	return sigtimedwait(&usr1, NULL, &zero) == SIGUSR1;
}

/*
 * KVM_RUN with immediate_exit, or with a signal pending, completes what is
 * pending (answering the exits that still come), or abandons it if userspace
 * moved the vCPU, and returns -EINTR.
 */
static void run_interrupted(struct kvm_vcpu *vcpu, struct seq *s, u32 v, u32 *i)
{
	struct kvm_vcpu_events ev;
	struct kvm_regs regs;
	int r;

	if (v == IMMEDIATE_EXIT)
		vcpu->run->immediate_exit = 1;
	else
		raise(SIGUSR1);	/* blocked, pending until KVM_RUN unblocks it */
	while (!(r = __vcpu_run(vcpu))) {
		if (tail_pending(s)) {
			answer_tail(vcpu, s, tail_rip(s));
			++*i;
		} else if (*i < s->nexits && !s->o.moved) {
			answer_exit(vcpu, s, ++*i);
		} else {
			break;
		}
	}
	vcpu->run->immediate_exit = 0;
	if (v == SIGNAL)
		CHECK(take_sigusr1(), "signal not pending");
	CHECK(r == -1 && errno == EINTR, "KVM_RUN: %d errno %d, exit %s",
	      r, errno, exit_reason_str(vcpu->run->exit_reason));
	if (v == SIGNAL) {
		CHECK_EQ(vcpu->run->exit_reason, KVM_EXIT_INTR);
		return;
	}

	/* No instruction ran: the exiting one is complete and nothing else. */
	vcpu_regs_get(vcpu, &regs);
	if (s->o.moved) {
		CHECK_EQ(regs.rip, s->want.rip);
		check_gprs(&regs, &s->want);
	} else if (*i < s->nexits) {
		CHECK_EQ(regs.rip, s->insn);	/* REP not done */
	} else if (s->kind == RDMSR_ERR) {
		CHECK_EQ(regs.rip, s->insn);
		vcpu_events_get(vcpu, &ev);
		CHECK(ev.exception.injected || ev.exception.pending, "no #GP queued");
		CHECK_EQ(ev.exception.nr, GP_VECTOR);
	} else {
		CHECK_EQ(regs.rip, s->next);	/* v3: REP too */
		check_gprs(&regs, &s->want);
	}
}

static void fill_sync_regs(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	vcpu_regs_get(vcpu, &run->s.regs.regs);
	vcpu_sregs_get(vcpu, &run->s.regs.sregs);
	vcpu_events_get(vcpu, &run->s.regs.events);
	run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
}

/* Do intervention @v at exit @i; it may answer more exits, bumping @i. */
static void intervene(struct ctx *c, struct kvm_vcpu *vcpu, struct kvm_vcpu **helper,
		      struct seq *s, u32 v, u32 *i)
{
	struct kvm_x86_mce mce = {
		.status = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN,
		.mcg_status = MCG_STATUS_MCIP | MCG_STATUS_EIPV | MCG_STATUS_RIPV,
	};
	struct kvm_vcpu_events ev;
	struct kvm_sregs2 sregs2, s2;
	struct kvm_sregs sregs, s1;
	struct kvm_mp_state mp;
	struct kvm_regs regs, r2;
	int r;

	vcpu_regs_get(vcpu, &regs);
	switch (v) {
	case IMMEDIATE_EXIT:
	case SIGNAL:
		run_interrupted(vcpu, s, v, i);
		break;
	case SET_REGS:
		vcpu_regs_set(vcpu, &regs);
		regs_written(s);
		break;
	case SET_SREGS:
		vcpu_sregs_get(vcpu, &sregs);
		vcpu_sregs_set(vcpu, &sregs);
		break;
	case SET_SREGS2:
		vcpu_ioctl(vcpu, KVM_GET_SREGS2, &sregs2);
		vcpu_ioctl(vcpu, KVM_SET_SREGS2, &sregs2);
		break;
	case SET_EVENTS:
		vcpu_events_get(vcpu, &ev);
		vcpu_events_set(vcpu, &ev);
		events_written(s);
		break;
	case SYNC_REGS:
		/* At KVM_RUN: REGS drops what is pending, EVENTS puts it back. */
		fill_sync_regs(vcpu);
		events_written(s);
		break;
	case SYNC_MOVE_RIP:
		fill_sync_regs(vcpu);
		moved_regs(s, &vcpu->run->s.regs.regs);
		events_written(s);
		break;
	case SET_OTHER_REGS:
		regs.rbx ^= OTHER_XOR;
		regs.rcx ^= OTHER_XOR;
		regs.rsi ^= OTHER_XOR;
		regs.rflags ^= FLIP_FLAGS;
		vcpu_regs_set(vcpu, &regs);
		regs_written(s);
		s->want.rbx = regs.rbx;
		s->want.rcx = regs.rcx;
		s->want.rsi = regs.rsi;
		s->want_flags = regs.rflags & ARITH;
		break;
	case MP_STATE:
		vcpu_mp_state_get(vcpu, &mp);
		CHECK_EQ(mp.mp_state, KVM_MP_STATE_RUNNABLE);
		vcpu_mp_state_set(vcpu, &mp);
		break;
	case RIP_AWAY_BACK:
		r2 = regs;
		r2.rip = regs.rip == s->moved ? s->insn : s->moved;	/* away */
		vcpu_regs_set(vcpu, &r2);
		vcpu_regs_set(vcpu, &regs);
		regs_written(s);
		break;
	case CS_AWAY_BACK:
		if (has_sregs2) {
			vcpu_ioctl(vcpu, KVM_GET_SREGS2, &sregs2);
			s2 = sregs2;
			s2.cs.base += PAGE_SIZE;
			vcpu_ioctl(vcpu, KVM_SET_SREGS2, &s2);
			vcpu_ioctl(vcpu, KVM_SET_SREGS2, &sregs2);
		} else {
			vcpu_sregs_get(vcpu, &sregs);
			s1 = sregs;
			s1.cs.base += PAGE_SIZE;
			vcpu_sregs_set(vcpu, &s1);
			vcpu_sregs_set(vcpu, &sregs);
		}
		break;
	case MOVE_RIP:
		move_vcpu(vcpu, s, &regs);
		break;
	case RESET:
		emulated_reset(vcpu, s);
		break;
	case INIT_IPI:
		if (kinds[s->kind].flags & NESTED)
			send_init(vcpu, helper, s);
		else
			init_ipi(vcpu, helper, s);
		break;
	case SMM_AWAY_BACK:
	case SMM_RUN:
		set_smm(vcpu, true);
		events_written(s);
		if (v == SMM_RUN) {
			s->o.same = true;
			s->o.smm = true;
		} else {
			set_smm(vcpu, false);
			/*
			 * Out of the SMM that an earlier smm_enter_run entered:
			 * back in the exit's context as far as SMM goes.
			 */
			s->o.smm = false;
			s->o.same = s->o.same_no_smm;
		}
		break;
	case NESTED_STATE:
		memset(nstate, 0, nstate_size);
		nstate->size = nstate_size;
		vcpu_nested_state_get(vcpu, nstate);
		r = __vcpu_nested_state_set(vcpu, nstate);
		CHECK(!r, "KVM_SET_NESTED_STATE: %d errno %d", r, errno);
		s->o.same = s->o.same_no_smm = true;
		break;
	case QUEUE_GP:
		vcpu_events_get(vcpu, &ev);
		ev.exception.injected = 1;
		ev.exception.pending = 0;
		ev.exception.nr = GP_VECTOR;
		ev.exception.has_error_code = 1;
		ev.exception.error_code = 0;
		vcpu_events_set(vcpu, &ev);
		s->o.exc = GP_VECTOR;	/* replaces the guest's #DB */
		s->o.exc_inj = true;
		s->o.db_pend = s->o.db_inj = false;
		break;
	case QUEUE_MC:
		vcpu_ioctl(vcpu, KVM_X86_SET_MCE, &mce);
		s->o.exc = MC_VECTOR;	/* pending; replaces the guest's #DB */
		s->o.exc_inj = false;
		s->o.db_pend = s->o.db_inj = false;
		break;
	case STEP_ON:
		set_step(vcpu, s, true);
		break;
	case STEP_OFF:
		set_step(vcpu, s, false);
		break;
	case STEP_TOGGLE:
		set_step(vcpu, s, true);
		set_step(vcpu, s, false);
		break;
	}
}

/* RAX after an IN of DATA: the low byte replaced. */
static u64 in_result(u64 rax)
{
	return (rax & ~0xffull) | (u8)DATA;
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
		w->rax = in_result(w->rax);
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

static bool cap_ok(u32 v)
{
	switch (v) {
	case SET_SREGS2:
		return has_sregs2;
	case SYNC_REGS:
	case SYNC_MOVE_RIP:
		return has_sync;
	case SMM_AWAY_BACK:
		return has_smm;
	case SMM_RUN:
		return has_smm_as;
	case QUEUE_MC:
		return has_mce;
	case NESTED_STATE:
		return nstate != NULL;
	}
	return true;
}

/* A failure the brief classifies as known (pre-existing, not the series'). */
static void known(struct seq *s, u32 why)
{
	ksft_print_msg("known: -s %u -i %u (%s, %s): %s\n", seed, s->idx,
		       kinds[s->kind].name, seq_name(s), known_reason[why]);
	nknown++;
	known_by[why]++;
}

/* Combinations the oracle models (see the ABI notes in run_sequence()). */
static bool valid(struct seq *s)
{
	u32 kf = kinds[s->kind].flags, j, nterm = 0;
	bool step_other = has(s, STEP_ALL) || has(s, STEP_ON) || has(s, STEP_OFF) ||
			  has(s, STEP_TOGGLE);

	if ((kf & FEP) && !is_forced_emulation_enabled)
		return false;
	if ((kf & NESTED) && !has_nested)
		return false;
	if (has(s, NONE) && s->niv > 1)
		return false;
	for (j = 0; j < s->niv; j++) {
		u32 f = intvs[s->iv[j]].flags;

		if (((f & CAP) && !cap_ok(s->iv[j])) || ((kf & NESTED) && !(f & L2OK)))
			return false;
		if ((f & STEP) && (kf & NOSTEP))
			return false;
		if ((f & EXC) && (kf & NOEXC))
			return false;
		nterm += !!(f & TERM);
	}
	if (nterm > 1 || (nterm && (step_other || has_flag(s, SAME))))
		return false;
	/* Reset and INIT drop queued events: no single-step, no exception. */
	if ((has(s, RESET) || (has(s, INIT_IPI) && !(kf & NESTED))) &&
	    (has_flag(s, STEP) || has_flag(s, EXC)))
		return false;
	/* Abandoned with RIP kept: the instruction runs again from scratch. */
	if (has_flag(s, SAME) && !(kf & NESTED) &&
	    ((kf & REP) || has_flag(s, STEP) || has_flag(s, EXC) || has(s, SET_OTHER_REGS)))
		return false;
	if (has(s, QUEUE_GP) && has(s, QUEUE_MC))
		return false;
	/* INIT is blocked in SMM; no moving out of the SMM run either. */
	if (has(s, SMM_RUN) && has_flag(s, MOVE))
		return false;
	/* An exception with single-step: only the guest's TF on a retired one. */
	if (has_flag(s, EXC) && (step_other || (has(s, GUEST_TF) && !(kf & RETIRED))))
		return false;
	if (has(s, SET_OTHER_REGS) && (kf & REP))
		return false;
	if (has(s, SYNC_REGS) && has(s, SYNC_MOVE_RIP))
		return false;
	return true;
}

/* Pairs drawn more often than chance would (a quarter of the sequences). */
static const u32 pairs[][2] = {
	{ GUEST_TF, STEP_ON }, { GUEST_TF, STEP_TOGGLE }, { GUEST_TF, STEP_OFF },
	{ STEP_ALL, MOVE_RIP }, { MOVE_RIP, STEP_ON }, { SET_REGS, RIP_AWAY_BACK },
	{ GUEST_TF, QUEUE_GP }, { GUEST_TF, QUEUE_MC }, { GUEST_TF, MOVE_RIP },
	{ INIT_IPI, SET_EVENTS }, { SMM_RUN, SET_REGS }, { NESTED_STATE, INIT_IPI },
	{ SMM_AWAY_BACK, GUEST_TF },
	{ SET_OTHER_REGS, IMMEDIATE_EXIT }, { SYNC_MOVE_RIP, STEP_ALL },
	{ MOVE_RIP, NESTED_STATE }, { MOVE_RIP, INIT_IPI }, { IMMEDIATE_EXIT, MOVE_RIP },
};

static void draw(struct seq *s, u64 *rng)
{
	u32 n, j, k, cls, order[3], no = 0;

	do {
		s->kind = rng_next(rng) % NR_KINDS;
		n = 1 + rng_next(rng) % 3;
		s->niv = 0;
		s->mask = 0;
		if (!(rng_next(rng) % 4)) {
			/* A pair the ABI singles out, in random order. */
			j = rng_next(rng) % ARRAY_SIZE(pairs);
			k = rng_next(rng) % 2;
			s->iv[0] = pairs[j][k];
			s->iv[1] = pairs[j][!k];
			s->niv = 2;
			s->mask = BIT(s->iv[0]) | BIT(s->iv[1]);
			continue;
		}
		for (j = 0; j < n; j++) {
			u32 v = rng_next(rng) % NR_INTVS;

			if (s->mask & BIT(v))
				continue;
			s->mask |= BIT(v);
			s->iv[s->niv++] = v;
		}
	} while (!valid(s));
	if (has(s, NONE)) {
		s->niv = 0;
		s->mask = 0;
	}
	/* PRE first, then in the order drawn, then LATE, then TERM. */
	for (cls = 0; cls < 4; cls++)
		for (k = 0; k < s->niv; k++) {
			u32 f = intvs[s->iv[k]].flags;
			u32 c = f & PRE ? 0 : f & TERM ? 3 : f & LATE ? 2 : 1;

			if (c == cls)
				order[no++] = s->iv[k];
		}
	memcpy(s->iv, order, sizeof(order));
}

/* Nested: the exit is L2's, the result is reported by L1. */
static void run_nested(struct ctx *c, struct seq *s)
{
	struct kvm_vcpu *vcpu = c->nvcpu;
	bool mmio = s->kind == L2_MMIO_READ;
	u64 exit_done = nested_svm ? SVM_EXIT_VMMCALL : EXIT_REASON_VMCALL;
	u64 exit_init = nested_svm ? SVM_EXIT_INIT : EXIT_REASON_INIT_SIGNAL;
	struct kvm_regs want;
	struct ucall uc;
	u32 i = 1, j;

	if (nested_svm) {
		s->insn = (u64)(mmio ? l2_mmio_svm : l2_in_svm);
		s->next = (u64)(mmio ? l2_mmio_svm_done : l2_in_svm_done);
		s->moved = (u64)l2_moved_svm;
	} else {
		s->insn = (u64)(mmio ? l2_mmio_vmx : l2_in_vmx);
		s->next = (u64)(mmio ? l2_mmio_vmx_done : l2_in_vmx_done);
		s->moved = (u64)l2_moved_vmx;
	}
	s->start = s->insn;
	s->nexits = 1;
	s->at = 1;
	nin.entry = s->insn;
	sync_global_to_guest(vcpu->vm, nin);

	vcpu_enter(vcpu);
	answer_exit(vcpu, s, 1);
	/* L2 after the completion: the instruction done (moves replace it). */
	vcpu_regs_get(vcpu, &s->want);
	s->want.rip = s->next;
	s->want.rax = mmio ? DATA : in_result(L2_RAX);
	s->want.rdx = L2_RDX;
	for (j = 0; j < s->niv; j++)
		intervene(c, vcpu, &c->nhelper, s, s->iv[j], &i);

	vcpu_enter(vcpu);
	/* Abandoned in L2 with RIP kept: the instruction runs again. */
	if (!s->o.init && s->o.same && !s->o.moved) {
		s->reexec = true;
		answer_exit(vcpu, s, 1);
		vcpu_enter(vcpu);
	}
	CHECK(get_ucall(vcpu, &uc) == UCALL_SYNC, "L1: exit %s, ucall %lu%s%s",
	      exit_reason_str(vcpu->run->exit_reason), uc.cmd,
	      uc.cmd == UCALL_ABORT ? ": " : "", uc.cmd == UCALL_ABORT ? uc.buffer : "");
	CHECK_EQ(uc.args[1], L1_MAGIC);
	/*
	 * L2's registers as L1 sees them at L2's next VM-Exit: after the
	 * completed instruction; or, if userspace moved L2 (to l2_moved_*),
	 * those it set, nothing completed; or, if KVM_SET_NESTED_STATE abandoned
	 * the instruction and the INIT was left pending by KVM_GET_MP_STATE,
	 * the instruction not run.  A pending INIT is a VM-Exit to L1 before
	 * L2 runs again; L1's own registers are intact (it reports).
	 */
	want = s->want;
	if (s->o.init && s->o.same && !s->o.moved) {
		want.rip = s->insn;
		want.rax = L2_RAX;
	}
	CHECK_EQ(uc.args[2], s->o.init ? exit_init : exit_done);
	CHECK_EQ(uc.args[3], want.rip);
	CHECK_EQ(uc.args[4], want.rax);
	CHECK_EQ(uc.args[5], want.rdx);
	if (s->o.init)
		clear_latched_init(vcpu);
}

static void run_sequence(struct ctx *c, u32 idx)
{
	u64 rng = (u64)seed << 32 | idx, step_pc = 0;
	u32 rep = 0, i, j, steps = 0, kflags;
	struct kvm_vcpu *vcpu = c->vcpu;
	struct kvm_run *run = vcpu->run;
	struct seq *s = &cur;
	int want_steps;
	bool retired, pc_known = true, pc_not_next = false, step_at_run;
	bool want_gp, want_mc;
	struct kvm_regs regs;
	u64 want_db, db_rip = 0, resume;

	memset(s, 0, sizeof(*s));
	s->idx = idx;
	draw(s, &rng);
	kflags = kinds[s->kind].flags;
	if (!s->niv)
		runs[NONE][s->kind]++;
	for (j = 0; j < s->niv; j++)
		runs[s->iv[j]][s->kind]++;
	if (kflags & NESTED) {
		run_nested(c, s);
		return;
	}
	/* No #MC in progress left by a #MC that was queued but not delivered. */
	if (has_mce)
		vcpu_set_msr(vcpu, MSR_IA32_MCG_STATUS, 0);

	in.kind = s->kind;
	in.tf = has(s, GUEST_TF) ? X86_EFLAGS_TF : 0;
	in.ugp = has(s, QUEUE_GP);
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
	s->o.guest_tf = has(s, GUEST_TF);
	retired = kflags & RETIRED;
	s->check_db_queued = s->o.guest_tf && retired && !has(s, STEP_ALL);
	s->o.db_pend = s->check_db_queued;	/* queued when it retires */
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
	if (has(s, STEP_ALL)) {
		/* Step from the instruction: skip the OUT's own completion. */
		regs.rip = s->start;
		regs.rflags |= in.tf;	/* the guest's POPF, skipped */
		vcpu_regs_set(vcpu, &regs);
		set_step(vcpu, s, true);
		s->o.step_start = true;
	}

	for (i = 1; i <= s->nexits; i++) {
		vcpu_enter(vcpu);
		answer_exit(vcpu, s, i);
		if (i != s->at)
			continue;
		s->at_rip = s->exit_rip;
		s->want_flags = s->exit_flags & ARITH;
		for (j = 0; j < s->niv; j++)
			if (!(intvs[s->iv[j]].flags & PRE))
				intervene(c, vcpu, &c->helper, s, s->iv[j], &i);
		if (s->o.moved)
			break;
		if (s->o.same) {
			/* Abandoned with RIP kept: a retired one has nothing left. */
			if (retired)
				break;
			s->reexec = true;
			s->at = 0;
			i = 0;
		}
	}
	if (tail_pending(s)) {
		vcpu_enter(vcpu);
		answer_tail(vcpu, s, tail_rip(s));
	}

	/*
	 * Single-step (v3): a retired instruction stepped by the debugger gives
	 * KVM_EXIT_DEBUG on the next KVM_RUN, with RIP past it, if stepping is
	 * still on; enabling it at the exit steps the next instruction.  One not
	 * retired is stepped when it completes.  Abandoned: no deferred step,
	 * and the moved-to OUT exits before any step.
	 */
	want_steps = 0;
	step_at_run = s->o.step;
	if (s->o.moved) {
		want_steps = 0;
	} else if (retired && !s->o.step_start && s->o.step) {
		want_steps = 1;
		step_pc = s->next + 1;
		if (s->o.db_pend) {
			/* The guest's #DB is delivered first: its handler runs. */
			want_steps = -1;
			pc_known = false;
			pc_not_next = true;
		}
	} else if (s->o.step) {
		want_steps = 1;
		step_pc = s->next;
	}
	for (;;) {
		vcpu_enter(vcpu);
		if (run->exit_reason != KVM_EXIT_DEBUG)
			break;
		CHECK(!steps++ && want_steps, "unexpected KVM_EXIT_DEBUG at 0x%llx",
		      run->debug.arch.pc);
		CHECK_EQ(run->debug.arch.exception, DB_VECTOR);
		if (pc_known)
			CHECK_EQ(run->debug.arch.pc, step_pc);
		if (pc_not_next)
			CHECK(run->debug.arch.pc != s->next,
			      "KVM_EXIT_DEBUG at once, at 0x%llx", run->debug.arch.pc);
		set_step(vcpu, s, false);
	}
	CHECK(run->exit_reason == KVM_EXIT_IO && run->io.port == DONE_PORT,
	      "exit %s port 0x%x", exit_reason_str(run->exit_reason), run->io.port);
	if (s->o.step)
		set_step(vcpu, s, false);
	if (want_steps >= 0)
		CHECK_EQ(steps, want_steps);
	vcpu_regs_get(vcpu, &regs);
	CHECK_EQ(regs.rip, s->want.rip);
	check_gprs(&regs, &s->want);
	CHECK_EQ(regs.rflags & ARITH, s->want_flags);
	if (s->o.smm) {
		/* Leaving SMM abandons the OUT: it runs again, out of SMM. */
		CHECK(run->flags & KVM_RUN_X86_SMM, "not in SMM at the OUT");
		set_smm(vcpu, false);
		vcpu_enter(vcpu);
		CHECK(run->exit_reason == KVM_EXIT_IO && run->io.port == DONE_PORT,
		      "after leaving SMM: exit %s port 0x%x",
		      exit_reason_str(run->exit_reason), run->io.port);
		CHECK(!(run->flags & KVM_RUN_X86_SMM), "still in SMM");
		vcpu_regs_get(vcpu, &regs);
		CHECK_EQ(regs.rip, s->want.rip);
	}

	/*
	 * Exceptions.  The guest's TF #DB of a retired instruction is queued at
	 * retirement (unless the debugger stepped it), survives an abandon and is
	 * replaced by an exception userspace queues; one not retired traps when
	 * it completes, unless the debugger took TF.
	 */
	sync_global_from_guest(vcpu->vm, seen);
	resume = s->o.moved ? s->moved : s->next;
	CHECK_EQ(seen.gp, s->kind == RDMSR_ERR && !s->o.moved);
	want_gp = s->o.exc == GP_VECTOR;
	want_mc = s->o.exc == MC_VECTOR;
	if (((want_gp && !seen.ugp) || (want_mc && !seen.mc)) && svm_nonrips &&
	    (s->kind == RDMSR || s->kind == WRMSR || s->kind == HYPERCALL)) {
		known(s, want_gp ? 0 : 1);
		return;
	}
	CHECK_EQ(seen.ugp, want_gp);
	if (seen.ugp)
		CHECK_EQ(seen.ugp_rip, resume);
	CHECK_EQ(seen.mc, want_mc);
	if (seen.mc)
		CHECK_EQ(seen.mc_rip, resume);
	if (retired && s->o.step_start) {
		want_db = 0;
	} else if (retired && s->o.db_pend) {
		/* Still queued: delivered where the guest resumes. */
		want_db = 1;
		db_rip = resume;
	} else if (retired) {
		/*
		 * Replaced or discarded: TF, if still set, traps after the NOP.
		 * Single-step on and then off at the exit took the guest's TF.
		 */
		want_db = s->o.guest_tf && !s->o.moved && !s->o.step_ever;
		db_rip = s->next + 1;
	} else if (emulated(s->kind)) {
		/*
		 * The trap flag in force when the instruction started decides
		 * whether it is stepped (the emulator writes back the RFLAGS it
		 * started with): the guest's TF, unless the debugger steps it
		 * from its start or at its completion.
		 */
		want_db = s->o.guest_tf && !s->o.step_start && !step_at_run && !s->o.moved;
		db_rip = s->next;
	} else {
		/*
		 * Completed without the emulator: single-step turned on at the
		 * exit took the guest's TF (KVM_SET_GUEST_DEBUG hides it while
		 * single-stepping, and clears it when turned off).
		 */
		want_db = s->o.guest_tf && !s->o.step_ever && !s->o.moved;
		db_rip = s->next;
	}
	CHECK(seen.db == want_db, "seen.db = %lu, want %lu (#DB pending at the exit: %s)",
	      seen.db, want_db, !s->db_checked ? "not checked" : s->db_queued ? "yes" : "no");
	if (want_db)
		CHECK_EQ(seen.db_rip, db_rip);
	if (s->db_checked)
		CHECK(s->db_queued, "guest #DB not pending in KVM_GET_VCPU_EVENTS at the exit");
}

/* SIGUSR1 is blocked, except in KVM_RUN. */
static void unblock_in_run(struct kvm_vcpu *vcpu)
{
	u8 buf[sizeof(struct kvm_signal_mask) + 8] __aligned(8) = {};
	struct kvm_signal_mask *mask = (void *)buf;

	mask->len = 8;
	vcpu_ioctl(vcpu, KVM_SET_SIGNAL_MASK, mask);
}

static struct kvm_vcpu *create_vm(void)
{
	u64 deny = 0, mcg_cap = 1;
	struct kvm_msr_filter filter = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges[0] = { .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			       .base = TEST_MSR, .nmsrs = 1, .bitmap = (u8 *)&deny },
	};
	struct kvm_sregs sregs;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	virt_map(vm, MMIO_GPA, MMIO_GPA, 2);
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT(KVM_HC_MAP_GPA_RANGE));
	vm_enable_cap(vm, KVM_CAP_X86_USER_SPACE_MSR, KVM_MSR_EXIT_REASON_FILTER);
	vm_ioctl(vm, KVM_X86_SET_MSR_FILTER, &filter);
	vm_install_exception_handler(vm, GP_VECTOR, guest_gp_handler);
	vm_install_exception_handler(vm, DB_VECTOR, guest_db_handler);
	vm_install_exception_handler(vm, MC_VECTOR, guest_mc_handler);
	if (has_mce) {
		vcpu_ioctl(vcpu, KVM_X86_SETUP_MCE, &mcg_cap);
		vcpu_sregs_get(vcpu, &sregs);
		sregs.cr4 |= X86_CR4_MCE;
		vcpu_sregs_set(vcpu, &sregs);
	}
	if (has_smm_as) {
		/* Memory in SMM too (address space 1), as VMMs have it. */
		struct kvm_userspace_memory_region2 mr = memslot2region(vm, 0)->region;

		mr.slot = 1 << 16;
		vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &mr);
	}
	unblock_in_run(vcpu);
	return vcpu;
}

static struct kvm_vcpu *create_nested_vm(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	gva_t gva;

	vm = vm_create_with_one_vcpu(&vcpu, l1_code);
	if (nested_svm)
		vcpu_alloc_svm(vm, &gva);
	else
		vcpu_alloc_vmx(vm, &gva);
	vcpu_args_set(vcpu, 1, gva);
	virt_map(vm, MMIO_GPA, MMIO_GPA, 1);
	unblock_in_run(vcpu);
	return vcpu;
}

/* (Re)create the main VM, the nested one, or both. */
static void create_vms(struct ctx *c, bool main_vm, bool nested)
{
	if (main_vm) {
		if (c->vcpu)
			kvm_vm_free(c->vcpu->vm);
		c->vcpu = create_vm();
		c->helper = NULL;
	}
	if (nested && has_nested) {
		if (c->nvcpu)
			kvm_vm_free(c->nvcpu->vm);
		c->nvcpu = create_nested_vm();
		c->nhelper = NULL;
	}
}

static void free_vms(struct ctx *c)
{
	kvm_vm_free(c->vcpu->vm);
	if (c->nvcpu)
		kvm_vm_free(c->nvcpu->vm);
}

static void sigusr1(int sig)
{
}

#define MAX_FAILSETS	1024

int main(int argc, char *argv[])
{
	static struct { u32 kind, mask, n, first; char name[128]; } fails[MAX_FAILSETS];
	static u32 nkind[NR_KINDS];
	static u32 n = DEFAULT_N, idx, end, nfail, count, nsets;
	static struct ctx c;
	static long only = -1;
	static struct timespec t0, t1, tf0, tf1;
	static double fail_secs;
	char line[1024];
	sigset_t usr1;
	double secs;
	int opt, k, v, len;
	static bool nested;
	u32 f;

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
	has_sregs2 = kvm_has_cap(KVM_CAP_SREGS2);
	has_sync = (kvm_check_cap(KVM_CAP_SYNC_REGS) &
		    (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)) ==
		   (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS);
	has_smm = kvm_has_cap(KVM_CAP_X86_SMM);
	has_smm_as = has_smm && kvm_check_cap(KVM_CAP_MULTI_ADDRESS_SPACE) >= 2;
	has_mce = kvm_check_cap(KVM_CAP_MCE) > 0;
	nstate_size = kvm_check_cap(KVM_CAP_NESTED_STATE);
	if (nstate_size >= sizeof(struct kvm_nested_state))
		nstate = calloc(1, nstate_size);
	nested_svm = kvm_cpu_has(X86_FEATURE_SVM);
	if (host_cpu_is_amd) {
		FILE *f = fopen("/sys/module/kvm_amd/parameters/nrips", "r");
		int nrips = 1;

		if (f) {
			if (fscanf(f, "%d", &nrips) != 1)
				nrips = 1;
			fclose(f);
		}
		svm_nonrips = !nrips;
	}
	has_nested = nstate && (nested_svm || kvm_cpu_has(X86_FEATURE_VMX));

	signal(SIGUSR1, sigusr1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);

	ksft_print_header();
	ksft_set_plan(1);
	ksft_print_msg("seed %u, %u sequences%s%s%s%s%s%s%s\n", seed, only < 0 ? n : 1u,
		       svm_nonrips ? " (SVM without NRIPS)" : "",
		       is_forced_emulation_enabled ? "" : " (no forced emulation)",
		       has_nested ? (nested_svm ? " (nested SVM)" : " (nested VMX)") : " (no nested)",
		       has_smm ? "" : " (no SMM)", has_mce ? "" : " (no MCE)",
		       has_sregs2 ? "" : " (no SREGS2)", has_sync ? "" : " (no sync_regs)");

	idx = only < 0 ? 0 : only;
	end = only < 0 ? n : only + 1;
	count = end - idx;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	create_vms(&c, true, true);
	for (; idx < end; idx++) {
		clock_gettime(CLOCK_MONOTONIC, &tf0);
		if (setjmp(fail_jmp)) {
			for (f = 0; f < nsets; f++)
				if (fails[f].kind == cur.kind && fails[f].mask == cur.mask)
					break;
			if (f < MAX_FAILSETS) {
				if (f == nsets) {
					nsets++;
					fails[f].kind = cur.kind;
					fails[f].mask = cur.mask;
					fails[f].first = cur.idx;
					strcpy(fails[f].name, seq_name(&cur));
				}
				fails[f].n++;
			}
			nfail++;
			/* Not for the next sequence: the signal this one raised. */
			take_sigusr1();
			/* Only the VM the sequence ran in. */
			nested = kinds[cur.kind].flags & NESTED;
			create_vms(&c, !nested, nested);
			clock_gettime(CLOCK_MONOTONIC, &tf1);
			fail_secs += (tf1.tv_sec - tf0.tv_sec) + (tf1.tv_nsec - tf0.tv_nsec) / 1e9;
			continue;
		}
		run_sequence(&c, idx);
		nkind[cur.kind]++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free_vms(&c);

	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ksft_print_msg("%.1f s, %.0f sequences/s; %.1f s of it in failed sequences and VM re-creation\n",
		       secs, count / secs, fail_secs);
	for (k = 0; k < NR_KINDS; k++)
		ksft_print_msg("kind %-12s %u passed\n", kinds[k].name, nkind[k]);
	for (v = 0; v < NR_INTVS; v++) {
		len = snprintf(line, sizeof(line), "intv %s:", intvs[v].name);
		for (k = 0; k < NR_KINDS; k++)
			len += snprintf(line + len, sizeof(line) - len, " %s=%u",
					kinds[k].name, runs[v][k]);
		ksft_print_msg("%s\n", line);
	}
	for (f = 0; f < nsets; f++)
		ksft_print_msg("failing: %s x %s: %u, e.g. -s %u -i %u\n",
			       kinds[fails[f].kind].name, fails[f].name, fails[f].n,
			       seed, fails[f].first);
	for (f = 0; f < ARRAY_SIZE(known_by); f++)
		if (known_by[f])
			ksft_print_msg("known: %u x %s\n", known_by[f], known_reason[f]);
	ksft_test_result(!nfail, "%u sequences, seed %u, %u oracle failures, %u known\n",
			 count, seed, nfail, nknown);
	ksft_finished();
}
