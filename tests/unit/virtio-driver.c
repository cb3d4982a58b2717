/* The guest side of the virtio-pci unit tests (see virtio-driver.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "virtio-driver.h"
#include "vmm/virtio/pci.h"

/* ioloop_add() leaks its source records on purpose (see ioloop.c); keep
 * --enable-sanitizers builds quiet about them. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:ioloop_add\n";
}

/* ---- the fake VM ---- */

int fake_vm_init(struct vm *vm, uint8_t **ram, size_t ram_size, novm_error_t *err)
{
	*ram = aligned_alloc(4096, ram_size);
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->exit_fd = -1;
	pthread_mutex_init(&vm->gsi_lock, NULL);
	pthread_mutex_init(&vm->exit_lock, NULL);
	vm->next_gsi = 24;	/* 0-23 are the IOAPIC pins, as in kvm.c */
	bus_init(&vm->pio);
	bus_init(&vm->mmio);
	if (!*ram || guest_memory_add(&vm->mem, 0, ram_size, *ram) < 0 ||
	    ioloop_init(&vm->loop, err) < 0)
		return -1;
	memset(*ram, 0, ram_size);
	return 0;
}

void fake_vm_destroy(struct vm *vm, uint8_t *ram)
{
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	free(vm->routing);
	free(ram);
}

/* ---- port I/O, MMIO and PCI config space ---- */

/* An access of `len` bytes (at most 8) at `addr`, as the CPU would make it:
 * little-endian, the value in the low bytes. */
static uint64_t bus_read(struct bus *bus, uint64_t addr, uint32_t len)
{
	uint64_t v = 0;
	bus_access(bus, addr, (uint8_t *)&v, len, false);
	return v;
}

static void bus_write(struct bus *bus, uint64_t addr, uint32_t len, uint64_t v)
{
	bus_access(bus, addr, (uint8_t *)&v, len, true);
}

uint32_t drv_io_in(struct vm *vm, uint16_t port, uint32_t len)
{
	return (uint32_t)bus_read(&vm->pio, port, len);
}

void drv_io_out(struct vm *vm, uint16_t port, uint32_t len, uint32_t v)
{
	bus_write(&vm->pio, port, len, v);
}

uint64_t drv_mmio_read(struct vm *vm, uint64_t addr, uint32_t len)
{
	return bus_read(&vm->mmio, addr, len);
}

void drv_mmio_write(struct vm *vm, uint64_t addr, uint32_t len, uint64_t v)
{
	bus_write(&vm->mmio, addr, len, v);
}

uint32_t drv_conf_addr(int bus, int slot, int fn, int reg)
{
	return 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

uint32_t drv_cfg_read(struct vm *vm, int slot, int reg, uint32_t len)
{
	drv_io_out(vm, 0xcf8, 4, drv_conf_addr(0, slot, 0, reg));
	return drv_io_in(vm, 0xcfc + (reg & 3), len);
}

void drv_cfg_write(struct vm *vm, int slot, int reg, uint32_t len, uint32_t v)
{
	drv_io_out(vm, 0xcf8, 4, drv_conf_addr(0, slot, 0, reg));
	drv_io_out(vm, 0xcfc + (reg & 3), len, v);
}

int drv_find_slot(struct vm *vm, uint16_t device_id)
{
	for (int slot = 1; slot < 32; slot++)
		if (drv_cfg_read(vm, slot, PCI_VENDOR_ID, 2) == 0x1af4 &&
		    drv_cfg_read(vm, slot, PCI_DEVICE_ID, 2) == device_id)
			return slot;
	return -1;
}

uint64_t drv_find_bar(struct vm *vm, uint16_t device_id)
{
	int slot = drv_find_slot(vm, device_id);

	if (slot < 0)
		return 0;
	return drv_cfg_read(vm, slot, PCI_BASE_ADDRESS_0, 4) & PCI_BASE_ADDRESS_MEM_MASK;
}

/* ---- the device and its queues ---- */

uint64_t drv_common(const struct drv_device *dev, int off)
{
	return dev->bar + VIRTIO_PCI_COMMON_OFFSET + off;
}

uint64_t drv_common_read(const struct drv_device *dev, int off, uint32_t len)
{
	return drv_mmio_read(dev->vm, drv_common(dev, off), len);
}

void drv_common_write(const struct drv_device *dev, int off, uint32_t len, uint64_t v)
{
	drv_mmio_write(dev->vm, drv_common(dev, off), len, v);
}

uint8_t drv_status(const struct drv_device *dev)
{
	return (uint8_t)drv_common_read(dev, VIRTIO_PCI_COMMON_STATUS, 1);
}

void drv_set_status(const struct drv_device *dev, uint8_t status)
{
	drv_common_write(dev, VIRTIO_PCI_COMMON_STATUS, 1, status);
}

static void queue_setup(const struct drv_device *dev, struct drv_queue *q, uint16_t index)
{
	uint64_t base = dev->ring_gpa + index * DRV_RING_STRIDE;

	q->index = index;
	q->size = dev->queue_size;
	q->desc = (struct vring_desc *)(dev->ram + base);
	q->avail = (struct vring_avail *)(dev->ram + base + 0x1000);
	q->used = (struct vring_used *)(dev->ram + base + 0x2000);
	memset(dev->ram + base, 0, 0x3000);
	q->next_desc = q->avail_idx = 0;
	drv_common_write(dev, VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
	drv_common_write(dev, VIRTIO_PCI_COMMON_Q_SIZE, 2, q->size);
	drv_common_write(dev, VIRTIO_PCI_COMMON_Q_DESCLO, 8, base);
	drv_common_write(dev, VIRTIO_PCI_COMMON_Q_AVAILLO, 8, base + 0x1000);
	drv_common_write(dev, VIRTIO_PCI_COMMON_Q_USEDLO, 8, base + 0x2000);
	drv_common_write(dev, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
}

uint64_t drv_device_features(const struct drv_device *dev)
{
	drv_common_write(dev, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	uint64_t lo = drv_common_read(dev, VIRTIO_PCI_COMMON_DF, 4);
	drv_common_write(dev, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	return lo | drv_common_read(dev, VIRTIO_PCI_COMMON_DF, 4) << 32;
}

bool drv_setup(const struct drv_device *dev, struct drv_queue *queues, uint16_t nr_queues)
{
	return drv_setup_features(dev, queues, nr_queues,
				  1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_F_VERSION_1);
}

bool drv_setup_features(const struct drv_device *dev, struct drv_queue *queues,
			uint16_t nr_queues, uint64_t features)
{
	const uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	drv_set_status(dev, 0);
	drv_set_status(dev, s);
	drv_common_write(dev, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	drv_common_write(dev, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)features);
	drv_common_write(dev, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	drv_common_write(dev, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(features >> 32));
	drv_set_status(dev, s | VIRTIO_CONFIG_S_FEATURES_OK);
	for (uint16_t i = 0; i < nr_queues; i++)
		queue_setup(dev, &queues[i], i);
	drv_set_status(dev, s | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	return drv_status(dev) == (s | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

uint16_t drv_add_chain(struct drv_queue *q, const uint64_t *gpa, const uint32_t *len, int n,
		       int nr_out)
{
	uint16_t head = q->next_desc, prev = 0;
	bool first = true;

	for (int i = 0; i < n; i++) {
		if (!len[i])
			continue;
		uint16_t d = q->next_desc;
		q->next_desc = (uint16_t)((q->next_desc + 1) % q->size);
		if (!first)
			q->desc[prev].flags |= VRING_DESC_F_NEXT;
		q->desc[d] = (struct vring_desc){
			.addr = gpa[i],
			.len = len[i],
			.flags = i >= nr_out ? VRING_DESC_F_WRITE : 0,
			.next = q->next_desc,
		};
		prev = d;
		first = false;
	}
	q->avail->ring[q->avail_idx % q->size] = head;
	q->avail_idx++;
	return head;
}

void drv_publish(const struct drv_device *dev, struct drv_queue *q)
{
	uint16_t old = q->avail->idx, new_idx = q->avail_idx;

	__atomic_store_n(&q->avail->idx, new_idx, __ATOMIC_SEQ_CST);
	/* avail_event sits right after the used ring's entries. */
	uint16_t event = __atomic_load_n((uint16_t *)&q->used->ring[q->size], __ATOMIC_SEQ_CST);
	if ((uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old))
		drv_mmio_write(dev->vm,
			       dev->bar + VIRTIO_PCI_NOTIFY_OFFSET +
				       q->index * VIRTIO_PCI_NOTIFY_MULTIPLIER,
			       2, q->index);
}

uint16_t drv_used_idx(const struct drv_queue *q)
{
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
}

bool drv_wait_used(const struct drv_queue *q, uint16_t want)
{
	for (int i = 0; i < 3000; i++) {
		if (drv_used_idx(q) == want)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

struct vring_used_elem drv_used_elem(const struct drv_queue *q, uint16_t i)
{
	return q->used->ring[i % q->size];
}
