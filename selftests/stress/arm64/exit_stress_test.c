// SPDX-License-Identifier: GPL-2.0-only
/*
 * exit_stress_test - random exits to userspace, each followed by 1-3 random
 * userspace interventions, in random order, before the vCPU is entered again.
 *
 * Each sequence points vCPU 0 at one exiting instruction: an MMIO load or
 * store of each width (with zero- and sign-extending loads), or an HVC that
 * the SMCCC filter forwards to userspace.  The host answers the exit, then
 * does the interventions in the order drawn: KVM_RUN with immediate_exit or
 * with a signal pending; writing back the same PC, moving PC away and back,
 * or for good; changing PSTATE.M (the SP selection) away and back, or for
 * good; writing the destination or other registers; KVM_ARM_VCPU_INIT (the
 * VMM then restores the registers); single-step across the exit, or turned on
 * or off at it; KVM_SET_VCPU_EVENTS with an SError the guest has unmasked or
 * masked, or with ext_dabt_pending; a PSCI CPU_ON of vCPU 0, which the VMM
 * stopped, by vCPU 1 (the VMM reading a register of vCPU 0 before KVM_RUN, or
 * not); a PSCI CPU_ON of vCPU 2 by vCPU 1; a PSCI SYSTEM_RESET by vCPU 1,
 * after which the VMM re-initializes the vCPUs with KVM_ARM_VCPU_INIT.
 *
 * The oracle is Documentation/virt/kvm/api.rst (KVM_EXIT_MMIO on arm64,
 * KVM_SET_VCPU_EVENTS, KVM_ARM_VCPU_INIT) and the architecture.  The next
 * KVM_RUN, with immediate_exit or a signal too, completes the access: a load
 * writes the answered value, extended per the instruction, and PC steps by 4.
 * It completes nothing if, at that KVM_RUN, PC or PSTATE.M differ from the
 * exit's, or the vCPU was reset or given an external abort since: then no
 * register is written, nothing is skipped, and the access runs anew where the
 * guest resumes.  An SError the guest has unmasked is taken at once, at the
 * access, so the access is not completed and runs again after the handler; a
 * masked one stays pending, the access completes and the guest takes the
 * SError where it unmasks SErrors.  The guest's handler sees each SError and
 * external abort exactly once, with the syndrome userspace gave (the abort:
 * with FAR the access' address).  After PSCI CPU_ON, the target starts at the
 * entry point with x0 the context ID and the other registers zero (KVM resets
 * it as KVM_ARM_VCPU_INIT does); powering on another vCPU changes nothing
 * of vCPU 0.
 * Single-step: a completed access is the stepped instruction, its step
 * reported at once, as is the step owed for an HVC stepped into its exit;
 * otherwise one instruction runs before the step.
 *
 * Usage: exit_stress_test [-s SEED (default 1)] [-n SEQUENCES] [-i INDEX]
 * Sequence INDEX of seed SEED is always the same; -i replays it alone.  The
 * test runs all sequences, recreating the VM after a failure, counts the
 * failures of each exit kind and composition, and prints how many sequences
 * ran each intervention with each exit kind.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <asm/cputype.h>
#include <linux/arm-smccc.h>
#include <linux/psci.h>
#include <linux/stringify.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "ucall_common.h"

#define MMIO_ADDR	0x8000000ULL	/* no memslot: every access exits */
#define REPORT_ADDR	(MMIO_ADDR + 8)
#define CPU_ON_ADDR	(MMIO_ADDR + 16)	/* the CPU_ON entry's report */
#define HC_FUNC_ID	ARM_SMCCC_CALL_VAL(ARM_SMCCC_FAST_CALL, ARM_SMCCC_SMC_64, \
					   ARM_SMCCC_OWNER_SIP, 0x42)
#define SERROR_ISS	(ESR_ELx_ISV | 0x5e55)

#define REG_PC		ARM64_CORE_REG(regs.pc)
#define REG_PSTATE	ARM64_CORE_REG(regs.pstate)
#define REG_X(n)	ARM64_CORE_REG(regs.regs[n])
#define NR_X		8	/* x0..x7: all the registers the guest uses */
#define MODE_MASK	(PSR_MODE32_BIT | PSR_MODE_MASK)
#define MODE_SPSEL	BIT(0)	/* EL1h <-> EL1t (EL2h <-> EL2t) */
#define VEC_SYNC	0x200	/* current EL with SP_ELx */
#define VEC_SERROR	0x380

/*
 * Guest code: GUEST_ALT, then one 32-byte slot per exit kind.  The host
 * writes the exiting instruction of each kind into the first word of its
 * slot; the slot then counts in x6 that execution went on past it, unmasks
 * SErrors and stores to REPORT_ADDR, where the host checks the registers.
 * GUEST_ALT, where userspace moves PC to abandon an access, counts in x7
 * instead.  x5 holds MMIO_ADDR, and x0 the SMCCC function for the HVC.
 */
#define MAX_KINDS	16
#define SLOT		32

asm("	.pushsection .text, \"ax\"\n"
"	.balign	" __stringify(SLOT) "\n"
"	.global	guest_code\n"
"guest_code:\n"
"	add	x7, x7, #1\n"
"	msr	daifclr, #4\n"
"	isb\n"
"	str	x1, [x5, #8]\n"
"	b	.\n"
"	.rept	" __stringify(MAX_KINDS) "\n"
"	.balign	" __stringify(SLOT) "\n"
"	udf	#0\n"
"	add	x6, x6, #1\n"
"	msr	daifclr, #4\n"
"	isb\n"
"	str	x1, [x5, #8]\n"
"	b	.\n"
"	.endr\n"
"	.popsection\n");

/* The PSCI CPU_ON entry point of vCPU 0, run with the MMU off. */
static const u32 cpu_on_stub[] = {
	0xf9000001,	/* str x1, [x0]: the report, x0 = CPU_ON_ADDR */
	0xf9000001,	/* str x1, [x0]: the report if the first was skipped */
	0x14000000,	/* b . */
};

/* What the guest's exception handlers saw, reset by the host. */
static struct {
	u64 serror, serror_elr, serror_esr;
	u64 dabt, dabt_elr, dabt_esr, dabt_far;
} seen;

static void guest_serror_handler(struct ex_regs *regs)
{
	if (!seen.serror++) {
		seen.serror_elr = regs->pc;
		seen.serror_esr = read_sysreg(esr_el1);
	}
}

static void guest_dabt_handler(struct ex_regs *regs)
{
	if (!seen.dabt++) {
		seen.dabt_elr = regs->pc;
		seen.dabt_esr = read_sysreg(esr_el1);
		seen.dabt_far = read_sysreg(far_el1);
	}
}

/* vCPU 1: one PSCI call per KVM_RUN, as the host asks. */
static struct {
	u64 fn, arg[3];
} helper_req;

static void helper_code(void)
{
	struct arm_smccc_res res;

	for (;;) {
		do_smccc(READ_ONCE(helper_req.fn), READ_ONCE(helper_req.arg[0]),
			 READ_ONCE(helper_req.arg[1]), READ_ONCE(helper_req.arg[2]),
			 0, 0, 0, 0, &res);
		GUEST_SYNC(res.a0);
	}
}

/* Host code. */

static u64 guest_alt;	/* the address of guest_code */
#define GUEST_ALT	guest_alt
#define GUEST_SITE(k)	(GUEST_ALT + SLOT * ((k) + 1))

#define LD	BIT(0)		/* MMIO load into x1/w1 */
#define ST	BIT(1)		/* MMIO store of x1/w1 */
#define SX	BIT(2)		/* sign-extending load */
#define X64	BIT(3)		/* 64-bit register */
#define HC	BIT(4)		/* HVC forwarded to userspace */

static const struct exit_kind {
	const char *name;
	const char *insn;
	u32 opcode;
	u8 len;
	u8 flags;
} kinds[] = {
	{ "ldrb",	"ldrb w1, [x5]",	0x394000a1, 1, LD },
	{ "ldrh",	"ldrh w1, [x5]",	0x794000a1, 2, LD },
	{ "ldr_w",	"ldr w1, [x5]",		0xb94000a1, 4, LD },
	{ "ldr_x",	"ldr x1, [x5]",		0xf94000a1, 8, LD | X64 },
	{ "ldrsb_x",	"ldrsb x1, [x5]",	0x398000a1, 1, LD | SX | X64 },
	{ "ldrsh_x",	"ldrsh x1, [x5]",	0x798000a1, 2, LD | SX | X64 },
	{ "ldrsw",	"ldrsw x1, [x5]",	0xb98000a1, 4, LD | SX | X64 },
	{ "ldrsb_w",	"ldrsb w1, [x5]",	0x39c000a1, 1, LD | SX },
	{ "ldrsh_w",	"ldrsh w1, [x5]",	0x79c000a1, 2, LD | SX },
	{ "strb",	"strb w1, [x5]",	0x390000a1, 1, ST },
	{ "strh",	"strh w1, [x5]",	0x790000a1, 2, ST },
	{ "str_w",	"str w1, [x5]",		0xb90000a1, 4, ST },
	{ "str_x",	"str x1, [x5]",		0xf90000a1, 8, ST | X64 },
	{ "hvc",	"hvc #0",		0xd4000002, 0, HC },	/* must stay last */
};

#define NR_KINDS	ARRAY_SIZE(kinds)

enum intervention {
	NONE,		/* complete: the access finishes on the next KVM_RUN */
	IMM_EXIT,	/* immediate_exit completes it without running the guest */
	SIGNAL,		/* a pending signal: completes it, then KVM_EXIT_INTR */
	SAME_PC,	/* writing back the unchanged PC keeps the access */
	PC_AWAY_BACK,	/* PC moved away and back: only KVM_RUN's PC counts */
	MOVE_PC,	/* a new PC abandons it: no register write, no skip */
	MODE_AWAY_BACK,	/* PSTATE.M changed and restored: kept */
	MOVE_MODE,	/* a new PSTATE.M, same PC: abandoned, runs anew */
	WRITE_DEST,	/* a load still overwrites the written destination */
	WRITE_OTHER,	/* x2..x4 written: kept, whatever becomes of the access */
	RESET,		/* KVM_ARM_VCPU_INIT drops it; the VMM restores the regs */
	STEP,		/* step on across the exit: one step */
	STEP_ON,	/* step enabled at the exit */
	STEP_OFF,	/* step on into the exit, disabled at it: no step */
	SERROR,		/* SError, unmasked: taken at once, the access runs anew */
	SERROR_MASKED,	/* SError, masked: pending; the access completes */
	EXT_DABT,	/* external abort: taken at once, the access abandoned */
	CPU_ON,		/* stopped, PSCI CPU_ON by vCPU 1, registers read */
	CPU_ON_RUN,	/* stopped, PSCI CPU_ON by vCPU 1, KVM_RUN at once */
	CPU_ON_OTHER,	/* PSCI CPU_ON of vCPU 2 by vCPU 1: no effect here */
	SYSTEM_RESET,	/* PSCI SYSTEM_RESET by vCPU 1, every vCPU re-init */
	NR_INTVS
};

static const char * const intv_names[] = {
	"none", "immediate_exit", "signal", "same_pc", "pc_away_back", "move_pc",
	"mode_away_back", "move_mode", "write_dest", "write_other", "reset",
	"step", "step_on_at_exit", "step_off_at_exit", "serror", "serror_masked",
	"ext_dabt", "psci_cpu_on", "psci_cpu_on_run", "psci_cpu_on_other",
	"psci_system_reset",
};

#define STEPS		(BIT(STEP) | BIT(STEP_ON) | BIT(STEP_OFF))
#define EXCS		(BIT(SERROR) | BIT(SERROR_MASKED) | BIT(EXT_DABT))
#define RESETS		(BIT(RESET) | BIT(SYSTEM_RESET) | BIT(CPU_ON) | BIT(CPU_ON_RUN))
/* What composes with single-step: PC and register writes, other vCPUs. */
#define WITH_STEP	(BIT(SAME_PC) | BIT(PC_AWAY_BACK) | BIT(MOVE_PC) | \
			 BIT(WRITE_DEST) | BIT(WRITE_OTHER) | BIT(CPU_ON_OTHER))
/* What may follow an exception taken at once: nothing that moves the vCPU. */
#define AFTER_TAKEN	(BIT(IMM_EXIT) | BIT(SIGNAL) | BIT(SAME_PC) | BIT(PC_AWAY_BACK) | \
			 BIT(MODE_AWAY_BACK) | BIT(WRITE_DEST) | BIT(WRITE_OTHER) | \
			 BIT(CPU_ON_OTHER))

/* One sequence: an exit kind and the interventions, in the order done. */
struct seq {
	u32 kind, niv, iv[3], mask;
};

/* What the vCPU must look like, as far as userspace can tell. */
struct model {
	u64 x[NR_X];
	u64 pc, pstate;		/* where the guest goes on */
	u64 vec;		/* if set: PC, at the vector of an exception taken */
	u64 exit_pc, exit_mode;
	u64 load;		/* what the pending load writes */
	bool pending;		/* the access waits for its completion */
	bool step;		/* single-step on */
	u32 serror, dabt;	/* exceptions the guest must take, once each */
	bool taken;		/* ... at once, at ELR elr */
	u64 elr;
};

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpu, *helper, *other;
static u64 sp_el1, helper_sp, vbar, mpidr0, mpidr2, stub_gpa, reset_pstate;
static bool has_hvc, has_events, has_esr, has_ext_dabt, has_psci, has_el2;
static u32 seed, nr_kinds, nfail;
static struct seq cur;
static u32 cur_index;
static jmp_buf fail_jmp;

#define MAX_FAILSETS	1024
static struct failset {
	struct seq seq;
	u32 n, first;
} fails[MAX_FAILSETS];
static u32 nsets;

static const char *seq_name(const struct seq *s)
{
	static char buf[128];
	u32 j;

	buf[0] = 0;
	for (j = 0; j < s->niv; j++) {
		if (j)
			strcat(buf, "+");
		strcat(buf, intv_names[s->iv[j]]);
	}
	return buf;
}

static struct failset *failset_of(const struct seq *s)
{
	u32 f;

	for (f = 0; f < nsets; f++)
		if (fails[f].seq.kind == s->kind && fails[f].seq.niv == s->niv &&
		    !memcmp(fails[f].seq.iv, s->iv, s->niv * sizeof(s->iv[0])))
			return &fails[f];
	if (nsets == MAX_FAILSETS)
		return NULL;
	fails[nsets].seq = *s;
	return &fails[nsets++];
}

/* An oracle mismatch: report the first of each kind and composition. */
static void __printf(1, 2) __noreturn fail(const char *fmt, ...)
{
	struct failset *f = failset_of(&cur);
	va_list ap;

	nfail++;
	if (f && !f->n++) {
		f->first = cur_index;
		ksft_print_msg("FAIL seed %u index %u: '%s' x %s: ", seed, cur_index,
			       kinds[cur.kind].insn, seq_name(&cur));
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	longjmp(fail_jmp, 1);
}

#define CHECK(cond, fmt, ...) do {		\
	if (!(cond))				\
		fail(fmt, ##__VA_ARGS__);	\
} while (0)

static void enter(struct kvm_vcpu *v)
{
	int r = __vcpu_run(v);

	CHECK(!r, "KVM_RUN: %d errno %d", r, errno);
}

static void set_step(bool on)
{
	struct kvm_guest_debug debug = {
		.control = on ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP : 0,
	};

	vcpu_guest_debug_set(vcpu, &debug);
}

static u64 load_result(const struct exit_kind *k, u64 data)
{
	u64 v = data & GENMASK_ULL(8 * k->len - 1, 0);

	if (k->flags & SX)
		v = (u64)((s64)(v << (64 - 8 * k->len)) >> (64 - 8 * k->len));
	if (!(k->flags & X64))
		v &= GENMASK_ULL(31, 0);
	return v;
}

static void __check_regs(struct kvm_vcpu *v, const char *where, u64 pc, u64 mode,
			 const u64 *x)
{
	u64 got;
	int i;

	got = vcpu_get_reg(v, REG_PC);
	CHECK(got == pc, "%s: pc %#lx, want %#lx", where, got, pc);
	got = vcpu_get_reg(v, REG_PSTATE) & MODE_MASK;
	CHECK(got == mode, "%s: PSTATE.M %#lx, want %#lx", where, got, mode);
	for (i = 0; i < NR_X; i++) {
		got = vcpu_get_reg(v, REG_X(i));
		CHECK(got == x[i], "%s: x%d %#lx, want %#lx", where, i, got, x[i]);
	}
}

static void check_regs(const char *where, u64 pc, u64 mode, const u64 *x)
{
	__check_regs(vcpu, where, pc, mode, x);
}

/* The registers as userspace must see them now. */
static void check_model(const char *where, const struct model *m)
{
	if (m->vec)
		check_regs(where, m->vec, reset_pstate & MODE_MASK, m->x);
	else
		check_regs(where, m->pc, m->pstate & MODE_MASK, m->x);
}

static void set_regs(const struct model *m)
{
	int i;

	for (i = 0; i < NR_X; i++)
		vcpu_set_reg(vcpu, REG_X(i), m->x[i]);
	vcpu_set_reg(vcpu, REG_PC, m->pc);
	vcpu_set_reg(vcpu, REG_PSTATE, m->pstate);
}

/* What KVM_RUN completes, per the ABI: the access, unless abandoned. */
static void complete(struct model *m, const struct exit_kind *k)
{
	if (!m->pending)
		return;
	m->pending = false;
	if (m->pc != m->exit_pc || (m->pstate & MODE_MASK) != m->exit_mode)
		return;
	if (k->flags & LD)
		m->x[1] = m->load;
	m->pc += 4;
}

/* Run into the exiting instruction of @k at @site and answer the exit. */
static void run_to_exit(const struct exit_kind *k, u64 site, struct model *m,
			struct kvm_random_state *rng)
{
	struct kvm_run *run = vcpu->run;
	u64 mode = m->pstate & MODE_MASK;
	u64 data;
	int i;

	enter(vcpu);
	if (k->flags & HC) {
		CHECK(run->exit_reason == KVM_EXIT_HYPERCALL,
		      "want KVM_EXIT_HYPERCALL, got %s pc %#lx",
		      exit_reason_str(run->exit_reason), vcpu_get_reg(vcpu, REG_PC));
		CHECK(run->hypercall.nr == HC_FUNC_ID && !run->hypercall.flags,
		      "hypercall nr %#llx flags %#llx", run->hypercall.nr,
		      run->hypercall.flags);
		/* PC is past the HVC; the answer goes to x0..x3. */
		check_regs("hypercall exit", site + 4, mode, m->x);
		for (i = 0; i < 4; i++) {
			m->x[i] = kvm_random_u64(rng);
			vcpu_set_reg(vcpu, REG_X(i), m->x[i]);
		}
		m->pc = site + 4;
		return;
	}

	CHECK(run->exit_reason == KVM_EXIT_MMIO, "want KVM_EXIT_MMIO, got %s pc %#lx",
	      exit_reason_str(run->exit_reason), vcpu_get_reg(vcpu, REG_PC));
	CHECK(run->mmio.phys_addr == MMIO_ADDR && run->mmio.len == k->len &&
	      run->mmio.is_write == !!(k->flags & ST),
	      "want the access at %#lx, got mmio addr %#llx len %u is_write %u pc %#lx",
	      site, run->mmio.phys_addr, run->mmio.len, run->mmio.is_write,
	      vcpu_get_reg(vcpu, REG_PC));
	check_regs("mmio exit", site, mode, m->x);

	/* arm64 KVM hosts and this guest are little-endian. */
	if (k->flags & ST) {
		data = 0;
		memcpy(&data, run->mmio.data, k->len);
		CHECK(data == load_result(k, m->x[1]), "stored %#lx, want %#lx",
		      data, load_result(k, m->x[1]));
	} else {
		data = kvm_random_u64(rng);
		memcpy(run->mmio.data, &data, sizeof(data));
		m->load = load_result(k, data);
	}
	m->pending = true;
	m->pc = site;
	m->exit_pc = site;
	m->exit_mode = mode;
}

/* KVM_ARM_VCPU_INIT of vCPU 0, then what the library sets up for the guest. */
static void reinit_vcpu(void)
{
	u64 zero[NR_X] = {}, got;

	aarch64_vcpu_setup(vcpu, &vcpu->init);
	check_regs("after KVM_ARM_VCPU_INIT", 0, reset_pstate & MODE_MASK, zero);
	got = vcpu_get_reg(vcpu, REG_PSTATE);
	CHECK(got == reset_pstate, "after KVM_ARM_VCPU_INIT: PSTATE %#lx, want %#lx",
	      got, reset_pstate);
	vcpu_set_reg(vcpu, ctxt_reg_alias(vcpu, SYS_SP_EL1), sp_el1);
	vcpu_init_descriptor_tables(vcpu);
}

/* A reset the VMM does, then restores the registers: nothing completes. */
static void reboot(struct model *m)
{
	reinit_vcpu();
	m->pending = false;
	set_regs(m);
}

static void reinit_helper(void)
{
	aarch64_vcpu_setup(helper, &helper->init);
	vcpu_set_reg(helper, ctxt_reg_alias(helper, SYS_SP_EL1), helper_sp);
	vcpu_init_descriptor_tables(helper);
	vcpu_set_reg(helper, REG_PC, (u64)helper_code);
}

/* vCPU 1 makes PSCI call @fn; the caller checks its exit. */
static void helper_call(u64 fn, u64 a0, u64 a1, u64 a2)
{
	helper_req.fn = fn;
	helper_req.arg[0] = a0;
	helper_req.arg[1] = a1;
	helper_req.arg[2] = a2;
	sync_global_to_guest(vm, helper_req);
	enter(helper);
}

/*
 * The VMM stops vCPU @target (KVM_SET_MP_STATE), vCPU 1 powers it on with
 * PSCI CPU_ON: it starts at the entry point, x0 the context ID, the rest
 * reset, with nothing of an old access completed.  The VMM reads PC first,
 * or not.
 */
static void psci_cpu_on(struct kvm_vcpu *target, u64 mpidr, bool read_first)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_STOPPED };
	u64 want[NR_X] = { CPU_ON_ADDR };
	struct kvm_run *run = target->run;
	u64 mode = reset_pstate & MODE_MASK;
	struct ucall uc = {};

	vcpu_mp_state_set(target, &mp);
	helper_call(PSCI_0_2_FN64_CPU_ON, mpidr, stub_gpa, CPU_ON_ADDR);
	CHECK(get_ucall(helper, &uc) == UCALL_SYNC && uc.args[1] == PSCI_RET_SUCCESS,
	      "CPU_ON of vCPU %u by vCPU 1: exit %s ucall %lu ret %#lx", target->id,
	      exit_reason_str(helper->run->exit_reason), uc.cmd, uc.args[1]);
	if (read_first)
		__check_regs(target, "CPU_ON target before KVM_RUN", stub_gpa, mode, want);
	enter(target);
	CHECK(run->exit_reason == KVM_EXIT_MMIO && run->mmio.phys_addr == CPU_ON_ADDR &&
	      run->mmio.is_write && run->mmio.len == 8,
	      "vCPU %u after CPU_ON: want the entry's store, got exit %s addr %#llx pc %#lx",
	      target->id, exit_reason_str(run->exit_reason), run->mmio.phys_addr,
	      vcpu_get_reg(target, REG_PC));
	__check_regs(target, "CPU_ON entry", stub_gpa, mode, want);
}

/* vCPU 1 asks for SYSTEM_RESET; the VMM re-initializes every vCPU. */
static void psci_system_reset(struct model *m)
{
	struct kvm_run *run = helper->run;
	struct kvm_mp_state mp;

	helper_call(PSCI_0_2_FN_SYSTEM_RESET, 0, 0, 0);
	CHECK(run->exit_reason == KVM_EXIT_SYSTEM_EVENT &&
	      run->system_event.type == KVM_SYSTEM_EVENT_RESET,
	      "SYSTEM_RESET by vCPU 1: exit %s type %u",
	      exit_reason_str(run->exit_reason), run->system_event.type);
	vcpu_mp_state_get(vcpu, &mp);
	CHECK(mp.mp_state == KVM_MP_STATE_STOPPED,
	      "after SYSTEM_RESET: vCPU 0 mp_state %u, want stopped", mp.mp_state);
	reinit_helper();
	aarch64_vcpu_setup(other, &other->init);
	reboot(m);
}

static void inject_serror(struct model *m, bool masked)
{
	struct kvm_vcpu_events ev = {};

	ev.exception.serror_pending = 1;
	if (has_esr) {
		ev.exception.serror_has_esr = 1;
		ev.exception.serror_esr = SERROR_ISS;
	}
	vcpu_events_set(vcpu, &ev);
	m->serror = 1;
	if (masked) {
		/* Pending until the guest unmasks SErrors. */
		memset(&ev, 0, sizeof(ev));
		vcpu_events_get(vcpu, &ev);
		CHECK(ev.exception.serror_pending, "masked SError not pending");
		CHECK(!has_esr || ev.exception.serror_esr == SERROR_ISS,
		      "pending SError ESR %#llx, want %#lx", ev.exception.serror_esr,
		      SERROR_ISS);
		return;
	}
	m->taken = true;
	m->elr = m->pc;
	m->pending = false;
	m->vec = vbar + VEC_SERROR;
}

static void inject_ext_dabt(struct model *m)
{
	struct kvm_vcpu_events ev = {};

	ev.exception.ext_dabt_pending = 1;
	vcpu_events_set(vcpu, &ev);
	m->dabt = 1;
	m->taken = true;
	m->elr = m->pc;
	m->pending = false;
	m->vec = vbar + VEC_SYNC;
}

/* KVM_RUN with immediate_exit or a signal: completes, runs nothing. */
static void run_interrupted(const struct exit_kind *k, struct model *m, bool imm)
{
	struct kvm_run *run = vcpu->run;
	struct timespec zero = {};
	sigset_t sigs;
	int r, sig = 0;

	if (imm)
		run->immediate_exit = 1;
	else
		pthread_kill(pthread_self(), SIGUSR1);
	r = __vcpu_run(vcpu);
	run->immediate_exit = 0;
	if (!imm) {
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGUSR1);
		sig = sigtimedwait(&sigs, NULL, &zero);
	}
	CHECK(r == -1 && errno == EINTR, "KVM_RUN with %s: r %d errno %d exit %s",
	      imm ? "immediate_exit" : "a signal", r, errno,
	      exit_reason_str(run->exit_reason));
	if (!imm)
		CHECK(run->exit_reason == KVM_EXIT_INTR && sig == SIGUSR1,
		      "KVM_RUN with a signal: exit %s, signal %d",
		      exit_reason_str(run->exit_reason), sig);
	complete(m, k);
	check_model(imm ? "after immediate_exit" : "after KVM_EXIT_INTR", m);
}

/* Do intervention @v; true if it ended the sequence. */
static bool intervene(const struct exit_kind *k, enum intervention v, struct model *m,
		      struct kvm_random_state *rng)
{
	u64 pc, pstate;
	int i;

	switch (v) {
	case NONE:
	case STEP:
		break;
	case IMM_EXIT:
	case SIGNAL:
		run_interrupted(k, m, v == IMM_EXIT);
		break;
	case SAME_PC:
		vcpu_set_reg(vcpu, REG_PC, vcpu_get_reg(vcpu, REG_PC));
		break;
	case PC_AWAY_BACK:
		pc = vcpu_get_reg(vcpu, REG_PC);
		vcpu_set_reg(vcpu, REG_PC, pc == GUEST_ALT ? pc + 4 : GUEST_ALT);
		vcpu_set_reg(vcpu, REG_PC, pc);
		break;
	case MOVE_PC:
		vcpu_set_reg(vcpu, REG_PC, GUEST_ALT);
		m->pc = GUEST_ALT;
		break;
	case MODE_AWAY_BACK:
		pstate = vcpu_get_reg(vcpu, REG_PSTATE);
		vcpu_set_reg(vcpu, REG_PSTATE, pstate ^ MODE_SPSEL);
		vcpu_set_reg(vcpu, REG_PSTATE, pstate);
		break;
	case MOVE_MODE:
		pstate = vcpu_get_reg(vcpu, REG_PSTATE);
		vcpu_set_reg(vcpu, REG_PSTATE, pstate ^ MODE_SPSEL);
		m->pstate ^= MODE_SPSEL;
		break;
	case WRITE_DEST:
		/* The answer of a load wins; an HVC's answer is x0 itself. */
		i = k->flags & HC ? 0 : 1;
		m->x[i] = kvm_random_u64(rng);
		vcpu_set_reg(vcpu, REG_X(i), m->x[i]);
		break;
	case WRITE_OTHER:
		for (i = 2; i <= 4; i++) {
			m->x[i] = kvm_random_u64(rng);
			vcpu_set_reg(vcpu, REG_X(i), m->x[i]);
		}
		break;
	case RESET:
		reboot(m);
		break;
	case STEP_ON:
		set_step(true);
		m->step = true;
		break;
	case STEP_OFF:
		set_step(false);
		m->step = false;
		break;
	case SERROR:
	case SERROR_MASKED:
		inject_serror(m, v == SERROR_MASKED);
		break;
	case EXT_DABT:
		inject_ext_dabt(m);
		break;
	case CPU_ON:
	case CPU_ON_RUN:
		psci_cpu_on(vcpu, mpidr0, v == CPU_ON);
		reinit_vcpu();	/* back to the test's context */
		return true;
	case CPU_ON_OTHER:
		psci_cpu_on(other, mpidr2, false);
		break;
	case SYSTEM_RESET:
		psci_system_reset(m);
		break;
	default:
		TEST_FAIL("bad intervention %d", v);
	}
	return false;
}

/* The guest runs one instruction of its slot, or of GUEST_ALT. */
static void step_one(struct model *m, u64 site)
{
	if (m->pc == site + 4)
		m->x[6]++;
	else if (m->pc == GUEST_ALT)
		m->x[7]++;
	else
		TEST_FAIL("model: one instruction at %#lx", m->pc);
	m->pc += 4;
}

/* Re-enter after the interventions, up to and through the report store. */
static void finish(const struct seq *s, struct model *m, struct kvm_random_state *rng)
{
	const struct exit_kind *k = &kinds[s->kind];
	u64 site = GUEST_SITE(s->kind), report, got;
	struct kvm_run *run = vcpu->run;
	bool hc = k->flags & HC, at_once;

	if (m->step) {
		/*
		 * A completed access is the stepped instruction, and so is an
		 * HVC stepped into its exit: the step is reported at once.
		 * Otherwise the next instruction runs first.
		 */
		at_once = (m->pending && m->pc == m->exit_pc) || (hc && (s->mask & BIT(STEP)));
		complete(m, k);
		if (!at_once)
			step_one(m, site);
		enter(vcpu);
		CHECK(run->exit_reason == KVM_EXIT_DEBUG &&
		      ESR_ELx_EC(run->debug.arch.hsr) == ESR_ELx_EC_SOFTSTP_LOW,
		      "want a single-step, got exit %s pc %#lx",
		      exit_reason_str(run->exit_reason), vcpu_get_reg(vcpu, REG_PC));
		check_model("step", m);
		set_step(false);
		m->step = false;
	} else {
		complete(m, k);
	}
	m->vec = 0;	/* the handler of an exception taken returns to pc */

	if (!hc && m->pc == site) {
		/* Abandoned where it was: the access runs anew, completes. */
		run_to_exit(k, site, m, rng);
		complete(m, k);
	}
	if (m->pc == site + 4 || m->pc == GUEST_ALT)
		step_one(m, site);
	report = m->pc == site + 8 ? site + 16 : GUEST_ALT + 12;
	TEST_ASSERT(m->pc == site + 8 || m->pc == GUEST_ALT + 4, "model: pc %#lx", m->pc);

	enter(vcpu);
	CHECK(run->exit_reason == KVM_EXIT_MMIO && run->mmio.phys_addr == REPORT_ADDR &&
	      run->mmio.is_write,
	      "want the report store, got exit %s addr %#llx pc %#lx",
	      exit_reason_str(run->exit_reason), run->mmio.phys_addr,
	      vcpu_get_reg(vcpu, REG_PC));
	check_regs("report", report, m->pstate & MODE_MASK, m->x);

	/* Each exception delivered once, where and as it must. */
	sync_global_from_guest(vm, seen);
	CHECK(seen.serror == m->serror, "SErrors taken: %lu, want %u", seen.serror, m->serror);
	if (m->serror) {
		got = seen.serror_elr;
		if (m->taken)
			CHECK(got == m->elr, "SError taken at %#lx, want %#lx", got, m->elr);
		else
			CHECK(got == report - 4 || got == report,
			      "masked SError taken at %#lx, want where unmasked: %#lx or %#lx",
			      got, report - 4, report);
		got = seen.serror_esr;
		CHECK(ESR_ELx_EC(got) == ESR_ELx_EC_SERROR &&
		      (!has_esr || ESR_ELx_ISS(got) == SERROR_ISS),
		      "SError ESR %#lx, want EC %#lx ISS %#lx", got, ESR_ELx_EC_SERROR,
		      has_esr ? SERROR_ISS : ESR_ELx_ISS(got));
	}
	CHECK(seen.dabt == m->dabt, "external aborts taken: %lu, want %u", seen.dabt, m->dabt);
	if (m->dabt) {
		got = seen.dabt_esr;
		CHECK(seen.dabt_elr == m->elr, "external abort taken at %#lx, want %#lx",
		      seen.dabt_elr, m->elr);
		CHECK(ESR_ELx_EC(got) == ESR_ELx_EC_DABT_CUR &&
		      (got & ESR_ELx_FSC_TYPE) == ESR_ELx_FSC_EXTABT,
		      "external abort ESR %#lx", got);
		CHECK(seen.dabt_far == MMIO_ADDR, "external abort FAR %#lx, want %#llx",
		      seen.dabt_far, MMIO_ADDR);
	}
}

static void run_sequence(const struct seq *s, struct kvm_random_state *rng)
{
	const struct exit_kind *k = &kinds[s->kind];
	u64 site = GUEST_SITE(s->kind);
	struct kvm_run *run = vcpu->run;
	struct model m = {};
	u32 j;
	int r, i;

	/* Complete the previous report store, then enter at @site. */
	run->immediate_exit = 1;
	r = __vcpu_run(vcpu);
	run->immediate_exit = 0;
	CHECK(r == -1 && errno == EINTR, "KVM_RUN with immediate_exit: %d errno %d", r, errno);
	memset(&seen, 0, sizeof(seen));
	sync_global_to_guest(vm, seen);

	for (i = 0; i < NR_X; i++)
		m.x[i] = kvm_random_u64(rng);
	if (k->flags & HC)
		m.x[0] = HC_FUNC_ID;
	m.x[5] = MMIO_ADDR;
	m.x[6] = 0;
	m.x[7] = 0;
	m.pc = site;
	m.pstate = reset_pstate;
	if (s->mask & BIT(SERROR))
		m.pstate &= ~PSR_A_BIT;	/* the guest has SErrors unmasked */
	set_regs(&m);
	if (s->mask & (BIT(STEP) | BIT(STEP_OFF))) {
		set_step(true);
		m.step = true;
	}
	run_to_exit(k, site, &m, rng);

	for (j = 0; j < s->niv; j++)
		if (intervene(k, s->iv[j], &m, rng))
			return;
	finish(s, &m, rng);
}

static bool cap_ok(u32 v)
{
	switch (v) {
	case SERROR:
	case SERROR_MASKED:
		return has_events;
	case EXT_DABT:
		return has_events && has_ext_dabt;
	case CPU_ON:
	case CPU_ON_RUN:
	case CPU_ON_OTHER:
	case SYSTEM_RESET:
		return has_psci;
	}
	return true;
}

static int position(const struct seq *s, u32 mask)
{
	u32 j;

	for (j = 0; j < s->niv; j++)
		if (BIT(s->iv[j]) & mask)
			return j;
	return -1;
}

/* Compositions the oracle models (see the ABI notes at the top). */
static bool valid(const struct seq *s)
{
	bool hc = kinds[s->kind].flags & HC;
	u32 m = s->mask, j, v;
	int e;

	if ((m & BIT(NONE)) && s->niv > 1)
		return false;
	for (j = 0; j < s->niv; j++)
		if (!cap_ok(s->iv[j]))
			return false;
	if (__builtin_popcount(m & STEPS) > 1 || __builtin_popcount(m & EXCS) > 1)
		return false;
	/* Single-step with PC and register writes only. */
	if ((m & STEPS) && (m & ~(STEPS | WITH_STEP)))
		return false;
	/* PSCI CPU_ON resets vCPU 0 into code of its own: last. */
	e = position(s, BIT(CPU_ON) | BIT(CPU_ON_RUN));
	if (e >= 0 && e != (int)s->niv - 1)
		return false;
	e = position(s, EXCS);
	if (e < 0)
		return true;
	/* Exceptions: taken in EL1h (EL2h), not lost to a reset. */
	if (m & (BIT(MOVE_MODE) | BIT(CPU_ON) | BIT(CPU_ON_RUN)))
		return false;
	for (j = e + 1; j < s->niv; j++) {
		v = BIT(s->iv[j]);
		if (s->iv[e] == SERROR_MASKED ? (v & RESETS) : !(v & AFTER_TAKEN))
			return false;
	}
	/*
	 * ext_dabt_pending is for the KVM_EXIT_MMIO just returned (api.rst):
	 * not after an HVC's exit, a reset, or a KVM_RUN in between.
	 */
	if (s->iv[e] == EXT_DABT) {
		if (hc || (m & (BIT(RESET) | BIT(SYSTEM_RESET))))
			return false;
		for (j = 0; j < (u32)e; j++)
			if (s->iv[j] == IMM_EXIT || s->iv[j] == SIGNAL)
				return false;
	}
	return true;
}

static void draw(struct seq *s, struct kvm_random_state *rng)
{
	u32 n, j, v;

	do {
		s->kind = kvm_random_u32(rng) % nr_kinds;
		n = 1 + kvm_random_u32(rng) % 3;
		s->niv = 0;
		s->mask = 0;
		for (j = 0; j < n; j++) {
			v = kvm_random_u32(rng) % NR_INTVS;
			if (s->mask & BIT(v))
				continue;
			s->mask |= BIT(v);
			s->iv[s->niv++] = v;
		}
	} while (!valid(s));
}

/* A seed per sequence, so that -i replays one alone. */
static u32 mix(u32 seed, u32 index)
{
	u32 h = seed ^ (index * 0x9e3779b9u);

	h = (h ^ (h >> 16)) * 0x85ebca6bu;
	h = (h ^ (h >> 13)) * 0xc2b2ae35u;
	return h ^ (h >> 16);
}

static bool has_smccc_fwd(struct kvm_vm *vm)
{
	struct kvm_smccc_filter filter = {
		.base = HC_FUNC_ID,
		.nr_functions = 1,
		.action = KVM_SMCCC_FILTER_FWD_TO_USER,
	};

	if (vcpu_has_el2(vcpu) ||
	    __kvm_has_device_attr(vm->fd, KVM_ARM_VM_SMCCC_CTRL,
				  KVM_ARM_VM_SMCCC_FILTER))
		return false;
	kvm_device_attr_set(vm->fd, KVM_ARM_VM_SMCCC_CTRL,
			    KVM_ARM_VM_SMCCC_FILTER, &filter);
	return true;
}

/* vCPU 0 at guest_code, vCPU 1 (PSCI caller) at helper_code, vCPU 2. */
static void create_vm(void)
{
	u8 buf[sizeof(struct kvm_signal_mask) + 8] __aligned(8) = {};
	struct kvm_signal_mask *mask = (void *)buf;
	struct kvm_vcpu_init init;
	u32 i;

	vm = vm_create(has_psci ? 3 : 1);
	kvm_get_default_vcpu_target(vm, &init);
	if (has_psci)
		init.features[0] |= BIT(KVM_ARM_VCPU_PSCI_0_2);
	vcpu = aarch64_vcpu_add(vm, 0, &init, (void *)guest_alt);
	helper = has_psci ? aarch64_vcpu_add(vm, 1, &init, helper_code) : NULL;
	other = has_psci ? aarch64_vcpu_add(vm, 2, &init, helper_code) : NULL;
	kvm_arch_vm_finalize_vcpus(vm);
	has_el2 = vcpu_has_el2(vcpu);
	reset_pstate = (has_el2 ? PSR_MODE_EL2h : PSR_MODE_EL1h) |
		       PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT;
	TEST_ASSERT_EQ(vcpu_get_reg(vcpu, REG_PSTATE), reset_pstate);

	virt_map(vm, MMIO_ADDR, MMIO_ADDR, 1);
	static_assert(NR_KINDS <= MAX_KINDS);
	for (i = 0; i < NR_KINDS; i++)
		memcpy(addr_gva2hva(vm, GUEST_SITE(i)), &kinds[i].opcode, 4);
	stub_gpa = vm_phy_page_alloc(vm, KVM_GUEST_PAGE_TABLE_MIN_PADDR,
				     vm->memslots[MEM_REGION_CODE]);
	memcpy(addr_gpa2hva(vm, stub_gpa), cpu_on_stub, sizeof(cpu_on_stub));

	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(vcpu);
	vm_install_exception_handler(vm, VECTOR_ERROR_CURRENT, guest_serror_handler);
	vm_install_sync_handler(vm, VECTOR_SYNC_CURRENT, ESR_ELx_EC_DABT_CUR,
				guest_dabt_handler);
	sp_el1 = vcpu_get_reg(vcpu, ctxt_reg_alias(vcpu, SYS_SP_EL1));
	vbar = vcpu_get_reg(vcpu, ctxt_reg_alias(vcpu, SYS_VBAR_EL1));
	mpidr0 = vcpu_get_reg(vcpu, KVM_ARM64_SYS_REG(SYS_MPIDR_EL1)) & MPIDR_HWID_BITMASK;
	if (helper) {
		vcpu_init_descriptor_tables(helper);
		helper_sp = vcpu_get_reg(helper, ctxt_reg_alias(helper, SYS_SP_EL1));
		mpidr2 = vcpu_get_reg(other, KVM_ARM64_SYS_REG(SYS_MPIDR_EL1)) &
			 MPIDR_HWID_BITMASK;
	}
	has_hvc = has_smccc_fwd(vm);

	/* SIGUSR1 is blocked, except in vCPU 0's KVM_RUN. */
	mask->len = 8;	/* the kernel's sigset_t; nothing blocked */
	vcpu_ioctl(vcpu, KVM_SET_SIGNAL_MASK, mask);
}

int main(int argc, char *argv[])
{
	static u32 runs[NR_INTVS][NR_KINDS], nkind[NR_KINDS], passed[NR_KINDS];
	static int n = 1000, only = -1, i, first;
	static struct kvm_random_state rng;
	struct timespec start, end;
	char line[1024];
	sigset_t sigs;
	u32 j, k, v, f;
	int opt, len;
	double secs;

	seed = 1;	/* repeatable by default; make stress passes fresh seeds */
	while ((opt = getopt(argc, argv, "s:n:i:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			n = atoi_positive("Number of sequences", optarg);
			break;
		case 'i':
			only = atoi_non_negative("Sequence index", optarg);
			break;
		default:
			exit(KSFT_FAIL);
		}
	}

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SET_GUEST_DEBUG));
	has_events = kvm_has_cap(KVM_CAP_VCPU_EVENTS);
	has_esr = kvm_has_cap(KVM_CAP_ARM_INJECT_SERROR_ESR);
	has_ext_dabt = kvm_has_cap(KVM_CAP_ARM_INJECT_EXT_DABT);
	has_psci = kvm_has_cap(KVM_CAP_ARM_PSCI_0_2);
	asm("ldr %0, =guest_code" : "=r"(guest_alt));
	create_vm();
	nr_kinds = has_hvc ? NR_KINDS : NR_KINDS - 1;	/* the HVC kind is last */

	/* Leave SIGUSR1 blocked except inside KVM_RUN, so it interrupts it. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGUSR1);
	TEST_ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &sigs, NULL), 0);

	ksft_print_header();
	ksft_set_plan(1);
	if (only >= 0)
		n = 1;
	first = max(only, 0);
	ksft_print_msg("seed %u, %d sequences, KVM_CAP_ARM_EL2 %d%s%s%s%s%s%s\n", seed, n,
		       kvm_check_cap(KVM_CAP_ARM_EL2), has_el2 ? ", guest at EL2" : "",
		       has_hvc ? "" : ", no SMCCC forwarding: no hvc",
		       has_events ? "" : ", no KVM_CAP_VCPU_EVENTS: no serror",
		       has_esr ? "" : ", no SError ESR",
		       has_ext_dabt ? "" : ", no ext_dabt",
		       has_psci ? "" : ", no PSCI 0.2: no psci_*");

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = first; i < first + n; i++) {
		rng = new_kvm_random_state(mix(seed, i));
		cur_index = i;
		draw(&cur, &rng);
		nkind[cur.kind]++;
		for (j = 0; j < cur.niv; j++)
			runs[cur.iv[j]][cur.kind]++;
		if (setjmp(fail_jmp)) {
			/* A clean VM for the next sequence. */
			kvm_vm_free(vm);
			create_vm();
			continue;
		}
		run_sequence(&cur, &rng);
		set_step(false);
		passed[cur.kind]++;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	secs = end.tv_sec - start.tv_sec + (end.tv_nsec - start.tv_nsec) / 1e9;

	ksft_print_msg("%.3f s, %.0f sequences/s\n", secs, n / secs);
	for (k = 0; k < nr_kinds; k++)
		ksft_print_msg("kind %-8s %-16s %u run, %u passed\n", kinds[k].name,
			       kinds[k].insn, nkind[k], passed[k]);
	for (v = 0; v < NR_INTVS; v++) {
		len = snprintf(line, sizeof(line), "intv %s:", intv_names[v]);
		for (k = 0; k < nr_kinds; k++)
			len += snprintf(line + len, sizeof(line) - len, " %s=%u",
					kinds[k].name, runs[v][k]);
		ksft_print_msg("%s\n", line);
	}
	for (f = 0; f < nsets; f++)
		ksft_print_msg("failing: %s x %s: %u, e.g. -s %u -i %u\n",
			       kinds[fails[f].seq.kind].name, seq_name(&fails[f].seq),
			       fails[f].n, seed, fails[f].first);
	ksft_test_result(!nfail, "%d sequences, seed %u, %u failed\n", n, seed, nfail);
	kvm_vm_free(vm);
	ksft_finished();
}
