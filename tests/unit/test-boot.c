/* Boot structures without KVM: E820, initrd placement, zero page, page
 * tables and the MP table, written into a plain buffer as guest memory. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmm/memory.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/mptable.h"

#define MiB (1ULL << 20)

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static void test_e820(void)
{
	struct guest_memory mem = { 0 };
	struct boot_e820_entry t[8];

	guest_memory_add(&mem, 0, 256 * MiB, NULL);
	int n = x86_build_e820(&mem, t, 8);
	ok(n == 3, "256 MiB gives three E820 entries (%d)", n);
	ok(t[0].addr == 0 && t[0].size == 0x9fc00 && t[0].type == 1, "base memory is RAM up to the EBDA");
	ok(t[1].addr == 0x9fc00 && t[1].addr + t[1].size == 0x100000 && t[1].type == 2,
	   "EBDA and BIOS area reserved");
	ok(t[2].addr == MiB && t[2].size == 255 * MiB && t[2].type == 1, "RAM from 1 MiB to the end");

	guest_memory_add(&mem, GUEST_4G, 1024 * MiB, NULL);
	n = x86_build_e820(&mem, t, 8);
	ok(n == 4 && t[3].addr == GUEST_4G && t[3].size == 1024 * MiB, "high RAM above 4 GiB listed");
	ok(x86_build_e820(&mem, t, 2) == 2, "table size limit respected");
}

static void test_initrd_placement(void)
{
	struct guest_memory mem = { 0 };
	novm_error_t err = NULL;
	uint64_t addr = 0;

	guest_memory_add(&mem, 0, 256 * MiB, NULL);
	ok(x86_place_initrd(&mem, 10 * MiB + 5, 64 * MiB, 0x7fffffff, &addr, &err) == 0,
	   "initrd placed");
	ok(addr % 4096 == 0 && addr + 10 * MiB + 5 <= 256 * MiB && addr >= 64 * MiB,
	   "initrd page aligned, in RAM, above the kernel (0x%llx)", (unsigned long long)addr);
	ok(x86_place_initrd(&mem, 1 * MiB, 0, 128 * MiB - 1, &addr, &err) == 0 &&
	   addr + MiB <= 128 * MiB, "initrd_addr_max honoured");
	ok(x86_place_initrd(&mem, 250 * MiB, 64 * MiB, 0x7fffffff, &addr, &err) < 0 && err &&
	   strstr(err->msg, "does not fit"), "too large an initrd is a clear error: %s", err ? err->msg : "");
	novm_error_release(&err);
}

static void test_zero_page(uint8_t *ram, struct guest_memory *mem)
{
	novm_error_t err = NULL;
	struct x86_boot_setup setup = {
		.cmdline = "console=ttyS0 panic=-1",
		.initrd_addr = 0x5000000,
		.initrd_size = 12345,
	};

	ok(x86_setup_boot(mem, &setup, &err) == 0, "boot structures written");
	struct boot_params *bp = (struct boot_params *)(ram + BOOT_ZERO_PAGE_ADDR);
	ok(bp->hdr.boot_flag == 0xaa55 && bp->hdr.header == 0x53726448, "synthesised setup header has its magics");
	ok(bp->hdr.type_of_loader == 0xff && (bp->hdr.loadflags & LOADED_HIGH), "loader type and LOADED_HIGH");
	ok(bp->hdr.cmd_line_ptr == BOOT_CMDLINE_ADDR &&
	   !strcmp((char *)ram + BOOT_CMDLINE_ADDR, "console=ttyS0 panic=-1"), "command line in place");
	ok(bp->hdr.ramdisk_image == 0x5000000 && bp->hdr.ramdisk_size == 12345, "initrd address and size");
	ok(bp->e820_entries == 3 && bp->e820_table[2].addr == MiB, "E820 in the zero page");

	uint64_t *pml4 = (uint64_t *)(ram + BOOT_PML4_ADDR);
	uint64_t *pd = (uint64_t *)(ram + BOOT_PD_ADDR);
	ok((pml4[0] & ~0xfffULL) == BOOT_PDPT_ADDR && (pml4[0] & 1), "PML4 points at the PDPT");
	ok(pd[8] == ((8ULL << 21) | 0x83) && pd[2047] == ((2047ULL << 21) | 0x83),
	   "2 MiB identity mappings up to 4 GiB");
	uint64_t *gdt = (uint64_t *)(ram + BOOT_GDT_ADDR);
	ok(gdt[2] == 0x00af9b000000ffffULL, "__BOOT_CS is a 64-bit code segment");

	struct setup_header hdr = { 0 };
	hdr.boot_flag = 0xaa55;
	hdr.header = 0x53726448;
	hdr.version = 0x020f;
	hdr.cmdline_size = 8;
	setup.hdr = &hdr;
	ok(x86_setup_boot(mem, &setup, &err) < 0 && err && strstr(err->msg, "at most 8"),
	   "a command line over the kernel's cmdline_size is refused: %s", err ? err->msg : "");
	novm_error_release(&err);
	hdr.cmdline_size = 2047;
	ok(x86_setup_boot(mem, &setup, &err) == 0 && bp->hdr.version == 0x020f,
	   "a bzImage's header is copied");
}

static void test_mptable(uint8_t *ram, struct guest_memory *mem)
{
	novm_error_t err = NULL;

	ok(x86_write_mptable(mem, 2, &err) == 0, "MP table for 2 vCPUs written");
	uint8_t *mpf = ram + BOOT_EBDA_START;
	ok(!memcmp(mpf, "_MP_", 4) && checksum(mpf, 16) == 0, "floating pointer found with a valid checksum");
	uint32_t phys;
	memcpy(&phys, mpf + 4, 4);
	uint8_t *mpc = ram + phys;
	uint16_t len, count;
	memcpy(&len, mpc + 4, 2);
	memcpy(&count, mpc + 34, 2);
	ok(!memcmp(mpc, "PCMP", 4) && checksum(mpc, len) == 0, "config table valid (%u bytes)", len);
	int cpus = 0, bsp = 0;
	uint8_t *e = mpc + 44;
	for (int i = 0; i < count; i++) {
		if (e[0] == 0) {
			cpus++;
			bsp += (e[3] & 2) != 0;
			e += 20;
		} else {
			e += 8;
		}
	}
	ok(cpus == 2 && bsp == 1, "two processors, one boot processor");
	ok(x86_write_mptable(mem, 0, &err) < 0, "zero vCPUs refused");
	novm_error_release(&err);
}

int main(void)
{
	struct guest_memory mem = { 0 };
	uint8_t *ram = calloc(1, 64 * MiB);

	guest_memory_add(&mem, 0, 64 * MiB, ram);
	test_e820();
	test_initrd_placement();
	test_zero_page(ram, &mem);
	test_mptable(ram, &mem);
	free(ram);
	return tap_done();
}
