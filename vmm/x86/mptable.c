/* Intel MultiProcessor Specification 1.4 tables (chapter 4). */
#include "x86/mptable.h"

#include <string.h>

#include "x86/boot.h"

#define MPC_SPEC_1_4 4
#define APIC_VERSION 0x14
#define IOAPIC_VERSION 0x11
#define IOAPIC_PINS 24
#define ISA_BUS_ID 0

enum {
	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_INTSRC = 3,
	MP_LINTSRC = 4,
};

enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

struct mpf_intel {
	char signature[4];	/* "_MP_" */
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {
	char signature[4];	/* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;	/* bit 0 enabled, bit 1 boot processor */
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;		/* bit 0 usable */
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;	/* 0: conforms to the bus (ISA: edge, active high) */
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

static uint8_t checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint8_t sum = 0;
	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

int x86_write_mptable(struct guest_memory *mem, int nr_cpus, novm_error_t *err)
{
	const size_t size = sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
			    nr_cpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
			    sizeof(struct mpc_ioapic) + 16 * sizeof(struct mpc_intsrc) +
			    2 * sizeof(struct mpc_intsrc);
	const uint8_t ioapic_id = nr_cpus;	/* after the LAPIC ids */
	uint8_t *base = guest_ptr(mem, BOOT_EBDA_START, size);

	if (nr_cpus < 1 || nr_cpus > 254)
		return novm_error(err, 0, "the MP table describes 1 to 254 vCPUs, not %d", nr_cpus);
	if (!base || BOOT_EBDA_START + size > BOOT_HIGH_MEMORY)
		return novm_error(err, 0, "MP table for %d vCPUs does not fit below 1 MiB", nr_cpus);
	memset(base, 0, size);

	struct mpf_intel *mpf = (struct mpf_intel *)base;
	struct mpc_table *mpc = (struct mpc_table *)(mpf + 1);
	uint8_t *p = (uint8_t *)(mpc + 1);
	uint16_t entries = 0;

	for (int i = 0; i < nr_cpus; i++, entries++) {
		struct mpc_cpu *cpu = (struct mpc_cpu *)p;
		cpu->type = MP_PROCESSOR;
		cpu->apicid = i;
		cpu->apicver = APIC_VERSION;
		cpu->cpuflag = 1 | (i == 0 ? 2 : 0);
		cpu->cpufeature = 0x600;	/* family 6: only informative */
		cpu->featureflag = 0x201;	/* FPU, APIC */
		p += sizeof(*cpu);
	}

	struct mpc_bus *bus = (struct mpc_bus *)p;
	bus->type = MP_BUS;
	bus->busid = ISA_BUS_ID;
	memcpy(bus->bustype, "ISA   ", 6);
	p += sizeof(*bus);
	entries++;

	struct mpc_ioapic *ioapic = (struct mpc_ioapic *)p;
	ioapic->type = MP_IOAPIC;
	ioapic->apicid = ioapic_id;
	ioapic->apicver = IOAPIC_VERSION;
	ioapic->flags = 1;
	ioapic->apicaddr = MPTABLE_IOAPIC_ADDR;
	p += sizeof(*ioapic);
	entries++;

	/* ISA IRQs 0-15 on the IOAPIC pins of the same number: KVM's default
	 * routing sends each legacy GSI to that pin. */
	for (int irq = 0; irq < 16; irq++, entries++) {
		struct mpc_intsrc *src = (struct mpc_intsrc *)p;
		*src = (struct mpc_intsrc){ MP_INTSRC, MP_INT, 0, ISA_BUS_ID, irq, ioapic_id, irq };
		p += sizeof(*src);
	}

	/* Virtual-wire mode: PIC on LINT0, NMI on LINT1 of every LAPIC. */
	struct mpc_intsrc *lint = (struct mpc_intsrc *)p;
	lint[0] = (struct mpc_intsrc){ MP_LINTSRC, MP_EXTINT, 0, ISA_BUS_ID, 0, 0xff, 0 };
	lint[1] = (struct mpc_intsrc){ MP_LINTSRC, MP_NMI, 0, ISA_BUS_ID, 0, 0xff, 1 };
	p += 2 * sizeof(*lint);
	entries += 2;

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (uint8_t *)mpc;
	mpc->spec = MPC_SPEC_1_4;
	memcpy(mpc->oem, "NOVM    ", 8);
	memcpy(mpc->productid, "NOVM        ", 12);
	mpc->oemcount = entries;
	mpc->lapic = MPTABLE_LAPIC_ADDR;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(BOOT_EBDA_START + sizeof(*mpf));
	mpf->length = 1;
	mpf->specification = MPC_SPEC_1_4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return 0;
}
