/* PCI bus 0 behind configuration mechanism 1 (ports 0xCF8-0xCFF), with a
 * host bridge at 00:00.0.  There is no firmware: BARs get addresses from the
 * 32-bit MMIO window when a device is added, with memory decoding on, and the
 * guest kernel keeps them.  The guest may still size, move or disable them;
 * a BAR is on vm->mmio exactly while decoding is enabled and its address is
 * sane.
 *
 * Threads: all configuration accesses and BAR (un)mapping happen under
 * bus->lock, taken by the port handler, pci_bus_add_device and
 * pci_bus_remove_device.  Device hooks run with it held and may take device
 * locks, but an MMIO handler must never take bus->lock (a BAR move holds it
 * while waiting for the MMIO bus's write lock). */
#ifndef NOVM_DEVICES_PCI_H
#define NOVM_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "bus.h"

struct vm;

#define PCI_CONFIG_SIZE 256
#define PCI_SLOTS 32
#define PCI_BARS 6

/* The 32-bit window for BARs: above RAM, below the IOAPIC. */
#define PCI_MMIO_START 0xC0000000ULL
#define PCI_MMIO_END 0xFEC00000ULL

struct pci_device;

struct pci_device_ops {
	/* After the guest wrote config space (writable bits already stored). */
	void (*config_write)(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t value);
	/* May replace the value a config read returns. */
	void (*config_read)(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t *value);
	/* A BAR appeared at / disappeared from `addr` on vm->mmio. */
	void (*bar_mapped)(struct pci_device *dev, int bar, uint64_t addr);
	void (*bar_unmapped)(struct pci_device *dev, int bar, uint64_t addr);
	/* Frees the device; called by pci_exit after it left the bus. */
	void (*destroy)(struct pci_device *dev);
};

struct pci_bar {
	uint64_t size;		/* 0: not implemented */
	bus_access_fn access;
	void *opaque;
	bool mapped;
	uint64_t mapped_addr;
};

struct pci_device {
	const struct pci_device_ops *ops;
	struct pci_bus *bus;
	int slot;
	uint8_t config[PCI_CONFIG_SIZE];	/* little endian, as the guest sees it */
	uint8_t wmask[PCI_CONFIG_SIZE];		/* bits the guest may change */
	struct pci_bar bars[PCI_BARS];
	uint8_t last_cap;			/* 0 when the list is empty */
	uint16_t cap_end;			/* first free byte for capabilities */
	bool warned_overlap;			/* the guest's BAR clash was logged once */
};

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;
	uint32_t config_address;	/* the 0xCF8 latch */
	uint8_t reset_control;		/* port 0xCF9 */
	struct pci_device *slots[PCI_SLOTS];
	struct pci_device host_bridge;
	uint64_t mmio_next;		/* BAR allocator in [PCI_MMIO_START, PCI_MMIO_END) */
};

int pci_init(struct vm *vm, novm_error_t *err);
/* Removes and destroys every device, then the bus.  vCPUs and the I/O loop
 * must be stopped. */
void pci_exit(struct vm *vm);

/* Fills a type 0 header.  class_code is 24 bits: base, sub-class, prog-if. */
void pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, uint16_t vendor,
		     uint16_t device, uint32_t class_code, uint8_t revision,
		     uint16_t subsystem_vendor, uint16_t subsystem_id);
/* Declares a 32-bit memory BAR of `size` bytes (a power of two, at least
 * 4 KiB) whose accesses go to access(opaque, offset-in-BAR, ...). */
int pci_device_add_bar(struct pci_device *dev, int index, uint64_t size, bus_access_fn access,
		       void *opaque);
/* Appends a capability (`len` bytes including the ID/next header, whose
 * first two bytes are filled in here).  Returns its config offset or
 * -ENOSPC. */
int pci_device_add_capability(struct pci_device *dev, uint8_t id, const void *cap, uint32_t len);
/* Makes bits of config space writable by the guest. */
void pci_device_set_wmask(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t mask);

/* Little-endian accessors of dev->config (no hooks, no locking). */
uint32_t pci_config_get(const struct pci_device *dev, uint32_t offset, uint32_t len);
void pci_config_set(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t value);

/* Places the device in a free slot, assigns its BARs and enables memory
 * decoding.  The bus does not own the device until this succeeds. */
int pci_bus_add_device(struct pci_bus *bus, struct pci_device *dev, novm_error_t *err);
/* Unmaps the device's BARs and frees its slot; does not destroy it. */
void pci_bus_remove_device(struct pci_bus *bus, struct pci_device *dev);
/* First device with these IDs, or NULL. */
struct pci_device *pci_bus_find(struct pci_bus *bus, uint16_t vendor, uint16_t device);

/* The VM builder's device step (vmm/device-table.c). */
struct vmm;
struct vm_config;
int pci_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err);
void pci_detach(struct vmm *vmm);

#endif
