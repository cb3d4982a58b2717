/* vCPU state for a BIOS-free start: CPUID, MSRs, LAPIC and long mode. */
#include "x86/cpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "cleanup.h"
#include "jsonstr.h"
#include "kvm.h"
#include "vcpu.h"

#define MAX_CPUID_ENTRIES 256

#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_MISC_ENABLE_FAST_STRING 1
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC 0x10
#define MSR_IA32_TSC_DEADLINE 0x6e0

#define X86_CR0_PE 0x1ULL
#define X86_CR0_ET 0x10ULL
#define X86_CR0_PG 0x80000000ULL
#define X86_CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

#define APIC_ISR 0x100
#define APIC_IRR 0x200
#define APIC_LVT_TIMER 0x320
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI 0x4

/* Selectors the boot protocol names: __BOOT_CS and __BOOT_DS. */
#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define BOOT_TSS 0x20

bool x86_has_tsc_deadline(int kvm_fd)
{
	return ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
}

int x86_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out, novm_error_t *err)
{
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + MAX_CPUID_ENTRIES * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return novm_error(err, ENOMEM, "allocate CPUID");
	cpuid->nent = MAX_CPUID_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		free(cpuid);
		return novm_error(err, errno, "KVM_GET_SUPPORTED_CPUID");
	}
	/* KVM emulates the TSC-deadline timer but leaves it to the VMM to
	 * offer.  With it (and ARAT, which KVM reports) a Linux guest needs no
	 * PIT: it neither calibrates its LAPIC timer against one nor keeps one
	 * as its tick device, so the VM gets no PIT (kvm_vm_open). */
	if (x86_has_tsc_deadline(kvm_fd))
		for (uint32_t i = 0; i < cpuid->nent; i++)
			if (cpuid->entries[i].function == 1)
				cpuid->entries[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
	*out = cpuid;
	return 0;
}

static void patch_cpuid(struct kvm_cpuid2 *cpuid, uint32_t apic_id)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		switch (e->function) {
		case 1:
			/* Initial APIC id in EBX[31:24]; tell the guest it is virtual. */
			e->ebx = (e->ebx & 0x00ffffff) | (apic_id << 24);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC id of this vCPU in every topology sub-leaf. */
			e->edx = apic_id;
			break;
		}
	}
}

static int set_msrs(struct vcpu *vcpu, novm_error_t *err)
{
	static const uint32_t zeroed[] = {
		MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP, MSR_STAR,
		MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[ARRAY_SIZE(zeroed) + 1];
	} msrs;

	memset(&msrs, 0, sizeof(msrs));
	for (size_t i = 0; i < ARRAY_SIZE(zeroed); i++)
		msrs.entries[i].index = zeroed[i];
	msrs.entries[ARRAY_SIZE(zeroed)].index = MSR_IA32_MISC_ENABLE;
	msrs.entries[ARRAY_SIZE(zeroed)].data = MSR_IA32_MISC_ENABLE_FAST_STRING;
	msrs.hdr.nmsrs = ARRAY_SIZE(msrs.entries);
	int n = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (n < 0)
		return novm_error(err, errno, "KVM_SET_MSRS");
	/* KVM stops at the first MSR it refuses; all of these are architectural. */
	if (n != (int)msrs.hdr.nmsrs)
		return novm_error(err, 0, "KVM_SET_MSRS: MSR 0x%x refused", msrs.entries[n].index);
	return 0;
}

static uint32_t lapic_reg(const struct kvm_lapic_state *lapic, int reg)
{
	uint32_t v;
	memcpy(&v, &lapic->regs[reg], sizeof(v));
	return v;
}

static void set_lvt_mode(struct kvm_lapic_state *lapic, int reg, uint32_t mode)
{
	uint32_t v = (lapic_reg(lapic, reg) & ~0x700u) | (mode << 8);
	memcpy(&lapic->regs[reg], &v, sizeof(v));
}

static int set_lapic(struct vcpu *vcpu, novm_error_t *err)
{
	struct kvm_lapic_state lapic;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return novm_error(err, errno, "KVM_GET_LAPIC");
	/* What a BIOS would do: PIC through LINT0, NMI on LINT1 (virtual wire). */
	set_lvt_mode(&lapic, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	set_lvt_mode(&lapic, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return novm_error(err, errno, "KVM_SET_LAPIC");
	return 0;
}

static int set_fpu(struct vcpu *vcpu, novm_error_t *err)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return novm_error(err, errno, "KVM_SET_FPU");
	return 0;
}

int x86_vcpu_init(struct vcpu *vcpu, const struct kvm_cpuid2 *supported, novm_error_t *err)
{
	size_t size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	cleanup_free struct kvm_cpuid2 *cpuid = malloc(size);

	if (!cpuid)
		return novm_error(err, ENOMEM, "allocate CPUID");
	memcpy(cpuid, supported, size);
	patch_cpuid(cpuid, vcpu->id);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0)
		return novm_error(err, errno, "KVM_SET_CPUID2");
	if (set_msrs(vcpu, err) < 0 || set_fpu(vcpu, err) < 0 || set_lapic(vcpu, err) < 0)
		return novm_error_wrap(err, "vCPU %d", vcpu->id);
	return 0;
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type, bool code)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code ? 0 : 1,	/* a 64-bit code segment must have D=0 */
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

int x86_vcpu_enter_long_mode(struct vcpu *vcpu, uint64_t entry, uint64_t boot_params,
			     uint64_t page_table, uint64_t gdt, uint16_t gdt_size, uint64_t stack,
			     novm_error_t *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return novm_error(err, errno, "KVM_GET_SREGS");
	sregs.gdt.base = gdt;
	sregs.gdt.limit = gdt_size - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cs = flat_segment(BOOT_CS, 0xb, true);	/* execute/read, accessed */
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat_segment(BOOT_DS, 0x3, false);
	sregs.tr = (struct kvm_segment){
		.selector = BOOT_TSS, .limit = 0x67, .type = 0xb, .present = 1,
	};
	sregs.cr3 = page_table;
	sregs.cr4 = X86_CR4_PAE;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return novm_error(err, errno, "KVM_SET_SREGS");

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;	/* bit 1 is reserved-one; interrupts off */
	regs.rip = entry;
	regs.rsi = boot_params;
	regs.rsp = regs.rbp = stack;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return novm_error(err, errno, "KVM_SET_REGS");
	return 0;
}

/* The highest vector set in a 256-bit LAPIC register array (ISR, IRR: eight
 * 32-bit words 16 bytes apart), or -1. */
static int lapic_top_vector(const struct kvm_lapic_state *lapic, int base)
{
	for (int w = 7; w >= 0; w--) {
		uint32_t v = lapic_reg(lapic, base + w * 16);
		if (v)
			return w * 32 + 31 - __builtin_clz(v);
	}
	return -1;
}

void x86_vcpu_describe(struct vcpu *vcpu, FILE *out)
{
	struct kvm_regs r;
	struct kvm_sregs sr;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	struct kvm_lapic_state lapic;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[2];
	} msrs = { .hdr.nmsrs = 2, .entries = { { .index = MSR_IA32_TSC }, { .index = MSR_IA32_TSC_DEADLINE } } };

	fprintf(out, "{\"id\":%d", vcpu->id);
	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) == 0)
		fprintf(out, ",\"rip\":\"%#llx\",\"rsp\":\"%#llx\",\"if\":%s",
			(unsigned long long)r.rip, (unsigned long long)r.rsp,
			json_bool(r.rflags & (1u << 9)));
	/* The last page fault's address, for a #PF that is never delivered. */
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sr) == 0)
		fprintf(out, ",\"cr2\":\"%#llx\"", (unsigned long long)sr.cr2);
	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) == 0)
		fprintf(out, ",\"mp_state\":%u", mp.mp_state);	/* 0 runnable, 3 halted */
	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) == 0) {
		bool exc = ev.exception.injected || ev.exception.pending;

		fprintf(out, ",\"irq_injected\":%s,\"nmi_pending\":%s,\"exception_pending\":%s",
			json_bool(ev.interrupt.injected), json_bool(ev.nmi.pending), json_bool(exc));
		/* Which exception, and whether KVM had begun delivering it: a
		 * guest stuck so (seen in the emulated L1) is told apart by the
		 * vector (#PF 14 with cr2, #GP 13, #DF 8) and error code. */
		if (exc && ev.exception.has_error_code)
			fprintf(out, ",\"exception\":{\"nr\":%u,\"injected\":%s,\"error_code\":%u}",
				ev.exception.nr, json_bool(ev.exception.injected),
				ev.exception.error_code);
		else if (exc)
			fprintf(out, ",\"exception\":{\"nr\":%u,\"injected\":%s}", ev.exception.nr,
				json_bool(ev.exception.injected));
	}
	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) == 0)
		fprintf(out, ",\"lvt_timer\":\"%#x\",\"tmict\":%u,\"tmcct\":%u,\"isr_top\":%d,\"irr_top\":%d",
			lapic_reg(&lapic, APIC_LVT_TIMER), lapic_reg(&lapic, APIC_TMICT),
			lapic_reg(&lapic, APIC_TMCCT), lapic_top_vector(&lapic, APIC_ISR),
			lapic_top_vector(&lapic, APIC_IRR));
	/* A TSC-deadline timer due in the past on a halted vCPU is a lost tick. */
	if (ioctl(vcpu->fd, KVM_GET_MSRS, &msrs) == 2)
		fprintf(out, ",\"tsc_deadline_in\":%lld",
			msrs.entries[1].data ? (long long)(msrs.entries[1].data - msrs.entries[0].data) : 0LL);
	fputc('}', out);
}
