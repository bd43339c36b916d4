// SPDX-License-Identifier: GPL-2.0-only
/*
 * exit_stress_test - random exits to userspace, each followed by a random
 * userspace intervention before the vCPU is entered again.
 *
 * Each sequence points the vCPU at one exiting instruction: an MMIO load or
 * store of each width (with zero- and sign-extending loads), or an HVC that
 * the SMCCC filter forwards to userspace.  The host answers the exit, then
 * does one intervention: nothing, KVM_RUN with immediate_exit or with a
 * signal pending, writing back the same PC, moving PC, writing the
 * destination register, KVM_ARM_VCPU_INIT, or single-stepping across the
 * exit.  An oracle checks where the guest resumes, the registers and the
 * KVM_EXIT_DEBUG exits: a completed load writes the answered value,
 * extended per the instruction, and steps PC by 4; a moved PC or a reset
 * cancels the access, so no register is written and nothing is skipped;
 * exactly one step is reported per stepped instruction.
 *
 * Usage: exit_stress_test [-s SEED (default 1)] [-n SEQUENCES] [-i INDEX]
 * A failure prints the seed and the index of the sequence; -i replays it.
 * The test runs all sequences and counts the failures of each pairing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/arm-smccc.h>
#include <linux/stringify.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define MMIO_ADDR	0x8000000ULL	/* no memslot: every access exits */
#define REPORT_ADDR	(MMIO_ADDR + 8)
#define HC_FUNC_ID	ARM_SMCCC_CALL_VAL(ARM_SMCCC_FAST_CALL, ARM_SMCCC_SMC_64, \
					   ARM_SMCCC_OWNER_SIP, 0x42)

#define REG_PC		ARM64_CORE_REG(regs.pc)
#define REG_PSTATE	ARM64_CORE_REG(regs.pstate)
#define REG_X(n)	ARM64_CORE_REG(regs.regs[n])
#define NR_X		8	/* x0..x7: all the registers the guest uses */

/*
 * Guest code: GUEST_ALT, then one 16-byte slot per exit kind.  The host
 * writes the exiting instruction of each kind into the first word of its
 * slot; the slot then counts in x6 that execution went on past it and
 * stores to REPORT_ADDR, where the host checks the registers.  GUEST_ALT,
 * where userspace moves PC to abandon an access, counts in x7 instead.
 * x5 holds MMIO_ADDR, and x0 the SMCCC function for the HVC.
 */
#define MAX_KINDS	16

asm("	.pushsection .text, \"ax\"\n"
"	.balign	16\n"
"	.global	guest_code\n"
"guest_code:\n"
"	add	x7, x7, #1\n"
"	str	x1, [x5, #8]\n"
"	b	.\n"
"	.rept	" __stringify(MAX_KINDS) "\n"
"	.balign	16\n"
"	udf	#0\n"
"	add	x6, x6, #1\n"
"	str	x1, [x5, #8]\n"
"	b	.\n"
"	.endr\n"
"	.popsection\n");

/* Host code. */

static u64 guest_alt;	/* the address of guest_code */
#define GUEST_ALT	guest_alt
#define GUEST_SITE(k)	(GUEST_ALT + 16 * ((k) + 1))

#define LD	BIT(0)		/* MMIO load into x1/w1 */
#define ST	BIT(1)		/* MMIO store of x1/w1 */
#define SX	BIT(2)		/* sign-extending load */
#define X64	BIT(3)		/* 64-bit register */
#define HC	BIT(4)		/* HVC forwarded to userspace */

static const struct exit_kind {
	const char *insn;
	u32 opcode;
	u8 len;
	u8 flags;
} kinds[] = {
	{ "ldrb w1, [x5]",	0x394000a1, 1, LD },
	{ "ldrh w1, [x5]",	0x794000a1, 2, LD },
	{ "ldr w1, [x5]",	0xb94000a1, 4, LD },
	{ "ldr x1, [x5]",	0xf94000a1, 8, LD | X64 },
	{ "ldrsb x1, [x5]",	0x398000a1, 1, LD | SX | X64 },
	{ "ldrsh x1, [x5]",	0x798000a1, 2, LD | SX | X64 },
	{ "ldrsw x1, [x5]",	0xb98000a1, 4, LD | SX | X64 },
	{ "ldrsb w1, [x5]",	0x39c000a1, 1, LD | SX },
	{ "ldrsh w1, [x5]",	0x79c000a1, 2, LD | SX },
	{ "strb w1, [x5]",	0x390000a1, 1, ST },
	{ "strh w1, [x5]",	0x790000a1, 2, ST },
	{ "str w1, [x5]",	0xb90000a1, 4, ST },
	{ "str x1, [x5]",	0xf90000a1, 8, ST | X64 },
	{ "hvc #0",		0xd4000002, 0, HC },	/* must stay last */
};

#define NR_KINDS	ARRAY_SIZE(kinds)

enum intervention {
	NONE,		/* complete: the access finishes on the next KVM_RUN */
	IMM_EXIT,	/* immediate_exit completes it without running the guest */
	SIGNAL,		/* a pending signal: completes it, then KVM_EXIT_INTR */
	SAME_PC,	/* writing back the unchanged PC keeps the access */
	MOVE_PC,	/* a new PC cancels it: no register write, no skip */
	WRITE_DEST,	/* a load still overwrites the written destination */
	RESET_SAME_PC,	/* KVM_ARM_VCPU_INIT drops it: the access runs anew */
	RESET_MOVE_PC,	/* KVM_ARM_VCPU_INIT, then resume elsewhere */
	STEP,		/* step on across the exit: one step, at the next insn */
	STEP_ON,	/* step enabled at the exit: the next insn to retire */
	STEP_OFF,	/* step disabled at the exit: no step */
	STEP_MOVE_PC,	/* step on, PC moved: the step of the new PC's insn */
	NR_INTERVENTIONS
};

static const char * const intervention_names[] = {
	"none", "immediate_exit", "signal", "same_pc", "move_pc", "write_dest",
	"reset_same_pc", "reset_move_pc", "step", "step_on_at_exit",
	"step_off_at_exit", "step_move_pc",
};

static struct kvm_vcpu *vcpu;
static u64 sp_el1;
static u32 seed;
static int cur_index, cur_kind, cur_intv;
static int counts[NR_KINDS][NR_INTERVENTIONS];
static int fails[NR_KINDS][NR_INTERVENTIONS];
static int first_fail[NR_KINDS][NR_INTERVENTIONS];

/* Check @ok; report a mismatch, for the first sequence of each pairing. */
static bool __printf(2, 3) expect(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok || fails[cur_kind][cur_intv]++)
		return ok;
	first_fail[cur_kind][cur_intv] = cur_index;
	ksft_print_msg("FAIL seed %u index %d: '%s' x %s: ", seed, cur_index,
		       kinds[cur_kind].insn, intervention_names[cur_intv]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return false;
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

static bool check_regs(const char *where, u64 pc, const u64 *x)
{
	u64 got;
	int i;

	got = vcpu_get_reg(vcpu, REG_PC);
	if (!expect(got == pc, "%s: pc %#lx, want %#lx", where, got, pc))
		return false;
	for (i = 0; i < NR_X; i++) {
		got = vcpu_get_reg(vcpu, REG_X(i));
		if (!expect(got == x[i], "%s: x%d %#lx, want %#lx", where, i,
			    got, x[i]))
			return false;
	}
	return true;
}

/* Run; the next exit must be the report store at @pc with registers @x. */
static bool run_to_report(u64 pc, const u64 *x)
{
	struct kvm_run *run = vcpu->run;

	vcpu_run(vcpu);
	if (!expect(run->exit_reason == KVM_EXIT_MMIO &&
		    run->mmio.phys_addr == REPORT_ADDR && run->mmio.is_write,
		    "want the report store, got exit %s addr %#llx pc %#lx",
		    exit_reason_str(run->exit_reason), run->mmio.phys_addr,
		    vcpu_get_reg(vcpu, REG_PC)))
		return false;
	return check_regs("report", pc, x);
}

/* Run; the next exit must be one single-step at @pc with registers @x. */
static bool run_to_step(u64 pc, const u64 *x)
{
	struct kvm_run *run = vcpu->run;

	vcpu_run(vcpu);
	if (!expect(run->exit_reason == KVM_EXIT_DEBUG &&
		    ESR_ELx_EC(run->debug.arch.hsr) == ESR_ELx_EC_SOFTSTP_LOW,
		    "want a single-step, got exit %s pc %#lx",
		    exit_reason_str(run->exit_reason), vcpu_get_reg(vcpu, REG_PC)))
		return false;
	if (!check_regs("step", pc, x))
		return false;
	set_step(false);
	return true;
}

/* Run into the exiting instruction of @k at @site and answer the exit. */
static bool run_to_exit(const struct exit_kind *k, u64 site, u64 *x,
			struct kvm_random_state *rng)
{
	struct kvm_run *run = vcpu->run;
	u64 data;
	int i;

	vcpu_run(vcpu);
	if (k->flags & HC) {
		if (!expect(run->exit_reason == KVM_EXIT_HYPERCALL,
			    "want KVM_EXIT_HYPERCALL, got %s pc %#lx",
			    exit_reason_str(run->exit_reason),
			    vcpu_get_reg(vcpu, REG_PC)))
			return false;
		if (!expect(run->hypercall.nr == HC_FUNC_ID && !run->hypercall.flags,
			    "hypercall nr %#llx flags %#llx", run->hypercall.nr,
			    run->hypercall.flags))
			return false;
		/* PC is past the HVC; the answer goes to x0..x3. */
		if (!check_regs("hypercall exit", site + 4, x))
			return false;
		for (i = 0; i < 4; i++) {
			x[i] = kvm_random_u64(rng);
			vcpu_set_reg(vcpu, REG_X(i), x[i]);
		}
		return true;
	}

	if (!expect(run->exit_reason == KVM_EXIT_MMIO,
		    "want KVM_EXIT_MMIO, got %s pc %#lx",
		    exit_reason_str(run->exit_reason), vcpu_get_reg(vcpu, REG_PC)))
		return false;
	if (!expect(run->mmio.phys_addr == MMIO_ADDR && run->mmio.len == k->len &&
		    run->mmio.is_write == !!(k->flags & ST),
		    "mmio addr %#llx len %u is_write %u", run->mmio.phys_addr,
		    run->mmio.len, run->mmio.is_write))
		return false;
	if (!check_regs("mmio exit", site, x))
		return false;

	/* arm64 KVM hosts and this guest are little-endian. */
	if (k->flags & ST) {
		data = 0;
		memcpy(&data, run->mmio.data, k->len);
		if (!expect(data == load_result(k, x[1]), "stored %#lx, want %#lx",
			    data, load_result(k, x[1])))
			return false;
	} else {
		data = kvm_random_u64(rng);
		memcpy(run->mmio.data, &data, sizeof(data));
		x[1] = load_result(k, data);
	}
	return true;
}

/* KVM_ARM_VCPU_INIT, then reload what the library sets up for the guest. */
static bool reset_vcpu(void)
{
	u64 zero[NR_X] = {};

	aarch64_vcpu_setup(vcpu, &vcpu->init);
	vcpu_set_reg(vcpu, ctxt_reg_alias(vcpu, SYS_SP_EL1), sp_el1);
	vcpu_init_descriptor_tables(vcpu);
	return check_regs("after KVM_ARM_VCPU_INIT", 0, zero);
}

static void set_regs(u64 pc, const u64 *x)
{
	int i;

	for (i = 0; i < NR_X; i++)
		vcpu_set_reg(vcpu, REG_X(i), x[i]);
	vcpu_set_reg(vcpu, REG_PC, pc);
}

static bool run_sequence(const struct exit_kind *k, enum intervention intv,
			 struct kvm_random_state *rng)
{
	u64 site = GUEST_SITE(k - kinds);
	u64 x[NR_X], old[NR_X];	/* expected registers: completed, at exit */
	bool hc = k->flags & HC;
	u64 exit_pc = hc ? site + 4 : site;
	u64 pstate, v;
	sigset_t sigs;
	int i, r;

	/* Complete the previous report store, then enter at @site. */
	vcpu_run_complete_io(vcpu);
	for (i = 0; i < NR_X; i++)
		x[i] = kvm_random_u64(rng);
	if (hc)
		x[0] = HC_FUNC_ID;
	x[5] = MMIO_ADDR;
	x[6] = 0;
	x[7] = 0;
	set_regs(site, x);

	if (intv == STEP || intv == STEP_OFF || intv == STEP_MOVE_PC)
		set_step(true);
	if (!run_to_exit(k, site, x, rng))
		return false;

	/* old: the registers before completion; x: after it. */
	memcpy(old, x, sizeof(x));
	if (k->flags & LD)
		old[1] = vcpu_get_reg(vcpu, REG_X(1));

	switch (intv) {
	case NONE:
		break;
	case IMM_EXIT:
		vcpu_run_complete_io(vcpu);
		if (!check_regs("after immediate_exit", site + 4, x))
			return false;
		break;
	case SIGNAL:
		pthread_kill(pthread_self(), SIGUSR1);
		r = __vcpu_run(vcpu);
		if (!expect(r == -1 && errno == EINTR &&
			    vcpu->run->exit_reason == KVM_EXIT_INTR,
			    "KVM_RUN with a signal: r %d errno %d exit %s", r, errno,
			    exit_reason_str(vcpu->run->exit_reason)))
			return false;
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGUSR1);
		TEST_ASSERT_EQ(sigtimedwait(&sigs, NULL, &(struct timespec){}),
			       SIGUSR1);
		if (!check_regs("after KVM_EXIT_INTR", site + 4, x))
			return false;
		break;
	case SAME_PC:
		vcpu_set_reg(vcpu, REG_PC, vcpu_get_reg(vcpu, REG_PC));
		break;
	case MOVE_PC:
		vcpu_set_reg(vcpu, REG_PC, GUEST_ALT);
		old[7] = 1;
		return run_to_report(GUEST_ALT + 4, old);
	case WRITE_DEST:
		/* The answer of a load wins; an HVC's answer is x0 itself. */
		v = kvm_random_u64(rng);
		vcpu_set_reg(vcpu, REG_X(hc ? 0 : 1), v);
		if (hc || (k->flags & ST))
			x[hc ? 0 : 1] = v;
		break;
	case RESET_SAME_PC:
	case RESET_MOVE_PC:
		pstate = vcpu_get_reg(vcpu, REG_PSTATE);
		if (!reset_vcpu())
			return false;
		vcpu_set_reg(vcpu, REG_PSTATE, pstate);
		if (intv == RESET_MOVE_PC) {
			set_regs(GUEST_ALT, old);
			old[7] = 1;
			return run_to_report(GUEST_ALT + 4, old);
		}
		/* Same PC: an HVC has retired, an access is issued anew. */
		set_regs(exit_pc, old);
		if (!hc && !run_to_exit(k, site, old, rng))
			return false;
		memcpy(x, old, sizeof(x));
		break;
	case STEP:
		if (!run_to_step(site + 4, x))
			return false;
		break;
	case STEP_ON:
		/* The access retires on re-entry; the HVC retired already. */
		set_step(true);
		x[6] = hc;
		if (!run_to_step(site + 4 + 4 * hc, x))
			return false;
		break;
	case STEP_OFF:
		set_step(false);
		break;
	case STEP_MOVE_PC:
		/* The HVC's step is owed; else the first insn at ALT steps. */
		vcpu_set_reg(vcpu, REG_PC, GUEST_ALT);
		old[7] = !hc;
		if (!run_to_step(GUEST_ALT + 4 * !hc, old))
			return false;
		old[7] = 1;
		return run_to_report(GUEST_ALT + 4, old);
	default:
		TEST_FAIL("bad intervention %d", intv);
	}

	x[6] = 1;
	return run_to_report(site + 8, x);
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

/* Leave SIGUSR1 blocked except inside KVM_RUN, so it interrupts KVM_RUN. */
static void setup_signal(void)
{
	struct kvm_signal_mask *mask = calloc(1, sizeof(*mask) + 8);
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGUSR1);
	TEST_ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &sigs, NULL), 0);
	mask->len = 8;	/* the kernel's sigset_t; nothing blocked */
	vcpu_ioctl(vcpu, KVM_SET_SIGNAL_MASK, mask);
	free(mask);
}

int main(int argc, char *argv[])
{
	int n = 1000, only = -1, nr_kinds = NR_KINDS, total_fails = 0;
	struct timespec start, end;
	struct kvm_vm *vm;
	int i, j, opt;
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
	asm("ldr %0, =guest_code" : "=r"(guest_alt));
	vm = vm_create_with_one_vcpu(&vcpu, (void *)guest_alt);
	virt_map(vm, MMIO_ADDR, MMIO_ADDR, 1);
	static_assert(NR_KINDS <= MAX_KINDS);
	for (i = 0; i < NR_KINDS; i++)
		memcpy(addr_gva2hva(vm, GUEST_SITE(i)), &kinds[i].opcode, 4);
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(vcpu);
	sp_el1 = vcpu_get_reg(vcpu, ctxt_reg_alias(vcpu, SYS_SP_EL1));
	if (!has_smccc_fwd(vm))
		nr_kinds--;	/* the HVC kind is last */
	setup_signal();

	ksft_print_header();
	ksft_set_plan(1);
	if (only >= 0)
		n = 1;
	ksft_print_msg("seed %u, %d sequences%s\n", seed, n,
		       nr_kinds < NR_KINDS ? ", no SMCCC forwarding: no hvc" : "");

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = max(only, 0); i < max(only, 0) + n; i++) {
		struct kvm_random_state rng = new_kvm_random_state(mix(seed, i));

		cur_index = i;
		cur_kind = kvm_random_u32(&rng) % nr_kinds;
		cur_intv = kvm_random_u32(&rng) % NR_INTERVENTIONS;
		counts[cur_kind][cur_intv]++;
		if (!run_sequence(&kinds[cur_kind], cur_intv, &rng)) {
			total_fails++;
			set_step(false);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	secs = end.tv_sec - start.tv_sec + (end.tv_nsec - start.tv_nsec) / 1e9;

	for (i = 0; i < nr_kinds; i++) {
		int sum = 0;

		for (j = 0; j < NR_INTERVENTIONS; j++)
			sum += counts[i][j];
		ksft_print_msg("kind %-16s %d\n", kinds[i].insn, sum);
	}
	for (j = 0; j < NR_INTERVENTIONS; j++) {
		int sum = 0;

		for (i = 0; i < nr_kinds; i++)
			sum += counts[i][j];
		ksft_print_msg("intervention %-16s %d\n", intervention_names[j], sum);
	}
	for (i = 0; i < nr_kinds; i++)
		for (j = 0; j < NR_INTERVENTIONS; j++)
			if (fails[i][j])
				ksft_print_msg("failed '%s' x %s: %d/%d, first: -s %u -i %d\n",
					       kinds[i].insn, intervention_names[j],
					       fails[i][j], counts[i][j], seed,
					       first_fail[i][j]);
	ksft_print_msg("%.3f s, %.0f sequences/s\n", secs, n / secs);
	ksft_test_result(!total_fails, "%d sequences, seed %u, %d failed\n",
			 n, seed, total_fails);
	kvm_vm_free(vm);
	ksft_finished();
}
