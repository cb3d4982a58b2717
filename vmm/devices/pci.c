#include "log.h"
#include "pci.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "kvm.h"
#include "vmm-internal.h"

#define CONF1_PORT 0xCF8
#define CONF1_ENABLE 0x80000000u
/* Enable, extended register bits 27:24 (AMD), bus, device, function,
 * dword-aligned register; the rest reads as zero. */
#define CONF1_ADDRESS_MASK 0x8FFFFFFCu
#define RESET_CONTROL_RST_CPU 0x04	/* 0xCF9 bit 2: do the reset */

/* Red Hat / QEMU "PCIe host bridge": no guest quirks key on it. */
#define HOST_BRIDGE_VENDOR 0x1b36
#define HOST_BRIDGE_DEVICE 0x0008
#define CLASS_HOST_BRIDGE 0x060000

#define FIRST_CAP_OFFSET 0x40

uint32_t pci_config_get(const struct pci_device *dev, uint32_t offset, uint32_t len)
{
	uint32_t v = 0;
	for (uint32_t i = 0; i < len && offset + i < PCI_CONFIG_SIZE; i++)
		v |= (uint32_t)dev->config[offset + i] << (8 * i);
	return v;
}

void pci_config_set(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t value)
{
	for (uint32_t i = 0; i < len && offset + i < PCI_CONFIG_SIZE; i++)
		dev->config[offset + i] = (uint8_t)(value >> (8 * i));
}

void pci_device_set_wmask(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t mask)
{
	for (uint32_t i = 0; i < len && offset + i < PCI_CONFIG_SIZE; i++)
		dev->wmask[offset + i] = (uint8_t)(mask >> (8 * i));
}

void pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, uint16_t vendor,
		     uint16_t device, uint32_t class_code, uint8_t revision,
		     uint16_t subsystem_vendor, uint16_t subsystem_id)
{
	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->slot = -1;
	dev->cap_end = FIRST_CAP_OFFSET;
	pci_config_set(dev, PCI_VENDOR_ID, 2, vendor);
	pci_config_set(dev, PCI_DEVICE_ID, 2, device);
	pci_config_set(dev, PCI_REVISION_ID, 1, revision);
	pci_config_set(dev, PCI_CLASS_PROG, 3, class_code);
	pci_config_set(dev, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL);
	pci_config_set(dev, PCI_SUBSYSTEM_VENDOR_ID, 2, subsystem_vendor);
	pci_config_set(dev, PCI_SUBSYSTEM_ID, 2, subsystem_id);
	/* No INTx: the guest has no ACPI to route it, devices use MSI-X. */
	pci_config_set(dev, PCI_INTERRUPT_PIN, 1, 0);

	pci_device_set_wmask(dev, PCI_COMMAND, 2,
			     PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
				     PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
				     PCI_COMMAND_INTX_DISABLE);
	pci_device_set_wmask(dev, PCI_CACHE_LINE_SIZE, 1, 0xff);
	pci_device_set_wmask(dev, PCI_LATENCY_TIMER, 1, 0xff);
	pci_device_set_wmask(dev, PCI_INTERRUPT_LINE, 1, 0xff);
}

int pci_device_add_bar(struct pci_device *dev, int index, uint64_t size, bus_access_fn access,
		       void *opaque)
{
	if (index < 0 || index >= PCI_BARS || size < 4096 || (size & (size - 1)) ||
	    size > (PCI_MMIO_END - PCI_MMIO_START) / 2)
		return -EINVAL;
	dev->bars[index] = (struct pci_bar){ .size = size, .access = access, .opaque = opaque };
	/* Low flag bits 0: memory, 32-bit, not prefetchable.  Only address
	 * bits above the size are writable, which is what makes the sizing
	 * probe (write ~0, read back) report the size. */
	uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * index;
	pci_config_set(dev, reg, 4, 0);
	pci_device_set_wmask(dev, reg, 4, (uint32_t)~(size - 1) & PCI_BASE_ADDRESS_MEM_MASK);
	return 0;
}

int pci_device_add_capability(struct pci_device *dev, uint8_t id, const void *cap, uint32_t len)
{
	uint32_t off = (dev->cap_end + 3) & ~3u;

	if (len < 2 || off + len > PCI_CONFIG_SIZE)
		return -ENOSPC;
	memcpy(&dev->config[off], cap, len);
	dev->config[off + PCI_CAP_LIST_ID] = id;
	dev->config[off + PCI_CAP_LIST_NEXT] = 0;
	if (dev->last_cap)
		dev->config[dev->last_cap + PCI_CAP_LIST_NEXT] = (uint8_t)off;
	else
		dev->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
	dev->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	dev->last_cap = (uint8_t)off;
	dev->cap_end = (uint16_t)(off + len);
	return (int)off;
}

/* A BAR at `addr` may be decoded: not the reset value, not wrapping, and
 * clear of the IOAPIC/LAPIC/firmware area at the top of 4 GiB (sizing
 * probes with decoding left on point there). */
static bool bar_address_usable(uint64_t addr, uint64_t size)
{
	return addr != 0 && addr + size <= PCI_MMIO_END && addr + size > addr;
}

static void unmap_bar(struct pci_device *dev, int i)
{
	struct pci_bar *bar = &dev->bars[i];

	if (!bar->mapped)
		return;
	if (dev->ops && dev->ops->bar_unmapped)
		dev->ops->bar_unmapped(dev, i, bar->mapped_addr);
	bus_unregister(&dev->bus->vm->mmio, bar->mapped_addr);
	bar->mapped = false;
}

static void map_bar(struct pci_device *dev, int i, uint64_t addr)
{
	struct pci_bar *bar = &dev->bars[i];

	int ret = bus_register(&dev->bus->vm->mmio, addr, bar->size, bar->access, bar->opaque);
	if (ret < 0) {
		/* Overlapping another device: the guest's mistake; the BAR
		 * simply does not decode, as with conflicting hardware.
		 * Logged once: the guest may retry at will. */
		if (!dev->warned_overlap)
			log_msg(LOG_LEVEL_WARNING, "pci 00:%02x.0: BAR%d at %#llx not mapped: %s", dev->slot,
				i, (unsigned long long)addr, strerror(-ret));
		dev->warned_overlap = true;
		return;
	}
	bar->mapped = true;
	bar->mapped_addr = addr;
	if (dev->ops && dev->ops->bar_mapped)
		dev->ops->bar_mapped(dev, i, addr);
}

/* Brings vm->mmio in line with the BAR registers and the decode bit. */
static void update_bars(struct pci_device *dev)
{
	bool decode = pci_config_get(dev, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;

	for (int i = 0; i < PCI_BARS; i++) {
		struct pci_bar *bar = &dev->bars[i];
		if (!bar->size)
			continue;
		uint64_t addr = pci_config_get(dev, PCI_BASE_ADDRESS_0 + 4 * i, 4) &
				PCI_BASE_ADDRESS_MEM_MASK;
		bool want = decode && bar_address_usable(addr, bar->size);
		if (bar->mapped && (!want || bar->mapped_addr != addr))
			unmap_bar(dev, i);
		if (want && !bar->mapped)
			map_bar(dev, i, addr);
	}
}

static bool ranges_overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
	return a < b + blen && b < a + alen;
}

static void config_write(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t value)
{
	for (uint32_t i = 0; i < len; i++) {
		uint8_t m = dev->wmask[offset + i];
		uint8_t b = (uint8_t)(value >> (8 * i));
		dev->config[offset + i] = (dev->config[offset + i] & ~m) | (b & m);
	}
	if (ranges_overlap(offset, len, PCI_COMMAND, 2) ||
	    ranges_overlap(offset, len, PCI_BASE_ADDRESS_0, 4 * PCI_BARS))
		update_bars(dev);
	if (dev->ops && dev->ops->config_write)
		dev->ops->config_write(dev, offset, len, value);
}

static uint32_t config_read(struct pci_device *dev, uint32_t offset, uint32_t len)
{
	uint32_t v = pci_config_get(dev, offset, len);
	if (dev->ops && dev->ops->config_read)
		dev->ops->config_read(dev, offset, len, &v);
	return v;
}

/* The device the latched address selects for a data access, or NULL. */
static struct pci_device *selected_device(struct pci_bus *bus)
{
	uint32_t a = bus->config_address;

	if (!(a & CONF1_ENABLE))
		return NULL;
	uint32_t bus_nr = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 7;
	uint32_t ext = (a >> 24) & 0xf;	/* no extended config space here */
	if (bus_nr || fn || ext)
		return NULL;
	return bus->slots[slot];
}

static void conf1_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
			 bool is_write)
{
	struct pci_bus *bus = opaque;
	bool reset = false;

	if (!is_write)
		memset(data, 0xff, len);
	pthread_mutex_lock(&bus->lock);
	if (offset == 0 && len == 4) {
		/* Only a dword access reaches CONFIG_ADDRESS. */
		if (is_write) {
			uint32_t v;
			memcpy(&v, data, 4);
			bus->config_address = le32toh(v) & CONF1_ADDRESS_MASK;
		} else {
			uint32_t v = htole32(bus->config_address);
			memcpy(data, &v, 4);
		}
	} else if (offset == 1 && len == 1) {
		/* 0xCF9, the reset control register (Linux reboot=pci). */
		if (is_write) {
			bus->reset_control = data[0] & ~RESET_CONTROL_RST_CPU;
			reset = data[0] & RESET_CONTROL_RST_CPU;
		} else {
			data[0] = bus->reset_control;
		}
	} else if (offset >= 4 && offset + len <= 8 && (len == 1 || len == 2 || len == 4)) {
		struct pci_device *dev = selected_device(bus);
		uint32_t reg = (bus->config_address & 0xfc) + (uint32_t)(offset - 4);
		if (dev && is_write) {
			uint32_t v = 0;
			memcpy(&v, data, len);
			config_write(dev, reg, len, le32toh(v));
		} else if (dev) {
			uint32_t v = htole32(config_read(dev, reg, len));
			memcpy(data, &v, len);
		}
	}
	pthread_mutex_unlock(&bus->lock);
	if (reset)
		vm_request_exit(bus->vm, VM_EXIT_RESET, "guest reset through port 0xcf9");
}

static const struct pci_device_ops host_bridge_ops = { 0 };

int pci_init(struct vm *vm, novm_error_t *err)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));
	if (!bus)
		return novm_error(err, ENOMEM, "allocate the PCI bus");
	bus->vm = vm;
	pthread_mutex_init(&bus->lock, NULL);
	bus->mmio_next = PCI_MMIO_START;

	pci_device_init(&bus->host_bridge, &host_bridge_ops, HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE,
			CLASS_HOST_BRIDGE, 0, HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE);
	bus->host_bridge.bus = bus;
	bus->host_bridge.slot = 0;
	bus->slots[0] = &bus->host_bridge;

	int ret = bus_register(&vm->pio, CONF1_PORT, 8, conf1_access, bus);
	if (ret < 0) {
		pthread_mutex_destroy(&bus->lock);
		free(bus);
		return novm_error(err, -ret, "register PCI configuration ports 0xcf8-0xcff");
	}
	vm->pci = bus;
	return 0;
}

void pci_exit(struct vm *vm)
{
	struct pci_bus *bus = vm->pci;

	if (!bus)
		return;
	for (int slot = PCI_SLOTS - 1; slot > 0; slot--) {
		struct pci_device *dev = bus->slots[slot];
		if (!dev)
			continue;
		pci_bus_remove_device(bus, dev);
		if (dev->ops && dev->ops->destroy)
			dev->ops->destroy(dev);
	}
	bus_unregister(&vm->pio, CONF1_PORT);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
	vm->pci = NULL;
}

int pci_bus_add_device(struct pci_bus *bus, struct pci_device *dev, novm_error_t *err)
{
	int ret = 0;

	pthread_mutex_lock(&bus->lock);
	int slot = 1;
	while (slot < PCI_SLOTS && bus->slots[slot])
		slot++;
	if (slot == PCI_SLOTS) {
		ret = novm_error(err, ENOSPC, "no free PCI slot");
		goto out;
	}

	/* Natural alignment for every BAR, as firmware would do. */
	uint64_t next = bus->mmio_next;
	for (int i = 0; i < PCI_BARS; i++) {
		uint64_t size = dev->bars[i].size;
		if (!size)
			continue;
		uint64_t base = (next + size - 1) & ~(size - 1);
		if (base + size > PCI_MMIO_END) {
			ret = novm_error(err, ENOSPC, "PCI MMIO window exhausted");
			goto out;
		}
		pci_config_set(dev, PCI_BASE_ADDRESS_0 + 4 * i, 4, (uint32_t)base);
		next = base + size;
	}
	bus->mmio_next = next;

	dev->bus = bus;
	dev->slot = slot;
	bus->slots[slot] = dev;
	pci_config_set(dev, PCI_COMMAND, 2,
		       pci_config_get(dev, PCI_COMMAND, 2) | PCI_COMMAND_MEMORY);
	update_bars(dev);
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

void pci_bus_remove_device(struct pci_bus *bus, struct pci_device *dev)
{
	pthread_mutex_lock(&bus->lock);
	if (dev->slot > 0 && bus->slots[dev->slot] == dev) {
		for (int i = 0; i < PCI_BARS; i++)
			unmap_bar(dev, i);
		bus->slots[dev->slot] = NULL;
		dev->slot = -1;
	}
	pthread_mutex_unlock(&bus->lock);
}

struct pci_device *pci_bus_find(struct pci_bus *bus, uint16_t vendor, uint16_t device)
{
	struct pci_device *found = NULL;

	pthread_mutex_lock(&bus->lock);
	for (int slot = 0; slot < PCI_SLOTS && !found; slot++) {
		struct pci_device *dev = bus->slots[slot];
		if (dev && pci_config_get(dev, PCI_VENDOR_ID, 2) == vendor &&
		    pci_config_get(dev, PCI_DEVICE_ID, 2) == device)
			found = dev;
	}
	pthread_mutex_unlock(&bus->lock);
	return found;
}

int pci_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err)
{
	(void)cfg;
	return pci_init(&vmm->vm, err);
}

/* Also frees the devices still on the bus. */
void pci_detach(struct vmm *vmm)
{
	pci_exit(&vmm->vm);
}
