/* Guest physical memory.  guest_ptr() is the ONLY guest-physical to host
 * translation in the VMM: it checks the whole range, so a device never
 * touches host memory outside guest RAM whatever address the guest gives. */
#ifndef NOVM_MEMORY_H
#define NOVM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define GUEST_MAX_REGIONS 4

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	bool owned;	/* mapped by guest_memory_alloc, unmapped on free */
};

struct guest_memory {
	struct guest_region regions[GUEST_MAX_REGIONS];
	int nr_regions;
	uint64_t ram_size;	/* total bytes of RAM across regions */
};

/* Host pointer for [gpa, gpa + len), or NULL unless the whole range lies in
 * one RAM region.  Overflow-safe for any 64-bit inputs. */
void *guest_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t len);

/* Copies between guest and host; -EFAULT when the range is not RAM. */
int guest_read(const struct guest_memory *mem, uint64_t gpa, void *dst, size_t len);
int guest_write(const struct guest_memory *mem, uint64_t gpa, const void *src, size_t len);

/* Adds an externally owned mapping (used by tests with a plain buffer). */
int guest_memory_add(struct guest_memory *mem, uint64_t gpa, uint64_t size, void *hva);

/* x86 layout: RAM below the 32-bit PCI hole, the rest above 4 GiB. */
#define GUEST_PCI_HOLE_START 0xC0000000ULL
#define GUEST_4G 0x100000000ULL

/* Maps anonymous RAM of `size` bytes laid out around the PCI hole. */
int guest_memory_alloc(struct guest_memory *mem, uint64_t size, novm_error_t *err);
void guest_memory_free(struct guest_memory *mem);

#endif
