/* Loading the vmlinux ELF into guest memory.  Every PT_LOAD segment goes to
 * its physical address (p_paddr); the guest then starts at e_entry, which
 * for an x86-64 vmlinux is the physical address of startup_64. */
#ifndef NOVM_LOADER_ELF_H
#define NOVM_LOADER_ELF_H

#include <stdint.h>

#include "error.h"
#include "memory.h"

/* Checks that `path` is a complete x86-64 ELF executable with loadable
 * segments and an entry point inside one of them. */
int elf_check_kernel(const char *path, novm_error_t *err);

/* Copies the PT_LOAD segments of the kernel at `path` into guest memory,
 * zeroing each up to its p_memsz.  *entry is e_entry; *phys_end the first
 * guest-physical byte after the highest segment. */
int elf_load_kernel(const char *path, struct guest_memory *mem, uint64_t *entry, uint64_t *phys_end,
		    novm_error_t *err);

#endif
