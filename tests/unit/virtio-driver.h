/* The guest side of the virtio-pci unit tests: a fake struct vm without KVM
 * (vm_fd = -1, so ioeventfds and irqfds fail and notifies reach the device as
 * MMIO writes), port I/O, MMIO and conf1 config space the way a CPU issues
 * them, and a minimal modern virtio-pci driver that negotiates EVENT_IDX and
 * kicks only when the device asks for it, as Linux does.  Nothing here
 * reports TAP results: the tests decide what to check. */
#ifndef NOVM_TESTS_VIRTIO_DRIVER_H
#define NOVM_TESTS_VIRTIO_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "vmm/kvm.h"

/* ---- the fake VM ---- */

/* Sets up `vm` with `ram_size` bytes of zeroed RAM at GPA 0 (returned in
 * `ram`) and an I/O loop that is not started yet.  Returns -1 when this
 * machine cannot; the caller then skips. */
int fake_vm_init(struct vm *vm, uint8_t **ram, size_t ram_size, novm_error_t *err);
/* Frees what fake_vm_init() set up, once the devices and the PCI bus are gone. */
void fake_vm_destroy(struct vm *vm, uint8_t *ram);

/* ---- port I/O, MMIO and PCI config space ---- */

uint32_t drv_io_in(struct vm *vm, uint16_t port, uint32_t len);
void drv_io_out(struct vm *vm, uint16_t port, uint32_t len, uint32_t v);
uint64_t drv_mmio_read(struct vm *vm, uint64_t addr, uint32_t len);
void drv_mmio_write(struct vm *vm, uint64_t addr, uint32_t len, uint64_t v);

/* The CONFIG_ADDRESS (port 0xcf8) value selecting a dword of config space. */
uint32_t drv_conf_addr(int bus, int slot, int fn, int reg);
/* Config space of function 0 of `slot` on bus 0, through ports 0xcf8/0xcfc. */
uint32_t drv_cfg_read(struct vm *vm, int slot, int reg, uint32_t len);
void drv_cfg_write(struct vm *vm, int slot, int reg, uint32_t len, uint32_t v);

/* The bus-0 slot of the virtio device `device_id`, or -1. */
int drv_find_slot(struct vm *vm, uint16_t device_id);
/* Its BAR 0 as assigned, or 0 when there is no such device. */
uint64_t drv_find_bar(struct vm *vm, uint16_t device_id);

/* ---- the device and its queues ---- */

/* One virtio-pci function as its driver sees it. */
struct drv_device {
	struct vm *vm;
	uint8_t *ram;		/* guest RAM from GPA 0 */
	uint64_t bar;		/* BAR 0: all the virtio structures */
	uint64_t ring_gpa;	/* queue n's rings at ring_gpa + n * DRV_RING_STRIDE */
	uint16_t queue_size;	/* the size drv_setup() gives every queue */
};

/* Descriptor table at +0, avail ring at +0x1000, used ring at +0x2000. */
#define DRV_RING_STRIDE 0x10000ULL

/* A split virtqueue as the driver keeps it. */
struct drv_queue {
	uint16_t index, size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t next_desc, avail_idx;	/* the next free descriptor, the next avail slot */
};

/* The address of `off` in the common configuration structure. */
uint64_t drv_common(const struct drv_device *dev, int off);
uint64_t drv_common_read(const struct drv_device *dev, int off, uint32_t len);
void drv_common_write(const struct drv_device *dev, int off, uint32_t len, uint64_t v);
uint8_t drv_status(const struct drv_device *dev);
void drv_set_status(const struct drv_device *dev, uint8_t status);

/* Resets the device and brings it up the way Linux does, with EVENT_IDX and
 * VERSION_1 and queues 0 .. nr_queues - 1 in `queues`, empty.  True when the
 * status then reads exactly ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK. */
bool drv_setup(const struct drv_device *dev, struct drv_queue *queues, uint16_t nr_queues);
/* The same, accepting exactly `features` (EVENT_IDX and VERSION_1 among
 * them, or not). */
bool drv_setup_features(const struct drv_device *dev, struct drv_queue *queues,
			uint16_t nr_queues, uint64_t features);
/* The device's feature bits. */
uint64_t drv_device_features(const struct drv_device *dev);

/* Adds a chain of `n` buffers (the first `nr_out` device-readable; zero
 * lengths are left out) to the avail ring without publishing it.  Returns
 * the head descriptor. */
uint16_t drv_add_chain(struct drv_queue *q, const uint64_t *gpa, const uint32_t *len, int n,
		       int nr_out);
/* Publishes what drv_add_chain() queued and kicks only if the device asked
 * for it (avail_event), like virtqueue_kick_prepare() with EVENT_IDX. */
void drv_publish(const struct drv_device *dev, struct drv_queue *q);

uint16_t drv_used_idx(const struct drv_queue *q);
/* Waits up to 3 s for the used index to reach `want`. */
bool drv_wait_used(const struct drv_queue *q, uint16_t want);
/* The used entry the device wrote `i`-th (modulo the queue size). */
struct vring_used_elem drv_used_elem(const struct drv_queue *q, uint16_t i);

#endif
