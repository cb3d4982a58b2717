#include "memory.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

void *guest_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < mem->nr_regions; i++) {
		const struct guest_region *r = &mem->regions[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off >= r->size || len > r->size - off)
			continue;
		return r->hva + off;
	}
	return NULL;
}

int guest_read(const struct guest_memory *mem, uint64_t gpa, void *dst, size_t len)
{
	void *p = guest_ptr(mem, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int guest_write(const struct guest_memory *mem, uint64_t gpa, const void *src, size_t len)
{
	void *p = guest_ptr(mem, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int guest_memory_add(struct guest_memory *mem, uint64_t gpa, uint64_t size, void *hva)
{
	if (mem->nr_regions >= GUEST_MAX_REGIONS)
		return -ENOSPC;
	mem->regions[mem->nr_regions++] = (struct guest_region){ gpa, size, hva, false };
	mem->ram_size += size;
	return 0;
}

static int map_region(struct guest_memory *mem, uint64_t gpa, uint64_t size, novm_error_t *err)
{
	void *hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (hva == MAP_FAILED)
		return novm_error(err, errno, "map %llu MiB of guest memory",
				  (unsigned long long)(size >> 20));
	/* Guests of one image share most pages; let KSM merge them when enabled. */
	madvise(hva, size, MADV_MERGEABLE);
	if (guest_memory_add(mem, gpa, size, hva) < 0) {
		munmap(hva, size);
		return novm_error(err, ENOSPC, "too many memory regions");
	}
	mem->regions[mem->nr_regions - 1].owned = true;
	return 0;
}

int guest_memory_alloc(struct guest_memory *mem, uint64_t size, novm_error_t *err)
{
	uint64_t low = size < GUEST_PCI_HOLE_START ? size : GUEST_PCI_HOLE_START;

	memset(mem, 0, sizeof(*mem));
	if (map_region(mem, 0, low, err) < 0)
		return -1;
	if (size > low && map_region(mem, GUEST_4G, size - low, err) < 0) {
		guest_memory_free(mem);
		return -1;
	}
	return 0;
}

void guest_memory_free(struct guest_memory *mem)
{
	for (int i = 0; i < mem->nr_regions; i++)
		if (mem->regions[i].owned)
			munmap(mem->regions[i].hva, mem->regions[i].size);
	memset(mem, 0, sizeof(*mem));
}
