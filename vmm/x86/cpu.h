#ifndef NOVM_X86_CPU_H
#define NOVM_X86_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

struct vcpu;
struct kvm_cpuid2;

/* Whether KVM offers the guest a TSC-deadline LAPIC timer: then the guest
 * needs no PIT. */
bool x86_has_tsc_deadline(int kvm_fd);

/* What KVM can virtualise on this host; fetched once per VM. */
int x86_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out, novm_error_t *err);

/* CPUID (with this vCPU's APIC id), boot MSRs, FPU and LAPIC LINT set-up:
 * every vCPU needs these. */
int x86_vcpu_init(struct vcpu *vcpu, const struct kvm_cpuid2 *supported, novm_error_t *err);

/* Puts the boot vCPU in 64-bit mode at `entry` with %rsi = boot_params,
 * as the Linux x86 64-bit boot protocol asks. */
int x86_vcpu_enter_long_mode(struct vcpu *vcpu, uint64_t entry, uint64_t boot_params,
			     uint64_t page_table, uint64_t gdt, uint16_t gdt_size, uint64_t stack,
			     novm_error_t *err);

/* The vCPU's state as a JSON object, for diag: where it runs, whether it
 * halted, and its LAPIC timer and pending interrupts (a stalled guest is
 * often a halted one whose timer never fired).  The vCPU must be out of
 * KVM_RUN (paused). */
void x86_vcpu_describe(struct vcpu *vcpu, FILE *out);

#endif
