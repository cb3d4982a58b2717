#ifndef NOVM_X86_MPTABLE_H
#define NOVM_X86_MPTABLE_H

#include <stdint.h>

#include "error.h"
#include "memory.h"

#define MPTABLE_IOAPIC_ADDR 0xfec00000U
#define MPTABLE_LAPIC_ADDR 0xfee00000U

/* Writes an Intel MP 1.4 table at BOOT_EBDA_START (where Linux scans the
 * last KiB of base memory), so the guest finds every vCPU and the IOAPIC
 * without ACPI. */
int x86_write_mptable(struct guest_memory *mem, int nr_cpus, novm_error_t *err);

#endif
