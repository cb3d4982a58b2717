/* Zero page, E820, command line, GDT and page tables: what the real-mode
 * setup code would have built, prepared by us so the vCPU can start at the
 * kernel's 64-bit entry directly. */
#include "x86/boot.h"

#include <errno.h>
#include <string.h>

#define E820_RAM 1
#define E820_RESERVED 2
#define BOOT_FLAG_MAGIC 0xaa55
#define HDRS_MAGIC 0x53726448	/* "HdrS" */
#define LOADER_TYPE_UNDEFINED 0xff
#define DEFAULT_CMDLINE_SIZE 2048
#define PAGE_SIZE 4096ULL

static void add_e820(struct boot_e820_entry *table, int *n, int max, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	if (*n < max && size)
		table[(*n)++] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
}

int x86_build_e820(const struct guest_memory *mem, struct boot_e820_entry *table, int max)
{
	int n = 0;

	for (int i = 0; i < mem->nr_regions; i++) {
		const struct guest_region *r = &mem->regions[i];
		if (r->gpa == 0) {
			/* Base memory, then the EBDA and BIOS area kept away from the
			 * kernel (it holds our MP table), then RAM from 1 MiB. */
			add_e820(table, &n, max, 0, BOOT_EBDA_START, E820_RAM);
			add_e820(table, &n, max, BOOT_EBDA_START, BOOT_HIGH_MEMORY - BOOT_EBDA_START,
				 E820_RESERVED);
			if (r->size > BOOT_HIGH_MEMORY)
				add_e820(table, &n, max, BOOT_HIGH_MEMORY, r->size - BOOT_HIGH_MEMORY,
					 E820_RAM);
		} else {
			add_e820(table, &n, max, r->gpa, r->size, E820_RAM);
		}
	}
	return n;
}

int x86_place_initrd(const struct guest_memory *mem, uint64_t size, uint64_t kernel_end,
		     uint64_t addr_max, uint64_t *addr, novm_error_t *err)
{
	uint64_t low_end = 0;

	for (int i = 0; i < mem->nr_regions; i++)
		if (mem->regions[i].gpa == 0)
			low_end = mem->regions[i].size;
	/* addr_max is the highest address the initrd may *occupy*. */
	uint64_t top = low_end;
	if (addr_max && addr_max + 1 < top)
		top = addr_max + 1;
	if (size > top) {
		return novm_error(err, 0, "initrd of %llu MiB does not fit in guest memory",
				  (unsigned long long)(size >> 20));
	}
	uint64_t start = (top - size) & ~(PAGE_SIZE - 1);
	if (start < kernel_end)
		return novm_error(err, 0,
				  "initrd of %llu MiB does not fit between the kernel (ends at %llu MiB) and the end of low memory (%llu MiB): give the VM more memory",
				  (unsigned long long)(size >> 20), (unsigned long long)(kernel_end >> 20),
				  (unsigned long long)(top >> 20));
	*addr = start;
	return 0;
}

static void synthesise_header(struct setup_header *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->boot_flag = BOOT_FLAG_MAGIC;
	hdr->header = HDRS_MAGIC;
	hdr->version = 0x020f;
	hdr->kernel_alignment = 0x1000000;
	hdr->initrd_addr_max = 0x7fffffff;
	hdr->cmdline_size = DEFAULT_CMDLINE_SIZE - 1;
}

static int write_gdt(struct guest_memory *mem)
{
	/* null, null, __BOOT_CS (64-bit code), __BOOT_DS (data), TSS. */
	const uint64_t gdt[BOOT_GDT_ENTRIES] = {
		0,
		0,
		0x00af9b000000ffffULL,
		0x00cf93000000ffffULL,
		0x00008b0000000067ULL,
	};
	return guest_write(mem, BOOT_GDT_ADDR, gdt, sizeof(gdt));
}

static int write_page_tables(struct guest_memory *mem)
{
	uint64_t *pml4 = guest_ptr(mem, BOOT_PML4_ADDR, PAGE_SIZE);
	uint64_t *pdpt = guest_ptr(mem, BOOT_PDPT_ADDR, PAGE_SIZE);
	uint64_t *pd = guest_ptr(mem, BOOT_PD_ADDR, 4 * PAGE_SIZE);

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = BOOT_PDPT_ADDR | 0x3;	/* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * PAGE_SIZE) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;	/* present, writable, 2 MiB page */
	return 0;
}

int x86_setup_boot(struct guest_memory *mem, const struct x86_boot_setup *setup, novm_error_t *err)
{
	struct boot_params *params = guest_ptr(mem, BOOT_ZERO_PAGE_ADDR, sizeof(*params));
	size_t cmdline_len = strlen(setup->cmdline);

	if (!params)
		return novm_error(err, 0, "guest memory too small for the zero page");
	memset(params, 0, sizeof(*params));
	if (setup->hdr)
		params->hdr = *setup->hdr;
	else
		synthesise_header(&params->hdr);

	uint32_t cmdline_max = params->hdr.cmdline_size ? params->hdr.cmdline_size : DEFAULT_CMDLINE_SIZE - 1;
	if (cmdline_len > cmdline_max || cmdline_len >= BOOT_CMDLINE_MAX)
		return novm_error(err, 0, "kernel command line is %zu bytes, the kernel accepts at most %u",
				  cmdline_len, cmdline_max);
	if (guest_write(mem, BOOT_CMDLINE_ADDR, setup->cmdline, cmdline_len + 1) < 0)
		return novm_error(err, 0, "guest memory too small for the command line");

	params->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	params->hdr.loadflags |= LOADED_HIGH;
	params->hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
	params->hdr.ramdisk_image = (uint32_t)setup->initrd_addr;
	params->hdr.ramdisk_size = (uint32_t)setup->initrd_size;
	params->ext_ramdisk_image = (uint32_t)(setup->initrd_addr >> 32);
	params->ext_ramdisk_size = (uint32_t)(setup->initrd_size >> 32);
	params->e820_entries = x86_build_e820(mem, params->e820_table, E820_MAX_ENTRIES_ZEROPAGE);

	if (write_gdt(mem) < 0 || write_page_tables(mem) < 0)
		return novm_error(err, 0, "guest memory too small for the boot page tables");
	return 0;
}
