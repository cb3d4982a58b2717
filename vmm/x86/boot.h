/* The guest-physical layout of a BIOS-free x86 boot and the structures the
 * kernel expects from a boot loader (Documentation/arch/x86/boot.rst). */
#ifndef NOVM_X86_BOOT_H
#define NOVM_X86_BOOT_H

#include <stdint.h>
#include <asm/bootparam.h>

#include "error.h"
#include "memory.h"

#define BOOT_GDT_ADDR 0x500ULL
#define BOOT_ZERO_PAGE_ADDR 0x7000ULL
#define BOOT_STACK_ADDR 0x8ff0ULL
#define BOOT_PML4_ADDR 0x9000ULL
#define BOOT_PDPT_ADDR 0xa000ULL
#define BOOT_PD_ADDR 0xb000ULL		/* four pages: identity map of 4 GiB in 2 MiB pages */
#define BOOT_CMDLINE_ADDR 0x20000ULL
#define BOOT_CMDLINE_MAX 0x10000ULL	/* room reserved; the kernel's own limit is hdr.cmdline_size */
#define BOOT_EBDA_START 0x9fc00ULL	/* the MP table lives in the last KiB of base memory */
#define BOOT_HIGH_MEMORY 0x100000ULL

#define BOOT_GDT_ENTRIES 5

/* E820 map for the guest memory: base memory, the reserved EBDA/BIOS hole,
 * RAM from 1 MiB and RAM above 4 GiB.  Returns the number of entries. */
int x86_build_e820(const struct guest_memory *mem, struct boot_e820_entry *table, int max);

/* Highest page-aligned address where an initrd of `size` fits: in low RAM,
 * above `kernel_end`, and below `addr_max` (hdr.initrd_addr_max). */
int x86_place_initrd(const struct guest_memory *mem, uint64_t size, uint64_t kernel_end,
		     uint64_t addr_max, uint64_t *addr, novm_error_t *err);

struct x86_boot_setup {
	const struct setup_header *hdr;	/* from the bzImage; NULL: synthesise one */
	const char *cmdline;
	uint64_t initrd_addr;
	uint64_t initrd_size;
};

/* Writes the zero page, command line, GDT and identity page tables. */
int x86_setup_boot(struct guest_memory *mem, const struct x86_boot_setup *setup, novm_error_t *err);

#endif
